package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Quote line kinds.
const (
	LineLabor = "labor"
	LineVisit = "visit"
	LinePart  = "part"
)

// Limits of a quote.
const (
	MaxQuoteParts    = 50
	MaxPartsQuantity = 100
)

// QuotePart is a part a job needs.
type QuotePart struct {
	PartID   string `json:"part_id" maxLength:"64" doc:"The part; it must fit the model." example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Quantity int    `json:"quantity" minimum:"1" maximum:"100" doc:"How many." example:"1"`
}

// NewQuote is a job to price.
type NewQuote struct {
	ModelID      string      `json:"model_id" maxLength:"64" doc:"The product model worked on." example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	ServiceKind  string      `json:"service_kind" enum:"install,repair,maintenance,carry_in,remote" doc:"Kind of work: prices the labor line." example:"repair"`
	Parts        []QuotePart `json:"parts,omitempty" maxItems:"50" doc:"Parts the job needs; each must fit the model, one entry per part."`
	IncludeVisit bool        `json:"include_visit,omitempty" doc:"Add the visit fee of the model's category (or the default visit fee)." example:"true"`
	On           string      `json:"on,omitempty" format:"date" doc:"The date whose price list version prices the job; default today in the tenant's time zone." example:"2026-12-01"`
}

// QuoteLine is one charge of a quote.
type QuoteLine struct {
	Kind         string        `json:"kind" enum:"labor,visit,part" doc:"labor, visit or part." example:"part"`
	Description  string        `json:"description" doc:"What the charge is for." example:"0021800078A 变频电机 (BLDC)"`
	PartID       string        `json:"part_id,omitempty" doc:"The part, on part lines." example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	PartNumber   string        `json:"part_number,omitempty" doc:"The part's number, on part lines." example:"0021800078A"`
	PartCategory string        `json:"part_category,omitempty" doc:"The part's category, on part lines: key-part warranty terms are by category." example:"motor"`
	Quantity     int           `json:"quantity" doc:"How many; 1 on labor and visit lines." example:"1"`
	UnitAmount   tenants.Money `json:"unit_amount"`
	Amount       tenants.Money `json:"amount"`
}

// Quote is a priced job. It keeps the price list version it was priced with
// and its lines: re-reading it never reprices it.
type Quote struct {
	ID               string        `json:"id" example:"quo_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	ModelID          string        `json:"model_id" example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	ServiceKind      string        `json:"service_kind" enum:"install,repair,maintenance,carry_in,remote" example:"repair"`
	On               string        `json:"on" format:"date" doc:"The date whose price list version priced the job." example:"2026-12-01"`
	IncludeVisit     bool          `json:"include_visit" example:"true"`
	PriceListID      string        `json:"price_list_id" doc:"The price list version that priced the job." example:"prl_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	PriceListVersion int           `json:"price_list_version" example:"1"`
	Lines            []QuoteLine   `json:"lines" doc:"Labor, then the visit, then parts."`
	Total            tenants.Money `json:"total"`
	CreatedAt        time.Time     `json:"created_at" example:"2026-11-20T09:30:00+08:00"`
}

// PriceJob prices in as PriceQuote does without storing it: the quote has
// no ID (an entitlement preview prices work this way).
func PriceJob(ctx context.Context, tx pg.TenantTx, in NewQuote, today string) (Quote, error) {
	m, err := LoadModel(ctx, tx, in.ModelID)
	switch {
	case tenants.ErrorCode(err) == tenants.CodeNotFound:
		v := &tenants.Validation{}
		v.AddMsg("model_id", i18n.M("common.no_such_product_model"), in.ModelID)
		checkJob(v, in)
		return Quote{}, v.Err()
	case err != nil:
		return Quote{}, err
	}
	return PriceJobFor(ctx, tx, m, in, today)
}

// checkJob validates a job's own fields.
func checkJob(v *tenants.Validation, in NewQuote) {
	checkOneOf(v, "service_kind", in.ServiceKind, ServiceKinds)
	if in.On != "" && !validDate(in.On) {
		v.AddMsg("on", i18n.M("common.date"), in.On)
	}
	if len(in.Parts) > MaxQuoteParts {
		v.AddMsg("parts", i18n.M("catalog.max_quote_parts", "Max", MaxQuoteParts), len(in.Parts))
	}
	for i, p := range in.Parts {
		if p.Quantity < 1 || p.Quantity > MaxPartsQuantity {
			v.AddMsg(indexed("parts", ".quantity")(i), i18n.M("common.range", "Max", MaxPartsQuantity, "Min", 1), p.Quantity)
		}
	}
}

// jobRates are what the price list version in effect on a date charges for
// one job: the labor rate of the model's category and the service kind, the
// visit fee (the category's, else the default) and overrides of the job's
// parts. A nil rate is one the version does not have.
type jobRates struct {
	id       string
	version  int
	currency string
	labor    *int64
	visit    *int64
	parts    map[string]int64
}

// loadJobRates reads only the rates a job needs, in one query: from the
// version listID, else from the version in effect on the date on.
func loadJobRates(ctx context.Context, tx pg.TenantTx, on, listID, category, serviceKind string, partIDs []string) (jobRates, error) {
	var r jobRates
	err := tx.QueryRow(ctx, `
		SELECT pl.id, pl.version, pl.currency,
		       (SELECT l.amount FROM price_list_labor l WHERE l.tenant_id = pl.tenant_id AND l.price_list_id = pl.id
		          AND l.category = $3 AND l.service_kind = $4),
		       coalesce((SELECT f.amount FROM price_list_visit_fees f WHERE f.tenant_id = pl.tenant_id AND f.price_list_id = pl.id
		          AND f.category = $3), pl.default_visit_fee),
		       (SELECT coalesce(jsonb_object_agg(p.part_id, p.price), '{}') FROM price_list_parts p
		          WHERE p.tenant_id = pl.tenant_id AND p.price_list_id = pl.id AND p.part_id = ANY($5::text[]))
		FROM price_lists pl
		WHERE pl.tenant_id = $1 AND CASE WHEN $6::text = '' THEN pl.effective_from <= $2::date ELSE pl.id = $6 END
		ORDER BY pl.effective_from DESC LIMIT 1`, tx.TenantID, on, category, serviceKind, partIDs, listID).
		Scan(&r.id, &r.version, &r.currency, &r.labor, &r.visit, &r.parts)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, errNoPriceList
	}
	return r, err
}

// errNoPriceList is loadJobRates' answer when no price list version is in
// effect on the date.
var errNoPriceList = errors.New("catalog: no price list version in effect")

// PriceJobFor prices in for the product model m (already loaded by the
// caller) without storing it.
func PriceJobFor(ctx context.Context, tx pg.TenantTx, m ProductModel, in NewQuote, today string) (Quote, error) {
	return priceJobFor(ctx, tx, m, in, today, "")
}

// priceJobFor prices in for the model m with the price list version
// listID, or ("") the version in effect on in.On.
func priceJobFor(ctx context.Context, tx pg.TenantTx, m ProductModel, in NewQuote, today, listID string) (Quote, error) {
	v := &tenants.Validation{}
	checkJob(v, in)
	on := in.On
	if on == "" {
		on = today
	}
	partIDs := make([]string, len(in.Parts))
	for i, p := range in.Parts {
		partIDs[i] = p.PartID
	}
	if err := checkIDs(ctx, tx, v, indexed("parts", ".part_id"), "parts", tenants.PrefixPart, "part", partIDs); err != nil {
		return Quote{}, err
	}
	if err := v.Err(); err != nil {
		return Quote{}, err
	}
	rates, err := loadJobRates(ctx, tx, on, listID, m.Category, in.ServiceKind, partIDs)
	switch {
	case errors.Is(err, errNoPriceList) && in.On != "":
		return Quote{}, tenants.InvalidMsg("on", i18n.M("catalog.no_price_list_version_on", "Date", on), on)
	case errors.Is(err, errNoPriceList):
		// Priced today, as a ticket's diagnosis or report is: no field
		// of the request is wrong, the brand has no price list in effect.
		return Quote{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("catalog.no_price_list_version_on", "Date", on))
	case err != nil:
		return Quote{}, err
	}
	cur := rates.currency
	q := Quote{ModelID: m.ID, ServiceKind: in.ServiceKind, On: on, IncludeVisit: in.IncludeVisit, PriceListID: rates.id,
		PriceListVersion: rates.version, Lines: []QuoteLine{}}
	add := func(kind, desc, partID string, qty int, unit int64) {
		q.Lines = append(q.Lines, QuoteLine{Kind: kind, Description: desc, PartID: partID, Quantity: qty,
			UnitAmount: money(unit, cur), Amount: money(unit*int64(qty), cur)})
		q.Total.Amount += unit * int64(qty)
	}
	if rates.labor == nil {
		v.AddMsg("service_kind", i18n.M("catalog.no_labor_rate", "Version", rates.version, "Category", m.Category, "ServiceKind", in.ServiceKind), in.ServiceKind)
	} else {
		add(LineLabor, fmt.Sprintf("%s labor: %s", in.ServiceKind, m.Category), "", 1, *rates.labor)
	}
	if in.IncludeVisit {
		if rates.visit == nil {
			v.AddMsg("include_visit", i18n.M("catalog.no_visit_fee", "Version", rates.version, "Category", m.Category), in.IncludeVisit)
		} else {
			add(LineVisit, "visit fee: "+m.Category, "", 1, *rates.visit)
		}
	}
	for i, qp := range in.Parts {
		part, err := loadPart(ctx, tx, qp.PartID, "")
		if err != nil {
			return Quote{}, err
		}
		ok, err := compatible(ctx, tx, part.ID, m.ID)
		if err != nil {
			return Quote{}, err
		}
		if !ok {
			v.AddMsg(indexed("parts", ".part_id")(i), i18n.M("common.part_does_not_fit_model", "Part", part.PartNumber, "Model", m.ModelNumber), qp.PartID)
			continue
		}
		price, over := rates.parts[part.ID]
		if !over {
			price = part.Price.Amount
		}
		add(LinePart, part.PartNumber+" "+part.Name, part.ID, qp.Quantity, price)
		q.Lines[len(q.Lines)-1].PartNumber, q.Lines[len(q.Lines)-1].PartCategory = part.PartNumber, part.Category
	}
	if err := v.Err(); err != nil {
		return Quote{}, err
	}
	q.Total.Currency = cur
	return q, nil
}

// PriceQuote validates in, prices it with the price list version in effect
// on in.On (default today, the tenant's date), and stores the quote in tx.
// Problems are invalid errors naming body.* fields: an unknown model, a part
// that does not fit the model, a job the version has no labor rate (or
// asked-for visit fee) for, or a date no version is in effect on.
func PriceQuote(ctx context.Context, tx pg.TenantTx, in NewQuote, today string) (Quote, error) {
	q, err := PriceJob(ctx, tx, in, today)
	if err != nil {
		return Quote{}, err
	}
	return storeQuote(ctx, tx, q)
}

// Requote prices the job of the stored quote q again with other parts and
// stores it as a new quote, in tx: the same model, service kind, visit,
// date and price list version as q (a version published since, even one
// taking effect on q's date, does not reprice what the customer was shown),
// and parts instead of q's. A part q lists keeps the unit amount q priced
// it at, the price shown to the customer, though the catalog's price
// changed since; a part q does not list is priced by q's version (its
// override, else the part's catalog price now). Problems are PriceQuote's.
func Requote(ctx context.Context, tx pg.TenantTx, q Quote, parts []QuotePart, today string) (Quote, error) {
	m, err := LoadModel(ctx, tx, q.ModelID)
	if err != nil {
		return Quote{}, err
	}
	nq, err := priceJobFor(ctx, tx, m, NewQuote{ModelID: q.ModelID, ServiceKind: q.ServiceKind, Parts: parts,
		IncludeVisit: q.IncludeVisit, On: q.On}, today, q.PriceListID)
	if err != nil {
		return Quote{}, err
	}
	shown := map[string]tenants.Money{}
	for _, l := range q.Lines {
		if _, ok := shown[l.PartID]; l.Kind == LinePart && !ok {
			shown[l.PartID] = l.UnitAmount
		}
	}
	nq.Total.Amount = 0
	for i, l := range nq.Lines {
		if u, ok := shown[l.PartID]; ok && l.Kind == LinePart {
			nq.Lines[i].UnitAmount, nq.Lines[i].Amount = u, money(u.Amount*int64(l.Quantity), u.Currency)
		}
		nq.Total.Amount += nq.Lines[i].Amount.Amount
	}
	return storeQuote(ctx, tx, nq)
}

// storeQuote stores the priced quote q under a new id.
func storeQuote(ctx context.Context, tx pg.TenantTx, q Quote) (Quote, error) {
	q.ID = tenants.NewID(tenants.PrefixQuote)
	if err := tx.QueryRow(ctx, `
		INSERT INTO quotes (tenant_id, id, model_id, service_kind, priced_on, include_visit, price_list_id, price_list_version,
		       lines, total, currency)
		VALUES ($1, $2, $3, $4, $5::date, $6, $7, $8, $9, $10, $11)
		RETURNING created_at`,
		tx.TenantID, q.ID, q.ModelID, q.ServiceKind, q.On, q.IncludeVisit, q.PriceListID, q.PriceListVersion, q.Lines,
		q.Total.Amount, q.Total.Currency).Scan(&q.CreatedAt); err != nil {
		return Quote{}, err
	}
	return q, nil
}

// LoadQuote reads a quote of tx's tenant as it was priced; an unknown or
// malformed id is not_found.
func LoadQuote(ctx context.Context, tx pg.TenantTx, id string) (Quote, error) {
	if !tenants.ValidID(tenants.PrefixQuote, id) {
		return Quote{}, tenants.NotFound("quote")
	}
	var q Quote
	err := tx.QueryRow(ctx, `
		SELECT id, model_id, service_kind, to_char(priced_on, 'YYYY-MM-DD'), include_visit, price_list_id, price_list_version,
		       lines, total, currency, created_at
		FROM quotes WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).
		Scan(&q.ID, &q.ModelID, &q.ServiceKind, &q.On, &q.IncludeVisit, &q.PriceListID, &q.PriceListVersion,
			&q.Lines, &q.Total.Amount, &q.Total.Currency, &q.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Quote{}, tenants.NotFound("quote")
	}
	return q, err
}

// CreateQuote prices and stores a job (see PriceQuote).
func (s *Service) CreateQuote(ctx context.Context, p tenants.Principal, in NewQuote) (Quote, error) {
	now := s.now()
	return inTx(ctx, s, p, func(tx pg.TenantTx) (Quote, error) {
		_, today, err := tx.Today(ctx, now)
		if err != nil {
			return Quote{}, err
		}
		return PriceQuote(ctx, tx, in, today)
	})
}

// GetQuote returns a quote of the principal's tenant as it was priced.
func (s *Service) GetQuote(ctx context.Context, p tenants.Principal, id string) (Quote, error) {
	return inTx(ctx, s, p, func(tx pg.TenantTx) (Quote, error) { return LoadQuote(ctx, tx, id) })
}
