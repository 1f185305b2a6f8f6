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
)

// MaxCompatibleModels bounds a part's compatible models.
const MaxCompatibleModels = 500

// Part is a spare part and the models it fits.
type Part struct {
	ID                 string        `json:"id" example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	PartNumber         string        `json:"part_number" doc:"The brand's part number; unique per tenant." example:"0021800078A"`
	Name               string        `json:"name" example:"变频电机 (BLDC)"`
	Category           string        `json:"category" doc:"Part category; key-part warranty terms of models are keyed by it." example:"motor"`
	Price              tenants.Money `json:"price"`
	CompatibleModelIDs []string      `json:"compatible_model_ids" doc:"The product models the part fits, in id order." example:"[\"mdl_01jd3zq8w6v7t3y2k9x4n5m6pc\"]"`
	Version            int           `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt          time.Time     `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt          time.Time     `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// NewPart is a part to create.
type NewPart struct {
	PartNumber         string        `json:"part_number" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9./_+-]*$" doc:"The brand's part number; unique per tenant." example:"0021800078A"`
	Name               string        `json:"name" minLength:"1" maxLength:"200" example:"变频电机 (BLDC)"`
	Category           string        `json:"category" minLength:"1" maxLength:"64" pattern:"^[a-z][a-z0-9_]*$" doc:"Part category (compressor, motor, control_board ...)." example:"motor"`
	Price              tenants.Money `json:"price"`
	CompatibleModelIDs []string      `json:"compatible_model_ids,omitempty" maxItems:"500" doc:"Product models the part fits; each must exist." example:"[\"mdl_01jd3zq8w6v7t3y2k9x4n5m6pc\"]"`
}

// PartUpdate changes some of a part's attributes; absent fields stay and
// compatible_model_ids is replaced whole.
type PartUpdate struct {
	PartNumber         *string        `json:"part_number,omitempty" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9./_+-]*$" doc:"New part number; unique per tenant." example:"0021800078A"`
	Name               *string        `json:"name,omitempty" minLength:"1" maxLength:"200" example:"变频电机 (BLDC)"`
	Category           *string        `json:"category,omitempty" minLength:"1" maxLength:"64" pattern:"^[a-z][a-z0-9_]*$" doc:"New part category." example:"motor"`
	Price              *tenants.Money `json:"price,omitempty"`
	CompatibleModelIDs *[]string      `json:"compatible_model_ids,omitempty" maxItems:"500" doc:"Replaces the compatible models." example:"[\"mdl_01jd3zq8w6v7t3y2k9x4n5m6pc\"]"`
}

// PartFilter selects parts; empty fields do not filter.
type PartFilter struct {
	ModelID    string // compatible with this model
	Category   string
	PartNumber string
	Limit      int
	Cursor     string
}

func validatePart(v *tenants.Validation, in NewPart, currency string) {
	if !catalogNumber.MatchString(in.PartNumber) {
		v.AddMsg("part_number", i18n.M("catalog.model_number_format"), in.PartNumber)
	}
	checkName(v, "name", in.Name)
	if !slug.MatchString(in.Category) {
		v.AddMsg("category", i18n.M("catalog.part_category_format"), in.Category)
	}
	tenants.CheckMoney(v, "price", in.Price, currency)
	if len(in.CompatibleModelIDs) > MaxCompatibleModels {
		v.AddMsg("compatible_model_ids", i18n.M("catalog.max_models", "Max", 500), len(in.CompatibleModelIDs))
	}
}

const partColumns = `p.id, p.part_number, p.name, p.category, p.price, p.currency,
	COALESCE((SELECT array_agg(pm.model_id ORDER BY pm.model_id) FROM part_models pm
	          WHERE pm.tenant_id = p.tenant_id AND pm.part_id = p.id), '{}'),
	p.version, p.created_at, p.updated_at`

func scanPart(row pgx.Row) (Part, error) {
	var p Part
	err := row.Scan(&p.ID, &p.PartNumber, &p.Name, &p.Category, &p.Price.Amount, &p.Price.Currency, &p.CompatibleModelIDs,
		&p.Version, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

// loadPart reads a part of tx's tenant; lock is "" or "FOR UPDATE OF p".
func loadPart(ctx context.Context, tx pg.TenantTx, id, lock string) (Part, error) {
	if !tenants.ValidID(tenants.PrefixPart, id) {
		return Part{}, tenants.NotFound("part")
	}
	p, err := scanPart(tx.QueryRow(ctx, `SELECT `+partColumns+` FROM parts p WHERE p.tenant_id = $1 AND p.id = $2 `+lock,
		tx.TenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Part{}, tenants.NotFound("part")
	}
	return p, err
}

// setCompatible replaces a part's compatible models.
func setCompatible(ctx context.Context, tx pg.TenantTx, partID string, modelIDs []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM part_models WHERE tenant_id = $1 AND part_id = $2`, tx.TenantID, partID); err != nil {
		return err
	}
	if len(modelIDs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO part_models (tenant_id, part_id, model_id) SELECT $1, $2, unnest($3::text[])`,
		tx.TenantID, partID, modelIDs)
	return err
}

// createPart validates and inserts a part with its compatible models.
func createPart(ctx context.Context, tx pg.TenantTx, in NewPart, currency string) (Part, error) {
	v := &tenants.Validation{}
	validatePart(v, in, currency)
	if err := checkIDs(ctx, tx, v, indexed("compatible_model_ids", ""), "product_models", tenants.PrefixProductModel,
		"product model", in.CompatibleModelIDs); err != nil {
		return Part{}, err
	}
	if err := v.Err(); err != nil {
		return Part{}, err
	}
	id := tenants.NewID(tenants.PrefixPart)
	if _, err := tx.Exec(ctx, `
		INSERT INTO parts (tenant_id, id, part_number, name, category, price, currency) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		tx.TenantID, id, in.PartNumber, strings.TrimSpace(in.Name), in.Category, in.Price.Amount, in.Price.Currency); err != nil {
		return Part{}, err
	}
	if err := setCompatible(ctx, tx, id, in.CompatibleModelIDs); err != nil {
		return Part{}, err
	}
	return loadPart(ctx, tx, id, "")
}

// CreatePart adds a part. Its price is in the tenant's currency; part
// numbers are unique per tenant (conflict); every compatible model must
// exist (invalid, naming compatible_model_ids[i]).
func (s *Service) CreatePart(ctx context.Context, p tenants.Principal, in NewPart) (Part, error) {
	return inTx(ctx, s, p, func(tx pg.TenantTx) (Part, error) {
		st, err := tx.Settings(ctx)
		if err != nil {
			return Part{}, err
		}
		return createPart(ctx, tx, in, st.Currency)
	})
}

// GetPart returns a part of the principal's tenant.
func (s *Service) GetPart(ctx context.Context, p tenants.Principal, id string) (Part, error) {
	return inTx(ctx, s, p, func(tx pg.TenantTx) (Part, error) { return loadPart(ctx, tx, id, "") })
}

// ListParts lists parts in id (creation) order.
func (s *Service) ListParts(ctx context.Context, p tenants.Principal, f PartFilter) ([]Part, string, error) {
	f.Limit = tenants.PageLimit(f.Limit)
	after, err := tenants.PageAfter("parts", f.Cursor)
	if err != nil {
		return nil, "", err
	}
	out, err := pg.QueryRows(ctx, s.DB, p.TenantID, func(r pgx.CollectableRow) (Part, error) { return scanPart(r) }, `
			SELECT `+partColumns+` FROM parts p
			WHERE p.tenant_id = $1 AND p.id > $2
			  AND ($3 = '' OR EXISTS (SELECT 1 FROM part_models pm WHERE pm.tenant_id = p.tenant_id AND pm.part_id = p.id AND pm.model_id = $3))
			  AND ($4 = '' OR p.category = $4)
			  AND ($5 = '' OR p.part_number = $5)
			ORDER BY p.id LIMIT $6`,
		after, f.ModelID, f.Category, f.PartNumber, f.Limit+1)
	if err != nil {
		return nil, "", err
	}
	out, next := tenants.NextPage("parts", out, f.Limit, func(p Part) string { return p.ID })
	return out, next, nil
}

// UpdatePart applies u to a part; ifVersion > 0 must match its version. A
// price change applies to quotes priced afterwards, unless the price list
// in effect overrides the part's price.
func (s *Service) UpdatePart(ctx context.Context, p tenants.Principal, id string, u PartUpdate, ifVersion int) (Part, error) {
	var out Part
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		cur, err := loadPart(ctx, tx, id, "FOR UPDATE OF p")
		if err != nil {
			return err
		}
		if err := tenants.CheckVersion("part", ifVersion, cur.Version); err != nil {
			return err
		}
		f := NewPart{PartNumber: cur.PartNumber, Name: cur.Name, Category: cur.Category, Price: cur.Price, CompatibleModelIDs: cur.CompatibleModelIDs}
		var changed tenants.Changes
		set := changed.Set
		set("part_number", u.PartNumber != nil && *u.PartNumber != cur.PartNumber, func() { f.PartNumber = *u.PartNumber })
		set("name", u.Name != nil && *u.Name != cur.Name, func() { f.Name = *u.Name })
		set("category", u.Category != nil && *u.Category != cur.Category, func() { f.Category = *u.Category })
		set("price", u.Price != nil && *u.Price != cur.Price, func() { f.Price = *u.Price })
		v := &tenants.Validation{}
		models := false
		if u.CompatibleModelIDs != nil {
			f.CompatibleModelIDs = *u.CompatibleModelIDs
			if err := checkIDs(ctx, tx, v, indexed("compatible_model_ids", ""), "product_models", tenants.PrefixProductModel,
				"product model", f.CompatibleModelIDs); err != nil {
				return err
			}
			sorted := slices.Clone(f.CompatibleModelIDs)
			slices.Sort(sorted)
			models = !slices.Equal(sorted, cur.CompatibleModelIDs)
		}
		validatePart(v, f, st.Currency)
		if err := v.Err(); err != nil {
			return err
		}
		if len(changed) == 0 && !models {
			out = cur
			return nil
		}
		if _, err := tx.Exec(ctx, `
			UPDATE parts SET part_number = $3, name = $4, category = $5, price = $6, currency = $7, version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, cur.ID, f.PartNumber, strings.TrimSpace(f.Name), f.Category, f.Price.Amount, f.Price.Currency); err != nil {
			return err
		}
		if models {
			if err := setCompatible(ctx, tx, cur.ID, f.CompatibleModelIDs); err != nil {
				return err
			}
		}
		out, err = loadPart(ctx, tx, cur.ID, "")
		return err
	})
	return out, pg.Translate(err)
}

// compatible reports whether the part fits the model.
func compatible(ctx context.Context, tx pg.TenantTx, partID, modelID string) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM part_models WHERE tenant_id = $1 AND part_id = $2 AND model_id = $3)`,
		tx.TenantID, partID, modelID).Scan(&ok)
	return ok, err
}
