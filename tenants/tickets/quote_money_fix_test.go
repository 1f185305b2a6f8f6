package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// The demo price list's washer inlet valve (0024000402), 45.00.
const (
	inletValveNo = "0024000402"
	inletValve   = 4500
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

// fit receives parts at the ticket's node and fits them through the
// ticket's requisition (reserve, issue, use).
func (e *moneyEnv) fit(t *testing.T, tk tickets.Ticket, lines ...stock.Line) {
	t.Helper()
	var receipt []stock.ReceiptLine
	for _, l := range lines {
		receipt = append(receipt, stock.ReceiptLine(l))
	}
	_, err := e.Stock.Receive(e.Ctx, e.Admin, *tk.NodeID, stock.Receipt{Lines: receipt})
	require.NoError(t, err)
	for _, op := range []string{"reserve", "issue", "use"} {
		_, err := e.Tickets.MoveParts(e.Ctx, e.Admin, tk.ID, tickets.PartsInput{Op: op, Lines: lines}, 0)
		require.NoError(t, err, op)
	}
}

// Seed 000: 征得用户同意并出示收费标准; 如果使用备件要给用户出示备件费用. Out of
// warranty (day 1200) the diagnosis quoted and showed labour 120.00 + the
// drain pump 85.00 = 205.00. The technician then fits the pump and an
// inlet valve (45.00) nobody showed the customer: completing would charge
// the valve unseen, so it is refused (409 naming the valve) and nothing is
// settled. Diagnosed again with both parts and the new price list shown,
// the customer pays 250.00; diagnosed again without showing it, the
// service is free (rule 8, Midea promise 3: 未出示收费标准 → 免单), the
// brand bearing the 250.00. Two pumps fitted when one was quoted are the
// same: the second pump was never shown. In warranty (day 200) the brand
// pays the unquoted valve, and the completion bills it as before: 250.00,
// the customer nothing.
func TestTicketPartsBeyondTheShownQuote(t *testing.T) {
	e := newMoneyEnv(t)
	pump, valve := e.part(t, drainPumpNo), e.part(t, inletValveNo)
	quoted := []catalog.QuotePart{{PartID: pump, Quantity: 1}}
	const shown = washerLabour + drainPump                  // 20500
	const withValve = washerLabour + drainPump + inletValve // 25000
	diagnose := func(t *testing.T, id string, parts []catalog.QuotePart, priceShown bool) tickets.Ticket {
		t.Helper()
		tk, err := e.Tickets.Diagnose(e.Ctx, e.Admin, id, tickets.DiagnoseInput{
			Diagnosis:      tickets.Diagnosis{Cause: "performance", Repairable: true},
			Work:           tickets.WorkInput{ServiceKind: "repair", Parts: parts},
			PriceListShown: priceShown}, 0)
		require.NoError(t, err)
		return tk
	}
	complete := func(id string) (tickets.Ticket, error) {
		e.set(e.now().Add(30 * time.Minute))
		return e.Tickets.Complete(e.Ctx, e.Admin, id, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	}
	refused := func(t *testing.T, id string, part string) {
		t.Helper()
		_, err := complete(id)
		require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
		require.ErrorContains(t, err, part)
		require.ErrorContains(t, err, "price_list_shown")
		tk, err := e.Tickets.Get(e.Ctx, e.Admin, id)
		require.NoError(t, err)
		require.Equal(t, tickets.State("on_site"), tk.State, "nothing settled")
		require.Nil(t, tk.Completion)
		require.Equal(t, int64(shown), tk.Entitlement.Decision.Totals.Customer.Amount, "the decision shown stands")
	}
	payers := func(tk tickets.Ticket) map[string]string {
		out := map[string]string{}
		for _, l := range tk.Completion.Lines {
			out[l.Kind+":"+l.Code] = l.Payer
		}
		return out
	}

	t.Run("AnUnshownPartIsRefusedThenChargedOnceShown", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk = diagnose(t, tk.ID, quoted, true)
		require.Equal(t, int64(shown), tk.Entitlement.Decision.Totals.Customer.Amount)
		e.fit(t, tk, stock.Line{PartID: pump, Quantity: 1}, stock.Line{PartID: valve, Quantity: 1})
		refused(t, tk.ID, inletValveNo)

		tk = diagnose(t, tk.ID, append(quoted, catalog.QuotePart{PartID: valve, Quantity: 1}), true)
		require.Equal(t, int64(withValve), tk.Entitlement.Decision.Totals.Customer.Amount, "the new price list shown")
		tk, err := complete(tk.ID)
		require.NoError(t, err)
		customer, brand, plan := totals(t, tk)
		require.Equal(t, int64(withValve), customer, "labour 120.00 + pump 85.00 + valve 45.00, all shown")
		require.Zero(t, brand)
		require.Zero(t, plan)
		require.Empty(t, tk.Completion.Waivers)
		require.Empty(t, tk.Completion.PartsBilled, "both parts were in the quote shown")
		require.Equal(t, map[string]string{"labor:": "customer", "part:" + drainPumpNo: "customer", "part:" + inletValveNo: "customer"}, payers(tk))
	})

	t.Run("DiagnosedAgainWithoutShowingItTheServiceIsFree", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk = diagnose(t, tk.ID, quoted, true)
		e.fit(t, tk, stock.Line{PartID: pump, Quantity: 1}, stock.Line{PartID: valve, Quantity: 1})
		refused(t, tk.ID, inletValveNo)

		tk = diagnose(t, tk.ID, append(quoted, catalog.QuotePart{PartID: valve, Quantity: 1}), false)
		require.Nil(t, tk.PriceShownAt, "the new quote was not shown")
		tk, err := complete(tk.ID)
		require.NoError(t, err)
		customer, brand, _ := totals(t, tk)
		require.Zero(t, customer, "免单: nothing the customer was not shown is charged, nor the rest")
		require.Equal(t, int64(withValve), brand)
		require.Equal(t, []string{"price_list_not_shown"}, waiverCodes(tk))
	})

	t.Run("ASecondPumpBeyondTheOneShownIsRefused", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk = diagnose(t, tk.ID, quoted, true)
		e.fit(t, tk, stock.Line{PartID: pump, Quantity: 2})
		refused(t, tk.ID, drainPumpNo)

		diagnose(t, tk.ID, []catalog.QuotePart{{PartID: pump, Quantity: 2}}, true)
		tk, err := complete(tk.ID)
		require.NoError(t, err)
		customer, brand, _ := totals(t, tk)
		require.Equal(t, int64(washerLabour+2*drainPump), customer, "labour 120.00 + two pumps 170.00, shown")
		require.Zero(t, brand)
	})

	t.Run("InWarrantyTheBrandPaysTheUnquotedPart", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 200, false), -6)
		tk = diagnose(t, tk.ID, quoted, true)
		e.fit(t, tk, stock.Line{PartID: pump, Quantity: 1}, stock.Line{PartID: valve, Quantity: 1})
		tk, err := complete(tk.ID)
		require.NoError(t, err)
		customer, brand, _ := totals(t, tk)
		require.Zero(t, customer)
		require.Equal(t, int64(withValve), brand)
		require.Equal(t, []tickets.BilledPart{{PartID: valve, PartNumber: inletValveNo, Quoted: 0, Used: 1}}, tk.Completion.PartsBilled)
		require.Equal(t, "brand", payers(tk)["part:"+inletValveNo])
	})
}
