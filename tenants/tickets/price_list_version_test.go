package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Rule 2 (seed 000: 出示收费标准,严格按收费标准进行收费) and rule 8 (收费超出
// 收费标准: free): out of warranty the customer pays what the price list
// shown at the diagnosis charges. The brand publishes a new version (labour
// 150.00, visit 60.00, the drain pump 99.00) effective the diagnosis's own
// day, after the technician showed the old one: the diagnosis quoted two
// pumps, one went back to the shelf unused, so the completion bills one.
// The bill is the shown version's: labour 120.00 + visit 50.00 + one pump
// 85.00 = 255.00, the customer's, priced with the diagnosis's version.
func TestPriceListPublishedAfterTheDiagnosisDoesNotChangeTheBill(t *testing.T) {
	e := newMoneyEnv(t)
	pump := e.part(t, drainPumpNo)
	tk := e.onSite(t, "repair", e.unit(t, 1500, false), -6)
	tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: 2})
	require.Equal(t, int64(washerLabour+washerVisit+2*drainPump), tk.Entitlement.Decision.Totals.Customer.Amount,
		"shown at the diagnosis: labour, visit and two pumps")
	shown, err := e.Catalog.GetQuote(e.Ctx, e.Admin, *tk.QuoteID)
	require.NoError(t, err)

	// the new version, effective the day of the diagnosis (the tenant's date)
	require.Equal(t, e.start.Format(time.DateOnly), shown.On, "the diagnosis priced on its own day")
	cur, err := e.Catalog.GetEffectivePriceList(e.Ctx, e.Admin, e.start.Format(time.DateOnly))
	require.NoError(t, err)
	next := catalog.NewPriceList{EffectiveFrom: e.start.Format(time.DateOnly), DefaultVisitFee: cur.DefaultVisitFee, Note: "2027"}
	for _, l := range cur.Labor {
		l.Amount.Amount += 3000
		next.Labor = append(next.Labor, l)
	}
	for _, f := range cur.VisitFees {
		f.Amount.Amount += 1000
		next.VisitFees = append(next.VisitFees, f)
	}
	for _, p := range cur.Parts {
		if p.PartID == pump {
			p.Price.Amount = 9900
		}
		next.Parts = append(next.Parts, p)
	}
	v2, err := e.Catalog.CreatePriceList(e.Ctx, e.Admin, next)
	require.NoError(t, err)
	require.Greater(t, v2.Version, shown.PriceListVersion)

	e.issueAndFit(t, tk, pump, 2, 1)
	e.move(t, tk.ID, "return", stock.Line{PartID: pump, Quantity: 1})
	tk = e.complete(t, tk.ID)
	customer, brand, plan := totals(t, tk)
	require.Equal(t, int64(washerLabour+washerVisit+drainPump), customer, "labour 120.00 + visit 50.00 + one pump 85.00, as shown")
	require.Zero(t, brand)
	require.Zero(t, plan)
	require.Equal(t, "out_of_warranty", tk.Completion.Basis)
	require.Equal(t, []tickets.BilledPart{{PartID: pump, PartNumber: drainPumpNo, Quoted: 2, Used: 1}}, tk.Completion.PartsBilled)
	billed, err := e.Catalog.GetQuote(e.Ctx, e.Admin, *tk.QuoteID)
	require.NoError(t, err)
	require.Equal(t, shown.PriceListID, billed.PriceListID, "billed with the version shown")
	kinds := map[string]int64{}
	for _, l := range tk.Completion.Lines {
		require.Equal(t, "customer", l.Payer, "%+v", l)
		kinds[l.Kind] += l.CustomerPays.Amount
	}
	require.Equal(t, map[string]int64{"labor": washerLabour, "visit": washerVisit, "part": drainPump}, kinds)
}
