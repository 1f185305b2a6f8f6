package quality_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// A grade's consequence has its effect (网点动态升级及淘汰): approving a
// suspension suspends the node, so dispatch sends it no work; a
// termination suspends it until a person terminates it after the appeal
// window; an appeal overturned reactivates it. A node whose status a
// person changed since is left alone.
func TestGradeConsequenceSuspendsTheNode(t *testing.T) {
	e := domaintest.New(t)
	root, err := e.Network.CreateNode(e.Ctx, e.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "ROOT", Name: "总部"},
		Tier: "manufacturer", Status: "active"})
	require.NoError(t, err)
	node := func(code string) network.Node {
		n, err := e.Network.CreateNode(e.Ctx, e.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: code, Name: code},
			Tier: "service_center", ParentID: root.ID, Status: "active"})
		require.NoError(t, err)
		return n
	}
	run := tenants.NewID("grr")
	require.NoError(t, pg.InTenantTx(e.Ctx, e.Tx, e.Tenant, func(tx pg.TenantTx) error {
		if _, err := tx.Exec(e.Ctx, `INSERT INTO grading_policies (tenant_id, version, policy, actor) VALUES ($1, 1, '{"total_weight": 100, "appeal_days": 7}', 'test')`, tx.TenantID); err != nil {
			return err
		}
		_, err := tx.Exec(e.Ctx, `INSERT INTO grading_runs (tenant_id, id, period_from, period_to, policy_version, actor)
			VALUES ($1, $2, '2026-11-01', '2026-11-30', 1, 'test')`, tx.TenantID, run)
		return err
	}))
	propose := func(nodeID, consequence string) string {
		id := tenants.NewID("grp")
		require.NoError(t, pg.InTenantTx(e.Ctx, e.Tx, e.Tenant, func(tx pg.TenantTx) error {
			_, err := tx.Exec(e.Ctx, `INSERT INTO grade_proposals (tenant_id, id, run_id, node_id, period_from, period_to, policy_version,
				score, indicators, tickets, current_grade, proposed_grade, consequence, appeal_days)
				VALUES ($1, $2, $3, $4, '2026-11-01', '2026-11-30', 1, 12.5, '[]', 40, 'C', 'E', $5, 7)`, tx.TenantID, id, run, nodeID, consequence)
			return err
		}))
		return id
	}
	status := func(id string) (network.NodeStatus, string) {
		n, err := e.Network.GetNode(e.Ctx, e.Admin, id)
		require.NoError(t, err)
		reason := ""
		if n.StatusReason != nil {
			reason = *n.StatusReason
		}
		return n.Status, reason
	}

	// Suspension, then the appeal overturned: active again.
	a := node("SC-A")
	pa := propose(a.ID, "suspension")
	_, err = e.Quality.Decide(e.Ctx, e.Admin, pa, true, "11月考核", 0)
	require.NoError(t, err)
	st, why := status(a.ID)
	require.Equal(t, network.StatusSuspended, st)
	require.Contains(t, why, pa)
	_, err = e.Quality.AppealProposal(e.Ctx, e.Admin, pa, "投诉已撤销")
	require.NoError(t, err)
	_, err = e.Quality.DecideAppeal(e.Ctx, e.Admin, pa, true, "核实")
	require.NoError(t, err)
	st, why = status(a.ID)
	require.Equal(t, network.StatusActive, st, why)

	// Termination: suspended, not terminated (a person does that later).
	b := node("SC-B")
	_, err = e.Quality.Decide(e.Ctx, e.Admin, propose(b.ID, "termination"), true, "连续两季末位", 0)
	require.NoError(t, err)
	st, why = status(b.ID)
	require.Equal(t, network.StatusSuspended, st)
	require.Contains(t, why, "termination")

	// A demotion changes no status.
	c := node("SC-C")
	_, err = e.Quality.Decide(e.Ctx, e.Admin, propose(c.ID, "demotion"), true, "", 0)
	require.NoError(t, err)
	st, _ = status(c.ID)
	require.Equal(t, network.StatusActive, st)

	// Suspended by the grade, then reactivated and suspended again by a
	// person: an overturned appeal leaves the person's suspension.
	d := node("SC-D")
	pd := propose(d.ID, "suspension")
	_, err = e.Quality.Decide(e.Ctx, e.Admin, pd, true, "", 0)
	require.NoError(t, err)
	n, err := e.Network.ChangeNodeStatus(e.Ctx, e.Admin, d.ID, network.StatusActive, "整改完成", 0)
	require.NoError(t, err)
	_, err = e.Network.ChangeNodeStatus(e.Ctx, e.Admin, d.ID, network.StatusSuspended, "安全事故停业", n.Version)
	require.NoError(t, err)
	_, err = e.Quality.AppealProposal(e.Ctx, e.Admin, pd, "申诉")
	require.NoError(t, err)
	_, err = e.Quality.DecideAppeal(e.Ctx, e.Admin, pd, true, "核实")
	require.NoError(t, err)
	st, why = status(d.ID)
	require.Equal(t, network.StatusSuspended, st)
	require.Equal(t, "安全事故停业", why)
}
