package network_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

func TestRolledBackTechnicians(t *testing.T) {
	tr := newTree(t)
	limit := 6
	li, err := tr.Network.CreateTechnician(tr.Ctx, tr.Admin, network.NewTechnician{ExternalCode: "T-1", NodeID: tr.point.ID, Name: "李师傅",
		Phone: "+86 138 0532 0000", Skills: []network.Skill{{Category: "washer", Level: 4}},
		Licence: &network.LicenceInput{Number: "L-1", IssuedOn: domaintest.Today(-100), ExpiresOn: domaintest.Today(300)},
		Shifts:  []network.Shift{{Weekday: 1, Start: "08:00", End: "18:00"}}, DailyJobLimit: &limit})
	require.NoError(t, err)
	require.Equal(t, network.TechnicianActive, li.Status)
	require.Equal(t, network.LicenceValid, li.Licence.Status)
	require.True(t, li.Eligible)
	require.Equal(t, 6, li.DailyJobLimit)
	require.Equal(t, []network.Skill{{Category: "washer", Level: 4}}, li.Skills)
	wang, err := tr.Network.CreateTechnician(tr.Ctx, tr.Admin, network.NewTechnician{ExternalCode: "T-2", NodeID: tr.center.ID, Name: "王师傅",
		Phone: "+86 138 0532 0001", Skills: []network.Skill{{Category: "washer", Level: 2}}})
	require.NoError(t, err)
	require.Equal(t, network.LicenceMissing, wang.Licence.Status)
	require.False(t, wang.Eligible)
	require.Equal(t, 8, wang.DailyJobLimit) // the default

	// Refusals: an unknown node, a duplicate code, a node outside a node key's scope.
	_, err = tr.Network.CreateTechnician(tr.Ctx, tr.Admin, network.NewTechnician{ExternalCode: "T-3", NodeID: "nod_01jd3zq8w6v7t3y2k9x4n5m6pa",
		Name: "x", Phone: "13800000000"})
	require.Equal(t, []string{"node_id"}, domaintest.Fields(t, err))
	_, err = tr.Network.CreateTechnician(tr.Ctx, tr.Admin, network.NewTechnician{ExternalCode: "T-1", NodeID: tr.point.ID,
		Name: "x", Phone: "13800000000"})
	requireCode(t, err, tenants.CodeConflict)
	depotKey := tr.As(tenants.Principal{NodeID: tr.depot.ID}, tenants.RoleNodeManager)
	_, err = tr.Network.CreateTechnician(tr.Ctx, depotKey, network.NewTechnician{ExternalCode: "T-4", NodeID: tr.center.ID,
		Name: "x", Phone: "13800000000"})
	require.Equal(t, []string{"node_id"}, domaintest.Fields(t, err))

	got, err := tr.Network.GetTechnician(tr.Ctx, depotKey, li.ID)
	require.NoError(t, err)
	require.Equal(t, "李师傅", got.Name)
	_, err = tr.Network.GetTechnician(tr.Ctx, depotKey, wang.ID)
	requireCode(t, err, tenants.CodeNotFound)

	names := func(f network.TechnicianFilter) []string {
		t.Helper()
		ts, _, err := tr.Network.ListTechnicians(tr.Ctx, tr.Admin, f)
		require.NoError(t, err)
		var out []string
		for _, x := range ts {
			out = append(out, x.ExternalCode)
		}
		return out
	}
	yes := true
	require.ElementsMatch(t, []string{"T-1", "T-2"}, names(network.TechnicianFilter{}))
	require.Equal(t, []string{"T-1"}, names(network.TechnicianFilter{Category: "washer", MinLevel: 3}))
	require.Equal(t, []string{"T-1"}, names(network.TechnicianFilter{Eligible: &yes}))
	require.Equal(t, []string{"T-2"}, names(network.TechnicianFilter{Licence: "missing"}))
	require.Equal(t, []string{"T-1"}, names(network.TechnicianFilter{SubtreeOf: tr.depot.ID}))
	require.Equal(t, []string{"T-2"}, names(network.TechnicianFilter{NodeID: tr.center.ID}))

	// On leave, then moved to the depot; a stale version is refused.
	onLeave, name := "on_leave", "李建国"
	up, err := tr.Network.UpdateTechnician(tr.Ctx, tr.Admin, li.ID, network.TechnicianUpdate{Status: &onLeave, Name: &name, NodeID: &tr.depot.ID}, li.Version)
	require.NoError(t, err)
	require.Equal(t, network.TechnicianOnLeave, up.Status)
	require.False(t, up.Eligible)
	require.Equal(t, name, up.Name)
	require.Equal(t, tr.depot.ID, up.NodeID)
	require.Equal(t, li.Version+1, up.Version)
	_, err = tr.Network.UpdateTechnician(tr.Ctx, tr.Admin, li.ID, network.TechnicianUpdate{Name: &name}, li.Version)
	requireCode(t, err, tenants.CodePreconditionFailed)
	bad := []network.Skill{{Category: "drone", Level: 1}}
	_, err = tr.Network.UpdateTechnician(tr.Ctx, tr.Admin, li.ID, network.TechnicianUpdate{Skills: &bad}, 0)
	require.Equal(t, []string{"skills[0].category"}, domaintest.Fields(t, err))

	// A licence for Wang makes him eligible; one already expired is refused.
	r, err := tr.Network.RenewLicence(tr.Ctx, tr.Admin, wang.ID, network.LicenceInput{Number: "L-2", IssuedOn: domaintest.Today(-1),
		ExpiresOn: domaintest.Today(365)}, wang.Version)
	require.NoError(t, err)
	require.Equal(t, "L-2", r.Licence.Number)
	require.Equal(t, network.LicenceValid, r.Licence.Status)
	require.True(t, r.Eligible)
	require.Equal(t, 1, tr.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'technician.licence_renewed' AND subject_id = $2`, wang.ID))
	_, err = tr.Network.RenewLicence(tr.Ctx, tr.Admin, wang.ID, network.LicenceInput{Number: "L-3", IssuedOn: domaintest.Today(-30),
		ExpiresOn: domaintest.Today(-2)}, 0)
	require.Equal(t, []string{"expires_on"}, domaintest.Fields(t, err))
}
