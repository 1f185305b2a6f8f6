package network_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

func requireCode(t *testing.T, err error, code tenants.Code) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, tenants.ErrorCode(err), "%v", err)
}

// tree is a manufacturer, a service center under it, a depot under that
// and a repair point under the depot, covering 崂山区 (370212) for washer
// repairs, in one rolled-back transaction.
type tree struct {
	*domaintest.Env
	root, center, depot, point network.Node
}

func newTree(t *testing.T) *tree {
	t.Helper()
	e := domaintest.New(t)
	tr := &tree{Env: e}
	create := func(in network.NewNode) network.Node {
		n, err := e.Network.CreateNode(e.Ctx, e.Admin, in)
		require.NoError(t, err)
		return n
	}
	tr.root = create(network.NewNode{NodeFields: network.NodeFields{ExternalCode: "MFR", Name: "总部"}, Tier: network.TierManufacturer, Status: "active"})
	tr.center = create(network.NewNode{NodeFields: network.NodeFields{ExternalCode: "SC-QD", Name: "青岛服务中心", Grade: "B",
		Address: network.Address{RegionCode: "370212", Line: "海尔路1号"}, Coverage: []string{"370200"},
		Categories: []string{"washer"}, ServiceKinds: []string{"repair"}, DailyCapacity: 10},
		Tier: network.TierServiceCenter, ParentID: tr.root.ID, Status: "active"})
	tr.depot = create(network.NewNode{NodeFields: network.NodeFields{ExternalCode: "SD-QD", Name: "青岛专修"},
		Tier: network.TierSpecialistDepot, ParentID: tr.center.ID})
	tr.point = create(network.NewNode{NodeFields: network.NodeFields{ExternalCode: "RP-LS", Name: "崂山网点", Grade: "A",
		Coverage: []string{"370212"}, Categories: []string{"washer"}, ServiceKinds: []string{"repair", "install"}, DailyCapacity: 5,
		Location: &network.Point{Latitude: 36.1, Longitude: 120.4}},
		Tier: network.TierRepairPoint, ParentID: tr.depot.ID, Status: "active"})
	return tr
}

func TestRolledBackNodeTree(t *testing.T) {
	tr := newTree(t)
	require.Nil(t, tr.root.ParentID)
	require.Equal(t, []string{tr.root.ID, tr.center.ID, tr.depot.ID, tr.point.ID}, tr.point.Path)
	require.Equal(t, network.StatusProbation, tr.depot.Status)
	require.Equal(t, network.StatusActive, tr.point.Status)
	require.Equal(t, 1, tr.point.Version)
	require.Equal(t, &network.Point{Latitude: 36.1, Longitude: 120.4}, tr.point.Location)
	require.Equal(t, 4, tr.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'node.created'`))

	got, err := tr.Network.GetNode(tr.Ctx, tr.Admin, tr.center.ID)
	require.NoError(t, err)
	require.Equal(t, "青岛服务中心", got.Name)
	require.Equal(t, "370212", got.Address.RegionCode)
	require.Equal(t, "B", *got.Grade)
	_, err = tr.Network.GetNode(tr.Ctx, tr.Admin, "nod_nope")
	requireCode(t, err, tenants.CodeNotFound)

	// A key bound to the depot sees its subtree only.
	depotKey := tr.As(tenants.Principal{NodeID: tr.depot.ID}, tenants.RoleNodeManager)
	_, err = tr.Network.GetNode(tr.Ctx, depotKey, tr.center.ID)
	requireCode(t, err, tenants.CodeNotFound)
	got, err = tr.Network.GetNode(tr.Ctx, depotKey, tr.point.ID)
	require.NoError(t, err)
	require.Equal(t, tr.point.ID, got.ID)

	ids := func(ns []network.Node) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.ID)
		}
		return out
	}
	all, next, err := tr.Network.ListNodes(tr.Ctx, tr.Admin, network.NodeFilter{})
	require.NoError(t, err)
	require.Empty(t, next)
	require.ElementsMatch(t, []string{tr.root.ID, tr.center.ID, tr.depot.ID, tr.point.ID}, ids(all))
	page, next, err := tr.Network.ListNodes(tr.Ctx, tr.Admin, network.NodeFilter{Limit: 3})
	require.NoError(t, err)
	require.Len(t, page, 3)
	require.NotEmpty(t, next)
	rest, next, err := tr.Network.ListNodes(tr.Ctx, tr.Admin, network.NodeFilter{Limit: 3, Cursor: next})
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, rest, 1)
	byRegion, _, err := tr.Network.ListNodes(tr.Ctx, tr.Admin, network.NodeFilter{RegionCode: "370212", Category: "washer", ServiceKind: "repair"})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{tr.center.ID, tr.point.ID}, ids(byRegion)) // the point directly, the center through 青岛市
	probation, _, err := tr.Network.ListNodes(tr.Ctx, tr.Admin, network.NodeFilter{Status: "probation"})
	require.NoError(t, err)
	require.Equal(t, []string{tr.depot.ID}, ids(probation))
	under, _, err := tr.Network.ListNodes(tr.Ctx, depotKey, network.NodeFilter{SubtreeOf: tr.depot.ID, Tier: "repair_point"})
	require.NoError(t, err)
	require.Equal(t, []string{tr.point.ID}, ids(under))
	_, _, err = tr.Network.ListNodes(tr.Ctx, tr.Admin, network.NodeFilter{Cursor: "garbage"})
	requireCode(t, err, tenants.CodeInvalid)

	sub, next, err := tr.Network.Subtree(tr.Ctx, tr.Admin, tr.center.ID, 0, 10, "")
	require.NoError(t, err)
	require.Empty(t, next)
	require.Len(t, sub, 3)
	require.Equal(t, []string{tr.center.ID, tr.depot.ID, tr.point.ID}, []string{sub[0].ID, sub[1].ID, sub[2].ID})
	require.Equal(t, []int{0, 1, 2}, []int{sub[0].Depth, sub[1].Depth, sub[2].Depth})
	sub, _, err = tr.Network.Subtree(tr.Ctx, tr.Admin, tr.center.ID, 1, 10, "")
	require.NoError(t, err)
	require.Len(t, sub, 2)
	sub, next, err = tr.Network.Subtree(tr.Ctx, tr.Admin, tr.root.ID, 0, 2, "")
	require.NoError(t, err)
	require.Len(t, sub, 2)
	sub, next, err = tr.Network.Subtree(tr.Ctx, tr.Admin, tr.root.ID, 0, 2, next)
	require.NoError(t, err)
	require.Empty(t, next)
	require.Equal(t, []string{tr.depot.ID, tr.point.ID}, []string{sub[0].ID, sub[1].ID})
	_, _, err = tr.Network.Subtree(tr.Ctx, depotKey, tr.root.ID, 0, 10, "")
	requireCode(t, err, tenants.CodeNotFound)
}

func TestRolledBackCreateNodeRefusals(t *testing.T) {
	tr := newTree(t)
	_, err := tr.Network.CreateNode(tr.Ctx, tr.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "-bad", Name: "",
		Grade: "Z", DailyCapacity: -1, Coverage: []string{"370212", "370212", "12"}, Categories: []string{"spaceship"}},
		Tier: "galaxy", Status: "suspended"})
	require.ElementsMatch(t, []string{"external_code", "name", "grade", "daily_capacity", "coverage[1]", "coverage[2]",
		"categories[0]", "tier", "status"}, domaintest.Fields(t, err))

	_, err = tr.Network.CreateNode(tr.Ctx, tr.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "M2", Name: "x"},
		Tier: network.TierManufacturer, ParentID: tr.root.ID})
	require.Equal(t, []string{"parent_id"}, domaintest.Fields(t, err))
	_, err = tr.Network.CreateNode(tr.Ctx, tr.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "RP2", Name: "x"},
		Tier: network.TierRepairPoint})
	require.Equal(t, []string{"parent_id"}, domaintest.Fields(t, err))

	// A parent of a lower or equal tier, an unknown parent, an unknown region.
	_, err = tr.Network.CreateNode(tr.Ctx, tr.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "SC2", Name: "x"},
		Tier: network.TierServiceCenter, ParentID: tr.point.ID})
	require.Equal(t, []string{"parent_id"}, domaintest.Fields(t, err))
	_, err = tr.Network.CreateNode(tr.Ctx, tr.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "SC2", Name: "x"},
		Tier: network.TierServiceCenter, ParentID: "nod_01jd3zq8w6v7t3y2k9x4n5m6pa"})
	require.Equal(t, []string{"parent_id"}, domaintest.Fields(t, err))
	_, err = tr.Network.CreateNode(tr.Ctx, tr.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "SC2", Name: "x",
		Address: network.Address{RegionCode: "999999"}, Coverage: []string{"370212", "999998"}},
		Tier: network.TierServiceCenter, ParentID: tr.root.ID})
	require.ElementsMatch(t, []string{"address.region_code", "coverage[1]"}, domaintest.Fields(t, err))

	// The external code is unique per tenant.
	_, err = tr.Network.CreateNode(tr.Ctx, tr.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "SC-QD", Name: "again"},
		Tier: network.TierServiceCenter, ParentID: tr.root.ID})
	requireCode(t, err, tenants.CodeConflict)

	// A node-bound key creates only under its own subtree.
	depotKey := tr.As(tenants.Principal{NodeID: tr.depot.ID}, tenants.RoleNodeManager)
	_, err = tr.Network.CreateNode(tr.Ctx, depotKey, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "M3", Name: "x"},
		Tier: network.TierManufacturer})
	require.Equal(t, []string{"parent_id"}, domaintest.Fields(t, err))
	n, err := tr.Network.CreateNode(tr.Ctx, depotKey, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "RP-2", Name: "二号网点"},
		Tier: network.TierRepairPoint, ParentID: tr.depot.ID})
	require.NoError(t, err)
	require.Equal(t, tr.depot.ID, *n.ParentID)
}

func TestRolledBackUpdateAndMoveNode(t *testing.T) {
	tr := newTree(t)
	name, grade, cov := "崂山一号网点", "C", []string{"370212", "370202"}
	n, err := tr.Network.UpdateNode(tr.Ctx, tr.Admin, tr.point.ID, network.NodeUpdate{Name: &name, Grade: &grade, Coverage: &cov}, 1)
	require.NoError(t, err)
	require.Equal(t, name, n.Name)
	require.Equal(t, "C", *n.Grade)
	require.Equal(t, cov, n.Coverage)
	require.Equal(t, 2, n.Version)
	require.Equal(t, "RP-LS", n.ExternalCode)
	require.Equal(t, 1, tr.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'node.updated' AND subject_id = $2`, n.ID))

	// A stale version, a no-op update, a bad one.
	_, err = tr.Network.UpdateNode(tr.Ctx, tr.Admin, tr.point.ID, network.NodeUpdate{Name: &name}, 1)
	requireCode(t, err, tenants.CodePreconditionFailed)
	same, err := tr.Network.UpdateNode(tr.Ctx, tr.Admin, tr.point.ID, network.NodeUpdate{}, 0)
	require.NoError(t, err)
	require.Equal(t, 2, same.Version)
	bad := []string{"999999"}
	_, err = tr.Network.UpdateNode(tr.Ctx, tr.Admin, tr.point.ID, network.NodeUpdate{Coverage: &bad}, 0)
	require.Equal(t, []string{"coverage[0]"}, domaintest.Fields(t, err))

	// A second service center; the depot (with its repair point) moves under it.
	sc2, err := tr.Network.CreateNode(tr.Ctx, tr.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "SC-JN", Name: "济南服务中心"},
		Tier: network.TierServiceCenter, ParentID: tr.root.ID})
	require.NoError(t, err)
	moved, err := tr.Network.MoveNode(tr.Ctx, tr.Admin, tr.depot.ID, sc2.ID, 1)
	require.NoError(t, err)
	require.Equal(t, sc2.ID, *moved.ParentID)
	require.Equal(t, []string{tr.root.ID, sc2.ID, tr.depot.ID}, moved.Path)
	p, err := tr.Network.GetNode(tr.Ctx, tr.Admin, tr.point.ID)
	require.NoError(t, err)
	require.Equal(t, []string{tr.root.ID, sc2.ID, tr.depot.ID, tr.point.ID}, p.Path)
	require.Equal(t, 1, tr.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'node.moved' AND subject_id = $2
		AND data->>'nodes_moved' = '2'`, tr.depot.ID))
	again, err := tr.Network.MoveNode(tr.Ctx, tr.Admin, tr.depot.ID, sc2.ID, 0) // already there
	require.NoError(t, err)
	require.Equal(t, moved.Version, again.Version)

	_, err = tr.Network.MoveNode(tr.Ctx, tr.Admin, tr.root.ID, sc2.ID, 0)
	require.Equal(t, []string{"id"}, domaintest.Fields(t, err))
	_, err = tr.Network.MoveNode(tr.Ctx, tr.Admin, tr.depot.ID, tr.point.ID, 0) // under itself
	require.Equal(t, []string{"parent_id"}, domaintest.Fields(t, err))
	// The repair point moves out to the manufacturer; the depot may not go under it (a lower tier).
	_, err = tr.Network.MoveNode(tr.Ctx, tr.Admin, tr.point.ID, tr.root.ID, 0)
	require.NoError(t, err)
	_, err = tr.Network.MoveNode(tr.Ctx, tr.Admin, tr.depot.ID, tr.point.ID, 0)
	require.Equal(t, []string{"parent_id"}, domaintest.Fields(t, err))
	_, err = tr.Network.MoveNode(tr.Ctx, tr.Admin, tr.depot.ID, "nod_01jd3zq8w6v7t3y2k9x4n5m6pa", 0)
	require.Equal(t, []string{"parent_id"}, domaintest.Fields(t, err))
	depotKey := tr.As(tenants.Principal{NodeID: tr.depot.ID}, tenants.RoleNodeManager)
	_, err = tr.Network.MoveNode(tr.Ctx, depotKey, tr.depot.ID, sc2.ID, 0)
	requireCode(t, err, tenants.CodeForbidden)
}

func TestRolledBackNodeStatus(t *testing.T) {
	tr := newTree(t)
	_, err := tr.Network.ChangeNodeStatus(tr.Ctx, tr.Admin, tr.depot.ID, "closed", "x", 0)
	require.Equal(t, []string{"status"}, domaintest.Fields(t, err))
	_, err = tr.Network.ChangeNodeStatus(tr.Ctx, tr.Admin, tr.depot.ID, network.StatusActive, " ", 0)
	require.Equal(t, []string{"reason"}, domaintest.Fields(t, err))

	n, err := tr.Network.ChangeNodeStatus(tr.Ctx, tr.Admin, tr.depot.ID, network.StatusActive, "probation passed", 1)
	require.NoError(t, err)
	require.Equal(t, network.StatusActive, n.Status)
	require.Equal(t, "probation passed", *n.StatusReason)
	require.Equal(t, 2, n.Version)
	_, err = tr.Network.ChangeNodeStatus(tr.Ctx, tr.Admin, tr.depot.ID, network.StatusProbation, "back", 0)
	requireCode(t, err, tenants.CodeConflict)

	// The depot still has an active repair point: it cannot be terminated.
	_, err = tr.Network.ChangeNodeStatus(tr.Ctx, tr.Admin, tr.depot.ID, network.StatusTerminated, "closing", 0)
	requireCode(t, err, tenants.CodeConflict)
	_, err = tr.Network.ChangeNodeStatus(tr.Ctx, tr.Admin, tr.point.ID, network.StatusTerminated, "closing", 0)
	require.NoError(t, err)
	_, err = tr.Network.ChangeNodeStatus(tr.Ctx, tr.Admin, tr.point.ID, network.StatusActive, "reopen", 0)
	requireCode(t, err, tenants.CodeConflict) // terminated is final
	n, err = tr.Network.ChangeNodeStatus(tr.Ctx, tr.Admin, tr.depot.ID, network.StatusTerminated, "closing", 0)
	require.NoError(t, err)
	require.Equal(t, network.StatusTerminated, n.Status)

	// Nothing goes under a terminated node.
	_, err = tr.Network.CreateNode(tr.Ctx, tr.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "RP-9", Name: "x"},
		Tier: network.TierRepairPoint, ParentID: tr.depot.ID})
	require.Equal(t, []string{"parent_id"}, domaintest.Fields(t, err))

	h, err := tr.Network.StatusHistory(tr.Ctx, tr.Admin, tr.depot.ID)
	require.NoError(t, err)
	require.Len(t, h, 3)
	require.Nil(t, h[0].From)
	require.Equal(t, network.StatusProbation, h[0].To)
	require.Equal(t, "created", h[0].Reason)
	require.Equal(t, network.StatusProbation, *h[1].From)
	require.Equal(t, network.StatusActive, h[1].To)
	require.Equal(t, network.StatusTerminated, h[2].To)
	require.Equal(t, "closing", h[2].Reason)
	_, err = tr.Network.StatusHistory(tr.Ctx, tr.Admin, "nod_01jd3zq8w6v7t3y2k9x4n5m6pa")
	requireCode(t, err, tenants.CodeNotFound)

	// A node-bound key may not change its own node's status.
	scKey := tr.As(tenants.Principal{NodeID: tr.center.ID}, tenants.RoleNodeManager)
	_, err = tr.Network.ChangeNodeStatus(tr.Ctx, scKey, tr.center.ID, network.StatusSuspended, "x", 0)
	requireCode(t, err, tenants.CodeForbidden)
}

func TestRolledBackCandidates(t *testing.T) {
	tr := newTree(t)
	cs, err := tr.Network.Candidates(tr.Ctx, tr.Admin, network.CandidateQuery{RegionCode: "370212", Category: "washer", ServiceKind: "repair", Limit: 10})
	require.NoError(t, err)
	require.Len(t, cs, 2)
	require.Equal(t, tr.point.ID, cs[0].ID) // repair points first
	require.Equal(t, "370212", cs[0].MatchedRegion)
	require.Equal(t, tr.center.ID, cs[1].ID)
	require.Equal(t, "370200", cs[1].MatchedRegion)

	cs, err = tr.Network.Candidates(tr.Ctx, tr.Admin, network.CandidateQuery{RegionCode: "370212", Category: "washer", ServiceKind: "install",
		Tier: "repair_point", Limit: 10})
	require.NoError(t, err)
	require.Len(t, cs, 1)
	cs, err = tr.Network.Candidates(tr.Ctx, tr.Admin, network.CandidateQuery{RegionCode: "370212", Category: "tv", ServiceKind: "repair", Limit: 10})
	require.NoError(t, err)
	require.Empty(t, cs)

	_, err = tr.Network.Candidates(tr.Ctx, tr.Admin, network.CandidateQuery{RegionCode: "12", Category: "washer", ServiceKind: "repair", Limit: 10})
	require.Equal(t, []string{"region_code"}, domaintest.Fields(t, err))
	_, err = tr.Network.Candidates(tr.Ctx, tr.Admin, network.CandidateQuery{RegionCode: "999999", Category: "washer", ServiceKind: "repair", Limit: 10})
	require.Equal(t, []string{"region_code"}, domaintest.Fields(t, err))
}
