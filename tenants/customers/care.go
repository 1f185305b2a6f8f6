package customers

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// Event types of care reminders.
const (
	TypeCarePolicyUpdated = "care_policy.updated"
	TypeUnitCareDue       = "unit.care_due"
)

// Where a unit's care interval counts from.
const (
	AnchorInstalledOn  = "installed_on"
	AnchorPurchaseDate = "purchase_date"
	// AnchorMaintainedOn: the unit's last maintenance in its service
	// history, when later than its installation (or purchase) date.
	AnchorMaintainedOn = "maintained_on"
	// AnchorSeason: a reminder before a season of use (CareSeason).
	AnchorSeason = "season"
)

// CarePolicy is the tenant's care-reminder policy (the seeds' 定期保养提醒:
// the customer is reminded of care after the purchase and periodically).
// A unit is due every interval days from its installation date, or its
// purchase date when it was never installed, or its last maintenance when
// that is later (a unit just cleaned is not reminded). A category's own entry
// overrides the overall interval (an entry that is disabled turns the
// category's reminders off); without an entry the overall interval
// applies, when set. Nothing is reminded while the policy is disabled.
type CarePolicy struct {
	Enabled      bool           `json:"enabled" doc:"Reminders are sent (false: none, whatever the intervals)." example:"true"`
	IntervalDays *int           `json:"interval_days,omitempty" minimum:"1" maximum:"3650" doc:"The overall interval in days, for categories without an entry of their own; absent: only the listed categories are reminded." example:"180"`
	Categories   []CareInterval `json:"categories" required:"false" maxItems:"20" doc:"Intervals per product category, overriding the overall one."`
	Seasons      []CareSeason   `json:"seasons" required:"false" maxItems:"20" doc:"Reminders before a season of use (换季前提醒), per product category: each year, lead_days before the season starts, every active unit of the category is reminded once."`
	Version      int            `json:"version" readOnly:"true" doc:"Policy version; 0 while none is set (no reminders)." example:"1"`
	UpdatedAt    *time.Time     `json:"updated_at,omitempty" readOnly:"true" example:"2026-11-30T08:00:00Z"`
}

// CareInterval is one product category's care interval.
type CareInterval struct {
	Category     string `json:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Product category." example:"air_conditioner"`
	IntervalDays int    `json:"interval_days" minimum:"1" maximum:"3650" doc:"Days between reminders for the category's units." example:"90"`
	Enabled      bool   `json:"enabled" doc:"false: the category's units are not reminded." example:"true"`
}

// CareSeason is a season of use of a product category, before which its
// units are reminded (air conditioners before summer, heaters before
// winter).
type CareSeason struct {
	Category string `json:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Product category." example:"air_conditioner"`
	Start    string `json:"start" pattern:"^[0-9]{2}-[0-9]{2}$" doc:"The season's first day, MM-DD (tenant's time zone)." example:"05-15"`
	LeadDays int    `json:"lead_days" minimum:"0" maximum:"90" doc:"How many days before the start the reminder is due." example:"14"`
}

// intervalFor is the interval of category under the policy, 0 for none.
func (p CarePolicy) intervalFor(category string) int {
	if !p.Enabled {
		return 0
	}
	for _, c := range p.Categories {
		if c.Category == category {
			if !c.Enabled {
				return 0
			}
			return c.IntervalDays
		}
	}
	if p.IntervalDays != nil {
		return *p.IntervalDays
	}
	return 0
}

// validate checks a policy; locations are relative to the request body.
func (p CarePolicy) validate() error {
	v := &tenants.Validation{}
	if p.IntervalDays != nil && (*p.IntervalDays < 1 || *p.IntervalDays > 3650) {
		v.AddMsg("interval_days", i18n.M("common.range_days", "Min", 1, "Max", 3650), *p.IntervalDays)
	}
	if len(p.Categories) > 20 {
		v.AddMsg("categories", i18n.M("common.max_entries", "Max", 20), len(p.Categories))
	}
	seen := map[string]bool{}
	for i, c := range p.Categories {
		at := "categories[" + strconv.Itoa(i) + "]"
		if !slices.Contains(catalog.Categories, c.Category) {
			v.AddMsg(at+".category", i18n.M("common.product_category"), c.Category)
		} else if seen[c.Category] {
			v.AddMsg(at+".category", i18n.M("customers.category_once"), c.Category)
		}
		seen[c.Category] = true
		if c.IntervalDays < 1 || c.IntervalDays > 3650 {
			v.AddMsg(at+".interval_days", i18n.M("common.range_days", "Min", 1, "Max", 3650), c.IntervalDays)
		}
	}
	for i, c := range p.Seasons {
		at := "seasons[" + strconv.Itoa(i) + "]"
		if !slices.Contains(catalog.Categories, c.Category) {
			v.AddMsg(at+".category", i18n.M("common.product_category"), c.Category)
		}
		if _, err := time.Parse(time.DateOnly, "2001-"+c.Start); err != nil {
			v.AddMsg(at+".start", i18n.M("customers.day_of_year"), c.Start)
		}
		if c.LeadDays < 0 || c.LeadDays > 90 {
			v.AddMsg(at+".lead_days", i18n.M("common.range_days", "Min", 0, "Max", 90), c.LeadDays)
		}
	}
	if len(p.Seasons) > 20 {
		v.AddMsg("seasons", i18n.M("common.max_entries", "Max", 20), len(p.Seasons))
	}
	return v.Err()
}

// seasonDue returns the start of the season s whose reminder window
// (lead days before the start, up to the start; with no lead days, the
// start day itself) holds today, if any.
func seasonDue(s CareSeason, today time.Time) (time.Time, bool) {
	for _, y := range []int{today.Year(), today.Year() + 1} {
		start, err := time.Parse(time.DateOnly, strconv.Itoa(y)+"-"+s.Start)
		if err != nil {
			continue
		}
		end := start
		if s.LeadDays == 0 {
			end = start.AddDate(0, 0, 1)
		}
		if !today.Before(start.AddDate(0, 0, -s.LeadDays)) && today.Before(end) {
			return start, true
		}
	}
	return time.Time{}, false
}

func loadCarePolicy(ctx context.Context, tx pg.TenantTx, lock string) (CarePolicy, error) {
	var p CarePolicy
	var at time.Time
	err := tx.QueryRow(ctx, `SELECT enabled, interval_days, categories, seasons, version, updated_at FROM care_policies
		WHERE tenant_id = $1 `+lock, tx.TenantID).Scan(&p.Enabled, &p.IntervalDays, &p.Categories, &p.Seasons, &p.Version, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return CarePolicy{Categories: []CareInterval{}, Seasons: []CareSeason{}}, nil
	}
	if err != nil {
		return CarePolicy{}, err
	}
	p.UpdatedAt = &at
	if p.Categories == nil {
		p.Categories = []CareInterval{}
	}
	if p.Seasons == nil {
		p.Seasons = []CareSeason{}
	}
	return p, nil
}

// CarePolicy returns the tenant's care-reminder policy: version 0,
// disabled, while none is set.
func (s *Service) CarePolicy(ctx context.Context, p tenants.Principal) (CarePolicy, error) {
	var out CarePolicy
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = loadCarePolicy(ctx, tx, "")
		return err
	})
	return out, pg.Translate(err)
}

// SetCarePolicy replaces the care-reminder policy, with a
// care_policy.updated event. ifVersion must be the current version (0
// while none is set; precondition_failed otherwise). An interval out of
// 1-3650 days, an unknown or repeated category is invalid, naming the
// field, and nothing changes.
func (s *Service) SetCarePolicy(ctx context.Context, p tenants.Principal, in CarePolicy, ifVersion int) (CarePolicy, error) {
	if err := in.validate(); err != nil {
		return CarePolicy{}, err
	}
	if in.Categories == nil {
		in.Categories = []CareInterval{}
	}
	if in.Seasons == nil {
		in.Seasons = []CareSeason{}
	}
	var out CarePolicy
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		// Serialise writers of a tenant's first policy (no row to lock yet).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('care_policy:' || $1, 0))`, tx.TenantID); err != nil {
			return err
		}
		cur, err := loadCarePolicy(ctx, tx, "FOR UPDATE")
		if err != nil {
			return err
		}
		if cur.Version != ifVersion {
			return tenants.ErrorMsg(tenants.CodePreconditionFailed, i18n.M("customers.care_policy_changed", "Version", cur.Version))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO care_policies (tenant_id, enabled, interval_days, categories, seasons, version, updated_by)
			VALUES ($1, $2, $3, $4, $5, 1, $6)
			ON CONFLICT (tenant_id, livemode) DO UPDATE SET enabled = EXCLUDED.enabled, interval_days = EXCLUDED.interval_days,
				categories = EXCLUDED.categories, seasons = EXCLUDED.seasons, version = care_policies.version + 1,
				updated_by = EXCLUDED.updated_by, updated_at = now()`,
			tx.TenantID, in.Enabled, in.IntervalDays, in.Categories, in.Seasons, p.Subject()); err != nil {
			return err
		}
		if out, err = loadCarePolicy(ctx, tx, ""); err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeCarePolicyUpdated, SubjectID: tx.TenantID, Actor: p.Subject(),
			Data: map[string]any{"version": out.Version, "enabled": out.Enabled, "interval_days": out.IntervalDays,
				"categories": out.Categories, "seasons": out.Seasons}})
	})
	return out, pg.Translate(err)
}

// RemindCare emits unit.care_due for each active unit of the tenant (in
// the mode of ctx) whose season of use starts within its lead days (due_on
// is the season's start; units bought after the reminder day wait for the
// next year), and for each whose latest due date under the care policy has come:
// the anchor (the later of the last maintenance in the unit's service
// history and installed_on, else purchase_date) plus a whole number (at
// least one) of intervals, on or before today in the tenant's zone. Each
// unit and due date is announced once (care_reminders), so reruns are
// no-ops; a unit that missed several due dates (the policy is new) is
// reminded of the latest only. A unit on a test clock is judged on the
// clock's today, not now's. It returns how many reminders it emitted.
func (s *Service) RemindCare(ctx context.Context, tenantID string, now time.Time) (int, error) {
	return s.remindCare(ctx, tenantID, nil, now)
}

// RemindClockCare is RemindCare for the units attached to the test clock
// clockID only, on the clock's time (the advance of the clock runs it):
// what fell due on the way is emitted as RemindCare would have.
func (s *Service) RemindClockCare(ctx context.Context, tenantID, clockID string) (int, error) {
	return s.remindCare(ctx, tenantID, &clockID, time.Time{})
}

// remindCare is RemindCare over the units of clock (nil: all of them),
// each judged at its own clock's time, else at now.
func (s *Service) remindCare(ctx context.Context, tenantID string, clock *string, now time.Time) (int, error) {
	n := 0
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		pol, err := loadCarePolicy(ctx, tx, "")
		if err != nil || !pol.Enabled {
			return err
		}
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		type due struct {
			unit, customer, model, category, anchor string
			storefront                              *string
			anchorOn                                time.Time
			// today is the unit's today: its clock's, else now's.
			today time.Time
		}
		rows, err := tx.Query(ctx, `SELECT u.id, u.customer_id, u.model_id, m.category, u.storefront_id,
				CASE WHEN r.done_on > coalesce(u.installed_on, u.purchase_date) THEN 'maintained_on'
				     WHEN u.installed_on IS NULL THEN 'purchase_date' ELSE 'installed_on' END,
				greatest(r.done_on, coalesce(u.installed_on, u.purchase_date)),
				`+testclocks.TimeOfSQL("u.tenant_id", "u.test_clock_id", "$2::timestamptz")+`
			FROM units u JOIN model_summaries m ON m.tenant_id = u.tenant_id AND m.id = u.model_id
			LEFT JOIN LATERAL (SELECT r.occurred_on AS done_on FROM service_records r
				WHERE r.tenant_id = u.tenant_id AND r.unit_id = u.id AND r.kind = 'maintenance'
				ORDER BY r.occurred_on DESC LIMIT 1) r ON true
			WHERE u.tenant_id = $1 AND u.status = 'active' AND ($3::text IS NULL OR u.test_clock_id = $3)
			ORDER BY u.id`, tx.TenantID, now, clock)
		if err != nil {
			return err
		}
		var units []due
		for rows.Next() {
			var d due
			var at time.Time
			if err := rows.Scan(&d.unit, &d.customer, &d.model, &d.category, &d.storefront, &d.anchor, &d.anchorOn, &at); err != nil {
				rows.Close()
				return err
			}
			if d.today, err = time.Parse(time.DateOnly, st.Today(at)); err != nil {
				rows.Close()
				return err
			}
			units = append(units, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		emit := func(u due, dueOn, anchor string, data map[string]any, every *int) error {
			tag, err := tx.Exec(ctx, `INSERT INTO care_reminders (tenant_id, unit_id, due_on, anchor, interval_days)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, tx.TenantID, u.unit, dueOn, anchor, every)
			if err != nil || tag.RowsAffected() == 0 {
				return err // announced already
			}
			data["unit_id"], data["customer_id"], data["model_id"], data["category"] = u.unit, u.customer, u.model, u.category
			data["anchor"], data["due_on"] = anchor, dueOn
			if u.storefront != nil {
				data["storefront_id"] = *u.storefront
			}
			n++
			return events.Append(ctx, tx, events.New{Type: TypeUnitCareDue, SubjectID: u.unit, Actor: "system", Data: data})
		}
		for _, u := range units {
			for _, se := range pol.Seasons {
				if se.Category != u.category {
					continue
				}
				if start, ok := seasonDue(se, u.today); ok && u.anchorOn.Before(start.AddDate(0, 0, -se.LeadDays)) {
					if err := emit(u, start.Format(time.DateOnly), AnchorSeason, map[string]any{"season_start": se.Start,
						"lead_days": se.LeadDays}, nil); err != nil {
						return err
					}
				}
			}
			every := pol.intervalFor(u.category)
			if every == 0 {
				continue
			}
			days := int(u.today.Sub(u.anchorOn).Hours() / 24)
			if days < every {
				continue
			}
			period := days / every
			dueOn := u.anchorOn.AddDate(0, 0, period*every).Format(time.DateOnly)
			if err := emit(u, dueOn, u.anchor, map[string]any{"anchor_date": u.anchorOn.Format(time.DateOnly),
				"interval_days": every, "period": period}, &every); err != nil {
				return err
			}
		}
		return nil
	})
	return n, pg.Translate(err)
}
