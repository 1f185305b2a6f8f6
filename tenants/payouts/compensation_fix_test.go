package payouts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// nrrWasher is a washer bought on 2026-09-01 with the no-reason repair
// plan (seed 002: 100元/次 服务满意金, paid 五个工作日内 of the repair; from the
// next day, one year), and the tenant's 国庆 holidays, 1-7 October 2026.
type nrrWasher struct {
	*domaintest.Env
	unit, contract string
}

func newNRRWasher(t *testing.T) nrrWasher {
	t.Helper()
	e := domaintest.New(t)
	purchase := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	today, err := time.Parse(time.DateOnly, domaintest.Today(0))
	require.NoError(t, err)
	daysAgo := int(today.Sub(purchase).Hours() / 24)
	model, _ := e.Product(t, "XQG-NRR", "washer", 12, "control_board", 30000)
	unit := e.Unit(t, model, "WSH-NRR-1", -daysAgo, "+86 139 0000 0601")
	plan, err := e.Warranty.CreatePlan(e.Ctx, e.Admin, warranty.NewPlan{Code: "NRR-1Y", Name: "无理由保修", Kind: "no_reason_repair",
		EligibleCategories: []string{"refrigerator", "air_conditioner", "washer", "tv"}, DurationMonths: 12, DiscountPercent: intp(80),
		Compensation: new(domaintest.CNY(10000)), PayoutBusinessDays: intp(5), Price: domaintest.CNY(5900),
		DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 6, Percent: 5}, {UpToMonth: 12, Percent: 10}}})
	require.NoError(t, err)
	contract := e.Contract(t, unit, plan.ID, -daysAgo)
	for d := 1; d <= 7; d++ {
		_, _, err := e.Payouts.PutHoliday(e.Ctx, e.Admin, time.Date(2026, 10, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), "国庆节")
		require.NoError(t, err)
	}
	return nrrWasher{Env: e, unit: unit, contract: contract}
}

// repairOn is what a ticket's completion does on day on: decide (the
// brand's view) and schedule the compensation the decision owes, counted
// from the same day, in one transaction. It returns the decision's
// compensation and the payout.
func (w nrrWasher) repairOn(t *testing.T, on string) (*entitlement.Compensation, payouts.Payout) {
	t.Helper()
	var (
		comp *entitlement.Compensation
		po   payouts.Payout
	)
	require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
		e, err := warranty.DecideSystemTx(w.Ctx, tx, warranty.DecideRequest{UnitID: w.unit, On: on,
			Fault: warranty.FaultReport{Cause: "unstable_voltage", PartCategories: []string{"control_board"}}}, time.Now())
		if err != nil {
			return err
		}
		require.Equal(t, entitlement.BasisNoReasonRepair, e.Decision.Basis)
		require.Equal(t, w.contract, e.Decision.ContractID)
		require.NotNil(t, e.Decision.Compensation, "rule 7 owes the satisfaction compensation")
		comp = e.Decision.Compensation
		po, _, err = w.Payouts.ScheduleCompensation(w.Ctx, tx, "test", payouts.Compensation{UnitID: w.unit,
			ContractID: e.Decision.ContractID, Amount: comp.Amount, Reason: comp.Reason, RepairedOn: on})
		return err
	}))
	// Rule 7 (seed 002): 100.00 CNY per repair, owed by the plan of the
	// unit's contract, to the customer.
	require.Equal(t, domaintest.CNY(10000), comp.Amount)
	require.Equal(t, entitlement.PayerPlan, comp.Payer)
	require.Equal(t, int64(10000), po.Amount.Amount)
	require.Equal(t, "CNY", po.Amount.Currency)
	require.Equal(t, payouts.PayerPlan, po.Payer)
	require.Equal(t, w.contract, *po.ContractID)
	require.Equal(t, on, po.CountedFrom)
	require.Equal(t, 5, po.BusinessDays)
	return comp, po
}

// A repair whose five working days span 国庆: the decision shows the date
// the payout is due, both counted on the tenant's calendar. Before, the
// decision counted weekends only (Wed 30 Sep, Thu 1, Fri 2, Mon 5, Tue 6
// October: 2026-10-06) while the payout skipped the holidays too: the
// customer was promised the 6th and paid by the 13th.
func TestCompensationDueDateOfTheDecisionIsThePayoutsAcrossNationalDay(t *testing.T) {
	w := newNRRWasher(t)
	// From Tuesday 2026-09-29: Wed 30 Sep (1); 1-7 Oct 国庆 (the tenant's
	// holidays, the weekend 3-4 inside them); Thu 8 (2), Fri 9 (3); Sat 10
	// and Sun 11 are a weekend (this tenant has not marked the make-up
	// working Saturday, 调休 10 Oct: see TestWorkdaysFix…);
	// Mon 12 (4), Tue 13 (5): due 2026-10-13.
	comp, po := w.repairOn(t, "2026-09-29")
	require.Equal(t, "2026-10-13", po.DueOn)
	require.Equal(t, "2026-10-13", comp.Due, "the decision promises the payout's due date")

	// The preview a storefront or an agent shows gives the same date.
	e, err := w.Warranty.Decide(w.Ctx, w.Admin, warranty.DecideRequest{UnitID: w.unit, On: "2026-09-29",
		Fault: warranty.FaultReport{Cause: "unstable_voltage", PartCategories: []string{"control_board"}}})
	require.NoError(t, err)
	require.NotNil(t, e.Decision.Compensation)
	require.Equal(t, "2026-10-13", e.Decision.Compensation.Due)
}

// A repair whose five working days meet no holiday keeps its date: from
// Tuesday 2026-11-10, Wed 11 (1), Thu 12 (2), Fri 13 (3), the weekend, Mon
// 16 (4), Tue 17 (5): due 2026-11-17, as weekends alone give.
func TestCompensationDueDateAwayFromHolidaysIsUnchanged(t *testing.T) {
	w := newNRRWasher(t)
	comp, po := w.repairOn(t, "2026-11-10")
	require.Equal(t, "2026-11-17", po.DueOn)
	require.Equal(t, "2026-11-17", comp.Due)
	require.Equal(t, "2026-11-17", entitlement.WeekdaysAfter(time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC), 5).Format(time.DateOnly))
}

// Rule 7 owes the satisfaction compensation per repair. A repair owes it
// once (a retry, a ticket completed again after a reopen, a claim filed
// for a repair the network completed that day), but two repairs of the
// unit on one day, two tickets, owe it twice: 100.00 each, from the plan.
// Before, any payout of the contract counted from the same day stood for
// the second ticket's, and its customer was never paid.
func TestCompensationIsOwedPerRepairNotPerDay(t *testing.T) {
	w := newNRRWasher(t)
	const on = "2026-11-10"
	schedule := func(ticketID, claimID string) (payouts.Payout, bool) {
		t.Helper()
		var (
			po      payouts.Payout
			created bool
		)
		require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) (err error) {
			po, created, err = w.Payouts.ScheduleCompensation(w.Ctx, tx, "test", payouts.Compensation{UnitID: w.unit,
				ContractID: w.contract, TicketID: ticketID, ClaimID: claimID, Amount: domaintest.CNY(10000),
				Reason: "无理由保修服务满意金", RepairedOn: on})
			return err
		}))
		return po, created
	}
	first, second := tenants.NewID(tenants.PrefixTicket), tenants.NewID(tenants.PrefixTicket)

	a, created := schedule(first, "")
	require.True(t, created)
	again, created := schedule(first, "")
	require.False(t, created, "the same ticket's repair, completed again: owed once")
	require.Equal(t, a.ID, again.ID)

	b, created := schedule(second, "")
	require.True(t, created, "another ticket's repair the same day owes its own")
	require.NotEqual(t, a.ID, b.ID)

	claimed, created := schedule("", tenants.NewID(tenants.PrefixClaim))
	require.False(t, created, "a claim naming no ticket for a repair that day: the network's repair, paid already")
	require.Contains(t, []string{a.ID, b.ID}, claimed.ID)

	for _, p := range []payouts.Payout{a, b} {
		require.Equal(t, int64(10000), p.Amount.Amount, "100.00 per repair")
		require.Equal(t, "CNY", p.Amount.Currency)
		require.Equal(t, payouts.PayerPlan, p.Payer)
		require.Equal(t, w.contract, *p.ContractID)
		require.Equal(t, on, p.CountedFrom)
	}
}
