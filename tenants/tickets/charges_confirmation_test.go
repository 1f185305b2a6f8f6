package tickets_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Seed 001 (电话沟通注意事项, 除上所述之外 (1)): on the call that agrees the
// visit, charges are confirmed with the customer again, and a customer who
// objects is directed to the brand's hotline (如涉及收费问题,需与用户再次确认。
// 如果客户有什么异议,引导客户拨打统一热线电话). A ticket diagnosed on site and
// sent up a tier carries its entitlement decision to the depot's
// technician, who calls the customer to agree a window: when the decision
// puts charges on the customer (a washer out of warranty: the price list's
// labour 120.00 and visit fee 50.00, 170.00, all the customer's; damage by
// misuse in warranty, the same), the schedule is refused without the
// customer's confirmation, nothing booked; with it, the schedule's
// timeline entry keeps what was confirmed. In warranty the customer pays
// nothing and needs none; a ticket not yet diagnosed has no decision, and
// a reopened one's last decision was settled at its completion. Before,
// any schedule went ahead without a word about money.
func TestAppointmentCallReconfirmsTheCustomersCharges(t *testing.T) {
	// upTier takes a washer bought purchaseDaysAgo days ago on site,
	// diagnoses cause with a hard fault (labour and the visit fee priced,
	// the price list shown) and has the higher tier's technician accept it.
	upTier := func(t *testing.T, p *paths, serial string, purchaseDaysAgo int, cause string) (tickets.Ticket, tenants.Principal) {
		t.Helper()
		tk, tech := p.onSite(t, p.open(t, serial, purchaseDaysAgo))
		got, err := p.Tickets.Diagnose(p.Ctx, tech, tk.ID, tickets.DiagnoseInput{
			Diagnosis: tickets.Diagnosis{Cause: cause, Repairable: true, HardFault: true},
			Work:      tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, PriceListShown: true}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("dispatched"), got.State, "%v", got.StateReason)
		require.NotNil(t, got.TechnicianID, "%v", got.StateReason)
		upTech := p.As(tenants.Principal{TechnicianID: *got.TechnicianID}, tenants.RoleTechnician)
		got, err = p.Tickets.Accept(p.Ctx, upTech, tk.ID, tickets.AcceptInput{}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("assigned"), got.State)
		return got, upTech
	}
	// refused schedules tk without the confirmation: 422 at
	// charges_confirmed naming what the customer pays and the hotline,
	// and nothing changed.
	refused := func(t *testing.T, p *paths, tk tickets.Ticket, tech tenants.Principal, amount string) {
		t.Helper()
		_, err := p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
		require.Equal(t, []string{"charges_confirmed"}, domaintest.Fields(t, err), "%v", err)
		require.Contains(t, err.Error(), amount)
		require.Contains(t, err.Error(), "hotline")
		got, err := p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
		require.NoError(t, err)
		require.Equal(t, tk.Version, got.Version, "nothing changed")
		require.Equal(t, tickets.State("assigned"), got.State)
		require.Nil(t, got.Appointment.Start, "no window booked")
	}
	// scheduleDetail is the detail of the ticket's last schedule in its
	// timeline (the customer's notification of the window follows it).
	scheduleDetail := func(t *testing.T, p *paths, id string) map[string]any {
		t.Helper()
		tl, err := p.Tickets.Timeline(p.Ctx, p.Admin, id)
		require.NoError(t, err)
		for _, x := range slices.Backward(tl) {
			if x.Action == string(tickets.ActSchedule) {
				return x.Detail
			}
		}
		require.Fail(t, "no schedule in the timeline")
		return nil
	}

	t.Run("OutOfWarrantyRefusedWithoutConfirmation", func(t *testing.T) {
		p := newPaths(t)
		tk, tech := upTier(t, p, "CHG-0301", 1200, "performance")
		tot := tk.Entitlement.Decision.Totals
		require.Equal(t, []int64{washerLabour + washerVisit, 0, 0}, []int64{tot.Customer.Amount, tot.Brand.Amount, tot.Plan.Amount})
		refused(t, p, tk, tech, "170.00 CNY")
	})

	t.Run("MisuseInWarrantyRefusedWithoutConfirmation", func(t *testing.T) {
		p := newPaths(t)
		tk, tech := upTier(t, p, "CHG-0302", 100, "human_damage")
		require.Equal(t, int64(washerLabour+washerVisit), tk.Entitlement.Decision.Totals.Customer.Amount)
		refused(t, p, tk, tech, "170.00 CNY")
	})

	t.Run("OutOfWarrantyConfirmedAndRecorded", func(t *testing.T) {
		p := newPaths(t)
		tk, tech := upTier(t, p, "CHG-0303", 1200, "performance")
		at := p.now
		got, err := p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window(), ChargesConfirmed: true}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("scheduled"), got.State)
		require.True(t, p.start.Equal(*got.Appointment.Start))
		confirmed, ok := scheduleDetail(t, p, tk.ID)["charges_confirmed"].(map[string]any)
		require.True(t, ok, "the schedule's timeline entry keeps the confirmation")
		require.Equal(t, "out_of_warranty", confirmed["basis"])
		require.Equal(t, map[string]any{"amount": float64(washerLabour + washerVisit), "currency": "CNY"}, confirmed["customer"])
		confirmedAt, err := time.Parse(time.RFC3339Nano, confirmed["confirmed_at"].(string))
		require.NoError(t, err)
		require.True(t, at.Equal(confirmedAt), "%v", confirmedAt)
		lines, _ := confirmed["lines"].([]any)
		require.Len(t, lines, 2, "%v", confirmed)
		paid := map[string][]any{}
		for _, l := range lines {
			l := l.(map[string]any)
			paid[l["kind"].(string)] = []any{l["payer"], l["customer_pays"].(map[string]any)["amount"], l["brand_pays"].(map[string]any)["amount"]}
		}
		require.Equal(t, map[string][]any{
			"labor": {"customer", float64(washerLabour), float64(0)},
			"visit": {"customer", float64(washerVisit), float64(0)},
		}, paid)
	})

	t.Run("InWarrantyNeedsNone", func(t *testing.T) {
		p := newPaths(t)
		tk, tech := upTier(t, p, "CHG-0304", 100, "performance")
		tot := tk.Entitlement.Decision.Totals
		require.Equal(t, []int64{0, washerLabour + washerVisit, 0}, []int64{tot.Customer.Amount, tot.Brand.Amount, tot.Plan.Amount})
		got, err := p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("scheduled"), got.State)
		require.NotContains(t, scheduleDetail(t, p, tk.ID), "charges_confirmed")
	})

	t.Run("NotDiagnosedNeedsNoneAndAConfirmationIsKept", func(t *testing.T) {
		p := newPaths(t)
		tk, err := p.Tickets.Triage(p.Ctx, p.agent, p.open(t, "CHG-0305", 1200).ID, tickets.TriageInput{Mode: "on_site"}, 0)
		require.NoError(t, err)
		tech := p.As(tenants.Principal{TechnicianID: *tk.TechnicianID}, tenants.RoleTechnician)
		_, err = p.Tickets.Accept(p.Ctx, tech, tk.ID, tickets.AcceptInput{}, 0)
		require.NoError(t, err)
		got, err := p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window(), ChargesConfirmed: true}, 0)
		require.NoError(t, err)
		require.Nil(t, got.Entitlement, "no decision before the diagnosis")
		confirmed, ok := scheduleDetail(t, p, tk.ID)["charges_confirmed"].(map[string]any)
		require.True(t, ok, "a confirmation given is kept")
		require.NotContains(t, confirmed, "customer", "no decision to confirm amounts of")
		require.Contains(t, confirmed, "confirmed_at")
	})

	t.Run("ReopenedNeedsNoneForItsNewRound", func(t *testing.T) {
		p := newPaths(t)
		tk, tech := p.onSite(t, p.open(t, "CHG-0306", 1200))
		p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, true)
		tk = p.complete(t, tech, tk.ID)
		requirePayers(t, tk, washerLabour+washerVisit, 0, 0)
		_, err := p.Tickets.Reopen(p.Ctx, p.Admin, tk.ID, tickets.ReopenInput{Reason: "客户反映仍不排水"}, 0)
		require.NoError(t, err)
		tk, err = p.Tickets.Dispatch(p.Ctx, p.Admin, tk.ID, tickets.DispatchInput{}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
		tech = p.As(tenants.Principal{TechnicianID: *tk.TechnicianID}, tenants.RoleTechnician)
		_, err = p.Tickets.Accept(p.Ctx, tech, tk.ID, tickets.AcceptInput{}, 0)
		require.NoError(t, err)
		got, err := p.Tickets.Schedule(p.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: *p.window()}, 0)
		require.NoError(t, err, "the settled round's charges are not this visit's")
		require.Equal(t, tickets.State("scheduled"), got.State)
	})

	t.Run("ReturnVisitForPartsRefusedWithoutConfirmationAndRecordedWithIt", func(t *testing.T) {
		p := newPaths(t)
		tk, tech := p.onSite(t, p.open(t, "CHG-0307", 1200))
		pump := p.demoPart(t, drainPumpNo)
		p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true, Parts: []catalog.QuotePart{{PartID: pump, Quantity: 1}}}, true)
		moved, err := p.Tickets.MoveParts(p.Ctx, tech, tk.ID, tickets.PartsInput{Op: "reserve", Lines: []stock.Line{{PartID: pump, Quantity: 100}}}, 0)
		require.NoError(t, err)
		waiting := moved.Ticket
		require.Equal(t, tickets.State("awaiting_parts"), waiting.State)
		require.Equal(t, int64(washerLabour+washerVisit+drainPump), waiting.Entitlement.Decision.Totals.Customer.Amount)
		next := twoHours(nextWorkday(p.start))
		back := tickets.RescheduleInput{Window: next, Reason: "parts", CustomerAgreed: true}
		_, err = p.Tickets.Reschedule(p.Ctx, tech, tk.ID, back, 0)
		require.Equal(t, []string{"charges_confirmed"}, domaintest.Fields(t, err), "%v", err)
		require.Contains(t, err.Error(), "255.00 CNY")
		got, err := p.Tickets.Get(p.Ctx, p.Admin, tk.ID)
		require.NoError(t, err)
		require.Equal(t, waiting.Version, got.Version, "nothing changed")
		require.Equal(t, tickets.State("awaiting_parts"), got.State)

		back.ChargesConfirmed = true
		got, err = p.Tickets.Reschedule(p.Ctx, tech, tk.ID, back, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("scheduled"), got.State)
		tl, err := p.Tickets.Timeline(p.Ctx, p.Admin, tk.ID)
		require.NoError(t, err)
		var confirmed map[string]any
		for _, x := range slices.Backward(tl) {
			if x.Action == string(tickets.ActReschedule) {
				confirmed, _ = x.Detail["charges_confirmed"].(map[string]any)
				break
			}
		}
		require.NotNil(t, confirmed, "the move's timeline entry keeps the confirmation")
		require.Equal(t, map[string]any{"amount": float64(washerLabour + washerVisit + drainPump), "currency": "CNY"}, confirmed["customer"])
		require.Equal(t, map[string][]any{
			"labor": {"customer", float64(washerLabour)},
			"visit": {"customer", float64(washerVisit)},
			"part":  {"customer", float64(drainPump)},
		}, customerLines(t, confirmed))
	})
	t.Run("VisitExceptionRebookingRefusedWithoutConfirmationAndRecordedWithIt", func(t *testing.T) {
		p := newPaths(t)
		tk, tech := p.onSite(t, p.open(t, "CHG-0308", 1200))
		p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, true)
		next := twoHours(nextWorkday(p.start))
		confirmed := rebookAfterPowerCut(t, p.Env, tech, tk.ID, next, "170.00 CNY")
		require.Equal(t, "out_of_warranty", confirmed["basis"])
		require.Equal(t, map[string]any{"amount": float64(washerLabour + washerVisit), "currency": "CNY"}, confirmed["customer"])
		require.Equal(t, map[string][]any{
			"labor": {"customer", float64(washerLabour)},
			"visit": {"customer", float64(washerVisit)},
		}, customerLines(t, confirmed))
	})
}

// A reopened ticket diagnosed again in its new round has a decision its
// earlier completion did not settle, and the call that books its next
// visit confirms that one (seed 001 电话沟通注意事项 (1)). A washer 10 days
// old under the no-reason plan was repaired free and completed; reopened,
// the new round's repair would be free (the network's repeat visit), but
// the second diagnosis finds a repair dearer than the unit's 2,999.00:
// the plan's swap, for its depreciation fee of month 1, 5% of 2,999.00 =
// 149.95, the customer's (no promise waives a swap's fee). A power cut
// ends the visit and a new window is agreed: refused without the
// customer's confirmation, naming 149.95; with it, recorded with the fee
// line, payer customer. Before, the first completion hid the new round's
// decision and the visit was booked with no word about the fee.
func TestAppointmentCallReconfirmsTheReopenedRoundsCharges(t *testing.T) {
	e := newMoneyEnv(t)
	unit := e.unit(t, 10, false)
	e.Contract(t, unit, e.plan(t, "no_reason_repair").ID, 0)
	tk := e.openRepair(t, unit)
	e.visitLate(t, tk.ID, -6*time.Minute)
	tk = e.completeWith(t, tk.ID, "performance")
	customer, _, _ := totals(t, tk)
	require.Zero(t, customer, "the first round was free")
	e.reopenedAndVisited(t, tk.ID)
	tk = e.diagnoseSwap(t, tk.ID)
	require.Equal(t, int64(14995), tk.Entitlement.Decision.Totals.Customer.Amount, "the swap's fee: 5% of 2,999.00")
	next := twoHours(nextWorkday(e.start))
	confirmed := rebookAfterPowerCut(t, e.Env, e.Admin, tk.ID, next, "149.95 CNY")
	require.Equal(t, map[string]any{"amount": float64(14995), "currency": "CNY"}, confirmed["customer"])
	require.Equal(t, map[string][]any{"fee": {"customer", float64(14995)}}, customerLines(t, confirmed))
}

// reopenedAndVisited reopens completed ticket id and takes its new round
// to a check-in the next workday (e.start moves on to it), 6 minutes early.
func (e *moneyEnv) reopenedAndVisited(t *testing.T, id string) {
	t.Helper()
	_, err := e.Tickets.Reopen(e.Ctx, e.Admin, id, tickets.ReopenInput{Reason: "客户反映仍不排水"}, 0)
	require.NoError(t, err)
	e.start = nextWorkday(e.start)
	e.visit(t, id, -6, false)
}

// rebookAfterPowerCut records that a power cut ended ticket id's visit on
// site, with window w agreed on the call: without the customer's
// confirmation of the charges it is 422 at charges_confirmed naming
// amount and the hotline, and nothing changed (same version, still on
// site); with it the ticket is scheduled for w. It returns the
// confirmation the exception's timeline entry recorded.
func rebookAfterPowerCut(t *testing.T, e *domaintest.Env, p tenants.Principal, id string, w tickets.Window, amount string) map[string]any {
	t.Helper()
	before, err := e.Tickets.Get(e.Ctx, e.Admin, id)
	require.NoError(t, err)
	require.Equal(t, tickets.State("on_site"), before.State)
	in := tickets.VisitExceptionInput{Reason: tickets.ExceptionPowerCut, Window: &w}
	_, err = e.Tickets.RecordVisitException(e.Ctx, p, id, in, 0)
	require.Equal(t, []string{"charges_confirmed"}, domaintest.Fields(t, err), "%v", err)
	require.Contains(t, err.Error(), amount)
	require.Contains(t, err.Error(), "hotline")
	got, err := e.Tickets.Get(e.Ctx, e.Admin, id)
	require.NoError(t, err)
	require.Equal(t, before.Version, got.Version, "nothing changed")
	require.Equal(t, tickets.State("on_site"), got.State)

	in.ChargesConfirmed = true
	got, err = e.Tickets.RecordVisitException(e.Ctx, p, id, in, 0)
	require.NoError(t, err)
	require.Equal(t, tickets.State("scheduled"), got.State)
	require.True(t, w.Start.Equal(*got.Appointment.Start))
	tl, err := e.Tickets.Timeline(e.Ctx, e.Admin, id)
	require.NoError(t, err)
	for _, x := range slices.Backward(tl) {
		if x.Action == string(tickets.ActVisitException) {
			confirmed, ok := x.Detail["charges_confirmed"].(map[string]any)
			require.True(t, ok, "the exception's timeline entry keeps the confirmation: %v", x.Detail)
			return confirmed
		}
	}
	require.Fail(t, "no visit exception in the timeline")
	return nil
}

// customerLines are a recorded confirmation's lines by kind: payer and
// what the customer pays.
func customerLines(t *testing.T, confirmed map[string]any) map[string][]any {
	t.Helper()
	lines, _ := confirmed["lines"].([]any)
	out := map[string][]any{}
	for _, l := range lines {
		l := l.(map[string]any)
		out[l["kind"].(string)] = []any{l["payer"], l["customer_pays"].(map[string]any)["amount"]}
	}
	return out
}

// A reopened ticket whose new round is decided again by the technician's
// visit checklist, with no new diagnosis, has that round's decision to
// confirm on the call that books its next visit (seed 001 电话沟通注意事项
// (1)): the checklist decides the ticket again at once (RecordChecklist),
// on the day the customer reported the round (the reopening), so its
// charges are the round's, not those the earlier completion settled.
func TestAppointmentCallReconfirmsTheChargesOfARoundTheChecklistDecided(t *testing.T) {
	// checklistPassed records a visit checklist with every item kept,
	// confirmed by the customer.
	checklistPassed := func(t *testing.T, e *moneyEnv, id string) tickets.Ticket {
		t.Helper()
		tk, err := e.Tickets.RecordChecklist(e.Ctx, e.Admin, id, tickets.VisitChecklist{LicenceShown: true, LicenceMatches: true,
			ChargesWithinPriceList: true, ConfirmedBy: "customer"}, 0)
		require.NoError(t, err)
		return tk
	}

	// A washer 10 days old under the no-reason plan, its repair dearer
	// than its 2,999.00: the plan's swap, for the depreciation fee of
	// month 1, 5% of 2,999.00 = 149.95, the customer's; completed. Reopened,
	// its new round's checklist decides it again: the same swap, the fee
	// the customer's again (no promise waives a swap's fee, not even the
	// network's repeat visit). A power cut ends the visit and a new window
	// is agreed: refused without the customer's confirmation naming
	// 149.95; with it, recorded with the fee line, payer customer.
	t.Run("SwapFeeOfTheRoundRefusedWithoutConfirmationAndRecordedWithIt", func(t *testing.T) {
		e := newMoneyEnv(t)
		tk := e.swapCompleted(t)
		requirePayers(t, tk, 14995, 0, 0)

		e.reopenedAndVisited(t, tk.ID)
		tk = checklistPassed(t, e, tk.ID)
		require.Equal(t, "swap", string(tk.Entitlement.Decision.Remedy))
		require.Equal(t, int64(14995), tk.Entitlement.Decision.Totals.Customer.Amount, "the round's swap fee: 5% of 2,999.00")
		next := twoHours(nextWorkday(e.start))
		confirmed := rebookAfterPowerCut(t, e.Env, e.Admin, tk.ID, next, "149.95 CNY")
		require.Equal(t, "no_reason_repair", confirmed["basis"])
		require.Equal(t, map[string]any{"amount": float64(14995), "currency": "CNY"}, confirmed["customer"])
		require.Equal(t, map[string][]any{"fee": {"customer", float64(14995)}}, customerLines(t, confirmed))
	})

	// A washer out of warranty repaired for the price list's 170.00
	// (labour 120.00 + visit 50.00), the customer's; reopened, its new
	// round's checklist decides it again: the network's repeat visit
	// makes the repair free (rule 8, Midea promise 2), the brand's
	// 170.00. The new window after a power cut needs no confirmation.
	t.Run("FreeRoundNeedsNone", func(t *testing.T) {
		e := newMoneyEnv(t)
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk = e.repair(t, tk.ID)
		requirePayers(t, tk, washerLabour+washerVisit, 0, 0)

		e.reopenedAndVisited(t, tk.ID)
		tk = checklistPassed(t, e, tk.ID)
		tot := tk.Entitlement.Decision.Totals
		require.Equal(t, []int64{0, washerLabour + washerVisit, 0}, []int64{tot.Customer.Amount, tot.Brand.Amount, tot.Plan.Amount})
		next := twoHours(nextWorkday(e.start))
		got, err := e.Tickets.RecordVisitException(e.Ctx, e.Admin, tk.ID,
			tickets.VisitExceptionInput{Reason: tickets.ExceptionPowerCut, Window: &next}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("scheduled"), got.State)
	})
}

// An inspected return or exchange puts no charge on the customer: its
// outcome refunds the price paid in full, exchanges through a swap that
// carries no plan's fee (a statutory or seven-day exchange) or refuses,
// and records the customer's total as zero (RecordOutcome; seed 002
// 七天无理由退换货 and 关于二次销售 name no deduction, rule 1's exchange is
// free; rule 9's freight is the customer's own shipping, which the seller
// reimburses when at fault, never a charge of the service). The outcome
// settles the inspection's decision, and a reopened round is booked
// before it is inspected again: its appointment call has no charges to
// confirm (seed 001 电话沟通注意事项 (1) is about what the service costs).
func TestAppointmentCallAfterAnInspectionHasNoChargesToConfirm(t *testing.T) {
	e := newMoneyEnv(t)
	// refusedAndRebooked picks unit up for a ticket of typ, inspects it,
	// records the outcome refusal (customer_total 0, no payout) and
	// reopens the ticket: its new round is booked without a confirmation.
	refusedAndRebooked := func(t *testing.T, typ, unit string, in tickets.InspectionInput) tickets.Ticket {
		t.Helper()
		tk := e.onSite(t, typ, unit, -6)
		_, err := e.Tickets.PickUp(e.Ctx, e.Admin, tk.ID, tickets.PickupInput{Note: "原包装"}, 0)
		require.NoError(t, err)
		inspected, err := e.Tickets.Inspect(e.Ctx, e.Admin, tk.ID, in, 0)
		require.NoError(t, err)
		tk, err = e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refusal"}, 0)
		require.NoError(t, err)
		require.Equal(t, tenants.Money{Amount: 0, Currency: "CNY"}, *tk.CustomerTotal)
		require.Zero(t, e.Count(t, `SELECT count(*) FROM payouts WHERE tenant_id = $1 AND unit_id = $2`, unit))
		_, err = e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "客户不认可检测结果"}, 0)
		require.NoError(t, err)
		tk, err = e.Tickets.Dispatch(e.Ctx, e.Admin, tk.ID, tickets.DispatchInput{}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
		_, err = e.Tickets.Accept(e.Ctx, e.Admin, tk.ID, tickets.AcceptInput{}, 0)
		require.NoError(t, err)
		next := twoHours(nextWorkday(e.start))
		got, err := e.Tickets.Schedule(e.Ctx, e.Admin, tk.ID, tickets.ScheduleInput{Window: next}, 0)
		require.NoError(t, err, "nothing for the customer to confirm")
		require.Equal(t, tickets.State("scheduled"), got.State)
		return inspected
	}

	// A kitchen hood bought 370 days ago for 2,799.00, out of its 12
	// months' warranty, under the swap plan (rule 6: from day 31 for a
	// year, a new unit for a flat 30.00): a performance fault is past the
	// statutory exchange (days 1-15), so the exchange is refused; the
	// inspection's decision names the plan's swap for 30.00, a remedy the
	// exchange ticket never gives (a repair ticket's swap does). Before,
	// the reopened round's booking was refused naming that 30.00.
	t.Run("ExchangeRefusedUnderASwapPlan", func(t *testing.T) {
		ms, _, err := e.Catalog.ListProductModels(e.Ctx, e.Admin, catalog.ProductModelFilter{ModelNumber: "CXW-220-E900T6", Limit: 1})
		require.NoError(t, err)
		require.Len(t, ms, 1)
		u, err := e.Customers.RegisterUnit(e.Ctx, e.Admin, customers.NewUnit{ModelID: ms[0].ID, Serial: "CHG-KIT-0001",
			Customer:     &customers.NewCustomer{Name: "钱七", Phones: []string{"+86 139 1000 7001"}},
			PurchaseDate: domaintest.Today(-370), PurchasePrice: domaintest.CNY(279900), Channel: "brand_store"})
		require.NoError(t, err)
		e.Contract(t, u.ID, e.planFor(t, "swap_for_repair", "kitchen").ID, -370)
		inspected := refusedAndRebooked(t, "exchange", u.ID, tickets.InspectionInput{Resellable: true, FaultConfirmed: true, Cause: "performance"})
		d := inspected.Entitlement.Decision
		require.Equal(t, []string{"swap", "swap_for_repair"}, []string{string(d.Remedy), string(d.Basis)})
		require.Equal(t, int64(3000), d.Totals.Customer.Amount, "the plan's flat fee, not this ticket's")
	})

	// A washer bought 4 days ago from the storefront, returned damaged by
	// misuse and not fit for resale: no return (rule 9 needs a resaleable
	// unit; rule 1 covers no human damage), and the inspection's decision
	// charges nothing (no work was priced).
	t.Run("ReturnRefusedForDamage", func(t *testing.T) {
		inspected := refusedAndRebooked(t, "return", e.unit(t, 4, true), tickets.InspectionInput{FaultConfirmed: true, Cause: "human_damage"})
		require.Zero(t, inspected.Entitlement.Decision.Totals.Customer.Amount)
	})
}
