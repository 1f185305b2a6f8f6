package tickets_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// diagnoseWork diagnoses a performance fault with the price list shown,
// quoting labour, the visit and parts.
func (e *moneyEnv) diagnoseWork(t *testing.T, id string, parts ...catalog.QuotePart) tickets.Ticket {
	t.Helper()
	return e.diagnoseAs(t, id, "performance", parts...)
}

// diagnoseAs diagnoses the ticket's repair as of cause, repairable, with
// labour, the visit and parts, the price list shown.
func (e *moneyEnv) diagnoseAs(t *testing.T, id, cause string, parts ...catalog.QuotePart) tickets.Ticket {
	t.Helper()
	tk, err := e.Tickets.Diagnose(e.Ctx, e.Admin, id, tickets.DiagnoseInput{
		Diagnosis:      tickets.Diagnosis{Cause: cause, Repairable: true},
		Work:           tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true, Parts: parts},
		PriceListShown: true}, 0)
	require.NoError(t, err)
	return tk
}

// move moves parts of the ticket's requisition: op on line.
func (e *moneyEnv) move(t *testing.T, id, op string, line stock.Line) {
	t.Helper()
	_, err := e.Tickets.MoveParts(e.Ctx, e.Admin, id, tickets.PartsInput{Op: op, Lines: []stock.Line{line}}, 0)
	require.NoError(t, err, op)
}

// issueAndFit receives issued of part at the ticket's node, reserves and
// issues them for the ticket, and fits used of them (fit: all of them).
func (e *moneyEnv) issueAndFit(t *testing.T, tk tickets.Ticket, part string, issued, used int) {
	t.Helper()
	_, err := e.Stock.Receive(e.Ctx, e.Admin, *tk.NodeID, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: part, Quantity: issued}}})
	require.NoError(t, err)
	e.move(t, tk.ID, "reserve", stock.Line{PartID: part, Quantity: issued})
	e.move(t, tk.ID, "issue", stock.Line{PartID: part, Quantity: issued})
	e.move(t, tk.ID, "use", stock.Line{PartID: part, Quantity: used})
}

// complete completes the ticket half an hour later, the test run passed.
func (e *moneyEnv) complete(t *testing.T, id string) tickets.Ticket {
	t.Helper()
	e.set(e.now().Add(30 * time.Minute))
	tk, err := e.Tickets.Complete(e.Ctx, e.Admin, id, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("completed"), tk.State)
	return tk
}

// stockLevel is the node's stock of part.
func stockLevel(t *testing.T, e *domaintest.Env, node, part string) stock.Level {
	t.Helper()
	ls, _, err := e.Stock.ListStock(e.Ctx, e.Admin, node, stock.StockFilter{Limit: 100})
	require.NoError(t, err)
	for _, l := range ls {
		if l.PartID == part {
			return l
		}
	}
	return stock.Level{NodeID: node, PartID: part}
}

// partLines are a completion's part lines by part number: how much the
// customer and the brand pay for them.
func partLines(tk tickets.Ticket) map[string][2]int64 {
	out := map[string][2]int64{}
	for _, l := range tk.Completion.Lines {
		if l.Kind == "part" {
			v := out[l.Code]
			out[l.Code] = [2]int64{v[0] + l.CustomerPays.Amount, v[1] + l.BrandPays.Amount}
		}
	}
	return out
}

// Seed 000 (五.收费): 严格按收费标准进行收费; seed 001 (承诺三): 未按照标准乱收费…免单.
// The completion bills what was fitted. Out of warranty (day 1200) the
// diagnosis quoted two drain pumps (labour 120.00 + visit 50.00 + 2 × 85.00
// = 340.00, shown); the requisition reserved, issued and fitted one and the
// other went back to the node's shelf: the customer pays 255.00 (labour +
// visit + one pump), the brand nothing, and the completion says the pump
// was quoted twice and billed once. In warranty (day 200) the brand pays
// the same 255.00. A quoted pump returned unused is not billed at all
// (170.00). A quoted part that never went through the requisition (the
// node fitted its own) is billed as quoted, the customer having agreed to
// it (340.00).
func TestTicketBillsThePartsFitted(t *testing.T) {
	e := newMoneyEnv(t)
	pump := e.part(t, drainPumpNo)
	two := catalog.QuotePart{PartID: pump, Quantity: 2}

	for _, c := range []struct {
		name                  string
		daysAgo               int
		quoted, issued, used  int
		customer, brand       int64
		billed                []tickets.BilledPart
		pumpCustomer, pumpBrd int64
	}{
		{name: "TwoQuotedOneFittedOneReturned", daysAgo: 1200, quoted: 2, issued: 2, used: 1,
			customer: washerLabour + washerVisit + drainPump, pumpCustomer: drainPump,
			billed: []tickets.BilledPart{{PartID: pump, PartNumber: drainPumpNo, Quoted: 2, Used: 1}}},
		{name: "InWarrantyTheBrandPaysTheOneFitted", daysAgo: 200, quoted: 2, issued: 2, used: 1,
			brand: washerLabour + washerVisit + drainPump, pumpBrd: drainPump,
			billed: []tickets.BilledPart{{PartID: pump, PartNumber: drainPumpNo, Quoted: 2, Used: 1}}},
		{name: "AQuotedPumpReturnedUnusedIsNotBilled", daysAgo: 1200, quoted: 1, issued: 1, used: 0,
			customer: washerLabour + washerVisit,
			billed:   []tickets.BilledPart{{PartID: pump, PartNumber: drainPumpNo, Quoted: 1, Used: 0}}},
		{name: "QuotedButNotRequisitionedIsBilledAsQuoted", daysAgo: 1200, quoted: 2,
			customer: washerLabour + washerVisit + 2*drainPump, pumpCustomer: 2 * drainPump},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := e.onSite(t, "repair", e.unit(t, c.daysAgo, false), -6)
			tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: c.quoted})
			shown := tk.Entitlement.Decision.Totals
			require.Equal(t, int64(washerLabour+washerVisit+c.quoted*drainPump), shown.List.Amount, "the quote shown")
			if c.issued > 0 {
				_, err := e.Stock.Receive(e.Ctx, e.Admin, *tk.NodeID, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: pump, Quantity: c.issued}}})
				require.NoError(t, err)
				before := stockLevel(t, e.Env, *tk.NodeID, pump)
				e.move(t, tk.ID, "reserve", stock.Line{PartID: pump, Quantity: c.issued})
				e.move(t, tk.ID, "issue", stock.Line{PartID: pump, Quantity: c.issued})
				if c.used > 0 {
					e.move(t, tk.ID, "use", stock.Line{PartID: pump, Quantity: c.used})
				}
				if c.issued > c.used {
					e.move(t, tk.ID, "return", stock.Line{PartID: pump, Quantity: c.issued - c.used})
				}
				after := stockLevel(t, e.Env, *tk.NodeID, pump)
				require.Equal(t, before.OnHand-c.used, after.OnHand, "the unused pumps are back on the shelf")
			}
			tk = e.complete(t, tk.ID)
			customer, brand, plan := totals(t, tk)
			require.Equal(t, c.customer, customer, "the customer pays")
			require.Equal(t, c.brand, brand, "the brand pays")
			require.Zero(t, plan)
			require.Empty(t, tk.Completion.Waivers)
			require.Equal(t, c.billed, tk.Completion.PartsBilled)
			pumps := partLines(tk)[drainPumpNo]
			require.Equal(t, c.pumpCustomer, pumps[0], "the customer's pumps")
			require.Equal(t, c.pumpBrd, pumps[1], "the brand's pumps")
			if c.used == 0 && c.issued > 0 {
				require.NotContains(t, partLines(tk), drainPumpNo, "no pump line")
			}
		})
	}

	t.Run("QuotedTwoFittedOneStillRefusesAThirdUnshown", func(t *testing.T) {
		// Fewer than quoted needs no new consent, more than quoted still does.
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk = e.diagnoseWork(t, tk.ID, two)
		e.fit(t, tk, stock.Line{PartID: pump, Quantity: 3})
		e.set(e.now().Add(30 * time.Minute))
		_, err := e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
		require.ErrorContains(t, err, drainPumpNo)
	})
}

// setPrice changes the catalog price of part to amount (fen).
func (e *moneyEnv) setPrice(t *testing.T, part string, amount int64) {
	t.Helper()
	price := domaintest.CNY(amount)
	_, err := e.Catalog.UpdatePart(e.Ctx, e.Admin, part, catalog.PartUpdate{Price: &price}, 0)
	require.NoError(t, err)
}

// Seed 000 (五.收费): 严格按收费标准进行收费; 如果使用备件要给用户出示备件费用; seed
// 001 (承诺三): 未按照标准乱收费…免单. A part the diagnosis quoted is billed at
// the price the customer was shown, though the catalog's price changed
// before the completion; a part fitted beyond the quote is priced at the
// completion (and, were the customer to pay it, refused until shown:
// TestTicketPartsBeyondTheShownQuote). Every subtest fits fewer or more
// parts than quoted, so the completion prices the job again.
//   - Out of warranty (day 1200): quoted 2 pumps at 85.00, the pump then
//     110.00, one fitted and one returned: the customer pays labour
//     120.00, the visit 50.00 and the pump 85.00, 255.00.
//   - Key-part warranty (day 1200, the washer's motor within its 120
//     months): quoted the motor (the brand's) and 2 pumps (85.00, the
//     customer's); the motor's price then 700.00, the pump 110.00; the
//     motor and one pump fitted: the customer pays 255.00, the brand the
//     motor at its price quoted.
//   - In warranty (day 200): quoted one pump at 85.00, the pump then
//     110.00, the inlet valve 45.00 then 50.00; the pump and a valve
//     fitted: the brand pays 120.00, 50.00, the pump's 85.00 and the
//     valve at the completion's 50.00, 305.00.
func TestTicketBillsQuotedPartsAtThePriceShown(t *testing.T) {
	e := newMoneyEnv(t)
	pump, valve := e.part(t, drainPumpNo), e.part(t, inletValveNo)
	motors, _, err := e.Catalog.ListParts(e.Ctx, e.Admin, catalog.PartFilter{ModelID: e.washer, Category: "motor", Limit: 1})
	require.NoError(t, err)
	require.Len(t, motors, 1, "the demo washer's motor, a key part with a 120-month term")
	motor, motorNo, motorPrice := motors[0].ID, motors[0].PartNumber, motors[0].Price.Amount
	prices := func(t *testing.T, pumpPrice, valvePrice, motorPrice int64) {
		t.Helper()
		e.setPrice(t, pump, pumpPrice)
		e.setPrice(t, valve, valvePrice)
		e.setPrice(t, motor, motorPrice)
	}
	// fitOneOfTwo takes two pumps through the requisition: both issued,
	// one fitted, the other back on the shelf.
	fitOneOfTwo := func(t *testing.T, tk tickets.Ticket) {
		t.Helper()
		e.issueAndFit(t, tk, pump, 2, 1)
		e.move(t, tk.ID, "return", stock.Line{PartID: pump, Quantity: 1})
	}

	t.Run("OutOfWarrantyThePumpAtThe85Shown", func(t *testing.T) {
		prices(t, drainPump, inletValve, motorPrice)
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: 2})
		require.Equal(t, int64(washerLabour+washerVisit+2*drainPump), tk.Entitlement.Decision.Totals.Customer.Amount, "shown")
		prices(t, 11000, inletValve, motorPrice)
		fitOneOfTwo(t, tk)
		tk = e.complete(t, tk.ID)
		customer, brand, plan := totals(t, tk)
		require.Equal(t, int64(washerLabour+washerVisit+drainPump), customer, "labour + visit + one pump at 85.00")
		require.Zero(t, brand)
		require.Zero(t, plan)
		require.Equal(t, [2]int64{drainPump, 0}, partLines(tk)[drainPumpNo], "the customer's pump at 85.00")
	})

	t.Run("KeyPartWarrantyBothAtThePricesShown", func(t *testing.T) {
		prices(t, drainPump, inletValve, motorPrice)
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
			Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true, PartCategories: []string{"motor"}},
			Work: tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true,
				Parts: []catalog.QuotePart{{PartID: motor, Quantity: 1}, {PartID: pump, Quantity: 2}}},
			PriceListShown: true}, 0)
		require.NoError(t, err)
		shown := tk.Entitlement.Decision
		require.Equal(t, "key_part_warranty", string(shown.Basis))
		require.Equal(t, int64(washerLabour+washerVisit+2*drainPump), shown.Totals.Customer.Amount, "shown")
		require.Equal(t, int64(motorPrice), shown.Totals.Brand.Amount, "shown")
		prices(t, 11000, inletValve, 70000)
		_, err = e.Stock.Receive(e.Ctx, e.Admin, *tk.NodeID, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: motor, Quantity: 1}}})
		require.NoError(t, err)
		fitOneOfTwo(t, tk)
		for _, op := range []string{"reserve", "issue", "use"} {
			e.move(t, tk.ID, op, stock.Line{PartID: motor, Quantity: 1})
		}
		tk = e.complete(t, tk.ID)
		customer, brand, plan := totals(t, tk)
		require.Equal(t, "key_part_warranty", tk.Completion.Basis)
		require.Equal(t, int64(washerLabour+washerVisit+drainPump), customer, "labour + visit + one pump at 85.00")
		require.Equal(t, int64(motorPrice), brand, "the motor at its price quoted")
		require.Zero(t, plan)
		require.Equal(t, map[string][2]int64{drainPumpNo: {drainPump, 0}, motorNo: {0, motorPrice}}, partLines(tk))
	})

	t.Run("InWarrantyTheValveBeyondTheQuoteAtTheCompletionsPrice", func(t *testing.T) {
		prices(t, drainPump, inletValve, motorPrice)
		tk := e.onSite(t, "repair", e.unit(t, 200, false), -6)
		tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: 1})
		prices(t, 11000, 5000, motorPrice)
		e.fit(t, tk, stock.Line{PartID: pump, Quantity: 1}, stock.Line{PartID: valve, Quantity: 1})
		tk = e.complete(t, tk.ID)
		customer, brand, plan := totals(t, tk)
		require.Zero(t, customer)
		require.Equal(t, int64(washerLabour+washerVisit+drainPump+5000), brand, "the pump at the 85.00 quoted, the valve at 50.00")
		require.Zero(t, plan)
		require.Equal(t, map[string][2]int64{drainPumpNo: {0, drainPump}, inletValveNo: {0, 5000}}, partLines(tk))
		require.Equal(t, []tickets.BilledPart{{PartID: valve, PartNumber: inletValveNo, Quoted: 0, Used: 1}}, tk.Completion.PartsBilled)
	})
}

// twoPumpsReserved is an out-of-warranty washer repair on site, diagnosed
// with one drain pump quoted, whose node received two pumps; both are
// reserved for the ticket, issued of them, and one fitted. It returns the
// ticket, the pump and the node's stock of it before the reservation.
func (e *moneyEnv) twoPumpsReserved(t *testing.T, issued int) (tickets.Ticket, string, stock.Level) {
	t.Helper()
	pump := e.part(t, drainPumpNo)
	tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
	tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: 1})
	_, err := e.Stock.Receive(e.Ctx, e.Admin, *tk.NodeID, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: pump, Quantity: 2}}})
	require.NoError(t, err)
	before := stockLevel(t, e.Env, *tk.NodeID, pump)
	e.move(t, tk.ID, "reserve", stock.Line{PartID: pump, Quantity: 2})
	e.move(t, tk.ID, "issue", stock.Line{PartID: pump, Quantity: issued})
	e.move(t, tk.ID, "use", stock.Line{PartID: pump, Quantity: 1})
	return tk, pump, before
}

// A completed ticket keeps no parts reserved at its node: out of warranty
// (day 1200) the diagnosis quoted one drain pump; the requisition reserved
// 2, issued 1 and fitted it. The completion bills the one pump (the
// customer pays labour 120.00, the visit 50.00 and the pump 85.00, 255.00)
// and releases the other reservation, as a cancellation does: the node's
// reserved count is back where it was before the ticket, its stock on hand
// is one pump less (the one issued and fitted), and the release is a stock
// move of the ticket.
func TestTicketCompletionReleasesReservedParts(t *testing.T) {
	e := newMoneyEnv(t)
	tk, pump, before := e.twoPumpsReserved(t, 1)
	held := stockLevel(t, e.Env, *tk.NodeID, pump)
	require.Equal(t, before.Reserved+1, held.Reserved, "one still reserved for the ticket")

	tk = e.complete(t, tk.ID)
	customer, brand, plan := totals(t, tk)
	require.Equal(t, int64(washerLabour+washerVisit+drainPump), customer, "the one pump fitted, as quoted")
	require.Zero(t, brand)
	require.Zero(t, plan)
	require.Empty(t, tk.Completion.PartsBilled)

	after := stockLevel(t, e.Env, *tk.NodeID, pump)
	require.Equal(t, before.Reserved, after.Reserved, "the reservation is released")
	require.Equal(t, before.OnHand-1, after.OnHand, "only the pump issued left the shelf")
	require.Equal(t, before.Available-1, after.Available)
	parts, err := e.Tickets.Parts(e.Ctx, e.Admin, tk.ID)
	require.NoError(t, err)
	require.Len(t, parts, 1)
	require.Equal(t, [3]int{1, 1, 1}, [3]int{parts[0].Reserved, parts[0].Issued, parts[0].Used}, "reserved net of the release")
	moves, _, err := e.Stock.ListMoves(e.Ctx, e.Admin, *tk.NodeID, stock.MoveFilter{TicketID: tk.ID, Limit: 20})
	require.NoError(t, err)
	var kinds []string
	for _, m := range moves {
		kinds = append(kinds, string(m.Kind)+":"+strconv.Itoa(m.Quantity))
	}
	require.Equal(t, []string{"reserve:2", "issue:1", "use:1", "release:1"}, kinds)
}

// The technician took two pumps and fitted one: the ticket is completed
// at the customer's (the customer pays the one fitted, as quoted: 255.00)
// and the other pump goes back to the depot afterwards. Before, a
// completed ticket's parts could not move at all (409: parts only on
// site), the unfitted pump stranded off the node's shelf for good. Now the
// return is taken after the completion, and it bills nothing; any other
// move is refused (tickets.parts_after_completion), the parts being
// settled by the completion.
func TestPartsIssuedAndNotFittedAreReturnedAfterTheCompletion(t *testing.T) {
	e := newMoneyEnv(t)
	tk, pump, before := e.twoPumpsReserved(t, 2)
	tk = e.complete(t, tk.ID)
	customer, brand, plan := totals(t, tk)
	require.Equal(t, int64(washerLabour+washerVisit+drainPump), customer, "the one pump fitted: 120.00 + 50.00 + 85.00")
	require.Zero(t, brand)
	require.Zero(t, plan)
	require.Equal(t, before.OnHand-2, stockLevel(t, e.Env, *tk.NodeID, pump).OnHand, "both pumps off the shelf at the completion")

	_, err := e.Tickets.MoveParts(e.Ctx, e.Admin, tk.ID, tickets.PartsInput{Op: "reserve", Lines: []stock.Line{{PartID: pump, Quantity: 1}}}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, "tickets.parts_after_completion", te.Msg.Code)

	e.move(t, tk.ID, "return", stock.Line{PartID: pump, Quantity: 1})
	after := stockLevel(t, e.Env, *tk.NodeID, pump)
	require.Equal(t, before.OnHand-1, after.OnHand, "the unfitted pump back on the shelf")
	require.Equal(t, before.Available-1, after.Available)
	got, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tickets.State("completed"), got.State)
	customer, brand, plan = totals(t, got)
	require.Equal(t, int64(washerLabour+washerVisit+drainPump), customer, "the return bills nothing")
	require.Zero(t, brand)
	require.Zero(t, plan)
	_, err = e.Tickets.MoveParts(e.Ctx, e.Admin, tk.ID, tickets.PartsInput{Op: "return", Lines: []stock.Line{{PartID: pump, Quantity: 1}}}, 0)
	require.Error(t, err, "the fitted pump cannot be returned")
}

// A cancellation settles nothing, so it must not strand parts out of the
// node's stock: a drain pump fitted to the unit (out of warranty, quoted
// and shown) cannot be cancelled away (409 naming the pump: complete the
// ticket, and the customer pays the 255.00 shown); a pump issued and
// neither fitted nor returned is 409 until it is returned, and the
// cancellation then releases what is still reserved, the node's stock
// whole again. A reopened ticket whose earlier completion billed the pump
// fitted then can be cancelled (the completion's charges stand); one
// fitted after the reopening cannot.
func TestTicketCancelRefusesPartsOutOfStock(t *testing.T) {
	e := newMoneyEnv(t)
	pump := e.part(t, drainPumpNo)
	one := stock.Line{PartID: pump, Quantity: 1}
	cancel := func(id string) (tickets.Ticket, error) {
		return e.Tickets.Cancel(e.Ctx, e.Admin, id, tickets.CancelInput{Reason: "客户撤销"}, 0)
	}
	refused := func(t *testing.T, id, code string) {
		t.Helper()
		_, err := cancel(id)
		require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
		require.ErrorContains(t, err, drainPumpNo)
		var te *tenants.Error
		require.ErrorAs(t, err, &te)
		require.NotNil(t, te.Msg)
		require.Equal(t, code, te.Msg.Code)
		tk, err := e.Tickets.Get(e.Ctx, e.Admin, id)
		require.NoError(t, err)
		require.NotEqual(t, tickets.State("cancelled"), tk.State)
	}

	t.Run("AFittedPumpIsCompletedNotCancelled", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: 1})
		e.fit(t, tk, one)
		before := stockLevel(t, e.Env, *tk.NodeID, pump)
		refused(t, tk.ID, "tickets.cancel_parts_fitted")
		require.Equal(t, before, stockLevel(t, e.Env, *tk.NodeID, pump), "no stock moved")
		tk = e.complete(t, tk.ID)
		customer, brand, _ := totals(t, tk)
		require.Equal(t, int64(washerLabour+washerVisit+drainPump), customer, "the customer pays the pump shown")
		require.Zero(t, brand)
	})

	t.Run("AnIssuedPumpIsReturnedFirst", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		_, err := e.Stock.Receive(e.Ctx, e.Admin, *tk.NodeID, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: pump, Quantity: 2}}})
		require.NoError(t, err)
		before := stockLevel(t, e.Env, *tk.NodeID, pump)
		e.move(t, tk.ID, "reserve", stock.Line{PartID: pump, Quantity: 2})
		e.move(t, tk.ID, "issue", one)
		refused(t, tk.ID, "tickets.cancel_parts_issued")
		e.move(t, tk.ID, "return", one)
		tk, err = cancel(tk.ID)
		require.NoError(t, err)
		require.Equal(t, tickets.State("cancelled"), tk.State)
		after := stockLevel(t, e.Env, *tk.NodeID, pump)
		require.Equal(t, before.OnHand, after.OnHand, "the pump issued is back on the shelf")
		require.Equal(t, before.Reserved, after.Reserved, "the other reservation is released")
	})

	t.Run("AReopenedTicketKeepsItsBilledPump", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: 1})
		e.fit(t, tk, one)
		tk = e.complete(t, tk.ID)
		tk, err := e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "客户不满意：仍不排水"}, 0)
		require.NoError(t, err)
		tk, err = cancel(tk.ID)
		require.NoError(t, err, "the pump fitted was billed by the earlier completion")
		require.Equal(t, tickets.State("cancelled"), tk.State)
		require.Equal(t, int64(washerLabour+washerVisit+drainPump), tk.CustomerTotal.Amount, "its charges stand")
	})

	t.Run("APumpFittedAfterTheReopeningIsNot", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk = e.diagnoseWork(t, tk.ID, catalog.QuotePart{PartID: pump, Quantity: 1})
		e.fit(t, tk, one)
		tk = e.complete(t, tk.ID)
		_, err := e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "客户不满意：仍不排水"}, 0)
		require.NoError(t, err)
		tk = e.visit(t, tk.ID, -6, false)
		e.fit(t, tk, one)
		refused(t, tk.ID, "tickets.cancel_parts_fitted")
	})
}
