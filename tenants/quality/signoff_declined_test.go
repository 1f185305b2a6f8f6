package quality_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/tickets"
)

// A sign-off the customer declined (seed 000: 不要强迫用户签名) is a
// recorded outcome, not a rating: it stays visible per node and
// technician as signoff_declined_rate, over the sign-offs recorded (rated
// or declined), and is no sign-off of the customer's in
// signoff_code_rate. K1 is declined; K2, a repair later that day, is
// rated 5 without a code.
func TestQualitySignoffDeclinedRate(t *testing.T) {
	k := newKindsEnv(t, "KPI-DECL-0001")
	k1 := k.serve(t, k.open(t, tickets.TypeRepair, k.day), k.day)
	_, err := k.Tickets.SendSignoffCode(k.Ctx, k.Admin, k1.ID, 0)
	require.NoError(t, err, "the customer is asked first")
	_, err = k.Tickets.SignOff(k.Ctx, k.Admin, k1.ID, tickets.SignOffInput{Declined: true}, 0)
	require.NoError(t, err)
	got := k.kpis(t, "signoff_declined_rate", "signoff_code_rate")
	require.Equal(t, [2]int64{1, 1}, got["signoff_declined_rate"])
	require.Equal(t, [2]int64{0, 0}, got["signoff_code_rate"], "declined: no sign-off of the customer's")

	d2 := k.day.Add(3 * time.Hour)
	k2 := k.serve(t, k.open(t, tickets.TypeRepair, d2), d2)
	_, err = k.Tickets.SignOff(k.Ctx, k.Admin, k2.ID, tickets.SignOffInput{Rating: 5}, 0)
	require.NoError(t, err)
	got = k.kpis(t, "signoff_declined_rate", "signoff_code_rate")
	require.Equal(t, [2]int64{1, 2}, got["signoff_declined_rate"])
	require.Equal(t, [2]int64{0, 1}, got["signoff_code_rate"])
}
