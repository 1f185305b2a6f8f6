// Package domaintest runs the domain services without HTTP, inside one
// transaction that is rolled back when the test ends: the fast path for
// tests of domain rules (entitlements, claims, swaps, payouts, dispatch,
// ticket transitions, stock).
//
// New begins a transaction in the database pgtest.Tx shares (no database
// is created), builds every domain service over it (app.NewServices: each
// service transaction becomes a savepoint, scoped like the real one, so
// row-level security and the application's own tenant filters both apply)
// and inserts a tenant. Jobs the services enqueue are inserted into the
// same transaction, and never run; Jobs counts them. Tests of the HTTP
// contract (authorization, cross-tenant walks, the spec) stay in api/.
//
// A transaction is one connection: an Env is for one goroutine, and a test
// that calls t.Parallel gets its own Env.
package domaintest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Env is one test's domain services over its own rolled-back transaction,
// with one tenant in it.
type Env struct {
	*app.App
	// Tx is the transaction every service runs in (as savepoints).
	Tx pgx.Tx
	// Ctx is a live-mode context.
	Ctx context.Context
	// Tenant is the tenant's ID; Admin a tenant_admin principal of it.
	Tenant string
	Admin  tenants.Principal
}

// New builds an Env with a fresh tenant (Asia/Shanghai, CNY), named after
// the test. cfg tunes the services as app.Config does (Codes,
// OnClaimApproved); its other fields do not apply.
func New(t testing.TB, cfg ...app.Config) *Env {
	t.Helper()
	e := newEnv(t, cfg)
	e.Tenant = tenants.NewID(tenants.PrefixTenant)
	slug := "dt-" + strings.ToLower(e.Tenant[len(e.Tenant)-16:])
	require.NoError(t, insertTenant(e.Ctx, e.Tx, e.Tenant, t.Name(), slug, ""))
	e.Admin = adminOf(e.Tenant)
	return e
}

// newEnv begins the test's transaction and builds the services over it.
func newEnv(t testing.TB, cfg []app.Config) *Env {
	t.Helper()
	var c app.Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	tx := pgtest.Tx(t)
	a, err := app.NewServices(c, tx, nil)
	require.NoError(t, err)
	return &Env{App: a, Tx: tx, Ctx: pg.WithLivemode(context.Background(), true)}
}

// insertTenant adds a tenant in zone ("": Asia/Shanghai) with currency CNY.
func insertTenant(ctx context.Context, db pg.DB, id, name, slug, zone string) error {
	if zone == "" {
		zone = "Asia/Shanghai"
	}
	return pg.InTenantTx(ctx, db, id, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tenants (id, name, slug, time_zone) VALUES ($1, $2, $3, $4)`, id, name, slug, zone)
		return err
	})
}

// adminOf is a live tenant_admin principal of tenant.
func adminOf(tenant string) tenants.Principal {
	return tenants.Principal{TenantID: tenant, KeyID: tenants.NewID(tenants.PrefixAPIKey),
		Roles: []string{tenants.RoleTenantAdmin}, Live: true}
}

// Another adds a tenant to the test's transaction, in zone ("":
// Asia/Shanghai; currency CNY), and returns a tenant_admin principal of
// it: for tests of isolation, and of a tenant's own time zone.
func (e *Env) Another(t testing.TB, zone string) tenants.Principal {
	t.Helper()
	id := tenants.NewID(tenants.PrefixTenant)
	require.NoError(t, insertTenant(e.Ctx, e.Tx, id, t.Name()+" (another)", "dt-"+strings.ToLower(id[len(id)-16:]), zone))
	return adminOf(id)
}

// As is a principal of the tenant with roles, and the scope fields of
// scope applied (NodeID, StorefrontID, TechnicianID).
func (e *Env) As(scope tenants.Principal, roles ...string) tenants.Principal {
	scope.TenantID, scope.Live, scope.Roles = e.Tenant, true, roles
	if scope.KeyID == "" {
		scope.KeyID = tenants.NewID(tenants.PrefixAPIKey)
	}
	return scope
}

// Jobs counts the jobs of kind the test's transaction has inserted.
func (e *Env) Jobs(t testing.TB, kind string) int {
	t.Helper()
	var n int
	require.NoError(t, e.Tx.QueryRow(e.Ctx, `SELECT count(*) FROM river_job WHERE kind = $1`, kind).Scan(&n))
	return n
}

// Count runs a count(*) query in the tenant's scope, the tenant's ID bound
// as $1 and args after it.
func (e *Env) Count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pg.InTenantTx(e.Ctx, e.Tx, e.Tenant, func(tx pg.TenantTx) error {
		return tx.QueryRow(e.Ctx, query, append([]any{tx.TenantID}, args...)...).Scan(&n)
	}))
	return n
}

// Fields are the input fields an invalid-input error names, relative to
// the service's input (a "body." prefix, the HTTP request's, is dropped).
func Fields(t testing.TB, err error) []string {
	t.Helper()
	return FieldsOf(t, err, tenants.CodeInvalid)
}

// FieldsOf are the input fields an error of code names (a conflict's, an
// invalid input's), as Fields has them. The test fails when err is not a
// *tenants.Error of that code.
func FieldsOf(t testing.TB, err error, code tenants.Code) []string {
	t.Helper()
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, code, te.Code, "%v", err)
	var out []string
	for _, f := range te.Fields {
		out = append(out, strings.TrimPrefix(f.Location, "body."))
	}
	return out
}

// Today is the tenant's calendar date days days from now (Asia/Shanghai),
// as YYYY-MM-DD.
func Today(days int) string {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return time.Now().In(loc).AddDate(0, 0, days).Format(time.DateOnly)
}

// CNY is fen as a tenants.Money in the tenant's currency.
func CNY(fen int64) tenants.Money { return tenants.Money{Amount: fen, Currency: "CNY"} }

// Product creates a model of category (retail 2,999.00, warrantyMonths of
// manufacturer warranty) and one part of partCategory at partFen that fits
// it: the model's and the part's ids.
func (e *Env) Product(t testing.TB, number, category string, warrantyMonths int, partCategory string, partFen int64) (model, part string) {
	t.Helper()
	m, err := e.Catalog.CreateProductModel(e.Ctx, e.Admin, catalog.NewProductModel{ModelNumber: number, Category: category,
		Name: "Model " + number, RetailPrice: CNY(299900), WarrantyMonths: warrantyMonths})
	require.NoError(t, err)
	p, err := e.Catalog.CreatePart(e.Ctx, e.Admin, catalog.NewPart{PartNumber: number + "-P1", Name: partCategory,
		Category: partCategory, Price: CNY(partFen), CompatibleModelIDs: []string{m.ID}})
	require.NoError(t, err)
	return m.ID, p.ID
}

// Unit registers a unit of model bought from the brand store days days ago
// (negative), for 2,999.00, owned by a new customer with phone.
func (e *Env) Unit(t testing.TB, model, serial string, days int, phone string) string {
	t.Helper()
	u, err := e.Customers.RegisterUnit(e.Ctx, e.Admin, customers.NewUnit{ModelID: model, Serial: serial,
		Customer:     &customers.NewCustomer{Name: "钱七", Phones: []string{phone}},
		PurchaseDate: Today(days), PurchasePrice: CNY(299900), Channel: "brand_store"})
	require.NoError(t, err)
	return u.ID
}

// Contract sells plan on unit, on the date days days from today.
func (e *Env) Contract(t testing.TB, unit, plan string, days int) string {
	t.Helper()
	c, err := e.Warranty.CreateContract(e.Ctx, e.Admin, warranty.NewContract{UnitID: unit, PlanID: plan, SoldOn: Today(days)})
	require.NoError(t, err)
	return c.ID
}
