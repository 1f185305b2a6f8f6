package quality_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/quality"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Migration 077 sends every tenant's fold back to the start of its feed,
// so that tickets folded under the KPIs' earlier rules are folded again
// under the rules in force. That is only safe if folding a ticket again
// replaces its contribution: the scorecard after a second fold of the
// whole feed (repairs, a cleaning, a repeat, a reopening, a cancellation)
// is the scorecard after the first, KPI by KPI.
func TestQualityFoldFromTheStartCountsNothingTwice(t *testing.T) {
	k := newKindsEnv(t, "KPI-REFOLD-0001")
	d := k.day
	k.serve(t, k.open(t, tickets.TypeRepair, d), d)
	k.serve(t, k.open(t, tickets.TypeMaintenance, d.Add(2*time.Hour)), d.Add(2*time.Hour))
	b := k.serve(t, k.open(t, tickets.TypeRepair, d.Add(4*time.Hour)), d.Add(4*time.Hour))
	k.now = k.now.Add(time.Hour)
	_, err := k.Tickets.Reopen(k.Ctx, k.Admin, b.ID, tickets.ReopenInput{Reason: "complaint: the fault came back"}, 0)
	require.NoError(t, err)
	c := k.open(t, tickets.TypeRepair, d.Add(7*time.Hour))
	k.now = k.now.Add(time.Minute)
	_, err = k.Tickets.Cancel(k.Ctx, k.Admin, c.ID, tickets.CancelInput{Reason: "customer fixed it"}, 0)
	require.NoError(t, err)

	scorecard := func() map[string][2]int64 {
		t.Helper()
		_, err := k.Quality.Fold(k.Ctx, k.Tenant, 0)
		require.NoError(t, err)
		sc, err := k.Quality.Scorecard(k.Ctx, k.Admin, quality.ScorecardQuery{
			PeriodQuery: quality.PeriodQuery{Period: "day", Date: k.day.Format(time.DateOnly)}, Scope: "tenant"})
		require.NoError(t, err)
		out := map[string][2]int64{}
		for _, kp := range sc.KPIs {
			out[kp.Name] = [2]int64{kp.Numerator, kp.Denominator}
		}
		return out
	}
	first := scorecard()
	require.Equal(t, [2]int64{1, 2}, first["first_time_fix_rate"], "the first repair fixed, the second reopened")

	require.NoError(t, pg.InTenantTx(k.Ctx, k.Tx, k.Tenant, func(tx pg.TenantTx) error {
		_, err := tx.Exec(k.Ctx, `UPDATE quality_positions SET position = 0 WHERE tenant_id = $1`, tx.TenantID)
		return err
	}))
	require.Equal(t, first, scorecard(), "folded again from the start: the same figures")
}
