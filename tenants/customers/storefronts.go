package customers

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
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
	ID       string            `json:"id" example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Code     string            `json:"code" doc:"The brand's code for the storefront; unique per tenant." example:"TMALL-FLAGSHIP"`
	Name     string            `json:"name" example:"海尔官方旗舰店（天猫）"`
	Platform string            `json:"platform" enum:"tmall,jd,pinduoduo,douyin,suning,brand_store,offline,other" doc:"Where the storefront sells." example:"tmall"`
	Status   string            `json:"status" enum:"active,suspended" doc:"A suspended storefront's keys may read but not register units or sell." example:"active"`
	Contact  StorefrontContact `json:"contact"`
	// StatusMapping, when set, maps every ticket and claim state to the
	// storefront's own status codes.
	StatusMapping *StatusMapping `json:"status_mapping,omitempty" doc:"The storefront's own status codes for our ticket and claim states; webhooks to its endpoints carry both (data.storefront_status). Absent: no mapping."`
	Version       int            `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt     time.Time      `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt     time.Time      `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// NewStorefront is a storefront to create.
type NewStorefront struct {
	Code     string            `json:"code" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" doc:"The brand's code for the storefront; unique per tenant (409)." example:"TMALL-FLAGSHIP"`
	Name     string            `json:"name" minLength:"1" maxLength:"200" doc:"Display name." example:"海尔官方旗舰店（天猫）"`
	Platform string            `json:"platform" enum:"tmall,jd,pinduoduo,douyin,suning,brand_store,offline,other" doc:"Where the storefront sells." example:"tmall"`
	Contact  StorefrontContact `json:"contact,omitempty"`
	// StatusMapping must cover every ticket and claim state (422 naming the
	// first missing one).
	StatusMapping *StatusMapping `json:"status_mapping,omitempty" doc:"The storefront's own status codes for every ticket state and every claim state (a mapping missing a state is refused, 422 naming it)."`
}

// StorefrontUpdate changes some of a storefront's attributes; absent fields stay.
type StorefrontUpdate struct {
	Code     *string            `json:"code,omitempty" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" doc:"New code; unique per tenant." example:"TMALL-FLAGSHIP"`
	Name     *string            `json:"name,omitempty" minLength:"1" maxLength:"200" doc:"New display name." example:"海尔官方旗舰店（天猫）"`
	Platform *string            `json:"platform,omitempty" enum:"tmall,jd,pinduoduo,douyin,suning,brand_store,offline,other" doc:"New platform." example:"tmall"`
	Status   *string            `json:"status,omitempty" enum:"active,suspended" doc:"suspended stops the storefront registering units and selling; active resumes." example:"suspended"`
	Contact  *StorefrontContact `json:"contact,omitempty"`
	// StatusMapping replaces the mapping (it must be total).
	StatusMapping *StatusMapping `json:"status_mapping,omitempty" doc:"A new status mapping, replacing the old one; it must cover every ticket and claim state."`
}

// StorefrontFilter narrows a storefront listing.
type StorefrontFilter struct {
	Status, Platform string
	Limit            int
	Cursor           string
}

const storefrontColumns = `id, code, name, platform, status, contact, status_mapping, version, created_at, updated_at`

func scanStorefront(row pgx.Row) (Storefront, error) {
	var s Storefront
	err := row.Scan(&s.ID, &s.Code, &s.Name, &s.Platform, &s.Status, &s.Contact, &s.StatusMapping, &s.Version, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}

// StatusMapping maps our states to a storefront's own status codes.
type StatusMapping struct {
	Tickets map[string]string `json:"tickets" doc:"Ticket state → the storefront's code; every ticket state." example:"{\"new\":\"WAIT_SELLER_CONFIRM\",\"completed\":\"SERVICE_DONE\"}"`
	Claims  map[string]string `json:"claims" doc:"Claim state → the storefront's code; every claim state." example:"{\"submitted\":\"CLAIM_SUBMITTED\",\"paid\":\"CLAIM_PAID\"}"`
}

// TicketStates and ClaimStates are the states a status mapping covers, set
// by the tickets and claims contexts' wiring (they depend on this package,
// not it on them); api's TestStatusMappingStates keeps them equal.
var (
	TicketStates = []string{"new", "needs_info", "triaged", "remote_guidance", "resolved", "dispatched", "assigned", "scheduled",
		"on_site", "awaiting_parts", "carry_in", "returned", "completed", "closed", "reopened", "cancelled"}
	ClaimStates = []string{"submitted", "under_review", "approved", "rejected", "needs_info", "withdrawn", "paid"}
)

// validateMapping checks that m is total: a code (1-64 visible characters)
// for every ticket and claim state, and no state that is not ours.
func validateMapping(v *tenants.Validation, m *StatusMapping) {
	if m == nil {
		return
	}
	for _, part := range []struct {
		name   string
		codes  map[string]string
		states []string
	}{{"tickets", m.Tickets, TicketStates}, {"claims", m.Claims, ClaimStates}} {
		where := "status_mapping." + part.name
		for _, st := range part.states {
			code, ok := part.codes[st]
			switch {
			case !ok:
				v.AddMsg(where+"."+st, i18n.M("customers.state_code_required", "Part", strings.TrimSuffix(part.name, "s"), "State", st), nil)
			case strings.TrimSpace(code) == "" || len([]rune(code)) > 64:
				v.AddMsg(where+"."+st, i18n.M("common.length", "Min", 1, "Max", 64), code)
			}
		}
		for st := range part.codes {
			if !slices.Contains(part.states, st) {
				v.AddMsg(where+"."+st, i18n.M("customers.state_one_of", "Part", strings.TrimSuffix(part.name, "s"), "Values", strings.Join(part.states, ", ")), st)
			}
		}
	}
}

// StorefrontStatusTx is the storefront's own code for a state of kind
// ("tickets" or "claims"), "" when it has no mapping; for a caller's
// transaction (webhook deliveries).
func StorefrontStatusTx(ctx context.Context, tx pg.TenantTx, storefrontID, kind, state string) (string, error) {
	var code *string
	err := tx.QueryRow(ctx, `SELECT status_mapping -> $3 ->> $4 FROM storefronts WHERE tenant_id = $1 AND id = $2`,
		tx.TenantID, storefrontID, kind, state).Scan(&code)
	if errors.Is(err, pgx.ErrNoRows) || code == nil {
		return "", nil
	}
	return *code, err
}

func validateStorefront(v *tenants.Validation, in NewStorefront) {
	if !codePattern.MatchString(in.Code) {
		v.AddMsg("code", i18n.M("common.identifier"), in.Code)
	}
	if n := len([]rune(strings.TrimSpace(in.Name))); n < 1 || len([]rune(in.Name)) > 200 {
		v.AddMsg("name", i18n.M("common.length", "Min", 1, "Max", 200), in.Name)
	}
	if !slices.Contains(Platforms, in.Platform) {
		v.AddMsg("platform", i18n.M("common.one_of", "Values", strings.Join(Platforms, ", ")), in.Platform)
	}
	validateContact(v, "contact", in.Contact)
	validateMapping(v, in.StatusMapping)
}

// CreateStorefront adds a storefront (active). Codes are unique per tenant:
// a second one is a conflict on code.
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
		INSERT INTO storefronts (tenant_id, id, code, name, platform, contact, status_mapping)
		VALUES ($1, $2, $3, $4, $5, $6, $7) `+onConflict+`
		RETURNING `+storefrontColumns,
		tx.TenantID, tenants.NewID(tenants.PrefixStorefront), in.Code, in.Name, in.Platform, in.Contact, in.StatusMapping))
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
		v.AddMsg(loc, i18n.M("common.no_such_storefront"), id)
	case err != nil:
		return err
	case sf.Status != StorefrontActive:
		v.AddMsg(loc, i18n.M("customers.storefront_suspended"), id)
	}
	return nil
}

// ListStorefronts lists the tenant's storefronts, oldest first.
func (s *Service) ListStorefronts(ctx context.Context, p tenants.Principal, f StorefrontFilter) ([]Storefront, string, error) {
	v := &tenants.Validation{}
	if f.Status != "" && f.Status != StorefrontActive && f.Status != StorefrontSuspended {
		v.AddMsg("status", i18n.M("common.one_of_active_suspended"), f.Status)
	}
	if f.Platform != "" && !slices.Contains(Platforms, f.Platform) {
		v.AddMsg("platform", i18n.M("common.one_of", "Values", strings.Join(Platforms, ", ")), f.Platform)
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
		f := NewStorefront{Code: cur.Code, Name: cur.Name, Platform: cur.Platform, Contact: cur.Contact, StatusMapping: cur.StatusMapping}
		status := cur.Status
		var changed tenants.Changes
		set := changed.Set
		set("code", u.Code != nil && *u.Code != cur.Code, func() { f.Code = *u.Code })
		set("name", u.Name != nil && *u.Name != cur.Name, func() { f.Name = *u.Name })
		set("platform", u.Platform != nil && *u.Platform != cur.Platform, func() { f.Platform = *u.Platform })
		set("contact", u.Contact != nil && *u.Contact != cur.Contact, func() { f.Contact = *u.Contact })
		set("status", u.Status != nil && *u.Status != cur.Status, func() { status = *u.Status })
		set("status_mapping", u.StatusMapping != nil && !reflect.DeepEqual(u.StatusMapping, cur.StatusMapping), func() { f.StatusMapping = u.StatusMapping })
		v := &tenants.Validation{}
		validateStorefront(v, f)
		if status != StorefrontActive && status != StorefrontSuspended {
			v.AddMsg("status", i18n.M("common.one_of_active_suspended"), status)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			out = cur
			return nil
		}
		out, err = scanStorefront(tx.QueryRow(ctx, `
			UPDATE storefronts SET code = $3, name = $4, platform = $5, contact = $6, status = $7, status_mapping = $8,
			       version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2
			RETURNING `+storefrontColumns, tx.TenantID, cur.ID, f.Code, f.Name, f.Platform, f.Contact, status, f.StatusMapping))
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
