package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/config"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// The demo brand that `make run` seeds.
const (
	demoSlug = "demo"
	demoName = "Demo Appliances (示例家电)"
)

// seed creates the demo brand if it is absent and makes sure envFile holds a
// working admin key for it and the operator token. Running it again changes
// nothing: an existing key in envFile is reused while it still works.
func seed(ctx context.Context, cfg config.Config, stdout io.Writer, envFile string) error {
	appURL, err := cfg.AppURL()
	if err != nil {
		return err
	}
	db, err := pg.Connect(ctx, appURL, pg.PoolOptions{Name: "servicenet-seed", MaxConns: 4})
	if err != nil {
		return err
	}
	defer db.Close()
	// River only inserts here: the demo network's import job is queued and
	// then run in this process (seedNetwork).
	a, err := app.New(ctx, app.Config{Mode: app.ModeAPI}, db, nil)
	if err != nil {
		return err
	}
	idn := a.Identity
	prev := readEnvFile(envFile)

	t, err := idn.TenantBySlug(ctx, demoSlug)
	var key string
	switch {
	case tenants.ErrorCode(err) == tenants.CodeNotFound:
		var created identity.CreatedKey
		t, created, err = idn.CreateTenant(ctx, identity.NewTenant{Name: demoName, Slug: demoSlug, AdminKeyName: "Demo admin key (make run)"}, "seed")
		if err != nil {
			return fmt.Errorf("create demo tenant: %w", err)
		}
		key = created.Secret
	case err != nil:
		return err
	default:
		if p, err := idn.Authenticate(ctx, prev["DEMO_API_KEY"]); err == nil && p.TenantID == t.ID && p.HasRole(tenants.RoleTenantAdmin) {
			key = prev["DEMO_API_KEY"]
		} else {
			created, err := idn.CreateAPIKey(ctx, tenants.Principal{TenantID: t.ID, KeyID: "seed"},
				identity.NewAPIKey{Name: "Demo admin key (make run)", Roles: []string{tenants.RoleTenantAdmin}})
			if err != nil {
				return fmt.Errorf("issue demo key: %w", err)
			}
			key = created.Secret
		}
	}

	if err := seedNetwork(ctx, a.Network, t.ID, stdout); err != nil {
		return fmt.Errorf("demo network: %w", err)
	}
	sales, err := warranty.SeedDemoSales(ctx, tenants.Principal{TenantID: t.ID, KeyID: "seed"},
		a.Catalog, a.Customers, a.Warranty)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Demo catalog and sales: %d models, %d plans, storefront %s; %d units registered and %d contracts sold now\n",
		sales.Models, sales.Plans, sales.StorefrontID, sales.Units, sales.Contracts)
	st, err := a.Stock.SeedDemo(ctx, tenants.Principal{TenantID: t.ID, KeyID: "seed"})
	if err != nil {
		return fmt.Errorf("demo stock: %w", err)
	}
	fmt.Fprintf(stdout, "Demo stock: %d part stock rows and %d loaners added at %d repair points\n", st.StockRows, st.Loaners, st.Points)

	operator := cfg.OperatorToken
	if operator == "" {
		operator = prev["OPERATOR_TOKEN"]
	}
	if operator == "" {
		operator = "snop_" + strings.ToLower(rand.Text())
	}
	vals := [][2]string{
		{"SERVICENET_URL", cfg.PublicURL},
		{"DEMO_TENANT_ID", t.ID},
		{"DEMO_API_KEY", key},
		{"OPERATOR_TOKEN", operator},
	}
	if err := writeEnvFile(envFile, vals); err != nil {
		return err
	}
	// One convention for URLs, here, in envFile and in README.md: the
	// server URL is the root (SERVICENET_URL); API paths start with /v1.
	fmt.Fprintf(stdout, `
ServiceNet demo brand %q (%s)
  Server URL       %s   (SERVICENET_URL; API paths start with /v1)
  API docs         %s/docs
  OpenAPI          %s/openapi.yaml
  Job dashboard    %s/admin/jobs/   (user: any, password: the operator token)
  Metrics          %s/metrics
  Demo admin key   %s
  Operator token   %s
  Try it           set -a; . %s; set +a
                   curl -H "Authorization: Bearer $DEMO_API_KEY" "$SERVICENET_URL/v1/me"
  SMS              no notification gateway: sign-off codes are not texted; the server logs that one was
                   requested (never the code) and the notification.requested webhook carries it. Register
                   your SMS provider with POST /v1/notification-gateways.
  (saved in %s)

`, t.Name, t.ID, cfg.PublicURL, cfg.PublicURL, cfg.PublicURL, cfg.PublicURL, cfg.PublicURL, key, operator, envFile, envFile)
	return nil
}

// seedNetwork gives the demo brand its network (network.DemoNetwork) when it
// has no nodes yet, through the import path a brand uses: the import is
// created with its job queued, then run here so the network is there when
// seed returns (the job, once a worker picks it up, finds it finished).
func seedNetwork(ctx context.Context, nw *network.Service, tenantID string, stdout io.Writer) error {
	p := tenants.Principal{TenantID: tenantID, KeyID: "seed"}
	nodes, _, err := nw.ListNodes(ctx, p, network.NodeFilter{Limit: 1})
	if err != nil {
		return err
	}
	if len(nodes) > 0 {
		return nil
	}
	im, err := nw.CreateImport(ctx, p, network.FormatJSONL, network.DemoNetwork(1))
	if err != nil {
		return err
	}
	if im, err = nw.RunImport(ctx, tenantID, im.ID); err != nil {
		return err
	}
	n, tc := im.Counts.Nodes, im.Counts.Technicians
	fmt.Fprintf(stdout, "Demo network imported (%s, %s): %d nodes and %d technicians created, %d rows failed\n",
		im.ID, im.State, n.Created, tc.Created, n.Failed+tc.Failed)
	return nil
}

func readEnvFile(path string) map[string]string {
	vals := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return vals
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if ok && !strings.HasPrefix(k, "#") {
			vals[k] = strings.Trim(v, `'"`)
		}
	}
	return vals
}

func writeEnvFile(path string, vals [][2]string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# Written by `servicenet seed` (make run). Source it: set -a; . " + path + "; set +a\n")
	b.WriteString("# SERVICENET_URL is the server's root: API paths start with /v1 ($SERVICENET_URL/v1/me).\n")
	for _, kv := range vals {
		fmt.Fprintf(&b, "%s='%s'\n", kv[0], kv[1])
	}
	// The file holds secrets: write a new 0600 file and rename it over the
	// old one, so an existing file's wider mode is not kept (os.WriteFile
	// keeps it) and a reader never sees half a file.
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename there is nothing left to remove
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// createTenant is the `tenants create` admin verb.
func createTenant(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tenants create", flag.ContinueOnError)
	name := fs.String("name", "", "display name (required)")
	slug := fs.String("slug", "", "unique short name (required)")
	tz := fs.String("time-zone", "Asia/Shanghai", "IANA time zone")
	currency := fs.String("currency", "CNY", "ISO 4217 currency")
	test := fs.Bool("test", false, "issue an sn_test_ admin key")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || *slug == "" {
		return errors.New("tenants create: -name and -slug are required")
	}
	appURL, err := cfg.AppURL()
	if err != nil {
		return err
	}
	db, err := pg.Connect(ctx, appURL, pg.PoolOptions{Name: "servicenet-cli", MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	idn := &identity.Service{DB: db}
	t, key, err := idn.CreateTenant(ctx, identity.NewTenant{Name: *name, Slug: *slug, TimeZone: *tz, Currency: *currency, Test: *test}, "cli")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"tenant":    map[string]any{"id": t.ID, "name": t.Name, "slug": t.Slug, "time_zone": t.TimeZone, "currency": t.Currency},
		"admin_key": map[string]any{"id": key.ID, "secret": key.Secret, "note": "shown once: store it now"},
	})
}
