package network_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// The reads and writes other contexts make inside their own tenant transaction.
func TestRolledBackTxHelpers(t *testing.T) {
	tr := newTree(t)
	tech, err := tr.Network.CreateTechnician(tr.Ctx, tr.Admin, network.NewTechnician{ExternalCode: "T-1", NodeID: tr.point.ID, Name: "李师傅",
		Phone:   "+86 138 0532 0000",
		Licence: &network.LicenceInput{Number: "L-1", IssuedOn: domaintest.Today(-100), ExpiresOn: domaintest.Today(10)},
		Shifts:  []network.Shift{{Weekday: 2, Start: "09:00", End: "17:00"}}})
	require.NoError(t, err)
	depotKey := tr.As(tenants.Principal{NodeID: tr.depot.ID}, tenants.RoleNodeManager)
	goneKey := tr.As(tenants.Principal{NodeID: "nod_01jd3zq8w6v7t3y2k9x4n5m6pa"}, tenants.RoleNodeManager)
	const nobody = "tec_01jd3zq8w6v7t3y2k9x4n5m6pf"

	require.NoError(t, pg.InTenantTx(tr.Ctx, tr.Tx, tr.Tenant, func(tx pg.TenantTx) error {
		ctx := tr.Ctx
		st, found, err := network.TechnicianAtNodeTx(ctx, tx, tech.ID, tr.point.ID, domaintest.Today(10), "")
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, network.TechnicianStanding{Status: network.TechnicianActive, LicenceValid: true, NodeStatus: network.StatusActive, NodeTier: network.TierRepairPoint,
			DailyJobLimit: network.DefaultDailyJobLimit}, st)
		st, _, err = network.TechnicianAtNodeTx(ctx, tx, tech.ID, tr.point.ID, domaintest.Today(11), "") // after expiry
		require.NoError(t, err)
		require.False(t, st.LicenceValid)
		_, found, err = network.TechnicianAtNodeTx(ctx, tx, tech.ID, tr.depot.ID, domaintest.Today(0), "")
		require.NoError(t, err)
		require.False(t, found)

		name, lic, err := network.TechnicianCardTx(ctx, tx, tech.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"李师傅", "L-1"}, []string{name, lic})
		name, lic, err = network.TechnicianCardTx(ctx, tx, nobody)
		require.NoError(t, err)
		require.Empty(t, name+lic)

		name, shifts, err := network.LockTechnicianShiftsTx(ctx, tx, tech.ID)
		require.NoError(t, err)
		require.Equal(t, "李师傅", name)
		require.Equal(t, []network.Shift{{Weekday: 2, Start: "09:00", End: "17:00"}}, shifts)
		_, _, err = network.LockTechnicianShiftsTx(ctx, tx, nobody)
		require.ErrorIs(t, err, pgx.ErrNoRows)

		node, inside, found, err := network.TechnicianUnderTx(ctx, tx, tech.ID, tr.center.ID)
		require.NoError(t, err)
		require.True(t, found)
		require.True(t, inside)
		require.Equal(t, tr.point.ID, node)
		_, inside, _, err = network.TechnicianUnderTx(ctx, tx, tech.ID, tr.point.ID)
		require.NoError(t, err)
		require.True(t, inside)
		_, _, found, err = network.TechnicianUnderTx(ctx, tx, nobody, "")
		require.NoError(t, err)
		require.False(t, found)

		node, found, err = network.NodeOfTechnicianTx(ctx, tx, tech.ID)
		require.NoError(t, err)
		require.True(t, found)
		require.Equal(t, tr.point.ID, node)
		_, found, err = network.NodeOfTechnicianTx(ctx, tx, "garbage")
		require.NoError(t, err)
		require.False(t, found)

		ids, err := network.ScopeNodesTx(ctx, tx, tr.Admin)
		require.NoError(t, err)
		require.Nil(t, ids) // the whole tenant
		ids, err = network.ScopeNodesTx(ctx, tx, depotKey)
		require.NoError(t, err)
		require.ElementsMatch(t, []string{tr.depot.ID, tr.point.ID}, ids)
		ids, err = network.ScopeNodesTx(ctx, tx, goneKey)
		require.NoError(t, err)
		require.Equal(t, []string{}, ids) // its node is gone: it sees nothing

		ref, err := network.NodeInScopeTx(ctx, tx, depotKey, tr.point.ID)
		require.NoError(t, err)
		require.Equal(t, tr.point.ID, ref.ID)
		require.Equal(t, "A", *ref.Grade)
		_, err = network.NodeInScopeTx(ctx, tx, depotKey, tr.center.ID)
		requireCode(t, err, tenants.CodeNotFound)
		techNode, err := network.TechnicianNodeTx(ctx, tx, depotKey, tech.ID)
		require.NoError(t, err)
		require.Equal(t, tr.point.ID, techNode)
		scKey := tr.As(tenants.Principal{NodeID: tr.point.ID}, tenants.RoleNodeManager)
		_, err = network.TechnicianNodeTx(ctx, tx, scKey, nobody)
		requireCode(t, err, tenants.CodeNotFound)

		graded, err := network.GradedNodesTx(ctx, tx)
		require.NoError(t, err)
		require.Len(t, graded, 3) // not the manufacturer root
		old, err := network.SetGradeTx(ctx, tx, "system", tr.point.ID, "B")
		require.NoError(t, err)
		require.Equal(t, "A", *old)
		_, err = network.SetGradeTx(ctx, tx, "system", "nod_01jd3zq8w6v7t3y2k9x4n5m6pa", "B")
		requireCode(t, err, tenants.CodeNotFound)

		names, err := network.NodeNamesTx(ctx, tx, []string{tr.point.ID, tr.center.ID, "nod_01jd3zq8w6v7t3y2k9x4n5m6pa"})
		require.NoError(t, err)
		require.Equal(t, map[string]string{tr.point.ID: "崂山网点", tr.center.ID: "青岛服务中心"}, names)

		b := &pgx.Batch{}
		var known, unknown bool
		network.QueueRegionKnown(b, "370212", &known)
		network.QueueRegionKnown(b, "999999", &unknown)
		require.NoError(t, tx.SendBatch(ctx, b).Close())
		require.True(t, known)
		require.False(t, unknown)
		return nil
	}))
	n, err := tr.Network.GetNode(tr.Ctx, tr.Admin, tr.point.ID)
	require.NoError(t, err)
	require.Equal(t, "B", *n.Grade)
	require.Equal(t, tr.point.Version+1, n.Version)
}
