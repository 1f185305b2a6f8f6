package payouts

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/payouts/calendar"
)

// Event types of the holiday calendar.
const (
	TypeHolidaySet     = "tenant.holiday_set"
	TypeHolidayDeleted = "tenant.holiday_deleted"
)

// Kinds of a day of the tenant's calendar.
const (
	// KindHoliday: no business day falls on the day.
	KindHoliday = calendar.KindHoliday
	// KindWorkingDay: a Saturday or Sunday that is a business day, a
	// make-up working day (调休) of the official holiday arrangement.
	KindWorkingDay = calendar.KindWorkingDay
)

// Holiday is a day of the tenant's calendar that is not what Monday to
// Friday says: a holiday (no business day falls on it) or a make-up working
// day (a Saturday or Sunday that is a business day).
type Holiday struct {
	Day       string    `json:"day" format:"date" doc:"The date, in the tenant's time zone." example:"2026-10-01"`
	Name      string    `json:"name" doc:"What the day is." example:"国庆节"`
	Kind      string    `json:"kind" enum:"holiday,working_day" doc:"holiday: no business day falls on the date. working_day: a make-up working day (调休), a Saturday or Sunday that counts as a business day." example:"holiday"`
	CreatedAt time.Time `json:"created_at" example:"2026-09-01T09:30:00+08:00"`
	UpdatedAt time.Time `json:"updated_at" example:"2026-09-01T09:30:00+08:00"`
}

// HolidayFilter selects holidays; From and To (YYYY-MM-DD, inclusive) and
// Kind (KindHoliday or KindWorkingDay) are optional.
type HolidayFilter struct {
	From, To string
	Kind     string
	Limit    int
	Cursor   string
}

// validKind reports whether kind is a kind of calendar day.
func validKind(kind string) bool { return kind == KindHoliday || kind == KindWorkingDay }

func parseDay(loc, s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, tenants.InvalidMsg(loc, i18n.M("common.date"), s)
	}
	return d, nil
}

// ListHolidays lists the tenant's holidays by date.
func (s *Service) ListHolidays(ctx context.Context, p tenants.Principal, f HolidayFilter) ([]Holiday, string, error) {
	v := &tenants.Validation{}
	for _, q := range []struct{ loc, val string }{{"from", f.From}, {"to", f.To}} {
		if q.val != "" {
			if _, err := time.Parse(time.DateOnly, q.val); err != nil {
				v.AddMsg(q.loc, i18n.M("common.date"), q.val)
			}
		}
	}
	if f.Kind != "" && !validKind(f.Kind) {
		v.AddMsg("kind", i18n.M("payouts.holiday_kind"), f.Kind)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	page, err := pg.NewKeyset("holidays", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	if page.After != "" {
		if _, err := time.Parse(time.DateOnly, page.After); err != nil {
			return nil, "", tenants.MalformedCursor(f.Cursor)
		}
	}
	var out []Holiday
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), name, kind, created_at, updated_at FROM tenant_holidays
			WHERE tenant_id = $1 AND ($2 = '' OR day > $2::date) AND ($3 = '' OR day >= $3::date) AND ($4 = '' OR day <= $4::date)
			  AND ($6 = '' OR kind = $6)
			ORDER BY day LIMIT $5`, tx.TenantID, page.After, f.From, f.To, page.Fetch(), f.Kind)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Holiday, error) {
			var h Holiday
			err := r.Scan(&h.Day, &h.Name, &h.Kind, &h.CreatedAt, &h.UpdatedAt)
			return h, err
		})
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	if out == nil {
		out = []Holiday{}
	}
	out, next := pg.Page(page, out, func(h Holiday) string { return h.Day })
	return out, next, nil
}

// PutHoliday makes day (YYYY-MM-DD) a holiday named name, or renames it;
// created says whether it was new. It is PutCalendarDay of a holiday.
func (s *Service) PutHoliday(ctx context.Context, p tenants.Principal, day, name string) (h Holiday, created bool, err error) {
	return s.PutCalendarDay(ctx, p, day, name, KindHoliday)
}

// PutCalendarDay makes day (YYYY-MM-DD) a day of the tenant's calendar
// named name: a holiday (kind KindHoliday, or "") or a make-up working day
// (KindWorkingDay), replacing what the day was; created says whether it
// was new. A make-up working day is a Saturday or a Sunday (调休: the
// official arrangement moves working days onto weekends around 国庆 and
// 春节): Monday to Friday are business days already, so one set there is
// a mistake, most likely the wrong date, and is refused. A holiday on a
// weekend changes no count and is allowed. Payouts already scheduled keep
// their due dates.
func (s *Service) PutCalendarDay(ctx context.Context, p tenants.Principal, day, name, kind string) (h Holiday, created bool, err error) {
	v := &tenants.Validation{}
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		v.AddMsg("date", i18n.M("common.date"), day)
	}
	name = strings.TrimSpace(name)
	if n := len([]rune(name)); n < 1 || n > 100 {
		v.AddMsg("name", i18n.M("common.length", "Min", 1, "Max", 100), name)
	}
	if kind == "" {
		kind = KindHoliday
	}
	switch {
	case !validKind(kind):
		v.AddMsg("kind", i18n.M("payouts.holiday_kind"), kind)
	case kind == KindWorkingDay && err == nil && d.Weekday() != time.Saturday && d.Weekday() != time.Sunday:
		v.AddMsg("kind", i18n.M("payouts.working_day_on_weekday"), kind)
	}
	if err := v.Err(); err != nil {
		return Holiday{}, false, err
	}
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO tenant_holidays (tenant_id, day, name, kind, created_by) VALUES ($1, $2::date, $3, $4, $5)
			ON CONFLICT (tenant_id, livemode, day) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, updated_at = now()
			RETURNING to_char(day, 'YYYY-MM-DD'), name, kind, created_at, updated_at, xmax = 0`,
			tx.TenantID, day, name, kind, p.Subject()).Scan(&h.Day, &h.Name, &h.Kind, &h.CreatedAt, &h.UpdatedAt, &created); err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeHolidaySet, SubjectID: p.TenantID, Actor: p.Subject(),
			Data: map[string]any{"day": h.Day, "name": h.Name, "kind": h.Kind}})
	})
	return h, created, pg.Translate(err)
}

// DeleteHoliday removes a day from the tenant's calendar (a holiday or a
// make-up working day): the day is what Monday to Friday says again. A
// day that is not on the calendar is not found.
func (s *Service) DeleteHoliday(ctx context.Context, p tenants.Principal, day string) error {
	if _, err := parseDay("date", day); err != nil {
		return err
	}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var name, kind string
		err := tx.QueryRow(ctx, `DELETE FROM tenant_holidays WHERE tenant_id = $1 AND day = $2::date RETURNING name, kind`,
			tx.TenantID, day).Scan(&name, &kind)
		if errors.Is(err, pgx.ErrNoRows) {
			return tenants.NotFound("holiday")
		}
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeHolidayDeleted, SubjectID: p.TenantID, Actor: p.Subject(),
			Data: map[string]any{"day": day, "name": name, "kind": kind}})
	})
	return pg.Translate(err)
}
