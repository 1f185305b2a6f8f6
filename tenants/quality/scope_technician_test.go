package quality_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/quality"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A node manager sees the scorecards of its own subtree only: a
// technician's scorecard read with a node-bound key counts the tickets the
// technician served in that subtree, not those of the node it came from.
// T repairs K1 at node A, then moves to N, a new repair point in another
// branch of the network: N's manager reads T's scorecard without A's
// ticket; the brand still sees it.
func TestQualityTechnicianScorecardStaysInTheSubtree(t *testing.T) {
	k := newKindsEnv(t, "KPI-SCOPE-0001")
	k1 := k.serve(t, k.open(t, tickets.TypeRepair, k.day), k.day)
	require.NotNil(t, k1.NodeID)
	require.NotNil(t, k1.TechnicianID)
	tech := *k1.TechnicianID

	root := *k1.NodeID
	for {
		n, err := k.Network.GetNode(k.Ctx, k.Admin, root)
		require.NoError(t, err)
		if n.ParentID == nil {
			break
		}
		root = *n.ParentID
	}
	n, err := k.Network.CreateNode(k.Ctx, k.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "RP-SCOPE-N", Name: "新网点"},
		Tier: network.TierRepairPoint, ParentID: root, Status: "active"})
	require.NoError(t, err)
	_, err = k.Network.UpdateTechnician(k.Ctx, k.Admin, tech, network.TechnicianUpdate{NodeID: &n.ID}, 0)
	require.NoError(t, err)

	tickets := func(p tenants.Principal) int64 {
		t.Helper()
		_, err := k.Quality.Fold(k.Ctx, k.Tenant, 0)
		require.NoError(t, err)
		sc, err := k.Quality.Scorecard(k.Ctx, p, quality.ScorecardQuery{PeriodQuery: quality.PeriodQuery{Period: "day", Date: k.day.Format("2006-01-02")},
			Scope: quality.ScopeTechnician, ID: tech})
		require.NoError(t, err)
		return sc.Tickets
	}
	require.Equal(t, int64(1), tickets(k.Admin), "the brand sees T's ticket at A")
	require.Equal(t, int64(0), tickets(k.As(tenants.Principal{NodeID: n.ID}, tenants.RoleNodeManager)),
		"N's manager: A's ticket is not in N's subtree")
}
