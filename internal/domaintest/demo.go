package domaintest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Demo is the demo brand NewDemo's tests share: the network, catalog,
// plans, sales and stock `servicenet seed` gives the demo brand, seeded by
// the same code (network.DemoNetwork through the import path,
// warranty.SeedDemoSales, stock.Service.SeedDemo).
type Demo struct {
	// Washer is an on-sale washer model.
	Washer string
	// Region is a district a washer-repairing repair point covers; Nodes
	// are the nodes that can take a washer repair there, best first (the
	// candidates dispatch chooses from), and Technicians one technician at
	// each of them who can take any washer repair any day, 07:00-21:00
	// (skill 5, licence valid to 2099, 30 jobs a day), as apitest.DemoBrand
	// adds: dispatch there always has someone to propose.
	Region      string
	Nodes       []string
	Technicians []string
	// Storefront is the demo storefront.
	Storefront string
}

// demoVersion changes when what seedDemo does changes, so a shared
// database seeded by older code is seeded again under a new slug.
const demoVersion = "1"

var (
	demoOnce   sync.Once
	demoTenant string
	demo       Demo
	demoErr    error
)

// NewDemo is an Env on the demo brand: Tenant is the demo tenant and Admin
// a tenant_admin of it.
//
// The demo is seeded once, committed, into the shared test database (the
// first test binary of the day that asks for it seeds it, in about ten
// seconds; the others find it): its dates are relative to the day it was
// seeded (units bought 2 days ago, ...), so it is keyed by the date in
// Asia/Shanghai, by demoVersion and by the network file's hash. Each test
// then runs in its own transaction on it, rolled back at the end: a test
// may change anything and sees no other test's changes.
//
// Tests on the demo take turns, across test binaries too: the test's
// transaction holds an advisory lock on the demo tenant until the test
// ends. They change the same rows (stock levels, technicians' days), and
// two transactions that lock them in opposite orders would deadlock. So a
// subtest of a test on the demo cannot call NewDemo (it fails at once): it
// uses its parent's Env.
func NewDemo(t testing.TB, cfg ...app.Config) (*Env, Demo) {
	t.Helper()
	pool := pgtest.Shared(t)
	demoOnce.Do(func() {
		ctx, cancel := context.WithTimeout(pg.WithLivemode(context.Background(), true), 5*time.Minute)
		defer cancel()
		demoTenant, demo, demoErr = seedOnce(ctx, pool)
	})
	require.NoError(t, demoErr, "seed the demo brand")
	holdTurn(t)
	e := newEnv(t, cfg)
	// Wait for the turn as long as it takes, then back to the role's
	// timeouts.
	_, err := e.Tx.Exec(e.Ctx, `SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0`)
	require.NoError(t, err)
	_, err = e.Tx.Exec(e.Ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, demoTenant)
	require.NoError(t, err)
	_, err = e.Tx.Exec(e.Ctx, `SET LOCAL statement_timeout = DEFAULT; SET LOCAL lock_timeout = DEFAULT`)
	require.NoError(t, err)
	e.Tenant, e.Admin = demoTenant, adminOf(demoTenant)
	d := demo
	d.Nodes, d.Technicians = slices.Clone(demo.Nodes), slices.Clone(demo.Technicians)
	return e, d
}

// turns are the tests of this binary that hold the demo's turn.
var turns sync.Map // test name -> struct{}

// holdTurn fails a test whose parent test holds the demo's turn: it would
// wait for its parent, which waits for it. A subtest of a test on the demo
// uses its parent's Env.
func holdTurn(t testing.TB) {
	t.Helper()
	turns.Range(func(k, _ any) bool {
		if strings.HasPrefix(t.Name(), k.(string)+"/") {
			t.Fatalf("%s holds the demo's turn: its subtest %s cannot take another (use the parent's Env)", k, t.Name())
		}
		return true
	})
	turns.Store(t.Name(), struct{}{})
	t.Cleanup(func() { turns.Delete(t.Name()) })
}

// demoSlug names today's demo tenant.
func demoSlug() string {
	h := sha256.Sum256(network.DemoNetwork(1))
	return "dt-demo-" + demoVersion + "-" + strings.ReplaceAll(Today(0), "-", "") + "-" + hex.EncodeToString(h[:])[:8]
}

// seedOnce finds today's demo tenant or seeds it, in one transaction
// committed only when the whole demo is there, under an advisory lock that
// serialises concurrent test binaries.
func seedOnce(ctx context.Context, pool pg.DB) (string, Demo, error) {
	slug := demoSlug()
	var id string
	var d Demo
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// The application role's statement and lock timeouts (15 s, 5 s)
		// are for requests: the seed may wait for another binary's, and
		// its own statements are large.
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, slug); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT id FROM tenants WHERE slug = $1`, slug).Scan(&id)
		switch {
		case err == nil:
		case err == pgx.ErrNoRows:
			id = tenants.NewID(tenants.PrefixTenant)
			if err := insertTenant(ctx, tx, id, "Demo Appliances (domaintest)", slug, ""); err != nil {
				return err
			}
			if err := seedDemo(ctx, tx, id); err != nil {
				return err
			}
		default:
			return err
		}
		d, err = describeDemo(ctx, tx, id)
		return err
	})
	return id, d, err
}

// seedDemo seeds the demo brand in tenant inside tx, as `servicenet seed`
// does, and gives every node that can take a washer repair in the demo's
// Region a washer technician, as apitest.DemoBrand does. The jobs it
// queues (the network import's, run here) are deleted: no test should
// count them.
func seedDemo(ctx context.Context, tx pgx.Tx, tenant string) error {
	a, err := app.NewServices(app.Config{}, tx, nil)
	if err != nil {
		return err
	}
	p := adminOf(tenant)
	im, err := a.Network.CreateImport(ctx, p, network.FormatJSONL, network.DemoNetwork(1))
	if err != nil {
		return fmt.Errorf("demo network import: %w", err)
	}
	if im, err = a.Network.RunImport(ctx, tenant, im.ID); err != nil {
		return fmt.Errorf("demo network import: %w", err)
	}
	if im.State != network.ImportSucceeded {
		return fmt.Errorf("demo network import %s: %v", im.State, im.Errors)
	}
	if _, err := warranty.SeedDemoSales(ctx, p, a.Catalog, a.Customers, a.Warranty); err != nil {
		return fmt.Errorf("demo sales: %w", err)
	}
	if _, err := a.Stock.SeedDemo(ctx, p); err != nil {
		return fmt.Errorf("demo stock: %w", err)
	}
	_, nodes, err := demoRegion(ctx, a, p)
	if err != nil {
		return err
	}
	var shifts []network.Shift
	for wd := 1; wd <= 7; wd++ {
		shifts = append(shifts, network.Shift{Weekday: wd, Start: "07:00", End: "21:00"})
	}
	limit := 30
	for i, n := range nodes {
		_, err := a.Network.CreateTechnician(ctx, p, network.NewTechnician{ExternalCode: fmt.Sprintf("%s%d", demoTechCode, i),
			NodeID: n, Name: fmt.Sprintf("测试师傅%d", i), Phone: fmt.Sprintf("+86 136 0000 %04d", i),
			Skills:  []network.Skill{{Category: "washer", Level: 5}},
			Licence: &network.LicenceInput{Number: fmt.Sprintf("LIC-DT-%d", i), IssuedOn: "2024-01-01", ExpiresOn: "2099-12-31"},
			Shifts:  shifts, DailyJobLimit: &limit})
		if err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, `DELETE FROM river_job`)
	return err
}

// demoTechCode prefixes the external codes of the technicians seedDemo adds.
const demoTechCode = "DT-TECH-"

// demoRegion is the district of the first active repair point (in id
// order) that repairs washers, and the nodes that can take a washer repair
// there, best first.
func demoRegion(ctx context.Context, a *app.App, p tenants.Principal) (string, []string, error) {
	points, _, err := a.Network.ListNodes(ctx, p, network.NodeFilter{Tier: "repair_point", Limit: tenants.MaxPageLimit})
	if err != nil {
		return "", nil, err
	}
	region := ""
	for _, n := range points {
		if n.Status == "active" && slices.Contains(n.Categories, "washer") && slices.Contains(n.ServiceKinds, "repair") {
			region = n.Coverage[0]
			break
		}
	}
	if region == "" {
		return "", nil, fmt.Errorf("the demo network has no active repair point for washers")
	}
	cs, err := a.Network.Candidates(ctx, p, network.CandidateQuery{RegionCode: region, Category: "washer", ServiceKind: "repair", Limit: 10})
	if err != nil {
		return "", nil, err
	}
	var nodes []string
	for _, c := range cs {
		nodes = append(nodes, c.ID)
	}
	return region, nodes, nil
}

// describeDemo reads what a test needs to know about the seeded demo.
func describeDemo(ctx context.Context, tx pgx.Tx, tenant string) (Demo, error) {
	var d Demo
	a, err := app.NewServices(app.Config{}, tx, nil)
	if err != nil {
		return d, err
	}
	p := adminOf(tenant)
	onSale := false
	models, _, err := a.Catalog.ListProductModels(ctx, p, catalog.ProductModelFilter{Category: "washer", Discontinued: &onSale, Limit: 1})
	if err != nil {
		return d, err
	}
	if len(models) == 0 {
		return d, fmt.Errorf("the demo catalog has no washer on sale")
	}
	d.Washer = models[0].ID
	if d.Region, d.Nodes, err = demoRegion(ctx, a, p); err != nil {
		return d, err
	}
	for _, n := range d.Nodes {
		ts, _, err := a.Network.ListTechnicians(ctx, p, network.TechnicianFilter{NodeID: n, Limit: tenants.MaxPageLimit})
		if err != nil {
			return d, err
		}
		for _, tc := range ts {
			if strings.HasPrefix(tc.ExternalCode, demoTechCode) {
				d.Technicians = append(d.Technicians, tc.ID)
			}
		}
	}
	if len(d.Technicians) != len(d.Nodes) {
		return d, fmt.Errorf("the demo has %d washer technicians for %d nodes", len(d.Technicians), len(d.Nodes))
	}
	err = pg.InTenantTx(ctx, tx, tenant, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT id FROM storefronts WHERE tenant_id = $1 ORDER BY id LIMIT 1`, tx.TenantID).Scan(&d.Storefront)
	})
	return d, err
}
