// Package apitest starts the real HTTP stack for tests: its own database
// (pgtest.NewDB), the real router behind an httptest.Server, a running River
// client, and helpers to create tenants and keys and make requests.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/config"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// OperatorToken is the operator token of every test server.
const OperatorToken = "snop_test_operator_token"

// Env is one test's running ServiceNet: the App (its services, River
// client and API server) behind an httptest.Server, on a database of its own.
type Env struct {
	*app.App
	DB     *pgtest.DB // the test's database (the App's pool is DB.App)
	Server *httptest.Server
	Logs   *SyncBuffer
	// Proxy stands between the server and the database when
	// Options.Proxied; nil otherwise.
	Proxy *pgtest.Proxy

	shared bool // Shared's: tenants' slugs get a suffix
}

// Options tune New.
type Options struct {
	RatePerSecond float64
	RateBurst     int
	// OnClaimApproved replaces the payouts that a claim's approval schedules
	// (app.Config.OnClaimApproved): a test observes approvals with it.
	OnClaimApproved func(ctx context.Context, tx pg.TenantTx, c claims.Claim) error
	// Codes also receives the tickets' sign-off codes (tests read them);
	// nil: the codes go only to the customer, in the sign-off notification.
	Codes tickets.CodeSender
	// Proxied puts a pgtest.Proxy (Env.Proxy) between the server and its
	// database, so the test can stop or freeze "the database"; the server's
	// pool then has serve's statement and lock timeouts, and River only
	// inserts jobs (app.ModeAPI).
	Proxied bool
	// LoopbackWebhooksInTestMode is the server setting of that name
	// (SERVICENET_ALLOW_LOOPBACK_WEBHOOKS_IN_TEST_MODE).
	LoopbackWebhooksInTestMode bool
	// RequestTimeout is the server's request deadline; zero: the default.
	RequestTimeout time.Duration
	// MaxImportBytes and TenantConcurrency: see api.Config; zero: the
	// default size limit, and no practical limit on concurrency.
	MaxImportBytes    int64
	TenantConcurrency int
	// APIOnly runs River in app.ModeAPI: jobs are queued, never run.
	APIOnly bool
	// Metrics receives the server's and the jobs' metrics
	// (app.Config.Metrics); nil: none are recorded.
	Metrics *prometheus.Registry
	// ServePool gives the server the pool serve gives it
	// (SERVICENET_DB_MAX_CONNS connections with its statement and lock
	// timeouts, from the environment) instead of the test database's
	// shared one: what a benchmark measures is the server as it runs.
	ServePool bool
}

// SyncBuffer is a goroutine-safe log sink.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// New starts an Env; everything stops when the test ends.
func New(t testing.TB, opts ...Options) *Env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	db := pgtest.NewDB(t)
	e, stop, err := start(t, db, o)
	require.NoError(t, err)
	t.Cleanup(func() {
		stop()
		checkEvents(t, e)
		if t.Failed() {
			t.Logf("server log:\n%s", e.Logs.String())
		}
	})
	return e
}

var (
	sharedMu   sync.Mutex
	sharedEnv  *Env
	sharedErr  error
	sharedStop func() error
)

// Shared is one Env for every test of the binary that calls it, started by
// the first: the fixed cost of an Env (a database cloned from the template,
// the App, its River client and periodic jobs, the HTTP server) is paid
// once, not per test. A test on it works in tenants of its own
// (CreateTenant, DemoBrand: their slugs get a random suffix here, as the
// tenants of every test share the database). It is for tests that change
// nothing of the Env itself (its services' settings, clocks, code senders,
// trust roots), that read no log, and that query the database only in
// their own tenants' scope; the others use New with their own database.
// The binary's TestMain calls StopShared after the tests, which checks the
// events they left against the event catalog as New does each test's.
func Shared(t testing.TB) *Env {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedEnv == nil && sharedErr == nil {
		var db *pgtest.DB
		if db, sharedErr = pgtest.OpenDB(pgtest.OwnerURL(t)); sharedErr == nil {
			var stop func()
			sharedEnv, stop, sharedErr = start(t, db, Options{})
			if sharedErr != nil {
				db.Drop(t.Logf)
			} else {
				sharedEnv.shared = true
				e := sharedEnv
				sharedStop = func() error {
					stop()
					err := eventProblems(e)
					db.Drop(func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) })
					return err
				}
			}
		}
	}
	require.NoError(t, sharedErr, "start the shared test server")
	return sharedEnv
}

// StopShared stops the Env Shared started, if any, checks the events its
// tests left against the event catalog, and drops its database. The error
// lists the events not as the catalog says (or why they could not be
// read): the binary's TestMain reports it and fails the run, as New's
// check fails its test.
func StopShared() error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedStop == nil {
		return nil
	}
	err := sharedStop()
	sharedStop = nil
	return err
}

// start builds an Env on db; stop stops it (the database is the caller's).
// t is used only for Options.Proxied's proxy, which stops when t ends.
func start(t testing.TB, db *pgtest.DB, o Options) (e *Env, stop func(), err error) {
	if o.RatePerSecond == 0 {
		o.RatePerSecond, o.RateBurst = 100000, 100000
	}
	if o.TenantConcurrency == 0 { // like the rate: out of the way unless a test sets it
		o.TenantConcurrency = 10000
	}
	logs := &SyncBuffer{}
	log := logging.New(logs, slog.LevelDebug)
	pool, mode := db.App, app.ModeAll
	var proxy *pgtest.Proxy
	var closers []func()
	stopAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	if o.Proxied {
		defaults, err := config.Load(func(string) string { return "" })
		if err != nil {
			return nil, nil, err
		}
		proxy = pgtest.NewProxy(t, db.AppURL) // stopped when t ends, after the server
		pool, err = pg.Connect(context.Background(), proxy.URL(db.AppURL), pg.PoolOptions{Name: "apitest-proxied", MaxConns: 8,
			StatementTimeout: defaults.DBStatementTimeout, LockTimeout: defaults.DBLockTimeout})
		if err != nil {
			stopAll()
			return nil, nil, err
		}
		closers = append(closers, pool.Close)
		mode = app.ModeAPI
	}
	if o.APIOnly {
		mode = app.ModeAPI
	}
	if o.ServePool && !o.Proxied {
		cfg, err := config.Load(os.Getenv)
		if err != nil {
			return nil, nil, err
		}
		pool, err = pg.Connect(context.Background(), db.AppURL, pg.PoolOptions{Name: "apitest-serve", MaxConns: cfg.DBMaxConns,
			StatementTimeout: cfg.DBStatementTimeout, LockTimeout: cfg.DBLockTimeout})
		if err != nil {
			stopAll()
			return nil, nil, err
		}
		closers = append(closers, pool.Close)
	}
	a, err := app.New(context.Background(), app.Config{Mode: mode, RiverTestOnly: true,
		RatePerSecond: o.RatePerSecond, RateBurst: o.RateBurst, OperatorToken: OperatorToken,
		RequestTimeout: o.RequestTimeout, OnClaimApproved: o.OnClaimApproved, Codes: o.Codes,
		MaxImportBytes: o.MaxImportBytes, TenantConcurrency: o.TenantConcurrency,
		LoopbackWebhooksInTestMode: o.LoopbackWebhooksInTestMode, Metrics: o.Metrics}, pool, log)
	if err != nil {
		stopAll()
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.Start(ctx); err != nil {
		cancel()
		stopAll()
		return nil, nil, err
	}
	hs := httptest.NewServer(a.Handler())
	closers = append(closers, func() {
		hs.Close()
		cancel()
		_ = a.Stop(context.Background())
	})
	return &Env{App: a, DB: db, Server: hs, Logs: logs, Proxy: proxy}, stopAll, nil
}

// Response is a received response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// Do sends a request. body may be nil, a string or []byte (sent as is) or
// any value (JSON-encoded). headers are "Name: value" strings. credential is
// sent as a bearer token when not empty.
func (e *Env) Do(t testing.TB, method, path, credential string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.Server.URL+path, rd)
	require.NoError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	// Tests read English unless they ask otherwise (tenants default to
	// zh-CN): a header "Accept-Language:" with no value sends none.
	req.Header.Set("Accept-Language", "en")
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		if k, v = strings.TrimSpace(k), strings.TrimSpace(v); v == "" && strings.EqualFold(k, "Accept-Language") {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := e.Server.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// IfMatch GETs path with credential and returns, for Do's headers, the
// If-Match that names the ETag it answered: what a client sends after a
// read. Nothing when the GET is not 200 (the caller cannot see the object;
// the action answers why).
func (e *Env) IfMatch(t testing.TB, path, credential string) []string {
	t.Helper()
	r := e.Do(t, http.MethodGet, path, credential, nil)
	if r.Status != http.StatusOK || r.Header.Get("ETag") == "" {
		return nil
	}
	return []string{"If-Match: " + r.Header.Get("ETag")}
}

// Tenant is a tenant created for a test, with its admin key.
type Tenant struct {
	ID       string
	AdminKey string
	AdminID  string
}

// CreateTenant creates a tenant through the operator API.
func (e *Env) CreateTenant(t testing.TB, slug string) Tenant {
	t.Helper()
	if e.shared {
		slug += "-" + strings.ToLower(rand.Text()[:8])
	}
	r := e.Do(t, http.MethodPost, "/v1/platform/tenants", OperatorToken, map[string]any{"name": "Brand " + slug, "slug": slug})
	require.Equal(t, http.StatusCreated, r.Status, "create tenant: %s", r.Body)
	m := r.JSON(t)
	key := m["admin_key"].(map[string]any)
	return Tenant{ID: m["tenant"].(map[string]any)["id"].(string), AdminKey: key["secret"].(string), AdminID: key["id"].(string)}
}

// Key issues a key with roles in the admin key's tenant and returns its
// secret and ID. node_manager and technician keys get a node scope and
// storefront keys a storefront, as the API requires.
func (e *Env) Key(t testing.TB, adminKey string, roles ...string) (secret, id string) {
	t.Helper()
	body := map[string]any{"name": "test key " + strings.Join(roles, "+"), "roles": roles}
	for _, r := range roles {
		switch r {
		case "node_manager", "technician":
			body["node_id"] = e.someNode(t, adminKey)
		case "storefront":
			body["storefront_id"] = e.Storefront(t, adminKey, "")
		}
	}
	r := e.Do(t, http.MethodPost, "/v1/api-keys", adminKey, body)
	require.Equal(t, http.StatusCreated, r.Status, "create key: %s", r.Body)
	m := r.JSON(t)
	return m["secret"].(string), m["id"].(string)
}

// Network is a small network created for a test: a manufacturer root with a
// service center, a specialist depot under it and a repair point under that,
// all active, covering Qingdao's Laoshan district (370212) for washers.
type Network struct {
	Root, Center, Depot, Point string
}

// CreateNetwork builds a Network in the admin key's tenant; prefix keeps
// external codes apart when a test builds several.
func (e *Env) CreateNetwork(t testing.TB, adminKey, prefix string) Network {
	t.Helper()
	create := func(code, tier, parent string) string {
		body := map[string]any{"external_code": prefix + "-" + code, "name": prefix + " " + code, "tier": tier,
			"status": "active", "coverage": []string{"370212"}, "categories": []string{"washer"},
			"service_kinds": []string{"repair", "install"}, "daily_capacity": 10}
		if parent != "" {
			body["parent_id"] = parent
		}
		r := e.Do(t, http.MethodPost, "/v1/network/nodes", adminKey, body)
		require.Equal(t, http.StatusCreated, r.Status, "create node %s: %s", code, r.Body)
		return r.JSON(t)["id"].(string)
	}
	var n Network
	n.Root = create("ROOT", "manufacturer", "")
	n.Center = create("SC", "service_center", n.Root)
	n.Depot = create("SD", "specialist_depot", n.Center)
	n.Point = create("RP", "repair_point", n.Depot)
	return n
}

// someNode returns a node of the admin key's tenant for a node-scoped key:
// the first one listed, or a new manufacturer root when there is none.
func (e *Env) someNode(t testing.TB, adminKey string) string {
	t.Helper()
	r := e.Do(t, http.MethodGet, "/v1/network/nodes?limit=1", adminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "list nodes: %s", r.Body)
	if data := r.JSON(t)["data"].([]any); len(data) > 0 {
		return data[0].(map[string]any)["id"].(string)
	}
	r = e.Do(t, http.MethodPost, "/v1/network/nodes", adminKey, map[string]any{"external_code": "KEY-ROOT",
		"name": "Key scope root", "tier": "manufacturer", "status": "active"})
	require.Equal(t, http.StatusCreated, r.Status, "create root: %s", r.Body)
	return r.JSON(t)["id"].(string)
}

// Storefront creates a storefront in the admin key's tenant and returns its
// ID; an empty code picks a fresh one.
func (e *Env) Storefront(t testing.TB, adminKey, code string) string {
	t.Helper()
	if code == "" {
		fresh := tenants.NewID("x")
		code = "SF-" + strings.ToUpper(fresh[len(fresh)-10:]) // the random part: the time part repeats within a millisecond
	}
	r := e.Do(t, http.MethodPost, "/v1/storefronts", adminKey, map[string]any{"code": code, "name": "Storefront " + code, "platform": "tmall"})
	require.Equal(t, http.StatusCreated, r.Status, "create storefront: %s", r.Body)
	id := r.JSON(t)["id"].(string)
	return id
}

// StorefrontKey issues a storefront key for storefrontID and returns its secret.
func (e *Env) StorefrontKey(t testing.TB, adminKey, storefrontID string) string {
	t.Helper()
	r := e.Do(t, http.MethodPost, "/v1/api-keys", adminKey, map[string]any{"name": "storefront " + storefrontID,
		"roles": []string{"storefront"}, "storefront_id": storefrontID})
	require.Equal(t, http.StatusCreated, r.Status, "create storefront key: %s", r.Body)
	return r.JSON(t)["secret"].(string)
}
