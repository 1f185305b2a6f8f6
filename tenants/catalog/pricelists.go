package catalog

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// Price list statuses, judged on the tenant's current date.
const (
	PriceListScheduled  = "scheduled"  // takes effect later
	PriceListCurrent    = "current"    // in effect today
	PriceListSuperseded = "superseded" // a later version is in effect
)

// Limits of a price list version.
const (
	MaxLaborRates = 55 // every category × service kind
	MaxPartPrices = 5000
)

// LaborRate is the labor charge for one kind of work on one category.
type LaborRate struct {
	Category    string        `json:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Product category." example:"washer"`
	ServiceKind string        `json:"service_kind" enum:"install,repair,maintenance,carry_in,remote" doc:"Kind of work." example:"repair"`
	Amount      tenants.Money `json:"amount"`
}

// VisitFee is the charge for a home visit for one category.
type VisitFee struct {
	Category string        `json:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Product category." example:"washer"`
	Amount   tenants.Money `json:"amount"`
}

// PartPrice overrides a part's catalog price in one price list version.
type PartPrice struct {
	PartID string        `json:"part_id" maxLength:"64" doc:"The part; it must exist." example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Price  tenants.Money `json:"price"`
}

// PriceList is one immutable version of the tenant's price list.
type PriceList struct {
	ID              string         `json:"id" example:"prl_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	Version         int            `json:"version" doc:"1, 2, 3 ... per tenant, in creation order." example:"2"`
	EffectiveFrom   string         `json:"effective_from" format:"date" doc:"First day (tenant's time zone) the version is in effect; it stays in effect until the next version's date." example:"2026-12-01"`
	Status          string         `json:"status" enum:"scheduled,current,superseded" doc:"On the tenant's current date: scheduled (takes effect later), current (in effect), superseded (a later version is in effect)." example:"current"`
	Currency        string         `json:"currency" doc:"The tenant's currency; every amount is in it." example:"CNY"`
	Labor           []LaborRate    `json:"labor" doc:"Labor by category and service kind."`
	DefaultVisitFee *tenants.Money `json:"default_visit_fee,omitempty"`
	VisitFees       []VisitFee     `json:"visit_fees" doc:"Visit fees by category; categories without one use default_visit_fee."`
	Parts           []PartPrice    `json:"parts" doc:"Part prices overriding the parts' catalog prices, by part."`
	Note            string         `json:"note,omitempty" doc:"What changed in this version." example:"2027 labor rates"`
	CreatedAt       time.Time      `json:"created_at" example:"2026-11-20T09:30:00+08:00"`
}

// NewPriceList is a price list version to create.
type NewPriceList struct {
	EffectiveFrom   string         `json:"effective_from" format:"date" doc:"First day the version is in effect, in the tenant's time zone: today or later, and no other version's date." example:"2026-12-01"`
	Labor           []LaborRate    `json:"labor" minItems:"1" maxItems:"55" doc:"Labor by category and service kind; one row per pair."`
	DefaultVisitFee *tenants.Money `json:"default_visit_fee,omitempty"`
	VisitFees       []VisitFee     `json:"visit_fees,omitempty" maxItems:"11" doc:"Visit fees by category, one per category; others use default_visit_fee."`
	Parts           []PartPrice    `json:"parts,omitempty" maxItems:"5000" doc:"Part prices overriding the parts' catalog prices; one per part."`
	Note            string         `json:"note,omitempty" maxLength:"500" doc:"What changed in this version." example:"2027 labor rates"`
}

// validatePriceList checks a version's rows; part ids are checked in the
// transaction.
func validatePriceList(v *tenants.Validation, in NewPriceList, currency, today string) {
	switch {
	case !validDate(in.EffectiveFrom):
		v.AddMsg("effective_from", i18n.M("common.date"), in.EffectiveFrom)
	case in.EffectiveFrom < today:
		v.AddMsg("effective_from", i18n.M("catalog.effective_in_past", "Today", today), in.EffectiveFrom)
	}
	if len(in.Labor) == 0 {
		v.AddMsg("labor", i18n.M("catalog.labor_rate_required"), len(in.Labor))
	}
	if len(in.Labor) > MaxLaborRates {
		v.AddMsg("labor", i18n.M("catalog.max_labor_rates", "Max", MaxLaborRates), len(in.Labor))
	}
	seen := map[[2]string]int{}
	for i, l := range in.Labor {
		loc := indexed("labor", "")(i)
		okC := checkOneOf(v, loc+".category", l.Category, Categories)
		okK := checkOneOf(v, loc+".service_kind", l.ServiceKind, ServiceKinds)
		tenants.CheckMoney(v, loc+".amount", l.Amount, currency)
		if !okC || !okK {
			continue
		}
		key := [2]string{l.Category, l.ServiceKind}
		if j, dup := seen[key]; dup {
			v.AddMsg(loc, i18n.M("catalog.duplicate_labor_rate", "Index", j, "Category", l.Category, "ServiceKind", l.ServiceKind), l)
			continue
		}
		seen[key] = i
	}
	if in.DefaultVisitFee != nil {
		tenants.CheckMoney(v, "default_visit_fee", *in.DefaultVisitFee, currency)
	}
	cats := map[string]int{}
	for i, f := range in.VisitFees {
		loc := indexed("visit_fees", "")(i)
		ok := checkOneOf(v, loc+".category", f.Category, Categories)
		tenants.CheckMoney(v, loc+".amount", f.Amount, currency)
		if !ok {
			continue
		}
		if j, dup := cats[f.Category]; dup {
			v.AddMsg(loc+".category", i18n.M("catalog.duplicate_visit_fee", "Index", j, "Category", f.Category), f.Category)
			continue
		}
		cats[f.Category] = i
	}
	if len(in.Parts) > MaxPartPrices {
		v.AddMsg("parts", i18n.M("catalog.max_part_prices", "Max", MaxPartPrices), len(in.Parts))
	}
	for i, p := range in.Parts {
		tenants.CheckMoney(v, indexed("parts", ".price")(i), p.Price, currency)
	}
}

type amountRow struct {
	Category    string `json:"category"`
	ServiceKind string `json:"service_kind"`
	PartID      string `json:"part_id"`
	Amount      int64  `json:"amount"`
}

// priceListSelect reads price lists with their rows; $1 is the tenant and
// $2 the tenant's today (for status).
const priceListSelect = `
	SELECT pl.id, pl.version, to_char(pl.effective_from, 'YYYY-MM-DD'),
	       CASE WHEN pl.effective_from > $2::date THEN 'scheduled'
	            WHEN EXISTS (SELECT 1 FROM price_lists o WHERE o.tenant_id = pl.tenant_id
	                         AND o.effective_from > pl.effective_from AND o.effective_from <= $2::date) THEN 'superseded'
	            ELSE 'current' END,
	       pl.currency, pl.default_visit_fee, pl.note, pl.created_at,
	       (SELECT COALESCE(jsonb_agg(jsonb_build_object('category', l.category, 'service_kind', l.service_kind, 'amount', l.amount)
	                                  ORDER BY l.category, l.service_kind), '[]')
	          FROM price_list_labor l WHERE l.tenant_id = pl.tenant_id AND l.price_list_id = pl.id),
	       (SELECT COALESCE(jsonb_agg(jsonb_build_object('category', f.category, 'amount', f.amount) ORDER BY f.category), '[]')
	          FROM price_list_visit_fees f WHERE f.tenant_id = pl.tenant_id AND f.price_list_id = pl.id),
	       (SELECT COALESCE(jsonb_agg(jsonb_build_object('part_id', p.part_id, 'amount', p.price) ORDER BY p.part_id), '[]')
	          FROM price_list_parts p WHERE p.tenant_id = pl.tenant_id AND p.price_list_id = pl.id)
	FROM price_lists pl
	WHERE pl.tenant_id = $1`

func scanPriceList(row pgx.Row) (PriceList, error) {
	var (
		pl                 PriceList
		visit              *int64
		labor, fees, parts []amountRow
	)
	if err := row.Scan(&pl.ID, &pl.Version, &pl.EffectiveFrom, &pl.Status, &pl.Currency, &visit, &pl.Note, &pl.CreatedAt,
		&labor, &fees, &parts); err != nil {
		return PriceList{}, err
	}
	if visit != nil {
		pl.DefaultVisitFee = &tenants.Money{Amount: *visit, Currency: pl.Currency}
	}
	pl.Labor = make([]LaborRate, len(labor))
	for i, l := range labor {
		pl.Labor[i] = LaborRate{Category: l.Category, ServiceKind: l.ServiceKind, Amount: money(l.Amount, pl.Currency)}
	}
	pl.VisitFees = make([]VisitFee, len(fees))
	for i, f := range fees {
		pl.VisitFees[i] = VisitFee{Category: f.Category, Amount: money(f.Amount, pl.Currency)}
	}
	pl.Parts = make([]PartPrice, len(parts))
	for i, p := range parts {
		pl.Parts[i] = PartPrice{PartID: p.PartID, Price: money(p.Amount, pl.Currency)}
	}
	return pl, nil
}

func loadPriceList(ctx context.Context, tx pg.TenantTx, id, today string) (PriceList, error) {
	if !tenants.ValidID(tenants.PrefixPriceList, id) {
		return PriceList{}, tenants.NotFound("price list")
	}
	pl, err := scanPriceList(tx.QueryRow(ctx, priceListSelect+` AND pl.id = $3`, tx.TenantID, today, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return PriceList{}, tenants.NotFound("price list")
	}
	return pl, err
}

// EffectivePriceList returns the price list version in effect on date
// (YYYY-MM-DD): the one with the greatest effective_from on or before it.
// today (the tenant's) only sets the version's status. With no version in
// effect on the date it is not_found.
func EffectivePriceList(ctx context.Context, tx pg.TenantTx, date, today string) (PriceList, error) {
	pl, err := scanPriceList(tx.QueryRow(ctx, priceListSelect+` AND pl.effective_from <= $3::date
		ORDER BY pl.effective_from DESC LIMIT 1`, tx.TenantID, today, date))
	if errors.Is(err, pgx.ErrNoRows) {
		return PriceList{}, tenants.ErrorMsg(tenants.CodeNotFound, i18n.M("catalog.no_price_list_on", "Date", date))
	}
	return pl, err
}

// createPriceList validates and stores the next version with its event.
func createPriceList(ctx context.Context, tx pg.TenantTx, actor string, in NewPriceList, currency, today string) (PriceList, error) {
	v := &tenants.Validation{}
	validatePriceList(v, in, currency, today)
	partIDs := make([]string, len(in.Parts))
	for i, p := range in.Parts {
		partIDs[i] = p.PartID
	}
	if err := checkIDs(ctx, tx, v, indexed("parts", ".part_id"), "parts", tenants.PrefixPart, "part", partIDs); err != nil {
		return PriceList{}, err
	}
	if err := v.Err(); err != nil {
		return PriceList{}, err
	}
	// Versions are numbered in creation order: one creator at a time per tenant.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('price_lists/' || $1, 0))`, tx.TenantID); err != nil {
		return PriceList{}, err
	}
	var taken bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM price_lists WHERE tenant_id = $1 AND effective_from = $2::date)`,
		tx.TenantID, in.EffectiveFrom).Scan(&taken); err != nil {
		return PriceList{}, err
	}
	if taken {
		return PriceList{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("common.conflicts_with_existing")).With(
			tenants.FieldMsg("effective_from", i18n.M("catalog.price_list_date_taken"), in.EffectiveFrom))
	}
	var visit *int64
	if in.DefaultVisitFee != nil {
		visit = &in.DefaultVisitFee.Amount
	}
	id := tenants.NewID(tenants.PrefixPriceList)
	var version int
	if err := tx.QueryRow(ctx, `
		INSERT INTO price_lists (tenant_id, id, version, effective_from, currency, default_visit_fee, note)
		SELECT $1, $2, COALESCE(max(version), 0) + 1, $3::date, $4, $5, $6 FROM price_lists WHERE tenant_id = $1
		RETURNING version`,
		tx.TenantID, id, in.EffectiveFrom, currency, visit, in.Note).Scan(&version); err != nil {
		return PriceList{}, err
	}
	b := &pgx.Batch{}
	for _, l := range in.Labor {
		b.Queue(`INSERT INTO price_list_labor (tenant_id, price_list_id, category, service_kind, amount) VALUES ($1, $2, $3, $4, $5)`,
			tx.TenantID, id, l.Category, l.ServiceKind, l.Amount.Amount)
	}
	for _, f := range in.VisitFees {
		b.Queue(`INSERT INTO price_list_visit_fees (tenant_id, price_list_id, category, amount) VALUES ($1, $2, $3, $4)`,
			tx.TenantID, id, f.Category, f.Amount.Amount)
	}
	for _, p := range in.Parts {
		b.Queue(`INSERT INTO price_list_parts (tenant_id, price_list_id, part_id, price) VALUES ($1, $2, $3, $4)`,
			tx.TenantID, id, p.PartID, p.Price.Amount)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return PriceList{}, err
	}
	if err := events.Append(ctx, tx, events.New{Type: TypePriceListCreated, SubjectID: id, Actor: actor,
		Data: map[string]any{"version": version, "effective_from": in.EffectiveFrom, "labor_rates": len(in.Labor),
			"visit_fees": len(in.VisitFees), "part_prices": len(in.Parts)}}); err != nil {
		return PriceList{}, err
	}
	return loadPriceList(ctx, tx, id, today)
}

// CreatePriceList stores the next price list version (numbered 1, 2, 3 per
// tenant). It takes effect on effective_from, which may not be before today
// in the tenant's time zone nor the date of another version (conflict).
// Versions are immutable: quotes priced with an older version keep it.
func (s *Service) CreatePriceList(ctx context.Context, p tenants.Principal, in NewPriceList) (PriceList, error) {
	now := s.now()
	return inTx(ctx, s, p, func(tx pg.TenantTx) (PriceList, error) {
		st, today, err := tx.Today(ctx, now)
		if err != nil {
			return PriceList{}, err
		}
		return createPriceList(ctx, tx, p.Subject(), in, st.Currency, today)
	})
}

// GetPriceList returns a price list version of the principal's tenant.
func (s *Service) GetPriceList(ctx context.Context, p tenants.Principal, id string) (PriceList, error) {
	now := s.now()
	return inTx(ctx, s, p, func(tx pg.TenantTx) (PriceList, error) {
		_, today, err := tx.Today(ctx, now)
		if err != nil {
			return PriceList{}, err
		}
		return loadPriceList(ctx, tx, id, today)
	})
}

// GetEffectivePriceList returns the version in effect on date (YYYY-MM-DD;
// "" for today in the tenant's time zone); not_found when none is.
func (s *Service) GetEffectivePriceList(ctx context.Context, p tenants.Principal, date string) (PriceList, error) {
	if date != "" && !validDate(date) {
		return PriceList{}, tenants.InvalidMsg("on", i18n.M("common.date"), date)
	}
	now := s.now()
	var out PriceList
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		_, today, err := tx.Today(ctx, now)
		if err != nil {
			return err
		}
		if date == "" {
			date = today
		}
		out, err = EffectivePriceList(ctx, tx, date, today)
		return err
	})
	return out, pg.Translate(err)
}

// ListPriceLists lists price list versions by version number.
func (s *Service) ListPriceLists(ctx context.Context, p tenants.Principal, limit int, cursor string) ([]PriceList, string, error) {
	limit = tenants.PageLimit(limit)
	after := 0
	if cursor != "" {
		key, err := tenants.DecodeCursor("price_lists", cursor)
		if err != nil {
			return nil, "", err
		}
		if after, err = strconv.Atoi(key); err != nil || after < 1 {
			return nil, "", tenants.MalformedCursor(cursor)
		}
	}
	now := s.now()
	var out []PriceList
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		_, today, err := tx.Today(ctx, now)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, priceListSelect+` AND pl.version > $3 ORDER BY pl.version LIMIT $4`, tx.TenantID, today, after, limit+1)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (PriceList, error) { return scanPriceList(r) })
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := tenants.NextPage("price_lists", out, limit, func(pl PriceList) string { return itoa(pl.Version) })
	return out, next, nil
}
