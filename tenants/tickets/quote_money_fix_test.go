package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Seed 000 (超保收费): 如果收费标准与用户保修证标准不符,要以二者中最低收费标准为准.
// Out of warranty (day 1200 of the washer's 36 months) the price list
// charges labour 120.00 + the drain pump 85.00 = 205.00. The customer's
// warranty card stating 102.50 for the work caps what the customer pays at
// 102.50, at diagnosis and at completion, and the brand bears the other
// 102.50 (the engine spreads the cap over the customer's lines in
// proportion: here half of each line). Without a card charge, or with a
// card stating more than the price list (300.00), the customer pays the
// price list's 205.00.
func TestTicketWarrantyCardChargeCapsThePriceList(t *testing.T) {
	e := newMoneyEnv(t)
	pump := catalog.QuotePart{PartID: e.part(t, drainPumpNo), Quantity: 1}
	const list = washerLabour + drainPump // 20500
	for _, c := range []struct {
		name            string
		card            *tenants.Money
		customer, brand int64
		labour, part    int64 // what the customer pays on each line
	}{
		{"CardLowerThanThePriceListCapsTheCustomer", ptr(domaintest.CNY(10250)), 10250, 10250, 6000, 4250},
		{"WithoutACardChargeThePriceList", nil, list, 0, washerLabour, drainPump},
		{"CardAboveThePriceListChangesNothing", ptr(domaintest.CNY(30000)), list, 0, washerLabour, drainPump},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
			tk, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
				Diagnosis:      tickets.Diagnosis{Cause: "performance", Repairable: true, WarrantyCardCharge: c.card},
				Work:           tickets.WorkInput{ServiceKind: "repair", Parts: []catalog.QuotePart{pump}},
				PriceListShown: true}, 0)
			require.NoError(t, err)
			require.Equal(t, c.card, tk.Diagnosis.WarrantyCardCharge, "kept on the diagnosis")
			shown := tk.Entitlement.Decision.Totals
			require.Equal(t, "out_of_warranty", string(tk.Entitlement.Decision.Basis))
			require.Equal(t, int64(list), shown.List.Amount)
			require.Equal(t, c.customer, shown.Customer.Amount, "the decision shown at diagnosis")
			require.Equal(t, c.brand, shown.Brand.Amount)

			e.set(e.now().Add(30 * time.Minute))
			tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
			require.NoError(t, err)
			customer, brand, plan := totals(t, tk)
			require.Equal(t, c.customer, customer, "the completion's charges")
			require.Equal(t, c.brand, brand)
			require.Zero(t, plan)
			require.Empty(t, tk.Completion.Waivers)
			pays := map[string]int64{}
			for _, l := range tk.Completion.Lines {
				pays[l.Kind] += l.CustomerPays.Amount
				require.Equal(t, l.ListAmount.Amount, l.CustomerPays.Amount+l.BrandPays.Amount, "%+v", l)
			}
			require.Equal(t, map[string]int64{"labor": c.labour, "part": c.part}, pays)
		})
	}

	t.Run("CardChargeInAnotherCurrencyIsRefused", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		usd := tenants.Money{Amount: 10000, Currency: "USD"}
		_, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
			Diagnosis:      tickets.Diagnosis{Cause: "performance", Repairable: true, WarrantyCardCharge: &usd},
			Work:           tickets.WorkInput{ServiceKind: "repair", Parts: []catalog.QuotePart{pump}},
			PriceListShown: true}, 0)
		requireField(t, err, "diagnosis.warranty_card_charge.currency")
	})
}
