package tickets_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// The demo price list's washer prices (tenants/catalog/demo.go).
const (
	washerLabour = 12000 // washer repair labour, 120.00
	washerVisit  = 5000  // washer visit fee, 50.00
	drainPump    = 8500  // 0024000145 排水泵, 85.00
)

// demoCodes captures sign-off codes instead of texting them.
type demoCodes struct {
	mu    sync.Mutex
	codes map[string]string
}

func (s *demoCodes) SendSignoffCode(_ context.Context, _, ticketID, _, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.codes == nil {
		s.codes = map[string]string{}
	}
	s.codes[ticketID] = code
	return nil
}

func (s *demoCodes) code(ticketID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codes[ticketID]
}

// paths is a test on the demo brand with a settable ticket clock, the
// sign-off codes it sent, and an agent.
type paths struct {
	*domaintest.Env
	d     domaintest.Demo
	codes *demoCodes
	now   time.Time // zero: the wall clock
	agent tenants.Principal
	start time.Time // a weekday window inside the demo technicians' shifts
}

func newPaths(t *testing.T) *paths {
	t.Helper()
	codes := &demoCodes{}
	e, d := domaintest.NewDemo(t, app.Config{Codes: codes})
	p := &paths{Env: e, d: d, codes: codes, agent: e.As(tenants.Principal{}, tenants.RoleAgent), start: apitest.WeekdayMorning(time.Now(), 2)}
	e.Tickets.Now = domaintest.NowAt(&p.now)
	return p
}

func (p *paths) window() *tickets.Window {
	return &tickets.Window{Start: p.start, End: p.start.Add(2 * time.Hour)}
}

// open opens a complete repair intake for a demo washer bought
// purchaseDaysAgo days ago.
func (p *paths) open(t *testing.T, serial string, purchaseDaysAgo int) tickets.Ticket {
	t.Helper()
	tk, err := p.Tickets.Open(p.Ctx, p.agent, tickets.NewTicket{Channel: "web", Type: "repair",
		Contact:         tickets.TicketContact{Name: "客户 " + serial, Phone: "+86 138 " + serial[len(serial)-4:] + " 0000"},
		Address:         tickets.ServiceAddress{RegionCode: p.d.Region, Line: "建设路 1 号"},
		Unit:            tickets.UnitDetails{ModelID: p.d.Washer, Serial: serial, PurchaseDate: domaintest.Today(-purchaseDaysAgo)},
		Fault:           tickets.ReportedFault{Symptom: "不排水"},
		PreferredWindow: p.window()})
	require.NoError(t, err)
	require.Equal(t, tickets.State("new"), tk.State, "%v", tk.Verification)
	return tk
}

// onSite triages a ticket on site and takes it through accept, schedule
// and an early check-in by the proposed technician, who is returned.
func (p *paths) onSite(t *testing.T, tk tickets.Ticket) (tickets.Ticket, tenants.Principal) {
	t.Helper()
	tk, err := p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
	require.NotNil(t, tk.TechnicianID, "no technician proposed: %v", tk.StateReason)
	tech := p.As(tenants.Principal{TechnicianID: *tk.TechnicianID}, tenants.RoleTechnician)
	_, err = p.Tickets.Accept(p.Ctx, tech, tk.ID, tickets.AcceptInput{}, 0)
	require.NoError(t, err)
	_, err = p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
	require.NoError(t, err)
	p.now = p.start.Add(-6 * time.Minute)
	tk, err = p.Tickets.CheckIn(p.Ctx, tech, tk.ID, tickets.CheckInInput{}, 0)
	require.NoError(t, err)
	require.Equal(t, "early", *tk.Appointment.Arrival)
	return tk, tech
}

func (p *paths) diagnose(t *testing.T, tech tenants.Principal, id string, work tickets.WorkInput, priceListShown bool) {
	t.Helper()
	_, err := p.Tickets.Diagnose(p.Ctx, tech, id, tickets.DiagnoseInput{Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true},
		Work: work, PriceListShown: priceListShown}, 0)
	require.NoError(t, err)
}

func (p *paths) complete(t *testing.T, tech tenants.Principal, id string) tickets.Ticket {
	t.Helper()
	tk, err := p.Tickets.Complete(p.Ctx, tech, id, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("completed"), tk.State)
	return tk
}

// requirePayers asserts the completion's totals: what the customer, the
// brand and a plan pay, in fen.
func requirePayers(t *testing.T, tk tickets.Ticket, customer, brand, plan int64) {
	t.Helper()
	require.NotNil(t, tk.Completion)
	tot := tk.Completion.Totals
	require.Equal(t, []int64{customer, brand, plan}, []int64{tot.Customer.Amount, tot.Brand.Amount, tot.Plan.Amount}, "customer, brand, plan")
	require.NotNil(t, tk.CustomerTotal)
	require.Equal(t, customer, tk.CustomerTotal.Amount)
	require.Equal(t, "CNY", tk.CustomerTotal.Currency)
}

func (p *paths) timeline(t *testing.T, id string) []string {
	t.Helper()
	tl, err := p.Tickets.Timeline(p.Ctx, p.Admin, id)
	require.NoError(t, err)
	var out []string
	for _, x := range tl {
		out = append(out, x.Action+":"+x.ToState)
	}
	return out
}

func (p *paths) demoPart(t *testing.T, number string) string {
	t.Helper()
	ps, _, err := p.Catalog.ListParts(p.Ctx, p.Admin, catalog.PartFilter{PartNumber: number})
	require.NoError(t, err)
	require.Len(t, ps, 1, "the demo catalog has one part %s", number)
	return ps[0].ID
}

// misfit is a catalog part that does not fit model.
func (p *paths) misfit(t *testing.T, model string) string {
	t.Helper()
	ps, _, err := p.Catalog.ListParts(p.Ctx, p.Admin, catalog.PartFilter{Limit: tenants.MaxPageLimit})
	require.NoError(t, err)
	for _, x := range ps {
		if !slices.Contains(x.CompatibleModelIDs, model) {
			return x.ID
		}
	}
	t.Fatal("every part fits")
	return ""
}

func TestRolledBackTicketObserveThenFailedGuidanceGoesToDispatch(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "RMT-0002", 200)
	_, err := p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "remote"}, 0)
	require.Equal(t, []string{"instructions"}, domaintest.Fields(t, err), "remote guidance needs instructions")
	_, err = p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "remote", Instructions: "观察 30 分钟"}, 0)
	require.NoError(t, err)
	before := time.Now()
	tk, err = p.Tickets.RecordGuidance(p.Ctx, p.agent, tk.ID, tickets.GuidanceInput{Outcome: "observe"}, 0)
	require.NoError(t, err)
	assert.Equal(t, tickets.State("remote_guidance"), tk.State)
	assert.Nil(t, tk.NodeID, "no visit, no node")
	require.NotNil(t, tk.SLA.CallbackDueAt)
	assert.WithinDuration(t, before.Add(30*time.Minute), *tk.SLA.CallbackDueAt, time.Minute, "observe: callback after 30 minutes")
	tk, err = p.Tickets.RecordGuidance(p.Ctx, p.agent, tk.ID, tickets.GuidanceInput{Outcome: "failed"}, 0)
	require.NoError(t, err)
	assert.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
	assert.Nil(t, tk.SLA.CallbackDueAt, "the callback is moot once a visit is dispatched")
}

// Resolved by guidance: the callback is due two hours later, and a
// satisfied callback closes the ticket.
func TestRolledBackTicketResolvedGuidanceCallsBackAfterTwoHours(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "RMT-0001", 200)
	_, err := p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "remote", Instructions: "清理排水泵过滤器后重启"}, 0)
	require.NoError(t, err)
	before := time.Now()
	tk, err = p.Tickets.RecordGuidance(p.Ctx, p.agent, tk.ID, tickets.GuidanceInput{Outcome: "resolved", Notes: "已恢复排水"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("resolved"), tk.State)
	require.NotNil(t, tk.SLA.CallbackDueAt)
	assert.WithinDuration(t, before.Add(2*time.Hour), *tk.SLA.CallbackDueAt, time.Minute, "the callback is due 2 hours after guidance")
	tk, err = p.Tickets.RecordCallback(p.Ctx, p.agent, tk.ID, tickets.CallbackInput{Outcome: "satisfied"}, 0)
	require.NoError(t, err)
	assert.Equal(t, tickets.State("closed"), tk.State)
}

// Carried in with a loaner of the node; parts reserved, issued, used and
// returned defective through the ticket; out of warranty (1,200 days >
// 36 months), on time and the price list shown: the customer pays by the
// price list, labour 120.00 + the drain pump quoted and used 85.00.
func TestRolledBackTicketCarryInWithLoaner(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "CRY-0003", 1200)
	tk, tech := p.onSite(t, tk)
	node := *tk.NodeID

	fits, misfit := p.demoPart(t, "0024000145"), p.misfit(t, p.d.Washer)
	_, err := p.Stock.Receive(p.Ctx, p.Admin, node, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: fits, Quantity: 2}, {PartID: misfit, Quantity: 1}}})
	require.NoError(t, err)
	_, err = p.Tickets.MoveParts(p.Ctx, tech, tk.ID, tickets.PartsInput{Op: "reserve", Lines: []stock.Line{{PartID: misfit, Quantity: 1}}}, 0)
	require.Equal(t, []string{"lines[0].part_id"}, domaintest.Fields(t, err), "a part that does not fit the washer")
	var res tickets.PartsResult
	for _, op := range []string{"reserve", "issue", "use", "return_defective"} {
		res, err = p.Tickets.MoveParts(p.Ctx, tech, tk.ID, tickets.PartsInput{Op: op, Lines: []stock.Line{{PartID: fits, Quantity: 1}}}, 0)
		require.NoError(t, err, op)
	}
	require.Len(t, res.Parts, 1)
	assert.Equal(t, 1, res.Parts[0].Used)
	assert.Equal(t, 1, res.Parts[0].DefectiveReturned)

	// Carried in with a loaner of the node, due the ticket's tomorrow (the
	// ticket's time is the visit's, p.now: the loan is lent then).
	loaner, err := p.Stock.CreateLoaner(p.Ctx, p.Admin, stock.NewLoaner{NodeID: node, Category: "washer", Serial: "LN-TKT-0001"})
	require.NoError(t, err)
	tk, err = p.Tickets.CarryIn(p.Ctx, tech, tk.ID, tickets.CarryInInput{CustomerAgreed: true, Condition: "外观完好", Accessories: []string{"进水管"},
		Loaner: &tickets.LoanerRequest{LoanerID: loaner.ID, DueOn: p.now.AddDate(0, 0, 1).Format(time.DateOnly)}}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("carry_in"), tk.State)
	assert.Regexp(t, `^RC-SN-`, tk.CarryIn.ReceiptNumber)
	assert.Equal(t, loaner.ID, tk.CarryIn.Loan.LoanerID)
	assert.True(t, p.now.Equal(tk.CarryIn.Loan.LentAt), "lent at the ticket's time")
	got, err := p.Stock.GetLoaner(p.Ctx, p.Admin, loaner.ID)
	require.NoError(t, err)
	assert.Equal(t, stock.LoanerLent, got.Status)
	// Overdue two days later.
	p.Stock.Now = func() time.Time { return p.now.AddDate(0, 0, 3) }
	over, _, err := p.Stock.ListLoaners(p.Ctx, p.Admin, stock.LoanerFilter{Overdue: true})
	require.NoError(t, err)
	require.Len(t, over, 1)
	assert.Equal(t, loaner.ID, over[0].ID)
	p.Stock.Now = nil

	p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair", Parts: []catalog.QuotePart{{PartID: fits, Quantity: 1}}}, true)
	_, err = p.Tickets.ReturnUnit(p.Ctx, tech, tk.ID, tickets.ReturnInput{}, 0)
	require.Equal(t, []string{"loaner_condition"}, domaintest.Fields(t, err), "the loaner's condition is required")
	tk, err = p.Tickets.ReturnUnit(p.Ctx, tech, tk.ID, tickets.ReturnInput{LoanerCondition: "good"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("returned"), tk.State)
	got, err = p.Stock.GetLoaner(p.Ctx, p.Admin, loaner.ID)
	require.NoError(t, err)
	assert.Equal(t, stock.LoanerAvailable, got.Status)

	tk = p.complete(t, tech, tk.ID)
	requirePayers(t, tk, washerLabour+drainPump, 0, 0)
	hist, _, err := p.Customers.ListHistory(p.Ctx, p.Admin, *tk.UnitID, 10, "")
	require.NoError(t, err)
	assert.Len(t, hist, 1, "the repair joined the unit's history")
}

// Rule 8 / Midea's promise 2: a fault again within a year of a paid repair
// is free; the brand bears labour 120.00 + visit 50.00.
func TestRolledBackTicketRepeatRepairIsFree(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "RPT-0004", 1200)
	_, err := p.Customers.RecordServiceEvent(p.Ctx, p.Admin, *tk.UnitID, customers.NewServiceRecord{Kind: "repair",
		OccurredOn: domaintest.Today(-120), Basis: "out_of_warranty", FaultCause: "performance", Paid: true,
		Amount: &tenants.Money{Amount: 18000, Currency: "CNY"}, Reference: "OLD-1"})
	require.NoError(t, err)
	tk, tech := p.onSite(t, tk)
	p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, true)
	tk = p.complete(t, tech, tk.ID)
	requirePayers(t, tk, 0, washerLabour+washerVisit, 0)
	var codes []string
	for _, w := range tk.Completion.Waivers {
		codes = append(codes, w.Code)
	}
	assert.Equal(t, []string{"repeat_fault"}, codes)
}

// Rule 8 / Midea's promise 3: no price list shown, the service is free;
// the brand bears the labour 120.00 (no visit fee quoted). The sign-off
// code expires after 15 minutes; without a code the sign-off is recorded
// unconfirmed, and the daily reconciliation flags it.
func TestRolledBackTicketSignoffCodeExpires(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "EXP-0005", 1200)
	tk, tech := p.onSite(t, tk)
	p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair"}, false)
	tk = p.complete(t, tech, tk.ID)
	requirePayers(t, tk, 0, washerLabour, 0)

	_, err := p.Tickets.SendSignoffCode(p.Ctx, tech, tk.ID, 0)
	require.NoError(t, err)
	p.now = p.now.Add(16 * time.Minute)
	_, err = p.Tickets.SignOff(p.Ctx, tech, tk.ID, tickets.SignOffInput{Code: p.codes.code(tk.ID), Rating: 5}, 0)
	require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "%v", err)
	assert.Contains(t, err.Error(), "expired")
	tk, err = p.Tickets.Get(p.Ctx, tech, tk.ID)
	require.NoError(t, err)
	assert.Nil(t, tk.Signoff.SignedOffAt, "nothing changed")

	tk, err = p.Tickets.SignOff(p.Ctx, tech, tk.ID, tickets.SignOffInput{Rating: 5}, 0)
	require.NoError(t, err)
	assert.False(t, tk.Signoff.ConfirmedByCode)
	n, err := p.Tickets.Reconcile(p.Ctx, p.Tenant, p.now.In(p.start.Location()).Format(time.DateOnly))
	require.NoError(t, err)
	assert.Positive(t, n)
	fs, _, err := p.Tickets.ListFindings(p.Ctx, p.Admin, tickets.FindingFilter{Problem: "rating_not_confirmed"})
	require.NoError(t, err)
	found := false
	for _, f := range fs {
		found = found || f.TicketID == tk.ID
	}
	assert.True(t, found, "the unconfirmed rating is flagged: %+v", fs)
}

// Five wrong codes use the code up: the right one no longer works, a new
// code does.
func TestRolledBackTicketFiveWrongCodesNeedANewCode(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "WRG-0008", 1200)
	tk, tech := p.onSite(t, tk)
	p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair"}, true)
	p.complete(t, tech, tk.ID)
	_, err := p.Tickets.SendSignoffCode(p.Ctx, tech, tk.ID, 0)
	require.NoError(t, err)
	code := p.codes.code(tk.ID)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for range 5 {
		_, err := p.Tickets.SignOff(p.Ctx, tech, tk.ID, tickets.SignOffInput{Code: wrong, Rating: 5}, 0)
		require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "%v", err)
	}
	_, err = p.Tickets.SignOff(p.Ctx, tech, tk.ID, tickets.SignOffInput{Code: code, Rating: 5}, 0)
	require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "the right code no longer works: %v", err)
	assert.Contains(t, err.Error(), "too many wrong codes")
	_, err = p.Tickets.SendSignoffCode(p.Ctx, tech, tk.ID, 0)
	require.NoError(t, err)
	tk, err = p.Tickets.SignOff(p.Ctx, tech, tk.ID, tickets.SignOffInput{Code: p.codes.code(tk.ID), Rating: 5}, 0)
	require.NoError(t, err)
	assert.True(t, tk.Signoff.ConfirmedByCode)
}

// The proposed technician rejects: the ticket is dispatched again without
// them, and leaves their view; a manual dispatch needs a reason and is
// recorded.
func TestRolledBackTicketRejectionRedispatches(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "REJ-0007", 100)
	tk, err := p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), tk.State)
	first, node := *tk.TechnicianID, *tk.NodeID
	tech := p.As(tenants.Principal{TechnicianID: first}, tenants.RoleTechnician)
	tk, err = p.Tickets.Reject(p.Ctx, tech, tk.ID, tickets.RejectInput{ReasonCode: "schedule_conflict", Note: "当天已排满"}, 0)
	require.NoError(t, err)
	require.Contains(t, []tickets.State{"dispatched", "triaged"}, tk.State)
	if tk.TechnicianID != nil {
		assert.NotEqual(t, first, *tk.TechnicianID, "the rejecting technician is not proposed again")
	}
	assert.Equal(t, []string{first}, tk.Dispatch.RejectedTechnicians)
	_, err = p.Tickets.Get(p.Ctx, tech, tk.ID)
	assert.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err), "the ticket is no longer the rejecting technician's")
	steps := p.timeline(t, tk.ID)
	assert.True(t, slices.Contains(steps, "rejected:dispatched") || slices.Contains(steps, "rejected:triaged"), "%v", steps)

	dispatcher := p.As(tenants.Principal{}, tenants.RoleDispatcher)
	_, err = p.Tickets.Dispatch(p.Ctx, dispatcher, tk.ID, tickets.DispatchInput{NodeID: node}, 0)
	require.Equal(t, []string{"reason"}, domaintest.Fields(t, err))
	tk, err = p.Tickets.Dispatch(p.Ctx, dispatcher, tk.ID, tickets.DispatchInput{NodeID: node, Reason: "客户指定网点"}, 0)
	require.NoError(t, err)
	require.NotNil(t, tk.Dispatch.Override)
	assert.Equal(t, "客户指定网点", tk.Dispatch.Override.Reason)
	assert.Equal(t, node, *tk.NodeID)
}

// Inputs that would change nothing are refused, or kept: remote
// instructions on an on-site triage (422 at instructions, the ticket
// untouched), the reason of a dispatch again by the scoring rules (kept
// in the timeline's dispatched entry), and a loaner's condition when no
// loaner is out (422 at loaner_condition). Before, each was answered 200
// and dropped.
func TestRolledBackTicketInputsThatWouldChangeNothing(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "INP-0008", 100)
	_, err := p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "on_site", Instructions: "请断电重启"}, 0)
	require.Equal(t, []string{"instructions"}, domaintest.Fields(t, err))
	got, err := p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tickets.State("new"), got.State, "nothing changed")
	require.Equal(t, tk.Version, got.Version)

	tk, err = p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
	dispatcher := p.As(tenants.Principal{}, tenants.RoleDispatcher)
	tk, err = p.Tickets.Dispatch(p.Ctx, dispatcher, tk.ID, tickets.DispatchInput{Reason: "客户改约，按规则重新派工"}, 0)
	require.NoError(t, err)
	require.Nil(t, tk.Dispatch.Override, "by the scoring rules: no override")
	tl, err := p.Tickets.Timeline(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	last := tl[len(tl)-1]
	require.Equal(t, "dispatched", last.Action)
	assert.Equal(t, "客户改约，按规则重新派工", last.Detail["requested_reason"], "the dispatcher's reason is kept")

	carried, tech := p.onSite(t, p.open(t, "INP-0009", 100))
	_, err = p.Tickets.CarryIn(p.Ctx, tech, carried.ID, tickets.CarryInInput{CustomerAgreed: true, Condition: "外观完好"}, 0)
	require.NoError(t, err)
	p.diagnose(t, tech, carried.ID, tickets.WorkInput{ServiceKind: "repair"}, true)
	_, err = p.Tickets.ReturnUnit(p.Ctx, tech, carried.ID, tickets.ReturnInput{LoanerCondition: "damaged"}, 0)
	require.Equal(t, []string{"loaner_condition"}, domaintest.Fields(t, err), "no loaner is out")
	carried, err = p.Tickets.ReturnUnit(p.Ctx, tech, carried.ID, tickets.ReturnInput{}, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("returned"), carried.State)
}

// Cancelling stops the SLA clocks, and a cancelled ticket takes no other
// action.
func TestRolledBackTicketCancelStopsClocks(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "CNL-0006", 100)
	tk, err := p.Tickets.Cancel(p.Ctx, p.agent, tk.ID, tickets.CancelInput{Reason: "客户已自行解决"}, 0)
	require.NoError(t, err)
	assert.Equal(t, tickets.State("cancelled"), tk.State)
	assert.Nil(t, tk.SLA.RouteDueAt)
	assert.Nil(t, tk.SLA.CompletionDueAt)
	_, err = p.Tickets.Triage(p.Ctx, p.agent, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	assert.Contains(t, err.Error(), "cancelled")
}
