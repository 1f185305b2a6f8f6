package quality_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/tickets"
)

// A repair that had to be reopened was not fixed the first time, whatever
// becomes of it afterwards: the customer withdrawing before the second
// visit (the ticket cancelled) does not give the first visit its fix back.
// A and B are repaired at the first visit (2 of 2); B is reopened, the
// fault back (1 of 2); B is cancelled: still 1 of 2, and B is the one
// cancelled ticket of the two taken in.
func TestQualityReopenedThenCancelledRepairIsNoFirstTimeFix(t *testing.T) {
	k := newKindsEnv(t, "KPI-KIND-0006")
	k.serve(t, k.open(t, tickets.TypeRepair, k.day), k.day)
	b := k.serve(t, k.open(t, tickets.TypeRepair, k.day.Add(3*time.Hour)), k.day.Add(3*time.Hour))
	require.Equal(t, [2]int64{2, 2}, k.kpis(t, "first_time_fix_rate")["first_time_fix_rate"])

	k.now = k.now.Add(time.Hour)
	_, err := k.Tickets.Reopen(k.Ctx, k.Admin, b.ID, tickets.ReopenInput{Reason: "complaint: the fault came back"}, 0)
	require.NoError(t, err)
	require.Equal(t, [2]int64{1, 2}, k.kpis(t, "first_time_fix_rate")["first_time_fix_rate"], "B reopened")

	k.now = k.now.Add(time.Hour)
	b, err = k.Tickets.Cancel(k.Ctx, k.Admin, b.ID, tickets.CancelInput{Reason: "customer withdrew: bought a new washer"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("cancelled"), b.State)
	got := k.kpis(t, "first_time_fix_rate", "cancellation_rate")
	require.Equal(t, [2]int64{1, 2}, got["first_time_fix_rate"], "B cancelled after its reopening: still not fixed the first time")
	require.Equal(t, [2]int64{1, 2}, got["cancellation_rate"], "B cancelled, of A and B")
}
