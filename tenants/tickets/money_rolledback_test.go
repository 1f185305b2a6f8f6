package tickets_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Money on the ticket path, in rolled-back transactions: what the customer
// pays, what the brand, the plan or the storefront owes, derived from the
// seeds' rules, at the demo price list's washer prices (paths_test.go);
// its drain pump (0024000145) costs 85.00.
const drainPumpNo = "0024000145"

// moneyEnv is the demo brand (domaintest.NewDemo: the demo network,
// catalog, price list, plans, storefront and stock, seeded once and shared
// by the tests, each in its own rolled-back transaction), whose nodes that
// can take a washer repair in region each have a technician who can take
// any washer repair any day, with a clock the tickets service reads.
type moneyEnv struct {
	*domaintest.Env
	washer, region, storefront string
	start                      time.Time // a weekday 10:00, two days ahead
	// dispatchAt is when visit dispatches (zero: the real time); a test
	// whose deadline is short sets a weekday morning, so that the
	// dispatcher finds a technician's shift before it whatever the hour.
	dispatchAt time.Time
	mu         sync.Mutex
	at         time.Time
	serial     int
}

func newMoneyEnv(t *testing.T) *moneyEnv {
	t.Helper()
	env, demo := domaintest.NewDemo(t)
	e := &moneyEnv{Env: env, washer: demo.Washer, region: demo.Region, storefront: demo.Storefront}
	e.Tickets.Now = e.now
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	d := time.Now().In(loc).AddDate(0, 0, 1)
	e.start = nextWorkday(time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, loc))
	return e
}

// nextWorkday is at's time of day on the first Monday-Friday after at's
// day: a day the demo technicians' weekday shifts cover, whatever day the
// tests run (a Friday's next day is the Monday).
func nextWorkday(at time.Time) time.Time {
	d := at.AddDate(0, 0, 1)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// twoHours is the two-hour visit window from start.
func twoHours(start time.Time) tickets.Window {
	return tickets.Window{Start: start, End: start.Add(2 * time.Hour)}
}

func (e *moneyEnv) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.at.IsZero() {
		return time.Now()
	}
	return e.at
}

// set moves the tickets' clock to at (zero: the real time).
func (e *moneyEnv) set(at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.at = at
}

// unit registers a washer bought daysAgo days ago for 2,999.00, from the
// brand store, or from the demo storefront when storefront.
func (e *moneyEnv) unit(t *testing.T, daysAgo int, storefront bool) string {
	t.Helper()
	e.serial++
	in := customers.NewUnit{ModelID: e.washer, Serial: fmt.Sprintf("MNY-%04d", e.serial),
		Customer:     &customers.NewCustomer{Name: "钱七", Phones: []string{fmt.Sprintf("+86 139 1000 %04d", e.serial)}},
		PurchaseDate: domaintest.Today(-daysAgo), PurchasePrice: domaintest.CNY(299900), Channel: "brand_store"}
	if storefront {
		in.Channel, in.StorefrontID = "storefront", e.storefront
	}
	u, err := e.Customers.RegisterUnit(e.Ctx, e.Admin, in)
	require.NoError(t, err)
	return u.ID
}

// onSite opens a ticket of typ for unit, triages it on site and takes it
// through dispatch, accept, schedule and a check-in lateMinutes after the
// window's start (negative: early).
func (e *moneyEnv) onSite(t *testing.T, typ, unit string, lateMinutes int) tickets.Ticket {
	t.Helper()
	return e.openOnSite(t, e.Admin, typ, tickets.UnitDetails{UnitID: unit}, lateMinutes)
}

// openOnSite is onSite for a ticket p opens for the unit its intake
// identifies (a registered one, or a model and serial it registers).
func (e *moneyEnv) openOnSite(t *testing.T, p tenants.Principal, typ string, unit tickets.UnitDetails, lateMinutes int) tickets.Ticket {
	t.Helper()
	e.set(time.Time{})
	w := tickets.Window{Start: e.start, End: e.start.Add(2 * time.Hour)}
	tk, err := e.Tickets.Open(e.Ctx, p, tickets.NewTicket{Channel: "hotline", Type: typ,
		Contact: tickets.TicketContact{Name: "钱七", Phone: "+86 139 1000 0000"},
		Address: tickets.ServiceAddress{RegionCode: e.region, Line: "建设路 1 号"},
		Unit:    unit, Fault: tickets.ReportedFault{Symptom: "不排水"}, PreferredWindow: &w})
	require.NoError(t, err)
	require.Equal(t, tickets.State("new"), tk.State, "%v", tk.Verification)
	return e.visit(t, tk.ID, lateMinutes, true)
}

// visit takes a triaged (triage) or reopened ticket through dispatch,
// accept, schedule (a two-hour window) and check-in lateMinutes after the
// window's end (late), or -lateMinutes before its start (0: at its start,
// on time).
func (e *moneyEnv) visit(t *testing.T, id string, lateMinutes int, triage bool) tickets.Ticket {
	t.Helper()
	e.set(e.dispatchAt)
	var tk tickets.Ticket
	var err error
	if triage {
		tk, err = e.Tickets.Triage(e.Ctx, e.Admin, id, tickets.TriageInput{Mode: "on_site"}, 0)
	} else {
		tk, err = e.Tickets.Dispatch(e.Ctx, e.Admin, id, tickets.DispatchInput{}, 0)
	}
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
	require.NotNil(t, tk.TechnicianID, "no technician proposed: %v", tk.StateReason)
	_, err = e.Tickets.Accept(e.Ctx, e.Admin, id, tickets.AcceptInput{}, 0)
	require.NoError(t, err)
	_, err = e.Tickets.Schedule(e.Ctx, e.Admin, id, tickets.ScheduleInput{Window: tickets.Window{Start: e.start, End: e.start.Add(2 * time.Hour)}}, 0)
	require.NoError(t, err)
	e.set(arrivalAt(e.start, time.Duration(lateMinutes)*time.Minute))
	tk, err = e.Tickets.CheckIn(e.Ctx, e.Admin, id, tickets.CheckInInput{}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("on_site"), tk.State)
	return tk
}

// repair diagnoses a performance fault, the price list shown, prices labour,
// the visit and parts, and completes half an hour after the check-in.
func (e *moneyEnv) repair(t *testing.T, id string, parts ...catalog.QuotePart) tickets.Ticket {
	t.Helper()
	_, err := e.Tickets.Diagnose(e.Ctx, e.Admin, id, tickets.DiagnoseInput{
		Diagnosis:      tickets.Diagnosis{Cause: "performance", Repairable: true},
		Work:           tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true, Parts: parts},
		PriceListShown: true}, 0)
	require.NoError(t, err)
	e.set(e.now().Add(30 * time.Minute))
	tk, err := e.Tickets.Complete(e.Ctx, e.Admin, id, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("completed"), tk.State)
	return tk
}

// part is the id of the demo catalog's part numbered number.
func (e *moneyEnv) part(t *testing.T, number string) string {
	t.Helper()
	ps, _, err := e.Catalog.ListParts(e.Ctx, e.Admin, catalog.PartFilter{PartNumber: number, Limit: 1})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	return ps[0].ID
}

// plan is the demo brand's washer plan of kind.
func (e *moneyEnv) plan(t *testing.T, kind string) warranty.Plan {
	t.Helper()
	return e.planFor(t, kind, "washer")
}

// planFor is the demo brand's plan of kind for category.
func (e *moneyEnv) planFor(t *testing.T, kind, category string) warranty.Plan {
	t.Helper()
	plans, _, err := e.Warranty.ListPlans(e.Ctx, e.Admin, warranty.PlanFilter{Kind: kind, Category: category, Limit: 10})
	require.NoError(t, err)
	require.NotEmpty(t, plans, "the demo has a %s plan for %s", kind, category)
	return plans[0]
}

// totals are a completion's totals: customer, brand, plan.
func totals(t *testing.T, tk tickets.Ticket) (customer, brand, plan int64) {
	t.Helper()
	require.NotNil(t, tk.Completion)
	tt := tk.Completion.Totals
	require.Equal(t, tk.Completion.Totals.Customer.Amount, tk.CustomerTotal.Amount, "the ticket's customer total is the completion's")
	// each payer's total is its lines' sum, and a line's list amount is
	// its payers' shares
	var sum [4]int64
	for _, l := range tk.Completion.Lines {
		require.Equal(t, l.ListAmount.Amount, l.CustomerPays.Amount+l.BrandPays.Amount+l.PlanPays.Amount, "%+v", l)
		sum[0], sum[1], sum[2], sum[3] = sum[0]+l.ListAmount.Amount, sum[1]+l.CustomerPays.Amount, sum[2]+l.BrandPays.Amount, sum[3]+l.PlanPays.Amount
	}
	require.Equal(t, [4]int64{tt.List.Amount, tt.Customer.Amount, tt.Brand.Amount, tt.Plan.Amount}, sum,
		"the totals (list, customer, brand, plan) are the lines' sums")
	return tt.Customer.Amount, tt.Brand.Amount, tt.Plan.Amount
}

func waiverCodes(tk tickets.Ticket) []string {
	var out []string
	for _, w := range tk.Completion.Waivers {
		out = append(out, w.Code)
	}
	return out
}

// Rule 8 (Midea's promise 3): a technician who showed no licence makes
// that service free. Upheld by a complaint after the completion, the
// brand takes the 170.00 and refunds it; the ticket reopened (the customer
// unsatisfied) and completed again is the same service, so the second
// completion charges the customer nothing either, and nothing more is
// refunded.
func TestRolledBackUpheldWaiverHoldsAfterReopen(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
	tk = e.repair(t, tk.ID)
	customer, brand, plan := totals(t, tk)
	// 1200 days: past the washer's whole-unit warranty; rule 2: the price
	// list, labour 120.00 + visit 50.00, the customer's.
	require.Equal(t, int64(washerLabour+washerVisit), customer)
	require.Zero(t, brand)
	require.Zero(t, plan)

	c := e.upholdLicenceNotShown(t, tk)
	require.NotNil(t, c.RefundPayoutID)
	refund, err := e.Payouts.GetPayout(e.Ctx, e.Admin, *c.RefundPayoutID)
	require.NoError(t, err)
	require.Equal(t, int64(washerLabour+washerVisit), refund.Amount.Amount, "what the customer paid comes back")
	require.Equal(t, payouts.PayerBrand, refund.Payer)

	tk, err = e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "客户不满意：仍不排水"}, 0)
	require.NoError(t, err)
	e.visit(t, tk.ID, -6, false)
	tk = e.repair(t, tk.ID)
	customer, brand, plan = totals(t, tk)
	require.Zero(t, customer, "the licence waiver holds for the service served again")
	require.Equal(t, int64(washerLabour+washerVisit), brand, "the brand pays labour 120.00 + visit 50.00")
	require.Zero(t, plan)
	require.Contains(t, waiverCodes(tk), "licence_not_shown")
	for _, l := range tk.Completion.Lines {
		require.Zero(t, l.CustomerPays.Amount, "%+v", l)
		require.Equal(t, "brand", l.Payer, "%+v", l)
	}
	ps, _, err := e.Payouts.ListPayouts(e.Ctx, e.Admin, payouts.Filter{UnitID: *tk.UnitID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, ps, 1, "one refund for the service, nothing owed on the second completion")
}

// Rule 8 (Midea's promise 3: 未出示收费标准…本次服务给用户免单): a
// technician who charged without showing the price list made that service
// free: labour 120.00 + visit 50.00 are the brand's. Reopened (the customer
// unsatisfied) and diagnosed again, this time with the price list shown, it
// is the same service: the second completion charges the customer nothing
// and still records the promise that made it free, and nothing is refunded
// (nothing was paid).
func TestRolledBackPriceListNotShownHoldsAfterReopen(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
	_, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
		Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true},
		Work:      tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, PriceListShown: false}, 0)
	require.NoError(t, err)
	e.set(e.now().Add(30 * time.Minute))
	tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	customer, brand, _ := totals(t, tk)
	require.Zero(t, customer, "no price list shown: the service is free")
	require.Equal(t, int64(washerLabour+washerVisit), brand)
	require.Equal(t, []string{"price_list_not_shown"}, waiverCodes(tk))

	tk, err = e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "客户不满意：仍不排水"}, 0)
	require.NoError(t, err)
	e.visit(t, tk.ID, -6, false)
	tk = e.repair(t, tk.ID) // diagnosed again, the price list shown
	customer, brand, plan := totals(t, tk)
	require.Zero(t, customer, "the service the price list was not shown for stays free")
	require.Equal(t, int64(washerLabour+washerVisit), brand, "the brand pays labour 120.00 + visit 50.00")
	require.Zero(t, plan)
	require.Contains(t, waiverCodes(tk), "price_list_not_shown")
	ps, _, err := e.Payouts.ListPayouts(e.Ctx, e.Admin, payouts.Filter{UnitID: *tk.UnitID, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, ps, "nothing was paid: nothing to refund")
}

// Rule 2: out of warranty the price list charges the customer everything
// shown before the work: labour 120.00 + the drain pump 85.00 + the visit
// (travel) 50.00 = 255.00; the brand and plans pay nothing. In warranty
// (day 100 of the washer's whole-unit term, a performance fault) the same
// job is the brand's: 255.00, the customer nothing.
func TestRolledBackRepairChargesByWarranty(t *testing.T) {
	e := newMoneyEnv(t)
	pump := catalog.QuotePart{PartID: e.part(t, drainPumpNo), Quantity: 1}
	for _, c := range []struct {
		name                  string
		daysAgo               int
		basis, payer          string
		customer, brand, plan int64
	}{
		{"OutOfWarrantyTheCustomerPaysLabourPartAndVisit", 1200, "out_of_warranty", "customer", washerLabour + drainPump + washerVisit, 0, 0},
		{"InWarrantyTheBrandPays", 100, "manufacturer_warranty", "brand", 0, washerLabour + drainPump + washerVisit, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := e.onSite(t, "repair", e.unit(t, c.daysAgo, false), -6)
			tk = e.repair(t, tk.ID, pump)
			customer, brand, plan := totals(t, tk)
			require.Equal(t, c.customer, customer)
			require.Equal(t, c.brand, brand)
			require.Equal(t, c.plan, plan)
			require.Equal(t, c.basis, tk.Completion.Basis)
			require.Empty(t, tk.Completion.Waivers, "on time, price list shown: no promise")
			kinds := map[string]int64{}
			for _, l := range tk.Completion.Lines {
				require.Equal(t, c.payer, l.Payer, "%+v", l)
				kinds[l.Kind] += l.ListAmount.Amount
			}
			require.Equal(t, map[string]int64{"labor": washerLabour, "part": drainPump, "visit": washerVisit}, kinds)
		})
	}
}

// Rule 8: the technician arriving later than the agreed time makes the
// service free — the brand pays the 170.00 the customer would have paid —
// with an apology up to 15 minutes late, and an apology and a gift later.
func TestRolledBackLateArrivalIsFree(t *testing.T) {
	e := newMoneyEnv(t)
	for _, c := range []struct {
		late   int
		action string
	}{{10, "apology"}, {20, "apology_and_gift"}} {
		t.Run(fmt.Sprintf("%dMinutesLate", c.late), func(t *testing.T) {
			tk := e.onSite(t, "repair", e.unit(t, 1200, false), c.late)
			tk = e.repair(t, tk.ID)
			customer, brand, plan := totals(t, tk)
			require.Zero(t, customer, "late means free")
			require.Equal(t, int64(washerLabour+washerVisit), brand)
			require.Zero(t, plan)
			require.Equal(t, []string{"late_arrival"}, waiverCodes(tk))
			require.Equal(t, c.action, tk.Completion.Waivers[0].Action)
			for _, l := range tk.Completion.Lines {
				require.Equal(t, "brand", l.Payer, "%+v", l)
			}
		})
	}
}

// A drain pump fitted through the ticket's requisition (received at the
// node, reserved, issued and used) is billed on completion at the price
// list's 85.00, with labour 120.00 and the visit 50.00: 255.00. Out of
// warranty the customer pays it when the diagnosis quoted it (a part
// quoted and used is billed once; one the customer was never shown is
// refused until a new diagnosis shows it: TestTicketPartsBeyondTheShownQuote);
// in warranty (day 200 of the washer's 36 months, a performance fault) the
// brand bears it; 20 minutes late (Midea's promise 1, 超时免单) the repair
// and the parts are waived to the brand, with an apology and a gift.
func TestRolledBackCompletionBillsPartsUsed(t *testing.T) {
	e := newMoneyEnv(t)
	pump := e.part(t, drainPumpNo)
	const withPart = washerLabour + washerVisit + drainPump // 25500
	for _, c := range []struct {
		name            string
		daysAgo, late   int
		quoted, used    int
		basis, payer    string
		customer, brand int64
		billed          []tickets.BilledPart
		waivers         []string
	}{
		{name: "APartQuotedAndUsedIsBilledOnce", daysAgo: 1500, late: -6, quoted: 1, used: 1, basis: "out_of_warranty",
			payer: "customer", customer: withPart},
		{name: "LateTheBrandBearsThePartUsedToo", daysAgo: 1500, late: 20, used: 1, basis: "out_of_warranty",
			payer: "brand", brand: withPart, billed: []tickets.BilledPart{{PartID: pump, PartNumber: drainPumpNo, Quoted: 0, Used: 1}},
			waivers: []string{"late_arrival:apology_and_gift"}},
		{name: "InWarrantyTheBrandBearsThePartUsed", daysAgo: 200, late: -6, used: 1, basis: "manufacturer_warranty",
			payer: "brand", brand: withPart, billed: []tickets.BilledPart{{PartID: pump, PartNumber: drainPumpNo, Quoted: 0, Used: 1}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := e.onSite(t, "repair", e.unit(t, c.daysAgo, false), c.late)
			var quoted []catalog.QuotePart
			if c.quoted > 0 {
				quoted = []catalog.QuotePart{{PartID: pump, Quantity: c.quoted}}
			}
			_, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
				Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true},
				Work:      tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true, Parts: quoted}, PriceListShown: true}, 0)
			require.NoError(t, err)
			_, err = e.Stock.Receive(e.Ctx, e.Admin, *tk.NodeID, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: pump, Quantity: c.used}}})
			require.NoError(t, err)
			for _, op := range []string{"reserve", "issue", "use"} {
				_, err := e.Tickets.MoveParts(e.Ctx, e.Admin, tk.ID, tickets.PartsInput{Op: op, Lines: []stock.Line{{PartID: pump, Quantity: c.used}}}, 0)
				require.NoError(t, err, op)
			}
			e.set(e.now().Add(30 * time.Minute))
			tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
			require.NoError(t, err)
			customer, brand, plan := totals(t, tk)
			require.Equal(t, c.customer, customer)
			require.Equal(t, c.brand, brand)
			require.Zero(t, plan)
			require.Equal(t, c.basis, tk.Completion.Basis)
			require.NotNil(t, tk.QuoteID, "the diagnosis quoted the price list")
			if c.billed == nil {
				require.Empty(t, tk.Completion.PartsBilled, "billed with the quote")
			} else {
				require.Equal(t, c.billed, tk.Completion.PartsBilled)
			}
			var waivers []string
			for _, w := range tk.Completion.Waivers {
				waivers = append(waivers, w.Code+":"+w.Action)
			}
			require.Equal(t, c.waivers, waivers)
			var partLines int
			var parts int64
			for _, l := range tk.Completion.Lines {
				if l.Kind == "part" {
					partLines++
					require.Equal(t, c.payer, l.Payer, "%+v", l)
					parts += l.CustomerPays.Amount
				}
			}
			if c.payer == "customer" {
				require.Equal(t, int64(c.used*drainPump), parts, "the pumps used at the price list's 85.00")
			} else {
				require.Zero(t, parts)
			}
			if c.used == 1 {
				require.Equal(t, 1, partLines, "the pump once")
			}
		})
	}
}

// The callback promise: a completed repair is called back within 72 hours
// (3 hours when the technician was not sure of the fix); an unsatisfied
// callback reopens the ticket, a satisfied one closes it, and the charges
// stay what the completion settled.
func TestRolledBackCallbackPromise(t *testing.T) {
	e := newMoneyEnv(t)
	for _, c := range []struct {
		name      string
		uncertain bool
		after     time.Duration
		outcome   string
		state     tickets.State
	}{{"SureFixCalledBackIn72HoursAndClosed", false, 72 * time.Hour, "satisfied", "closed"},
		{"UnsureFixCalledBackIn3HoursAndServedAgain", true, 3 * time.Hour, "unsatisfied", "dispatched"}} {
		t.Run(c.name, func(t *testing.T) {
			tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
			_, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
				Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true, Uncertain: c.uncertain},
				Work:      tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, PriceListShown: true}, 0)
			require.NoError(t, err)
			done := e.start.Add(30 * time.Minute)
			e.set(done)
			tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
			require.NoError(t, err)
			require.NotNil(t, tk.SLA.CallbackDueAt)
			require.True(t, done.Add(c.after).Equal(*tk.SLA.CallbackDueAt), "due %v, want %v", tk.SLA.CallbackDueAt, done.Add(c.after))
			customer, _, _ := totals(t, tk)
			require.Equal(t, int64(washerLabour+washerVisit), customer)
			tk, err = e.Tickets.RecordCallback(e.Ctx, e.Admin, tk.ID, tickets.CallbackInput{Outcome: c.outcome}, 0)
			require.NoError(t, err)
			require.Equal(t, c.state, tk.State)
			if c.outcome == "unsatisfied" {
				require.Contains(t, timeline(t, e.Env, tk.ID), "reopened", "unsatisfied: reopened and dispatched again")
			}
			require.Nil(t, tk.SLA.CallbackDueAt, "the callback was made")
			require.Equal(t, int64(washerLabour+washerVisit), tk.CustomerTotal.Amount, "a callback changes no charge")
		})
	}
}

// Rule 7: a washer under the no-reason repair plan with a voltage fault is
// repaired free, the plan paying labour, visit and part (255.00), and the
// plan owes the customer 100.00 satisfaction compensation within 5
// business days of the repair: scheduled once at completion, then paid.
func TestRolledBackNoReasonPlanCompensationOwedThenPaid(t *testing.T) {
	e := newMoneyEnv(t)
	plan := e.plan(t, "no_reason_repair")
	require.NotNil(t, plan.Compensation)
	require.Equal(t, int64(10000), plan.Compensation.Amount, "the seed's 100 元/次 服务满意金")
	unit := e.unit(t, 30, false)
	contract := e.Contract(t, unit, plan.ID, -30)

	tk := e.onSite(t, "repair", unit, -6)
	_, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
		Diagnosis: tickets.Diagnosis{Cause: "unstable_voltage", Repairable: true},
		Work: tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true,
			Parts: []catalog.QuotePart{{PartID: e.part(t, drainPumpNo), Quantity: 1}}}, PriceListShown: true}, 0)
	require.NoError(t, err)
	e.set(e.start.Add(30 * time.Minute))
	tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	customer, brand, planPays := totals(t, tk)
	require.Equal(t, "no_reason_repair", tk.Completion.Basis)
	require.Zero(t, customer, "an environmental fault under the plan is repaired free")
	require.Zero(t, brand)
	require.Equal(t, int64(washerLabour+washerVisit+drainPump), planPays, "the plan pays labour, visit and part")
	comp := tk.Completion.Compensation
	require.NotNil(t, comp, "the plan owes its compensation")
	require.Equal(t, int64(10000), comp.Amount.Amount)
	require.Equal(t, "plan", comp.Payer)
	require.False(t, comp.Existing)

	p, err := e.Payouts.GetPayout(e.Ctx, e.Admin, comp.PayoutID)
	require.NoError(t, err)
	require.Equal(t, payouts.PayerPlan, p.Payer)
	require.Equal(t, contract, *p.ContractID)
	require.Equal(t, tk.ID, *p.TicketID)
	require.Equal(t, int64(10000), p.Amount.Amount)
	require.Equal(t, payouts.StateScheduled, p.State)
	require.Equal(t, 5, p.BusinessDays)
	require.Equal(t, e.start.Format(time.DateOnly), p.CountedFrom, "counted from the repair day")
	require.Equal(t, comp.DueOn, p.DueOn)
	due, err := time.Parse(time.DateOnly, p.DueOn)
	require.NoError(t, err)
	from, _ := time.Parse(time.DateOnly, p.CountedFrom)
	days := 0
	for d := from.AddDate(0, 0, 1); !d.After(due); d = d.AddDate(0, 0, 1) {
		if d.Weekday() != time.Saturday && d.Weekday() != time.Sunday {
			days++
		}
	}
	require.Equal(t, 5, days, "5 business days after %s (no holidays set): %s", p.CountedFrom, p.DueOn)

	paid, err := e.Payouts.MarkPaid(e.Ctx, e.Admin, p.ID, "ALIPAY-NRR-1", p.Version)
	require.NoError(t, err)
	require.Equal(t, payouts.StatePaid, paid.State)
	require.Equal(t, payouts.PayerPlan, paid.Payer)
	_, err = e.Payouts.MarkPaid(e.Ctx, e.Admin, p.ID, "ALIPAY-NRR-1", 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "paid once: %v", err)
}

// Rule 4: after the manufacturer warranty a power surge under the
// extended warranty is repaired free, no labour fee and, for a large
// appliance, no visit fee (seed: 免收检测费、备件费及维修费，且大型电器免收
// 上门费): the plan pays the whole price-list service, labour 120.00 +
// visit 50.00, the customer nothing, and no compensation is owed.
func TestRolledBackExtendedWarrantyRepairIsThePlans(t *testing.T) {
	e := newMoneyEnv(t)
	plan := e.plan(t, "extended_warranty")
	// Bought 1200 days ago: past the washer's 36 months, inside the two
	// years the extended warranty adds.
	unit := e.unit(t, 1200, false)
	contract := e.Contract(t, unit, plan.ID, -1200)

	tk := e.onSite(t, "repair", unit, -6)
	tk, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
		Diagnosis: tickets.Diagnosis{Cause: "power_surge", Repairable: true},
		Work:      tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, PriceListShown: true}, 0)
	require.NoError(t, err)
	require.NotNil(t, tk.Entitlement)
	require.Equal(t, "extended_warranty", string(tk.Entitlement.Decision.Basis), "%v", tk.Entitlement.Decision.Trace)
	require.Equal(t, contract, tk.Entitlement.Decision.ContractID)
	e.set(e.start.Add(30 * time.Minute))
	tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	customer, brand, planPays := totals(t, tk)
	require.Zero(t, customer, "no labour fee and no visit fee for a large appliance")
	require.Zero(t, brand)
	require.Equal(t, int64(washerLabour+washerVisit), planPays, "the plan pays labour 120.00 + visit 50.00")
	require.Len(t, tk.Completion.Lines, 2)
	for _, l := range tk.Completion.Lines {
		require.Equal(t, "plan", l.Payer, "%+v", l)
	}
	require.Nil(t, tk.Completion.Compensation, "an extended warranty owes no compensation")
}

// Rule 7: accidental damage under the no-reason plan is 80% off the
// repair: labour 120.00 + visit 50.00 = 170.00, the customer pays 34.00,
// the plan 136.00, the brand nothing; and the customer is owed the 100.00
// satisfaction compensation either way, by the plan, in 5 business days.
func TestRolledBackNoReasonPlanAccidentalDamageIs80PercentOff(t *testing.T) {
	e := newMoneyEnv(t)
	plan := e.plan(t, "no_reason_repair")
	unit := e.unit(t, 10, false)
	contract := e.Contract(t, unit, plan.ID, 0)

	tk := e.onSite(t, "repair", unit, -6)
	_, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
		Diagnosis: tickets.Diagnosis{Cause: "accidental_damage", Repairable: true},
		Work:      tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, PriceListShown: true}, 0)
	require.NoError(t, err)
	e.set(e.start.Add(30 * time.Minute))
	tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	require.Equal(t, "no_reason_repair", tk.Completion.Basis)
	customer, brand, planPays := totals(t, tk)
	require.Equal(t, int64(3400), customer)
	require.Equal(t, int64(13600), planPays)
	require.Zero(t, brand)
	comp := tk.Completion.Compensation
	require.NotNil(t, comp, "either way the plan owes the satisfaction compensation")
	require.Equal(t, int64(10000), comp.Amount.Amount)
	require.Equal(t, "plan", comp.Payer)
	ps, _, err := e.Payouts.ListPayouts(e.Ctx, e.Admin, payouts.Filter{UnitID: unit, Limit: 10})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, int64(10000), ps[0].Amount.Amount)
	require.Equal(t, contract, *ps[0].ContractID)
	require.Equal(t, payouts.PayerPlan, ps[0].Payer)
	require.Equal(t, 5, ps[0].BusinessDays)
}

// Rule 7: a repair under the no-reason plan that would cost more than the
// model's current retail price is answered with a swap for the plan's small
// depreciation fee (month 1 of ownership: 5% of the purchase price 2,999.00
// = 149.95), not a repair; a swap is not a repair, so no satisfaction
// compensation is owed. The trace says R7 applied with the schedule.
func TestRolledBackNoReasonRepairAboveRetailIsSwapped(t *testing.T) {
	e := newMoneyEnv(t)
	plan := e.plan(t, "no_reason_repair")
	model, err := e.Catalog.GetProductModel(e.Ctx, e.Admin, e.washer)
	require.NoError(t, err)
	part := e.plainWasherPart(t)
	n := 1
	for {
		q, err := e.Catalog.CreateQuote(e.Ctx, e.Admin, catalog.NewQuote{ModelID: e.washer, ServiceKind: "repair", IncludeVisit: true,
			Parts: []catalog.QuotePart{{PartID: part, Quantity: n}}})
		require.NoError(t, err)
		if q.Total.Amount > model.RetailPrice.Amount {
			break
		}
		n *= 2
		require.LessOrEqual(t, n, 100, "no repair of the demo washer costs more than its retail price")
	}

	start := e.start
	defer func() { e.start = start }()
	for i, cause := range []string{"environmental_heat", "accidental_damage"} {
		t.Run(cause, func(t *testing.T) {
			e.start = start.Add(time.Duration(i) * 2 * time.Hour) // the same technician: not the same window
			unit := e.unit(t, 10, false)
			contract := e.Contract(t, unit, plan.ID, 0)
			tk := e.onSite(t, "repair", unit, -6)
			tk, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
				Diagnosis: tickets.Diagnosis{Cause: cause, Repairable: true},
				Work: tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true,
					Parts: []catalog.QuotePart{{PartID: part, Quantity: n}}}, PriceListShown: true}, 0)
			require.NoError(t, err)
			require.NotNil(t, tk.Entitlement)
			dec := tk.Entitlement.Decision
			require.Equal(t, "no_reason_repair", string(dec.Basis), "not not_covered")
			require.Equal(t, "swap", string(dec.Remedy))
			require.Equal(t, contract, dec.ContractID)
			require.Equal(t, int64(14995), dec.Totals.Customer.Amount, "the customer pays only the small depreciation fee")
			require.Nil(t, dec.Compensation, "a swap is not a repair: no satisfaction compensation")
			traced := false
			for _, tr := range dec.Trace {
				if tr.Rule == "R7.no_reason_repair" && tr.Applied {
					traced = true
					require.Contains(t, tr.Reason, "depreciation schedule")
				}
			}
			require.True(t, traced, "%+v", dec.Trace)
		})
	}
}
