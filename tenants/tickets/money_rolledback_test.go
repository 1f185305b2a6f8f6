package tickets_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Money on the ticket path, in rolled-back transactions: what the customer
// pays, what the brand, the plan or the storefront owes, derived from the
// seeds' rules. The demo price list charges a washer repair labour 120.00
// and the visit 50.00; its drain pump (0024000145) costs 85.00.
const (
	washerLabour = 12000
	washerVisit  = 5000
	drainPump    = 8500
	drainPumpNo  = "0024000145"
)

// moneyEnv is a demo-seeded tenant (the demo network, catalog, price list,
// plans and storefront) whose repair points covering region each have a
// technician who can take any washer repair any day, with a clock the
// tickets service reads.
type moneyEnv struct {
	*domaintest.Env
	washer, region, storefront string
	start                      time.Time // a weekday 10:00, two days ahead
	mu                         sync.Mutex
	at                         time.Time
	serial                     int
}

func newMoneyEnv(t *testing.T) *moneyEnv {
	t.Helper()
	e := &moneyEnv{Env: domaintest.New(t)}
	e.Tickets.Now = e.now
	im, err := e.Network.CreateImport(e.Ctx, e.Admin, network.FormatJSONL, network.DemoNetwork(1))
	require.NoError(t, err)
	im, err = e.Network.RunImport(e.Ctx, e.Tenant, im.ID)
	require.NoError(t, err)
	require.Equal(t, network.ImportSucceeded, im.State, "%v", im.Errors)
	sales, err := warranty.SeedDemoSales(e.Ctx, e.Admin, e.Catalog, e.Customers, e.Warranty)
	require.NoError(t, err)
	e.storefront = sales.StorefrontID
	onSale := false
	ms, _, err := e.Catalog.ListProductModels(e.Ctx, e.Admin, catalog.ProductModelFilter{Category: "washer", Discontinued: &onSale, Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	e.washer = ms[0].ID
	points, _, err := e.Network.ListNodes(e.Ctx, e.Admin, network.NodeFilter{Tier: "repair_point", Limit: 200})
	require.NoError(t, err)
	for _, n := range points {
		if n.Status == "active" && slices.Contains(n.Categories, "washer") && slices.Contains(n.ServiceKinds, "repair") {
			e.region = n.Coverage[0]
			break
		}
	}
	require.NotEmpty(t, e.region)
	covering, _, err := e.Network.ListNodes(e.Ctx, e.Admin, network.NodeFilter{RegionCode: e.region, Category: "washer", Limit: 200})
	require.NoError(t, err)
	var shifts []network.Shift
	for wd := 1; wd <= 7; wd++ {
		shifts = append(shifts, network.Shift{Weekday: wd, Start: "07:00", End: "21:00"})
	}
	limit := 30
	for i, n := range covering {
		_, err := e.Network.CreateTechnician(e.Ctx, e.Admin, network.NewTechnician{ExternalCode: fmt.Sprintf("MNY-TECH-%d", i),
			NodeID: n.ID, Name: fmt.Sprintf("测试师傅%d", i), Phone: fmt.Sprintf("+86 136 0000 %04d", i),
			Skills:  []network.Skill{{Category: "washer", Level: 5}},
			Licence: &network.LicenceInput{Number: fmt.Sprintf("LIC-MNY-%d", i), IssuedOn: "2024-01-01", ExpiresOn: "2099-12-31"},
			Shifts:  shifts, DailyJobLimit: &limit})
		require.NoError(t, err)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	d := time.Now().In(loc).AddDate(0, 0, 2)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	e.start = time.Date(d.Year(), d.Month(), d.Day(), 10, 0, 0, 0, loc)
	return e
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
	e.set(time.Time{})
	w := tickets.Window{Start: e.start, End: e.start.Add(2 * time.Hour)}
	tk, err := e.Tickets.Open(e.Ctx, e.Admin, tickets.NewTicket{Channel: "hotline", Type: typ,
		Contact: tickets.TicketContact{Name: "钱七", Phone: "+86 139 1000 0000"},
		Address: tickets.ServiceAddress{RegionCode: e.region, Line: "建设路 1 号"},
		Unit:    tickets.UnitDetails{UnitID: unit}, Fault: tickets.ReportedFault{Symptom: "不排水"}, PreferredWindow: &w})
	require.NoError(t, err)
	require.Equal(t, tickets.State("new"), tk.State, "%v", tk.Verification)
	return e.visit(t, tk.ID, lateMinutes, true)
}

// visit takes a triaged (triage) or reopened ticket through dispatch,
// accept, schedule and check-in lateMinutes after the window's start.
func (e *moneyEnv) visit(t *testing.T, id string, lateMinutes int, triage bool) tickets.Ticket {
	t.Helper()
	e.set(time.Time{})
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
	e.set(e.start.Add(time.Duration(lateMinutes) * time.Minute))
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

// totals are a completion's totals: customer, brand, plan.
func totals(t *testing.T, tk tickets.Ticket) (customer, brand, plan int64) {
	t.Helper()
	require.NotNil(t, tk.Completion)
	tt := tk.Completion.Totals
	require.Equal(t, tk.Completion.Totals.Customer.Amount, tk.CustomerTotal.Amount, "the ticket's customer total is the completion's")
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

	c, err := e.Complaints.FileComplaint(e.Ctx, e.Admin, complaints.NewComplaint{TicketID: tk.ID, Category: "licence",
		Severity: "high", Description: "师傅未出示服务证"})
	require.NoError(t, err)
	c, err = e.Complaints.ResolveWith(e.Ctx, e.Admin, c.ID, complaints.ResolveInput{Resolution: "核实属实", Upheld: true}, 0)
	require.NoError(t, err)
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
