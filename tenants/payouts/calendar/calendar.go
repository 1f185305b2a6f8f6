// Package calendar is a tenant's working-day calendar: Monday to Friday,
// less the tenant's holidays, plus the weekend days the tenant works
// (make-up working days, 调休: the State Council moves working days onto a
// Saturday or Sunday around 国庆 and 春节). Both are rows of tenant_holidays
// (kind holiday or working_day), kept by the payouts context, which sets
// and lists them. Every deadline ServiceNet promises
// a customer in working days is counted here: a payout's due date, and the
// due date an entitlement decision shows for the compensation that payout
// will pay (rule 7), so the date the customer is told is the date the
// brand is held to.
//
// It is a leaf of the payouts context so that warranty, which payouts
// imports, can read the same calendar without an import cycle. The
// counting itself is entitlement.WorkingDaysAfter, the engine's.
package calendar

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// maxSpanDays bounds how far ahead Load reads: ten years of holidays in a
// row is a broken calendar, not a deadline.
const maxSpanDays = 3660

// Kinds of a day of the tenant's calendar (tenant_holidays.kind).
const (
	// KindHoliday is a day no working day falls on.
	KindHoliday = "holiday"
	// KindWorkingDay is a Saturday or Sunday that is worked (调休).
	KindWorkingDay = "working_day"
)

// Calendar is the tenant's working days from a day on: it knows the
// holidays and make-up working days of the days after from through
// through, enough for the number of working days it was loaded for.
type Calendar struct {
	from, through time.Time
	// days holds the tenant's days of the window by date: KindHoliday or
	// KindWorkingDay.
	days map[string]string
}

// Load reads, in the caller's transaction, the tenant's days (holidays and
// make-up working days) that n
// working days after from (a civil date in the tenant's zone) can meet.
// Counting n or fewer working days from from with the result needs no
// further read.
func Load(ctx context.Context, tx pg.TenantTx, from time.Time, n int) (Calendar, error) {
	start := civil(from)
	// n working days lie within n*7/5 calendar days plus one per holiday:
	// read a generous window once, and a wider one only when a long run
	// of holidays outlasts it.
	span := n*2 + 31
	for {
		c := Calendar{from: start, through: start.AddDate(0, 0, span)}
		rows, err := tx.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), kind FROM tenant_holidays
			WHERE tenant_id = $1 AND day > $2::date AND day <= $3::date`, tx.TenantID, c.from, c.through)
		if err != nil {
			return Calendar{}, err
		}
		c.days = map[string]string{}
		var day, kind string
		if _, err := pgx.ForEachRow(rows, []any{&day, &kind}, func() error {
			c.days[day] = kind
			return nil
		}); err != nil {
			return Calendar{}, err
		}
		if !c.After(start, n).After(c.through) {
			return c, nil
		}
		if span >= maxSpanDays {
			return Calendar{}, errors.New("calendar: the tenant's holidays leave no working day within ten years")
		}
		span = min(span*4, maxSpanDays)
	}
}

// IsWorkingDay reports whether d is worked: a make-up working day the
// tenant set (a Saturday or Sunday, 调休), else Monday to Friday unless it
// is a holiday.
func (c Calendar) IsWorkingDay(d time.Time) bool {
	switch c.days[d.Format(time.DateOnly)] {
	case KindWorkingDay:
		return true
	case KindHoliday:
		return false
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// After returns the date n working days after from: each following day
// counts if it is worked (IsWorkingDay: Monday to Friday less holidays,
// plus make-up working days); from itself never counts. Only the days of
// the window Load read are known: from and n are the ones c was loaded
// for, or fewer days.
func (c Calendar) After(from time.Time, n int) time.Time {
	return entitlement.WorkingDaysAfter(from, n, c.IsWorkingDay)
}

// WorkingDaysAfter returns the date n working days after from (a civil
// date in the tenant's zone) on the tenant's calendar, in the caller's
// transaction.
func WorkingDaysAfter(ctx context.Context, tx pg.TenantTx, from time.Time, n int) (time.Time, error) {
	c, err := Load(ctx, tx, from, n)
	if err != nil {
		return time.Time{}, err
	}
	return c.After(from, n), nil
}

// civil returns t's calendar date at midnight UTC.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
