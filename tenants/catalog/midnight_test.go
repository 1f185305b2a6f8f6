package catalog

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
)

// A version takes effect at midnight of its date in the tenant's zone
// (Asia/Shanghai), not UTC's: at 23:59 Beijing time (15:59 UTC) on 11-30 a
// washer repair is priced by v1 (labour 120.00 + visit 50.00 = 170.00); at
// 00:00 Beijing time on 12-01 (still 11-30 in UTC) by v2 (150.00 + 60.00 =
// 210.00). A version dated before the tenant's today is refused, though it
// is still that day in UTC; one sharing another's date is a conflict.
func TestPriceListTakesEffectAtTheTenantsMidnight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	washer := b.model(t, "EG200", "washer", 399900, nil)
	v1, err := b.svc.CreatePriceList(ctx, b.p, NewPriceList{EffectiveFrom: "2026-11-30",
		Labor:     []LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(12000)}},
		VisitFees: []VisitFee{{Category: "washer", Amount: cny(5000)}}})
	require.NoError(t, err)
	v2, err := b.svc.CreatePriceList(ctx, b.p, NewPriceList{EffectiveFrom: "2026-12-01",
		Labor:     []LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(15000)}},
		VisitFees: []VisitFee{{Category: "washer", Amount: cny(6000)}}})
	require.NoError(t, err)
	job := NewQuote{ModelID: washer.ID, ServiceKind: "repair", IncludeVisit: true}

	b.clock.Set(time.Date(2026, 11, 30, 23, 59, 0, 0, shanghai))
	q, err := b.svc.CreateQuote(ctx, b.p, job)
	require.NoError(t, err)
	require.Equal(t, []any{"2026-11-30", v1.ID, int64(17000)}, []any{q.On, q.PriceListID, q.Total.Amount})

	b.clock.Set(time.Date(2026, 12, 1, 0, 0, 0, 0, shanghai))
	require.Equal(t, "2026-11-30", b.clock.Now().UTC().Format(time.DateOnly), "still 11-30 in UTC")
	q, err = b.svc.CreateQuote(ctx, b.p, job)
	require.NoError(t, err)
	require.Equal(t, []any{"2026-12-01", v2.ID, int64(21000)}, []any{q.On, q.PriceListID, q.Total.Amount})
	var sum int64
	for _, l := range q.Lines {
		require.Equal(t, l.UnitAmount.Amount*int64(l.Quantity), l.Amount.Amount)
		sum += l.Amount.Amount
	}
	require.Equal(t, q.Total.Amount, sum, "the total is its lines'")
	cur, err := b.svc.GetPriceList(ctx, b.p, v2.ID)
	require.NoError(t, err)
	require.Equal(t, PriceListCurrent, cur.Status)
	old, err := b.svc.GetPriceList(ctx, b.p, v1.ID)
	require.NoError(t, err)
	require.Equal(t, PriceListSuperseded, old.Status)

	_, err = b.svc.CreatePriceList(ctx, b.p, NewPriceList{EffectiveFrom: "2026-11-30",
		Labor: []LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(1)}}})
	require.Equal(t, []string{"effective_from"}, locations(t, err, tenants.CodeInvalid), "back-dated in the tenant's zone")
	_, err = b.svc.CreatePriceList(ctx, b.p, NewPriceList{EffectiveFrom: "2026-12-01",
		Labor: []LaborRate{{Category: "washer", ServiceKind: "repair", Amount: cny(1)}}})
	require.Equal(t, []string{"effective_from"}, locations(t, err, tenants.CodeConflict), "v2's date")

	// no install rate in v2: refused at service_kind, never 0.00
	_, err = b.svc.CreateQuote(ctx, b.p, NewQuote{ModelID: washer.ID, ServiceKind: "install"})
	require.Equal(t, []string{"service_kind"}, locations(t, err, tenants.CodeInvalid))
}
