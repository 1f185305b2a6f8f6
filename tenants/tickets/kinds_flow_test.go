package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// The demo price list (washer): installation labour 80.00, maintenance
// labour 100.00.
const (
	washerInstall     = 8000
	washerMaintenance = 10000
)

// openKind opens a complete intake of typ for a washer bought 200 days
// ago (a registered unit: the ticket has a model and a category, so a
// visit could be dispatched).
func (e *moneyEnv) openKind(t *testing.T, typ string) tickets.Ticket {
	t.Helper()
	e.set(e.dispatchAt)
	tk, err := e.Tickets.Open(e.Ctx, e.Admin, tickets.NewTicket{Channel: "hotline", Type: typ,
		Contact: tickets.TicketContact{Name: "钱七", Phone: "+86 139 1000 0000"},
		Address: tickets.ServiceAddress{RegionCode: e.region, Line: "建设路 1 号"},
		Unit:    tickets.UnitDetails{UnitID: e.unit(t, 200, false)}, Fault: tickets.ReportedFault{Symptom: "咨询使用方法"}})
	require.NoError(t, err)
	require.Equal(t, tickets.State("new"), tk.State, "%v", tk.Verification)
	return tk
}

// requireRefusedUnchanged asserts err is invalid at field and the ticket
// is as it was before the refused action (same state and version, no
// node).
func (e *moneyEnv) requireRefusedUnchanged(t *testing.T, err error, field string, before tickets.Ticket, msg string) {
	t.Helper()
	require.Equal(t, []string{field}, domaintest.Fields(t, err), "%s: %v", msg, err)
	tk, gerr := e.Tickets.Get(e.Ctx, e.Admin, before.ID)
	require.NoError(t, gerr)
	require.Equal(t, before.State, tk.State, msg)
	require.Equal(t, before.Version, tk.Version, "%s: nothing changed", msg)
	require.Nil(t, tk.NodeID, "%s: not dispatched", msg)
}

// The kinds of service (DESIGN, Kinds of service): a consultation is
// remote only; an installation, a return or an exchange is served by a
// visit (installation report; pickup, inspection, outcome) and has no
// remote guidance in its flow. Triage must not send a ticket into a part
// of the state machine its type has no way out of: a consultation
// dispatched for a visit cannot be accepted, scheduled or checked in (409
// action_not_in_flow), and an installation or a return in remote guidance
// cannot record guidance; either stays open (its SLA deadlines running
// and breaching) until someone cancels it.
func TestTriageFollowsTheTicketsFlow(t *testing.T) {
	t.Run("ConsultationIsNotDispatched", func(t *testing.T) {
		e := newMoneyEnv(t)
		tk := e.openKind(t, "consultation")
		for _, mode := range []string{"on_site", "carry_in"} {
			_, err := e.Tickets.Triage(e.Ctx, e.Admin, tk.ID, tickets.TriageInput{Mode: mode}, 0)
			e.requireRefusedUnchanged(t, err, "mode", tk, "a consultation triaged "+mode)
		}
		tk, err := e.Tickets.Triage(e.Ctx, e.Admin, tk.ID, tickets.TriageInput{Mode: "remote", Instructions: "按说明书设置童锁"}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.StateRemoteGuidance, tk.State)
		// Guidance that failed needs a visit, which a consultation cannot
		// have: refused, the ticket stays in remote guidance (a visit is a
		// repair or maintenance ticket of its own).
		_, err = e.Tickets.RecordGuidance(e.Ctx, e.Admin, tk.ID, tickets.GuidanceInput{Outcome: "failed"}, 0)
		e.requireRefusedUnchanged(t, err, "outcome", tk, "a consultation's failed guidance")
		tk, err = e.Tickets.RecordGuidance(e.Ctx, e.Admin, tk.ID, tickets.GuidanceInput{Outcome: "resolved"}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.StateResolved, tk.State)
		// Unsatisfied at the callback, or reopened, the consultation is
		// served again the way it is served: back to remote guidance, not
		// dispatched nor left reopened (no dispatch in its flow).
		tk, err = e.Tickets.RecordCallback(e.Ctx, e.Admin, tk.ID, tickets.CallbackInput{Outcome: "unsatisfied"}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.StateRemoteGuidance, tk.State)
		require.Nil(t, tk.NodeID, "not dispatched")
		require.NotNil(t, tk.SLA.CompletionDueAt, "to be resolved again")
		tk, err = e.Tickets.RecordGuidance(e.Ctx, e.Admin, tk.ID, tickets.GuidanceInput{Outcome: "resolved"}, 0)
		require.NoError(t, err)
		tk, err = e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "客户仍不会设置"}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.StateRemoteGuidance, tk.State)
		tk, err = e.Tickets.RecordGuidance(e.Ctx, e.Admin, tk.ID, tickets.GuidanceInput{Outcome: "resolved"}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.StateResolved, tk.State)
	})
	for _, typ := range []string{"install", "return", "exchange"} {
		t.Run("NoRemoteGuidanceFor"+typ, func(t *testing.T) {
			e := newMoneyEnv(t)
			tk := e.openKind(t, typ)
			_, err := e.Tickets.Triage(e.Ctx, e.Admin, tk.ID, tickets.TriageInput{Mode: "remote", Instructions: "电话指导"}, 0)
			e.requireRefusedUnchanged(t, err, "mode", tk, "a "+typ+" triaged remote")
		})
	}
}

// carePlan is a no-reason repair plan for washers like the demo's that
// also covers maintenance and cleaning (covers_maintenance: a care plan).
func (e *moneyEnv) carePlan(t *testing.T) warranty.Plan {
	t.Helper()
	base := e.plan(t, "no_reason_repair")
	days := 5
	p, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "CARE-NRR-1Y", Name: "无忧保养", Kind: "no_reason_repair",
		EligibleCategories: []string{"washer"}, DurationMonths: 12, DiscountPercent: base.DiscountPercent,
		DepreciationSchedule: base.DepreciationSchedule, Compensation: base.Compensation, PayoutBusinessDays: &days,
		CoversMaintenance: true, Price: base.Price})
	require.NoError(t, err)
	return p
}

// A plan that covers maintenance pays "maintenance and cleaning (no-fault
// services) in full while active" (the plan's covers_maintenance); an
// installation is neither: it is priced by the price list and shown
// before any charge (DESIGN, Kinds of service; the installation report's
// transition). A washer bought 10 days ago with such a plan in force
// (from the day after the purchase): its installation is the customer's,
// the price list's installation labour 80.00, the plan and the brand pay
// nothing; its cleaning is the plan's, maintenance labour 100.00.
func TestCarePlanPaysMaintenanceNotInstallation(t *testing.T) {
	e := newMoneyEnv(t)
	unit := e.unit(t, 10, false)
	e.Contract(t, unit, e.carePlan(t).ID, -10)

	tk := e.onSite(t, "install", unit, -6)
	tk, err := e.Tickets.InstallationReport(e.Ctx, e.Admin, tk.ID, tickets.InstallReport{Position: "阳台左侧", PositionAgreed: true,
		TestRun: tickets.TestRun{Passed: true}, CustomerInstructed: true, PriceListShown: true}, 0)
	require.NoError(t, err)
	require.Equal(t, int64(washerInstall), tk.Entitlement.Decision.Totals.Customer.Amount, "shown before the charge: 80.00")
	e.set(e.now().Add(time.Hour))
	tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	customer, brand, plan := totals(t, tk)
	require.Equal(t, []int64{washerInstall, 0, 0}, []int64{customer, brand, plan}, "customer, brand, plan: the installation labour is the customer's")
	require.Equal(t, "not_covered", tk.Completion.Basis, "inside the warranty, no cover: the price list")
	require.Nil(t, tk.Completion.Compensation)

	tk = e.onSite(t, "maintenance", unit, -6)
	_, err = e.Tickets.MaintenanceReport(e.Ctx, e.Admin, tk.ID, tickets.ServiceReport{
		Checklist: []tickets.ChecklistItem{{Item: "清洗内筒", Done: true}}, PriceListShown: true}, 0)
	require.NoError(t, err)
	e.set(e.now().Add(time.Hour))
	tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	customer, brand, plan = totals(t, tk)
	require.Equal(t, []int64{0, 0, washerMaintenance}, []int64{customer, brand, plan}, "customer, brand, plan: the cleaning is the plan's")
	require.Equal(t, "maintenance_plan", tk.Completion.Basis)
}
