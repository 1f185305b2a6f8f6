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
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// Event types of the holiday calendar.
const (
	TypeHolidaySet     = "tenant.holiday_set"
	TypeHolidayDeleted = "tenant.holiday_deleted"
)

// Holiday is a day of the tenant's calendar on which no business day falls.
type Holiday struct {
	Day       string    `json:"day" format:"date" doc:"The date, in the tenant's time zone." example:"2026-10-01"`
	Name      string    `json:"name" doc:"What the day is." example:"国庆节"`
	CreatedAt time.Time `json:"created_at" example:"2026-09-01T09:30:00+08:00"`
	UpdatedAt time.Time `json:"updated_at" example:"2026-09-01T09:30:00+08:00"`
}

// HolidayFilter selects holidays; From and To (YYYY-MM-DD, inclusive) are
// optional.
type HolidayFilter struct {
	From, To string
	Limit    int
	Cursor   string
}

func parseDay(loc, s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, tenants.InvalidMsg(loc, i18n.M("common.date"), s)
	}
	return d, nil
}

// AddBusinessDays returns the date n business days after from, skipping
// weekends and the days isHoliday names: the entitlement engine's count
// (entitlement.BusinessDaysAfter). With the tenant's holidays it is
// calendar.WorkingDaysAfter, which payouts and decisions both use.
func AddBusinessDays(from time.Time, n int, isHoliday func(time.Time) bool) time.Time {
	return entitlement.BusinessDaysAfter(from, n, isHoliday)
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
		rows, err := tx.Query(ctx, `SELECT to_char(day, 'YYYY-MM-DD'), name, created_at, updated_at FROM tenant_holidays
			WHERE tenant_id = $1 AND ($2 = '' OR day > $2::date) AND ($3 = '' OR day >= $3::date) AND ($4 = '' OR day <= $4::date)
			ORDER BY day LIMIT $5`, tx.TenantID, page.After, f.From, f.To, page.Fetch())
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Holiday, error) {
			var h Holiday
			err := r.Scan(&h.Day, &h.Name, &h.CreatedAt, &h.UpdatedAt)
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
// created says whether it was new. Payouts already scheduled keep their due
// dates.
func (s *Service) PutHoliday(ctx context.Context, p tenants.Principal, day, name string) (h Holiday, created bool, err error) {
	v := &tenants.Validation{}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		v.AddMsg("date", i18n.M("common.date"), day)
	}
	name = strings.TrimSpace(name)
	if n := len([]rune(name)); n < 1 || n > 100 {
		v.AddMsg("name", i18n.M("common.length", "Min", 1, "Max", 100), name)
	}
	if err := v.Err(); err != nil {
		return Holiday{}, false, err
	}
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO tenant_holidays (tenant_id, day, name, created_by) VALUES ($1, $2::date, $3, $4)
			ON CONFLICT (tenant_id, livemode, day) DO UPDATE SET name = EXCLUDED.name, updated_at = now()
			RETURNING to_char(day, 'YYYY-MM-DD'), name, created_at, updated_at, xmax = 0`,
			tx.TenantID, day, name, p.Subject()).Scan(&h.Day, &h.Name, &h.CreatedAt, &h.UpdatedAt, &created); err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeHolidaySet, SubjectID: p.TenantID, Actor: p.Subject(),
			Data: map[string]any{"day": h.Day, "name": h.Name}})
	})
	return h, created, pg.Translate(err)
}

// DeleteHoliday removes a holiday; a day that is not one is not found.
func (s *Service) DeleteHoliday(ctx context.Context, p tenants.Principal, day string) error {
	if _, err := parseDay("date", day); err != nil {
		return err
	}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var name string
		err := tx.QueryRow(ctx, `DELETE FROM tenant_holidays WHERE tenant_id = $1 AND day = $2::date RETURNING name`,
			tx.TenantID, day).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return tenants.NotFound("holiday")
		}
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeHolidayDeleted, SubjectID: p.TenantID, Actor: p.Subject(),
			Data: map[string]any{"day": day, "name": name}})
	})
	return pg.Translate(err)
}
