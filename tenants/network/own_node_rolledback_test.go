package network_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// A node's grade is the brand's judgement of it (graded from its KPIs,
// with a history and an appeal; seed 003: 对网点进行动态升级及淘汰), and
// dispatch ranks nodes by it: a node-bound key may not set its own node's
// grade, as it may not change its own status or move itself: a repair
// point's key raising its own grade from C to A added 8 to its dispatch
// score over its peers (grade A 20, C 12), with no grade history. Its
// other fields stay its own to keep (the name here).
func TestRolledBackNodeKeyCannotGradeItself(t *testing.T) {
	tr := newTree(t)
	c := "C"
	_, err := tr.Network.UpdateNode(tr.Ctx, tr.Admin, tr.point.ID, network.NodeUpdate{Grade: &c}, 0)
	require.NoError(t, err)

	pointKey := tr.As(tenants.Principal{NodeID: tr.point.ID}, tenants.RoleNodeManager)
	a := "A"
	_, err = tr.Network.UpdateNode(tr.Ctx, pointKey, tr.point.ID, network.NodeUpdate{Grade: &a}, 0)
	requireCode(t, err, tenants.CodeForbidden)
	got, err := tr.Network.GetNode(tr.Ctx, tr.Admin, tr.point.ID)
	require.NoError(t, err)
	require.Equal(t, "C", *got.Grade, "unchanged")

	// The same grade again changes nothing and is not refused; the name is
	// the node's to keep.
	name := "崂山一号网点"
	n, err := tr.Network.UpdateNode(tr.Ctx, pointKey, tr.point.ID, network.NodeUpdate{Grade: &c, Name: &name}, 0)
	require.NoError(t, err)
	require.Equal(t, name, n.Name)
	require.Equal(t, "C", *n.Grade)
}

// What a node serves (regions, categories, kinds of service) is the brand's
// authorisation, and dispatch sends it work by them: a repair point's key
// adding the whole city to its coverage (370200 over its district 370212)
// would take its neighbours' customers. It may not change them on its own
// node; its parent's key may on it (a center manages its points), and the
// same sets in another order are no change.
func TestRolledBackNodeKeyCannotWidenWhatItServes(t *testing.T) {
	tr := newTree(t)
	pointKey := tr.As(tenants.Principal{NodeID: tr.point.ID}, tenants.RoleNodeManager)
	for name, u := range map[string]network.NodeUpdate{
		"coverage":      {Coverage: &[]string{"370212", "370200"}},
		"categories":    {Categories: &[]string{"washer", "refrigerator"}},
		"service_kinds": {ServiceKinds: &[]string{"repair", "install", "maintenance"}},
		"narrower":      {Coverage: &[]string{}},
	} {
		_, err := tr.Network.UpdateNode(tr.Ctx, pointKey, tr.point.ID, u, 0)
		requireCode(t, err, tenants.CodeForbidden)
		got, err := tr.Network.GetNode(tr.Ctx, tr.Admin, tr.point.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"370212"}, got.Coverage, name)
		require.Equal(t, []string{"washer"}, got.Categories, name)
		require.ElementsMatch(t, []string{"repair", "install"}, got.ServiceKinds, name)
		require.Equal(t, 1, got.Version, name)
	}
	name := "崂山一号网点"
	n, err := tr.Network.UpdateNode(tr.Ctx, pointKey, tr.point.ID, network.NodeUpdate{Name: &name,
		ServiceKinds: &[]string{"install", "repair"}, Coverage: &[]string{"370212"}}, 0)
	require.NoError(t, err)
	require.Equal(t, name, n.Name)

	centerKey := tr.As(tenants.Principal{NodeID: tr.center.ID}, tenants.RoleNodeManager)
	n, err = tr.Network.UpdateNode(tr.Ctx, centerKey, tr.point.ID, network.NodeUpdate{Coverage: &[]string{"370212", "370211"}}, 0)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"370212", "370211"}, n.Coverage)
}

// What a node serves is passed down the tree: a center authorised for
// Qingdao's washer repairs (370200, washer, repair) may give its points
// Qingdao's districts, washers and repairs, not Yantai (370600), not
// refrigerators, not installation, which no one authorised it to serve
// (dispatch would send the point those customers). The problem names each
// value beyond it at its field. A depot authorised for nothing has nothing
// to give; narrowing is always allowed, and what the brand set beyond the
// center stays when the center's key changes something else. The brand's
// key is not bounded.
func TestRolledBackNodeKeyGivesItsNodesOnlyWhatItServes(t *testing.T) {
	tr := newTree(t)
	centerKey := tr.As(tenants.Principal{NodeID: tr.center.ID}, tenants.RoleNodeManager)
	for name, tc := range map[string]struct {
		u     network.NodeUpdate
		field string
	}{
		"another city":     {network.NodeUpdate{Coverage: &[]string{"370212", "370602"}}, "coverage[1]"},
		"the whole region": {network.NodeUpdate{Coverage: &[]string{"370000"}}, "coverage[0]"},
		"a category":       {network.NodeUpdate{Categories: &[]string{"washer", "refrigerator"}}, "categories[1]"},
		"a service kind":   {network.NodeUpdate{ServiceKinds: &[]string{"repair", "install", "maintenance"}}, "service_kinds[2]"},
	} {
		_, err := tr.Network.UpdateNode(tr.Ctx, centerKey, tr.point.ID, tc.u, 0)
		requireCode(t, err, tenants.CodeForbidden)
		var te *tenants.Error
		require.ErrorAs(t, err, &te, name)
		require.Len(t, te.Fields, 1, name)
		require.Equal(t, tc.field, te.Fields[0].Location, name)
		got, err := tr.Network.GetNode(tr.Ctx, tr.Admin, tr.point.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"370212"}, got.Coverage, name)
		require.Equal(t, 1, got.Version, name)
	}
	_, err := tr.Network.CreateNode(tr.Ctx, centerKey, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "RP-YT", Name: "芝罘网点",
		Coverage: []string{"370602"}, Categories: []string{"washer"}, ServiceKinds: []string{"repair"}}, Tier: network.TierRepairPoint, ParentID: tr.center.ID})
	requireCode(t, err, tenants.CodeForbidden)
	require.Equal(t, 4, tr.Count(t, `SELECT count(*) FROM nodes WHERE tenant_id = $1`), "nothing created")

	// Within what the center serves: a district of its city, created or given.
	n, err := tr.Network.CreateNode(tr.Ctx, centerKey, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "RP-SN", Name: "市南网点",
		Coverage: []string{"370202"}, Categories: []string{"washer"}, ServiceKinds: []string{"repair"}}, Tier: network.TierRepairPoint, ParentID: tr.center.ID})
	require.NoError(t, err)
	require.Equal(t, []string{"370202"}, n.Coverage)
	// The install the brand gave the point stays when the center's key
	// narrows its coverage; the point may be narrowed to nothing.
	n, err = tr.Network.UpdateNode(tr.Ctx, centerKey, tr.point.ID, network.NodeUpdate{Coverage: &[]string{"370212", "370211"},
		ServiceKinds: &[]string{"install"}}, 0)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"370212", "370211"}, n.Coverage)
	require.Equal(t, []string{"install"}, n.ServiceKinds)

	depotKey := tr.As(tenants.Principal{NodeID: tr.depot.ID}, tenants.RoleNodeManager)
	_, err = tr.Network.UpdateNode(tr.Ctx, depotKey, tr.point.ID, network.NodeUpdate{Coverage: &[]string{"370212", "370211", "370213"}}, 0)
	requireCode(t, err, tenants.CodeForbidden)
	_, err = tr.Network.UpdateNode(tr.Ctx, depotKey, tr.point.ID, network.NodeUpdate{Coverage: &[]string{"370212"}}, 0)
	require.NoError(t, err)

	n, err = tr.Network.UpdateNode(tr.Ctx, tr.Admin, tr.point.ID, network.NodeUpdate{Coverage: &[]string{"370602"},
		Categories: &[]string{"refrigerator"}}, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"370602"}, n.Coverage)
}

// A technician's level moves by the tenant's levelling (a run's proposal, a
// person's decision, an appeal, every change kept; quality.levels), and
// dispatch sends hard faults by it: a node's key may not raise its own
// technician from 2 to 5, nor give it a new category above the trainee
// level 1. It may lower a level and add a category at level 1; the brand's
// key may set any level.
func TestRolledBackNodeKeyCannotRaiseTechnicianLevels(t *testing.T) {
	tr := newTree(t)
	tech, err := tr.Network.CreateTechnician(tr.Ctx, tr.Admin, network.NewTechnician{ExternalCode: "T-1", NodeID: tr.point.ID, Name: "李师傅",
		Phone: "+86 138 0532 0000", Skills: []network.Skill{{Category: "washer", Level: 2}}})
	require.NoError(t, err)
	pointKey := tr.As(tenants.Principal{NodeID: tr.point.ID}, tenants.RoleNodeManager)
	for _, skills := range [][]network.Skill{
		{{Category: "washer", Level: 5}},
		{{Category: "washer", Level: 2}, {Category: "refrigerator", Level: 3}},
	} {
		_, err = tr.Network.UpdateTechnician(tr.Ctx, pointKey, tech.ID, network.TechnicianUpdate{Skills: &skills}, 0)
		requireCode(t, err, tenants.CodeForbidden)
		got, err := tr.Network.GetTechnician(tr.Ctx, tr.Admin, tech.ID)
		require.NoError(t, err)
		require.Equal(t, []network.Skill{{Category: "washer", Level: 2}}, got.Skills, "unchanged")
	}
	lower := []network.Skill{{Category: "washer", Level: 1}, {Category: "refrigerator", Level: 1}}
	got, err := tr.Network.UpdateTechnician(tr.Ctx, pointKey, tech.ID, network.TechnicianUpdate{Skills: &lower}, 0)
	require.NoError(t, err)
	require.ElementsMatch(t, lower, got.Skills)
	raised := []network.Skill{{Category: "washer", Level: 5}}
	got, err = tr.Network.UpdateTechnician(tr.Ctx, tr.Admin, tech.ID, network.TechnicianUpdate{Skills: &raised}, 0)
	require.NoError(t, err)
	require.Equal(t, raised, got.Skills)
}

// A technician a node's key onboards starts at level 1 in each category: a
// repair point's key creating its new hire at level 5 in washers would
// skip the levelling as raising one does (hard faults go by level). The
// brand's key onboards at any level.
func TestRolledBackNodeKeyOnboardsTechniciansAtLevelOne(t *testing.T) {
	tr := newTree(t)
	pointKey := tr.As(tenants.Principal{NodeID: tr.point.ID}, tenants.RoleNodeManager)
	hire := func(p tenants.Principal, code string, skills ...network.Skill) (network.Technician, error) {
		return tr.Network.CreateTechnician(tr.Ctx, p, network.NewTechnician{ExternalCode: code, NodeID: tr.point.ID, Name: "王师傅",
			Phone: "+86 138 0532 0001", Skills: skills})
	}
	_, err := hire(pointKey, "T-5", network.Skill{Category: "washer", Level: 5})
	requireCode(t, err, tenants.CodeForbidden)
	_, err = hire(pointKey, "T-2", network.Skill{Category: "washer", Level: 1}, network.Skill{Category: "refrigerator", Level: 2})
	requireCode(t, err, tenants.CodeForbidden)
	require.Equal(t, 0, tr.Count(t, `SELECT count(*) FROM technicians WHERE tenant_id = $1`), "nobody hired")

	got, err := hire(pointKey, "T-1", network.Skill{Category: "washer", Level: 1})
	require.NoError(t, err)
	require.Equal(t, []network.Skill{{Category: "washer", Level: 1}}, got.Skills)
	got, err = hire(tr.Admin, "T-B5", network.Skill{Category: "washer", Level: 5})
	require.NoError(t, err)
	require.Equal(t, []network.Skill{{Category: "washer", Level: 5}}, got.Skills)
}
