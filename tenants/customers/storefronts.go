package customers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// Platforms are the marketplaces (or own channels) a storefront sells on.
var Platforms = []string{"tmall", "jd", "pinduoduo", "douyin", "suning", "brand_store", "offline", "other"}

// Storefront statuses. A suspended storefront's keys still read their units
// (and their service history), but cannot register units or sell contracts;
// nobody can register a new unit as sold through it.
const (
	StorefrontActive    = "active"
	StorefrontSuspended = "suspended"
)

// Storefront is a retail partner of the brand (a marketplace shop, the
// brand's own store, an offline dealer). It has its own API keys (role
// storefront), which see only the units it sold.
type Storefront struct {
	ID        string            `json:"id" example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Code      string            `json:"code" doc:"The brand's code for the storefront; unique per tenant." example:"TMALL-FLAGSHIP"`
	Name      string            `json:"name" example:"海尔官方旗舰店（天猫）"`
	Platform  string            `json:"platform" enum:"tmall,jd,pinduoduo,douyin,suning,brand_store,offline,other" doc:"Where the storefront sells." example:"tmall"`
	Status    string            `json:"status" enum:"active,suspended" doc:"A suspended storefront's keys may read but not register units or sell." example:"active"`
	Contact   StorefrontContact `json:"contact"`
	Version   int               `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt time.Time         `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt time.Time         `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// NewStorefront is a storefront to create.
type NewStorefront struct {
	Code     string            `json:"code" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" doc:"The brand's code for the storefront; unique per tenant (409)." example:"TMALL-FLAGSHIP"`
	Name     string            `json:"name" minLength:"1" maxLength:"200" doc:"Display name." example:"海尔官方旗舰店（天猫）"`
	Platform string            `json:"platform" enum:"tmall,jd,pinduoduo,douyin,suning,brand_store,offline,other" doc:"Where the storefront sells." example:"tmall"`
	Contact  StorefrontContact `json:"contact,omitempty"`
}

// StorefrontUpdate changes some of a storefront's attributes; absent fields stay.
type StorefrontUpdate struct {
	Code     *string            `json:"code,omitempty" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" doc:"New code; unique per tenant." example:"TMALL-FLAGSHIP"`
	Name     *string            `json:"name,omitempty" minLength:"1" maxLength:"200" doc:"New display name." example:"海尔官方旗舰店（天猫）"`
	Platform *string            `json:"platform,omitempty" enum:"tmall,jd,pinduoduo,douyin,suning,brand_store,offline,other" doc:"New platform." example:"tmall"`
	Status   *string            `json:"status,omitempty" enum:"active,suspended" doc:"suspended stops the storefront registering units and selling; active resumes." example:"suspended"`
	Contact  *StorefrontContact `json:"contact,omitempty"`
}

// StorefrontFilter narrows a storefront listing.
type StorefrontFilter struct {
	Status, Platform string
	Limit            int
	Cursor           string
}

const storefrontColumns = `id, code, name, platform, status, contact, version, created_at, updated_at`

func scanStorefront(row pgx.Row) (Storefront, error) {
	var s Storefront
	err := row.Scan(&s.ID, &s.Code, &s.Name, &s.Platform, &s.Status, &s.Contact, &s.Version, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}

func validateStorefront(v *tenants.Validation, in NewStorefront) {
	if !codePattern.MatchString(in.Code) {
		v.Add("body.code", "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", in.Code)
	}
	if n := len([]rune(strings.TrimSpace(in.Name))); n < 1 || len([]rune(in.Name)) > 200 {
		v.Add("body.name", "1-200 characters", in.Name)
	}
	if !slices.Contains(Platforms, in.Platform) {
		v.Add("body.platform", "one of "+strings.Join(Platforms, ", "), in.Platform)
	}
	validateContact(v, "body.contact", in.Contact)
}

// CreateStorefront adds a storefront (active). Codes are unique per tenant:
// a second one is a conflict on body.code.
func (s *Service) CreateStorefront(ctx context.Context, p tenants.Principal, in NewStorefront) (Storefront, error) {
	v := &tenants.Validation{}
	validateStorefront(v, in)
	if err := v.Err(); err != nil {
		return Storefront{}, err
	}
	var out Storefront
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = insertStorefront(ctx, tx, p, in, "")
		return err
	})
	return out, pg.Translate(err)
}

// insertStorefront inserts in; with onConflict "DO NOTHING" an existing code
// answers pgx.ErrNoRows.
func insertStorefront(ctx context.Context, tx pg.TenantTx, p tenants.Principal, in NewStorefront, onConflict string) (Storefront, error) {
	out, err := scanStorefront(tx.QueryRow(ctx, `
		INSERT INTO storefronts (tenant_id, id, code, name, platform, contact)
		VALUES ($1, $2, $3, $4, $5, $6) `+onConflict+`
		RETURNING `+storefrontColumns,
		tx.TenantID, tenants.NewID(tenants.PrefixStorefront), in.Code, in.Name, in.Platform, in.Contact))
	if err != nil {
		return Storefront{}, err
	}
	return out, events.Append(ctx, tx, events.New{Type: TypeStorefrontCreated, SubjectID: out.ID, Actor: p.Subject(),
		Data: map[string]any{"code": out.Code, "platform": out.Platform}})
}

// GetStorefront returns a storefront of the tenant.
func (s *Service) GetStorefront(ctx context.Context, p tenants.Principal, id string) (Storefront, error) {
	var out Storefront
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = LoadStorefront(ctx, tx, id)
		return err
	})
	return out, pg.Translate(err)
}

// LoadStorefront reads a storefront inside the caller's transaction; a
// malformed or unknown id is not_found.
func LoadStorefront(ctx context.Context, tx pg.TenantTx, id string) (Storefront, error) {
	return getStorefront(ctx, tx, id, "")
}

func getStorefront(ctx context.Context, tx pg.TenantTx, id, lock string) (Storefront, error) {
	if !tenants.ValidID(tenants.PrefixStorefront, id) {
		return Storefront{}, tenants.NotFound("storefront")
	}
	out, err := scanStorefront(tx.QueryRow(ctx, `SELECT `+storefrontColumns+` FROM storefronts
		WHERE tenant_id = $1 AND id = $2 `+lock, tx.TenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Storefront{}, tenants.NotFound("storefront")
	}
	return out, err
}

// checkStorefrontActive adds a problem at loc unless the storefront exists
// and is active; it share-locks the row so it cannot be suspended before
// the transaction commits.
func checkStorefrontActive(ctx context.Context, tx pg.TenantTx, v *tenants.Validation, loc, id string) error {
	sf, err := getStorefront(ctx, tx, id, "FOR SHARE")
	switch {
	case tenants.ErrorCode(err) == tenants.CodeNotFound:
		v.Add(loc, "no such storefront", id)
	case err != nil:
		return err
	case sf.Status != StorefrontActive:
		v.Add(loc, "the storefront is suspended: it can register no units and sell nothing", id)
	}
	return nil
}

// ListStorefronts lists the tenant's storefronts, oldest first.
func (s *Service) ListStorefronts(ctx context.Context, p tenants.Principal, f StorefrontFilter) ([]Storefront, string, error) {
	v := &tenants.Validation{}
	if f.Status != "" && f.Status != StorefrontActive && f.Status != StorefrontSuspended {
		v.Add("query.status", "active or suspended", f.Status)
	}
	if f.Platform != "" && !slices.Contains(Platforms, f.Platform) {
		v.Add("query.platform", "one of "+strings.Join(Platforms, ", "), f.Platform)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	f.Limit = tenants.PageLimit(f.Limit)
	after, err := tenants.PageAfter("storefronts", f.Cursor)
	if err != nil {
		return nil, "", err
	}
	out, err := pg.QueryRows(ctx, s.DB, p.TenantID, func(r pgx.CollectableRow) (Storefront, error) { return scanStorefront(r) }, `SELECT `+storefrontColumns+` FROM storefronts
			WHERE tenant_id = $1 AND id > $2 AND ($3 = '' OR status = $3) AND ($4 = '' OR platform = $4)
			ORDER BY id LIMIT $5`,
		after, f.Status, f.Platform, f.Limit+1)
	if err != nil {
		return nil, "", err
	}
	out, next := tenants.NextPage("storefronts", out, f.Limit, func(s Storefront) string { return s.ID })
	return out, next, nil
}

// UpdateStorefront applies u; ifVersion > 0 must match the storefront's
// version. Suspending stops its keys registering units and selling at once
// (they keep reading).
func (s *Service) UpdateStorefront(ctx context.Context, p tenants.Principal, id string, u StorefrontUpdate, ifVersion int) (Storefront, error) {
	var out Storefront
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		cur, err := getStorefront(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := tenants.CheckVersion("storefront", ifVersion, cur.Version); err != nil {
			return err
		}
		f := NewStorefront{Code: cur.Code, Name: cur.Name, Platform: cur.Platform, Contact: cur.Contact}
		status := cur.Status
		var changed []string
		set := func(name string, ok bool, apply func()) {
			if ok {
				apply()
				changed = append(changed, name)
			}
		}
		set("code", u.Code != nil && *u.Code != cur.Code, func() { f.Code = *u.Code })
		set("name", u.Name != nil && *u.Name != cur.Name, func() { f.Name = *u.Name })
		set("platform", u.Platform != nil && *u.Platform != cur.Platform, func() { f.Platform = *u.Platform })
		set("contact", u.Contact != nil && *u.Contact != cur.Contact, func() { f.Contact = *u.Contact })
		set("status", u.Status != nil && *u.Status != cur.Status, func() { status = *u.Status })
		v := &tenants.Validation{}
		validateStorefront(v, f)
		if status != StorefrontActive && status != StorefrontSuspended {
			v.Add("body.status", "active or suspended", status)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			out = cur
			return nil
		}
		out, err = scanStorefront(tx.QueryRow(ctx, `
			UPDATE storefronts SET code = $3, name = $4, platform = $5, contact = $6, status = $7,
			       version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2
			RETURNING `+storefrontColumns, tx.TenantID, cur.ID, f.Code, f.Name, f.Platform, f.Contact, status))
		if err != nil {
			return err
		}
		data := map[string]any{"changed": changed, "version": out.Version}
		if out.Status != cur.Status {
			data["from_status"], data["to_status"] = cur.Status, out.Status
		}
		return events.Append(ctx, tx, events.New{Type: TypeStorefrontUpdated, SubjectID: out.ID, Actor: p.Subject(), Data: data})
	})
	return out, pg.Translate(err)
}
