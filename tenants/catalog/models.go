package catalog

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// MaxWarrantyMonths bounds whole-unit and key-part warranty terms (20 years).
const MaxWarrantyMonths = 240

// KeyPartTerm is a key part's own warranty term, longer than the whole
// unit's: a refrigerator's compressor, a washer's motor.
type KeyPartTerm struct {
	PartCategory   string `json:"part_category" minLength:"1" maxLength:"64" pattern:"^[a-z][a-z0-9_]*$" doc:"The part category the term covers, as parts are categorised." example:"compressor"`
	WarrantyMonths int    `json:"warranty_months" minimum:"1" maximum:"240" doc:"Months from purchase the key part is covered." example:"120"`
}

// WarrantyPromotion is a longer whole-unit warranty the brand gives the
// units of a model bought within a window of dates: Midea's 3月1日-5月3日
// 期间…给予非家电下乡洗衣机"三年免费保修" (seed 003). The purchase date
// decides, both ends of the window included; the term counts from the
// purchase date like the model's own and replaces it when longer.
type WarrantyPromotion struct {
	Name             string `json:"name" minLength:"1" maxLength:"200" doc:"The promotion's name, as the trace of a decision shows it." example:"洗衣机三年免费保修"`
	PurchasedFrom    string `json:"purchased_from" format:"date" doc:"First purchase date the promotion covers." example:"2027-03-01"`
	PurchasedThrough string `json:"purchased_through" format:"date" doc:"Last purchase date the promotion covers (included)." example:"2027-05-03"`
	WarrantyMonths   int    `json:"warranty_months" minimum:"1" maximum:"240" doc:"Whole-unit warranty, in months from purchase, of a unit bought within the window; longer than the model's warranty_months." example:"36"`
}

// ProductModel is a model the brand sells.
type ProductModel struct {
	ID             string        `json:"id" example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	ModelNumber    string        `json:"model_number" doc:"The brand's model number; unique per tenant." example:"EG100MATE2S"`
	Category       string        `json:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Product category." example:"washer"`
	Name           string        `json:"name" example:"10kg 滚筒洗衣机 Mate2S"`
	RetailPrice    tenants.Money `json:"retail_price"`
	WarrantyMonths int           `json:"warranty_months" doc:"Whole-unit manufacturer warranty, in months from purchase." example:"36"`
	KeyParts       []KeyPartTerm `json:"key_parts" doc:"Longer warranty terms for key parts, by part category."`
	// WarrantyPromotions lengthen the whole-unit warranty of the units
	// bought within their windows.
	WarrantyPromotions []WarrantyPromotion `json:"warranty_promotions" doc:"Longer whole-unit warranties for the units bought within a window of purchase dates (a promotion: washers bought 1 March to 3 May get three years). A unit bought within a window has the longest term whose window holds its purchase date: entitlement decisions, claims and the start of an extended warranty count from it."`
	Discontinued       bool                `json:"discontinued" doc:"No longer sold: a swap gives a similar model instead." example:"false"`
	Specs              Specs               `json:"specs" doc:"Specification attributes a similar replacement should match." example:"{\"capacity_kg\":\"10\",\"type\":\"front_load\"}"`
	Version            int                 `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"2"`
	CreatedAt          time.Time           `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt          time.Time           `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// Specs are specification attributes, name to value: {"capacity_kg": "10"}.
type Specs map[string]string

// NewProductModel is a product model to create.
type NewProductModel struct {
	ModelNumber        string              `json:"model_number" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9./_+-]*$" doc:"The brand's model number; unique per tenant." example:"EG100MATE2S"`
	Category           string              `json:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Product category." example:"washer"`
	Name               string              `json:"name" minLength:"1" maxLength:"200" example:"10kg 滚筒洗衣机 Mate2S"`
	RetailPrice        tenants.Money       `json:"retail_price"`
	WarrantyMonths     int                 `json:"warranty_months" minimum:"0" maximum:"240" doc:"Whole-unit warranty in months from purchase." example:"36"`
	KeyParts           []KeyPartTerm       `json:"key_parts,omitempty" maxItems:"20" doc:"Longer terms for key parts; one per part category, each longer than the whole unit's."`
	WarrantyPromotions []WarrantyPromotion `json:"warranty_promotions,omitempty" maxItems:"20" doc:"Longer whole-unit warranties for the units bought within a window of purchase dates, each longer than warranty_months. A change applies to every decision after it, units bought before it included: the promotion is the brand's promise for the window's purchases."`
	Discontinued       bool                `json:"discontinued,omitempty" doc:"No longer sold." example:"false"`
	Specs              Specs               `json:"specs,omitempty" maxProperties:"30" doc:"Specification attributes (lowercase names, 1-100 character values) a similar replacement should match." example:"{\"capacity_kg\":\"10\",\"type\":\"front_load\"}"`
}

// ProductModelUpdate changes some of a model's attributes; absent fields
// stay, key_parts, warranty_promotions and specs are replaced whole.
type ProductModelUpdate struct {
	ModelNumber        *string              `json:"model_number,omitempty" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9./_+-]*$" doc:"New model number; unique per tenant." example:"EG100MATE2S"`
	Category           *string              `json:"category,omitempty" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"New product category." example:"washer"`
	Name               *string              `json:"name,omitempty" minLength:"1" maxLength:"200" example:"10kg 滚筒洗衣机 Mate2S"`
	RetailPrice        *tenants.Money       `json:"retail_price,omitempty"`
	WarrantyMonths     *int                 `json:"warranty_months,omitempty" minimum:"0" maximum:"240" doc:"New whole-unit warranty in months." example:"36"`
	KeyParts           *[]KeyPartTerm       `json:"key_parts,omitempty" maxItems:"20" doc:"Replaces all key-part terms."`
	WarrantyPromotions *[]WarrantyPromotion `json:"warranty_promotions,omitempty" maxItems:"20" doc:"Replaces all warranty promotions."`
	Discontinued       *bool                `json:"discontinued,omitempty" doc:"true when the model is no longer sold." example:"true"`
	Specs              *Specs               `json:"specs,omitempty" maxProperties:"30" doc:"Replaces all specification attributes." example:"{\"capacity_kg\":\"10\",\"type\":\"front_load\"}"`
}

// ProductModelFilter selects product models; empty fields do not filter.
type ProductModelFilter struct {
	Category     string
	Discontinued *bool
	ModelNumber  string
	Limit        int
	Cursor       string
}

// SimilarModel is a candidate replacement for a model, with how many of the
// original's specification attributes it matches.
type SimilarModel struct {
	ProductModel
	MatchingSpecs int `json:"matching_specs" doc:"How many of the original model's specification attributes this model has with the same value." example:"2"`
}

// KeyPartMonths returns the warranty months of the key part category, or
// the whole unit's when the category has no longer term.
func (m ProductModel) KeyPartMonths(partCategory string) int {
	for _, k := range m.KeyParts {
		if k.PartCategory == partCategory {
			return k.WarrantyMonths
		}
	}
	return m.WarrantyMonths
}

// WholeUnitWarranty is the whole-unit warranty, in months from purchase, of
// a unit of the model bought on purchase (YYYY-MM-DD): the longest of the
// model's own term and the promotions whose windows hold the date, and the
// promotion that gave it (nil: the model's own).
func (m ProductModel) WholeUnitWarranty(purchase string) (int, *WarrantyPromotion) {
	months, by := m.WarrantyMonths, (*WarrantyPromotion)(nil)
	for i, p := range m.WarrantyPromotions {
		if p.PurchasedFrom <= purchase && purchase <= p.PurchasedThrough && p.WarrantyMonths > months {
			months, by = p.WarrantyMonths, &m.WarrantyPromotions[i]
		}
	}
	return months, by
}

// validateModel checks a model's attributes against the tenant's currency.
func validateModel(v *tenants.Validation, in NewProductModel, currency string) {
	if !catalogNumber.MatchString(in.ModelNumber) {
		v.AddMsg("model_number", i18n.M("catalog.model_number_format"), in.ModelNumber)
	}
	checkOneOf(v, "category", in.Category, Categories)
	checkName(v, "name", in.Name)
	tenants.CheckMoney(v, "retail_price", in.RetailPrice, currency)
	if in.WarrantyMonths < 0 || in.WarrantyMonths > MaxWarrantyMonths {
		v.AddMsg("warranty_months", i18n.M("common.range", "Min", 0, "Max", 240), in.WarrantyMonths)
	}
	if len(in.KeyParts) > 20 {
		v.AddMsg("key_parts", i18n.M("catalog.max_key_part_terms", "Max", 20), len(in.KeyParts))
	}
	seen := map[string]bool{}
	for i, k := range in.KeyParts {
		loc := indexed("key_parts", "")(i)
		switch {
		case !slug.MatchString(k.PartCategory):
			v.AddMsg(loc+".part_category", i18n.M("catalog.part_category_format"), k.PartCategory)
		case seen[k.PartCategory]:
			v.AddMsg(loc+".part_category", i18n.M("catalog.duplicate_key_part_term"), k.PartCategory)
		}
		seen[k.PartCategory] = true
		switch {
		case k.WarrantyMonths < 1 || k.WarrantyMonths > MaxWarrantyMonths:
			v.AddMsg(loc+".warranty_months", i18n.M("common.range", "Min", 1, "Max", 240), k.WarrantyMonths)
		case k.WarrantyMonths <= in.WarrantyMonths:
			v.AddMsg(loc+".warranty_months", i18n.M("catalog.key_part_term_too_short", "Months", in.WarrantyMonths), k.WarrantyMonths)
		}
	}
	checkWarrantyPromotions(v, in.WarrantyPromotions, in.WarrantyMonths)
	checkSpecs(v, "specs", in.Specs)
}

// checkWarrantyPromotions checks a model's promotions: a name, a window of
// valid dates in order, and a term longer than the model's own.
func checkWarrantyPromotions(v *tenants.Validation, ps []WarrantyPromotion, months int) {
	if len(ps) > 20 {
		v.AddMsg("warranty_promotions", i18n.M("catalog.max_warranty_promotions", "Max", 20), len(ps))
	}
	for i, p := range ps {
		loc := indexed("warranty_promotions", "")(i)
		checkName(v, loc+".name", p.Name)
		from, through := validDate(p.PurchasedFrom), validDate(p.PurchasedThrough)
		if !from {
			v.AddMsg(loc+".purchased_from", i18n.M("common.date"), p.PurchasedFrom)
		}
		switch {
		case !through:
			v.AddMsg(loc+".purchased_through", i18n.M("common.date"), p.PurchasedThrough)
		case from && p.PurchasedThrough < p.PurchasedFrom:
			v.AddMsg(loc+".purchased_through", i18n.M("catalog.promotion_ends_before_start", "From", p.PurchasedFrom), p.PurchasedThrough)
		}
		switch {
		case p.WarrantyMonths < 1 || p.WarrantyMonths > MaxWarrantyMonths:
			v.AddMsg(loc+".warranty_months", i18n.M("common.range", "Min", 1, "Max", 240), p.WarrantyMonths)
		case p.WarrantyMonths <= months:
			v.AddMsg(loc+".warranty_months", i18n.M("catalog.promotion_term_too_short", "Months", months), p.WarrantyMonths)
		}
	}
}

func checkSpecs(v *tenants.Validation, loc string, s Specs) {
	if len(s) > 30 {
		v.AddMsg(loc, i18n.M("catalog.max_attributes", "Max", 30), len(s))
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slug.MatchString(k) {
			v.AddMsg(loc+"."+k, i18n.M("catalog.attribute_name_format"), k)
			continue
		}
		if n := len([]rune(strings.TrimSpace(s[k]))); n < 1 || n > 100 {
			v.AddMsg(loc+"."+k, i18n.M("common.length", "Min", 1, "Max", 100), s[k])
		}
	}
}

const modelColumns = `m.id, m.model_number, m.category, m.name, m.retail_price, m.currency, m.warranty_months,
	m.key_part_warranty_months, m.discontinued, m.specs, m.version, m.created_at, m.updated_at, m.warranty_promotions`

func scanModel(row pgx.Row, extra ...any) (ProductModel, error) {
	var (
		m        ProductModel
		keyParts map[string]int
	)
	dest := append([]any{&m.ID, &m.ModelNumber, &m.Category, &m.Name, &m.RetailPrice.Amount, &m.RetailPrice.Currency,
		&m.WarrantyMonths, &keyParts, &m.Discontinued, &m.Specs, &m.Version, &m.CreatedAt, &m.UpdatedAt, &m.WarrantyPromotions}, extra...)
	if err := row.Scan(dest...); err != nil {
		return ProductModel{}, err
	}
	m.KeyParts = keyPartList(keyParts)
	if m.Specs == nil {
		m.Specs = Specs{}
	}
	if m.WarrantyPromotions == nil {
		m.WarrantyPromotions = []WarrantyPromotion{}
	}
	return m, nil
}

func keyPartList(m map[string]int) []KeyPartTerm {
	out := make([]KeyPartTerm, 0, len(m))
	for c, months := range m {
		out = append(out, KeyPartTerm{PartCategory: c, WarrantyMonths: months})
	}
	slices.SortFunc(out, func(a, b KeyPartTerm) int { return strings.Compare(a.PartCategory, b.PartCategory) })
	return out
}

func keyPartMap(ks []KeyPartTerm) map[string]int {
	m := make(map[string]int, len(ks))
	for _, k := range ks {
		m[k.PartCategory] = k.WarrantyMonths
	}
	return m
}

func promotionsOrEmpty(ps []WarrantyPromotion) []WarrantyPromotion {
	if ps == nil {
		return []WarrantyPromotion{}
	}
	return ps
}

func specsOrEmpty(s Specs) Specs {
	if s == nil {
		return Specs{}
	}
	return s
}

// LoadModel reads a product model of tx's tenant; an unknown or malformed id
// is not_found.
func LoadModel(ctx context.Context, tx pg.TenantTx, id string) (ProductModel, error) {
	return loadModel(ctx, tx, id, "")
}

func loadModel(ctx context.Context, tx pg.TenantTx, id, lock string) (ProductModel, error) {
	if !tenants.ValidID(tenants.PrefixProductModel, id) {
		return ProductModel{}, tenants.NotFound("product model")
	}
	m, err := scanModel(tx.QueryRow(ctx, `SELECT `+modelColumns+` FROM product_models m WHERE m.tenant_id = $1 AND m.id = $2 `+lock,
		tx.TenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return ProductModel{}, tenants.NotFound("product model")
	}
	return m, err
}

// createModel validates and inserts a model with its created event.
func createModel(ctx context.Context, tx pg.TenantTx, actor string, in NewProductModel, currency string) (ProductModel, error) {
	v := &tenants.Validation{}
	validateModel(v, in, currency)
	if err := v.Err(); err != nil {
		return ProductModel{}, err
	}
	out, err := scanModel(tx.QueryRow(ctx, `
		INSERT INTO product_models AS m (tenant_id, id, model_number, category, name, retail_price, currency, warranty_months,
		       key_part_warranty_months, discontinued, specs, warranty_promotions)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		RETURNING `+modelColumns,
		tx.TenantID, tenants.NewID(tenants.PrefixProductModel), in.ModelNumber, in.Category, strings.TrimSpace(in.Name),
		in.RetailPrice.Amount, in.RetailPrice.Currency, in.WarrantyMonths, keyPartMap(in.KeyParts), in.Discontinued,
		specsOrEmpty(in.Specs), promotionsOrEmpty(in.WarrantyPromotions)))
	if err != nil {
		return ProductModel{}, err
	}
	return out, events.Append(ctx, tx, events.New{Type: TypeProductModelCreated, SubjectID: out.ID, Actor: actor,
		Data: map[string]any{"model_number": out.ModelNumber, "category": out.Category, "retail_price": out.RetailPrice,
			"discontinued": out.Discontinued}})
}

// CreateProductModel adds a product model. The retail price is in the
// tenant's currency; model numbers are unique per tenant (conflict).
func (s *Service) CreateProductModel(ctx context.Context, p tenants.Principal, in NewProductModel) (ProductModel, error) {
	return inTx(ctx, s, p, func(tx pg.TenantTx) (ProductModel, error) {
		st, err := tx.Settings(ctx)
		if err != nil {
			return ProductModel{}, err
		}
		return createModel(ctx, tx, p.Subject(), in, st.Currency)
	})
}

// GetProductModel returns a product model of the principal's tenant.
func (s *Service) GetProductModel(ctx context.Context, p tenants.Principal, id string) (ProductModel, error) {
	return inTx(ctx, s, p, func(tx pg.TenantTx) (ProductModel, error) { return LoadModel(ctx, tx, id) })
}

// ListProductModels lists product models in id (creation) order.
func (s *Service) ListProductModels(ctx context.Context, p tenants.Principal, f ProductModelFilter) ([]ProductModel, string, error) {
	v := &tenants.Validation{}
	if f.Category != "" {
		checkOneOf(v, "category", f.Category, Categories)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	f.Limit = tenants.PageLimit(f.Limit)
	after, err := tenants.PageAfter("product_models", f.Cursor)
	if err != nil {
		return nil, "", err
	}
	out, err := pg.QueryRows(ctx, s.DB, p.TenantID, func(r pgx.CollectableRow) (ProductModel, error) { return scanModel(r) }, `
			SELECT `+modelColumns+` FROM product_models m
			WHERE m.tenant_id = $1 AND m.id > $2
			  AND ($3 = '' OR m.category = $3)
			  AND ($4::bool IS NULL OR m.discontinued = $4)
			  AND ($5 = '' OR m.model_number = $5)
			ORDER BY m.id LIMIT $6`,
		after, f.Category, f.Discontinued, f.ModelNumber, f.Limit+1)
	if err != nil {
		return nil, "", err
	}
	out, next := tenants.NextPage("product_models", out, f.Limit, func(m ProductModel) string { return m.ID })
	return out, next, nil
}

// UpdateProductModel applies u to a product model; ifVersion > 0 must match
// its version. A retail price change affects future swaps and similar-model
// searches, not quotes already made.
func (s *Service) UpdateProductModel(ctx context.Context, p tenants.Principal, id string, u ProductModelUpdate, ifVersion int) (ProductModel, error) {
	var out ProductModel
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		m, err := loadModel(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := tenants.CheckVersion("product model", ifVersion, m.Version); err != nil {
			return err
		}
		f := NewProductModel{ModelNumber: m.ModelNumber, Category: m.Category, Name: m.Name, RetailPrice: m.RetailPrice,
			WarrantyMonths: m.WarrantyMonths, KeyParts: m.KeyParts, Discontinued: m.Discontinued, Specs: m.Specs,
			WarrantyPromotions: m.WarrantyPromotions}
		var changed tenants.Changes
		set := changed.Set
		set("model_number", u.ModelNumber != nil && *u.ModelNumber != m.ModelNumber, func() { f.ModelNumber = *u.ModelNumber })
		set("category", u.Category != nil && *u.Category != m.Category, func() { f.Category = *u.Category })
		set("name", u.Name != nil && *u.Name != m.Name, func() { f.Name = *u.Name })
		set("retail_price", u.RetailPrice != nil && *u.RetailPrice != m.RetailPrice, func() { f.RetailPrice = *u.RetailPrice })
		set("warranty_months", u.WarrantyMonths != nil && *u.WarrantyMonths != m.WarrantyMonths, func() { f.WarrantyMonths = *u.WarrantyMonths })
		set("key_parts", tenants.Differs(u.KeyParts, f.KeyParts), func() { f.KeyParts = *u.KeyParts })
		set("warranty_promotions", tenants.Differs(u.WarrantyPromotions, f.WarrantyPromotions), func() { f.WarrantyPromotions = *u.WarrantyPromotions })
		set("discontinued", u.Discontinued != nil && *u.Discontinued != m.Discontinued, func() { f.Discontinued = *u.Discontinued })
		set("specs", tenants.Differs(u.Specs, f.Specs), func() { f.Specs = *u.Specs })
		v := &tenants.Validation{}
		validateModel(v, f, st.Currency)
		if err := v.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			out = m
			return nil
		}
		out, err = scanModel(tx.QueryRow(ctx, `
			UPDATE product_models AS m SET model_number = $3, category = $4, name = $5, retail_price = $6, currency = $7,
			       warranty_months = $8, key_part_warranty_months = $9, discontinued = $10, specs = $11,
			       warranty_promotions = $12, version = version + 1, updated_at = now()
			WHERE m.tenant_id = $1 AND m.id = $2
			RETURNING `+modelColumns,
			tx.TenantID, m.ID, f.ModelNumber, f.Category, strings.TrimSpace(f.Name), f.RetailPrice.Amount, f.RetailPrice.Currency,
			f.WarrantyMonths, keyPartMap(f.KeyParts), f.Discontinued, specsOrEmpty(f.Specs), promotionsOrEmpty(f.WarrantyPromotions)))
		if err != nil {
			return err
		}
		data := map[string]any{"changed": changed, "version": out.Version}
		if out.RetailPrice != m.RetailPrice {
			data["from_retail_price"], data["to_retail_price"] = m.RetailPrice, out.RetailPrice
		}
		if out.Discontinued != m.Discontinued {
			data["discontinued"] = out.Discontinued
		}
		return events.Append(ctx, tx, events.New{Type: TypeProductModelUpdated, SubjectID: m.ID, Actor: p.Subject(), Data: data})
	})
	return out, pg.Translate(err)
}

// SimilarModels returns up to limit models a swap may give instead of the
// model modelID (typically a discontinued one): of the same category, not
// discontinued, priced no higher than maxPrice (rule 6: the original's
// purchase price), and matching at least one of its specification
// attributes when it has any; best first (most matching attributes, then
// highest price). An unknown model is not_found.
func SimilarModels(ctx context.Context, tx pg.TenantTx, modelID string, maxPrice int64, limit int) ([]ProductModel, error) {
	sims, err := similarModels(ctx, tx, modelID, &maxPrice, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ProductModel, len(sims))
	for i, s := range sims {
		out[i] = s.ProductModel
	}
	return out, nil
}

func similarModels(ctx context.Context, tx pg.TenantTx, modelID string, maxPrice *int64, limit int) ([]SimilarModel, error) {
	m, err := LoadModel(ctx, tx, modelID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = tenants.DefaultPageLimit
	}
	ceiling := m.RetailPrice.Amount
	if maxPrice != nil {
		ceiling = *maxPrice
	}
	rows, err := tx.Query(ctx, `
		SELECT `+modelColumns+`, s.matches
		FROM product_models m,
		     LATERAL (SELECT count(*)::int AS matches FROM jsonb_each_text(m.specs) e WHERE $5::jsonb ->> e.key = e.value) s
		WHERE m.tenant_id = $1 AND m.category = $2 AND m.id <> $3 AND NOT m.discontinued AND m.retail_price <= $4
		  AND ($5::jsonb = '{}'::jsonb OR s.matches > 0)
		ORDER BY s.matches DESC, m.retail_price DESC, m.id
		LIMIT $6`,
		tx.TenantID, m.Category, m.ID, ceiling, specsOrEmpty(m.Specs), limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SimilarModel, error) {
		var sm SimilarModel
		var err error
		sm.ProductModel, err = scanModel(r, &sm.MatchingSpecs)
		return sm, err
	})
}

// ListSimilarModels is SimilarModels over HTTP: maxPrice, when set, replaces
// the model's retail price as the ceiling (minor units).
func (s *Service) ListSimilarModels(ctx context.Context, p tenants.Principal, id string, maxPrice *int64, limit int) ([]SimilarModel, error) {
	if maxPrice != nil && *maxPrice < 0 {
		return nil, tenants.InvalidMsg("max_price", i18n.M("common.must_not_be_negative"), *maxPrice)
	}
	return inTx(ctx, s, p, func(tx pg.TenantTx) ([]SimilarModel, error) { return similarModels(ctx, tx, id, maxPrice, limit) })
}

// QueueUnitModel queues, on b, the read of the product model of unit unitID
// of tenantID into m (not_found when the unit or model is absent), so a
// caller can read it in the same round trip as the unit. The unit's model
// is what tenants/customers exports of it (the unit_models view, 043).
func QueueUnitModel(b *pgx.Batch, tenantID, unitID string, m *ProductModel) {
	b.Queue(`SELECT `+modelColumns+` FROM product_models m
		WHERE m.tenant_id = $1 AND m.id = (SELECT um.model_id FROM unit_models um WHERE um.tenant_id = $1 AND um.unit_id = $2)`,
		tenantID, unitID).QueryRow(func(row pgx.Row) error {
		var err error
		if *m, err = scanModel(row); errors.Is(err, pgx.ErrNoRows) {
			return tenants.NotFound("product model")
		}
		return err
	})
}

// QueueModel queues the read of a product model of the tenant into b;
// found reports whether it exists (a malformed id is simply not found).
func QueueModel(b *pgx.Batch, tenantID, id string, m *ProductModel, found *bool) {
	b.Queue(`SELECT `+modelColumns+` FROM product_models m WHERE m.tenant_id = $1 AND m.id = $2`, tenantID, id).
		QueryRow(func(row pgx.Row) error {
			var err error
			*m, err = scanModel(row)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			*found = err == nil
			return err
		})
}
