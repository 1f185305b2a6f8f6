package payouts_test

import (
	"context"
	"io/fs"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/payouts/calendar"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// The 2026 National Day arrangement moves a working day onto Saturday 10
// October (调休): the brand works that Saturday, and a tenant that marks it
// a make-up working day is held to the date its own calendar gives. From
// Tuesday 2026-09-29, five working days: Wed 30 Sep (1); 1-7 Oct 国庆 (the
// tenant's holidays); Thu 8 (2), Fri 9 (3), Sat 10 (4, 调休), Sun 11 a
// weekend, Mon 12 (5): due 2026-10-12. Before, the calendar could not say
// the Saturday was worked and both the payout and the decision counted
// Mon 12 (4), Tue 13 (5): 2026-10-13, a day later than the brand's own
// calendar. The money does not move: rule 7's 100.00 CNY, owed by the
// plan, to the customer (asserted by repairOn).
func TestWorkdaysFixMakeUpSaturdayBringsTheCompensationForward(t *testing.T) {
	w := newNRRWasher(t)
	h, created, err := w.Payouts.PutCalendarDay(w.Ctx, w.Admin, "2026-10-10", "国庆节调休上班", payouts.KindWorkingDay)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, payouts.Holiday{Day: "2026-10-10", Name: "国庆节调休上班", Kind: "working_day",
		CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt}, h)

	comp, po := w.repairOn(t, "2026-09-29")
	require.Equal(t, "2026-10-12", po.DueOn, "the payout counts the make-up Saturday")
	require.Equal(t, "2026-10-12", comp.Due, "the decision promises the payout's due date")

	// The preview a storefront or an agent shows gives the same date.
	e, err := w.Warranty.Decide(w.Ctx, w.Admin, warranty.DecideRequest{UnitID: w.unit, On: "2026-09-29",
		Fault: warranty.FaultReport{Cause: "unstable_voltage", PartCategories: []string{"control_board"}}})
	require.NoError(t, err)
	require.NotNil(t, e.Decision.Compensation)
	require.Equal(t, "2026-10-12", e.Decision.Compensation.Due)

	// The listing shows the kind and filters by it.
	all, _, err := w.Payouts.ListHolidays(w.Ctx, w.Admin, payouts.HolidayFilter{})
	require.NoError(t, err)
	require.Len(t, all, 8)
	for _, h := range all[:7] {
		require.Equal(t, "holiday", h.Kind, h.Day)
	}
	worked, _, err := w.Payouts.ListHolidays(w.Ctx, w.Admin, payouts.HolidayFilter{Kind: payouts.KindWorkingDay})
	require.NoError(t, err)
	require.Len(t, worked, 1)
	require.Equal(t, "2026-10-10", worked[0].Day)
	off, _, err := w.Payouts.ListHolidays(w.Ctx, w.Admin, payouts.HolidayFilter{Kind: payouts.KindHoliday})
	require.NoError(t, err)
	require.Len(t, off, 7)
	_, _, err = w.Payouts.ListHolidays(w.Ctx, w.Admin, payouts.HolidayFilter{Kind: "weekend"})
	require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err))

	// Removed, the Saturday is a weekend again: back to the 13th (the
	// payout already scheduled keeps its date; the repair owes it once).
	require.NoError(t, w.Payouts.DeleteHoliday(w.Ctx, w.Admin, "2026-10-10"))
	e, err = w.Warranty.Decide(w.Ctx, w.Admin, warranty.DecideRequest{UnitID: w.unit, On: "2026-09-29",
		Fault: warranty.FaultReport{Cause: "unstable_voltage", PartCategories: []string{"control_board"}}})
	require.NoError(t, err)
	require.Equal(t, "2026-10-13", e.Decision.Compensation.Due)
}

// Without the make-up working day the count is the holidays-and-weekends
// one: Thu 8 (2), Fri 9 (3), Mon 12 (4), Tue 13 (5): 2026-10-13. A holiday
// set on a weekend day changes nothing, and is allowed.
func TestWorkdaysFixWithoutAWorkingDayTheWeekendStaysOff(t *testing.T) {
	w := newNRRWasher(t)
	h, _, err := w.Payouts.PutCalendarDay(w.Ctx, w.Admin, "2026-10-11", "周日", "")
	require.NoError(t, err)
	require.Equal(t, "holiday", h.Kind, "no kind is a holiday")
	comp, po := w.repairOn(t, "2026-09-29")
	require.Equal(t, "2026-10-13", po.DueOn)
	require.Equal(t, "2026-10-13", comp.Due)
}

// A make-up working day on Monday to Friday is a mistake (those days are
// worked already: most likely the wrong date): 422 at kind, nothing
// stored, no event. Setting a day again changes its kind both ways.
func TestWorkdaysFixWorkingDayOnAWeekdayIsRefused(t *testing.T) {
	w := newNRRWasher(t)
	before := w.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1`)
	_, _, err := w.Payouts.PutCalendarDay(w.Ctx, w.Admin, "2026-10-14", "调休", payouts.KindWorkingDay) // a Wednesday
	require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err))
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Len(t, te.Fields, 1)
	require.Equal(t, "kind", te.Fields[0].Location)
	require.Contains(t, te.Fields[0].Message, "Saturday or a Sunday")
	_, _, err = w.Payouts.PutCalendarDay(w.Ctx, w.Admin, "2026-10-17", "调休", "workday")
	require.Equal(t, []string{"kind"}, domaintest.Fields(t, err))
	require.Equal(t, 0, w.Count(t, `SELECT count(*) FROM tenant_holidays WHERE tenant_id = $1 AND day IN ('2026-10-14', '2026-10-17')`))
	require.Equal(t, before, w.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1`))

	// A holiday on Saturday 10 October becomes a working day, and back.
	_, created, err := w.Payouts.PutHoliday(w.Ctx, w.Admin, "2026-10-10", "国庆节")
	require.NoError(t, err)
	require.True(t, created)
	h, created, err := w.Payouts.PutCalendarDay(w.Ctx, w.Admin, "2026-10-10", "国庆节调休上班", payouts.KindWorkingDay)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, "working_day", h.Kind)
	require.Equal(t, 1, w.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'tenant.holiday_set' AND data->>'kind' = 'working_day'`))
	var due time.Time
	require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
		due, err = calendar.WorkingDaysAfter(w.Ctx, tx, time.Date(2026, 9, 29, 0, 0, 0, 0, time.UTC), 5)
		return err
	}))
	require.Equal(t, "2026-10-12", due.Format(time.DateOnly))
	h, _, err = w.Payouts.PutHoliday(w.Ctx, w.Admin, "2026-10-10", "国庆节")
	require.NoError(t, err)
	require.Equal(t, "holiday", h.Kind)

	// The table refuses one too, whoever writes it.
	require.Error(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
		_, err := tx.Exec(w.Ctx, `INSERT INTO tenant_holidays (tenant_id, day, name, kind, created_by) VALUES ($1, '2026-10-14', 'x', 'working_day', 'test')`, tx.TenantID)
		return err
	}))
}

// A tenant's holidays set before migration 058 keep being holidays: the
// schema as it was (no kind) with a weekday and a weekend holiday, then
// 058, in a database of the test's own.
func TestWorkdaysFixMigrationKeepsHolidaysHolidays(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := pg.WithLivemode(context.Background(), true)
	sql, err := fs.ReadFile(pg.MigrationFiles, "migrations/058_tenant_working_days.sql")
	require.NoError(t, err)
	tenant := tenants.NewID(tenants.PrefixTenant)
	var kinds map[string]string
	require.NoError(t, pg.InTenantTx(ctx, db.Owner, tenant, func(tx pg.TenantTx) error {
		if _, err := tx.Exec(ctx, `ALTER TABLE tenant_holidays DROP COLUMN kind`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug, time_zone) VALUES ($1, 'Brand', $2, 'Asia/Shanghai')`,
			tenant, "wd-"+tenant[len(tenant)-12:]); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tenant_holidays (tenant_id, day, name, created_by)
			VALUES ($1, '2026-10-01', '国庆节', 'k'), ($1, '2026-10-03', '国庆节', 'k')`, tenant); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(sql)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), kind FROM tenant_holidays WHERE tenant_id = $1`, tenant)
		if err != nil {
			return err
		}
		defer rows.Close()
		kinds = map[string]string{}
		for rows.Next() {
			var d, k string
			if err := rows.Scan(&d, &k); err != nil {
				return err
			}
			kinds[d] = k
		}
		return rows.Err()
	}))
	require.Equal(t, map[string]string{"2026-10-01": "holiday", "2026-10-03": "holiday"}, kinds)
	var forced bool
	require.NoError(t, db.Owner.QueryRow(ctx, `SELECT relforcerowsecurity FROM pg_class WHERE relname = 'tenant_holidays'`).Scan(&forced))
	require.True(t, forced, "the table keeps forced row security")
}
