package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/internal/services"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/idempotency"
	"github.com/servicenet/servicenet/tenants/identity"
)

// This is an internal test so it can register operations that fail on
// purpose through the unexported register wrapper. It cannot use apitest
// (which imports api), so it assembles the server itself.

// lockedBuffer is a goroutine-safe log sink.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON log lines written so far.
func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(l, &m), "log line: %s", l)
		out = append(out, m)
	}
	return out
}

// secretSQL is what a careless error might carry: none of it may reach a client.
const secretSQL = `ERROR: relation "secrets" violates check; SELECT password FROM users WHERE id = 42`

// internals are fragments that must never appear in a 500's body.
var internals = []string{"SELECT", "password", "secrets", "relation", "pgconn", "PgError", "SQLSTATE", "XX000",
	"users", "boom", "goroutine", ".go:", "panic", "sql_failure_detail"}

type failingServer struct {
	srv    *Server
	http   *httptest.Server
	logs   *lockedBuffer
	secret string // admin key of a tenant
	calls  atomic.Int32
	// slowCalls counts the slow operation's runs, pureCalls the
	// statement-less one's.
	slowCalls, pureCalls atomic.Int32
}

func newFailingServer(t *testing.T) *failingServer {
	t.Helper()
	db := pgtest.NewDB(t)
	logs := &lockedBuffer{}
	az, err := authz.New()
	require.NoError(t, err)
	idn := &identity.Service{DB: db.App}
	s := New(Config{OperatorToken: "snop_internal_error_test", RatePerSecond: 100000, RateBurst: 100000},
		Deps{DB: db.App, Set: services.Set{Identity: idn, Idempotency: &idempotency.Store{DB: db.App}, Authz: az},
			Logger: logging.New(logs, slog.LevelDebug)})
	fs := &failingServer{srv: s, logs: logs}

	fail := func(id, path string, err func() error) {
		register(s, authz.Public, huma.Operation{OperationID: id, Method: http.MethodGet, Path: path,
			Summary: "Fails on purpose", Tags: []string{"Test"}},
			func(ctx context.Context, _ *struct{}) (*struct{}, error) { return nil, err() })
	}
	fail("failWithSQLText", "/test/sql-text", func() error {
		return fmt.Errorf("insert into secrets: %w", errors.New(secretSQL))
	})
	fail("failWithPgError", "/test/pg-error", func() error {
		return &pgconn.PgError{Severity: "ERROR", Code: "XX000", Message: secretSQL, Detail: "sql_failure_detail",
			TableName: "secrets", ConstraintName: "secrets_password_check"}
	})
	fail("failWithInternalCode", "/test/internal-code", func() error {
		return &tenants.Error{Code: tenants.CodeInternal, Message: secretSQL}
	})
	fail("failWithUnknownCode", "/test/unknown-code", func() error {
		return &tenants.Error{Code: "no_such_code", Message: secretSQL}
	})
	fail("failWithHuma500", "/test/huma-500", func() error {
		return huma.Error500InternalServerError(secretSQL)
	})
	register(s, authz.Public, huma.Operation{OperationID: "failWithPanic", Method: http.MethodGet, Path: "/test/crash",
		Summary: "Panics on purpose", Tags: []string{"Test"}},
		func(ctx context.Context, _ *struct{}) (*struct{}, error) { panic("boom: " + secretSQL) })

	// firstStatement is what a real operation does before it acts: a
	// statement in its transaction, which the key's claim rides (a key used
	// before stops the handler there).
	firstStatement := func(ctx context.Context) error {
		p, _ := tenants.PrincipalFrom(ctx)
		return pg.InTenantTx(ctx, db.App, p.TenantID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, "SELECT 1")
			return err
		})
	}

	// An idempotent POST that fails with an error, then panics, then works:
	// each failure must release the Idempotency-Key so the retry runs.
	type thingInput struct {
		Body struct {
			Name string `json:"name"`
		}
	}
	type thingOutput struct {
		Body struct {
			Call int32 `json:"call"`
		}
	}
	register(s, authz.APIKeysCreate, huma.Operation{OperationID: "createThing", Method: http.MethodPost, Path: "/test/things",
		Summary: "Fails twice, then works", Tags: []string{"Test"}, DefaultStatus: http.StatusCreated, MaxBodyBytes: 1 << 10},
		func(ctx context.Context, in *thingInput) (*thingOutput, error) {
			if err := firstStatement(ctx); err != nil {
				return nil, err
			}
			switch n := fs.calls.Add(1); n {
			case 1:
				return nil, errors.New("first call: " + secretSQL)
			case 2:
				panic("second call: " + secretSQL)
			default:
				out := &thingOutput{}
				out.Body.Call = n
				return out, nil
			}
		})

	// An idempotent POST that outlives its body-read deadline (200 ms here,
	// 5 s by default): the connection it came on must stay usable.
	register(s, authz.APIKeysCreate, huma.Operation{OperationID: "createSlowThing", Method: http.MethodPost, Path: "/test/slow-things",
		Summary: "Takes longer than the body-read deadline", Tags: []string{"Test"}, DefaultStatus: http.StatusCreated,
		MaxBodyBytes: 1 << 10, BodyReadTimeout: 200 * time.Millisecond},
		func(ctx context.Context, in *thingInput) (*thingOutput, error) {
			if err := firstStatement(ctx); err != nil {
				return nil, err
			}
			time.Sleep(600 * time.Millisecond)
			out := &thingOutput{}
			out.Body.Call = fs.slowCalls.Add(1)
			return out, nil
		})

	// An idempotent POST that sends no statement: its key's claim rides
	// COMMIT, so a retry runs it again (in memory) and is answered with the
	// first outcome.
	register(s, authz.APIKeysCreate, huma.Operation{OperationID: "createPureThing", Method: http.MethodPost, Path: "/test/pure-things",
		Summary: "Computes without the database", Tags: []string{"Test"}, DefaultStatus: http.StatusCreated, MaxBodyBytes: 1 << 10},
		func(ctx context.Context, in *thingInput) (*thingOutput, error) {
			out := &thingOutput{}
			out.Body.Call = fs.pureCalls.Add(1)
			return out, nil
		})

	_, key, err := idn.CreateTenant(context.Background(), identity.NewTenant{Name: "Brand internal", Slug: "internal"}, "operator")
	require.NoError(t, err)
	fs.secret = key.Secret
	fs.http = httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		fs.http.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.buf.String())
		}
	})
	return fs
}

type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

func (fs *failingServer) do(t *testing.T, method, path, credential, body string, headers ...string) rawResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, fs.http.URL+path, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	req.Header.Set("Accept-Language", "en") // as apitest.Do: these assert English texts
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := fs.http.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// requireBare500 asserts r is a 500 problem that tells the client nothing but
// a request id, and returns that id.
func requireBare500(t *testing.T, r rawResponse) string {
	t.Helper()
	require.Equal(t, http.StatusInternalServerError, r.status, "%s", r.body)
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	var p Problem
	require.NoError(t, json.Unmarshal(r.body, &p), "%s", r.body)
	require.Equal(t, tenants.CodeInternal, p.Code)
	require.Equal(t, "urn:servicenet:problem:internal", p.Type)
	require.Equal(t, http.StatusInternalServerError, p.Status)
	require.Equal(t, "internal error", p.Detail)
	require.Empty(t, p.Errors)
	require.NotEmpty(t, p.RequestID)
	require.Equal(t, r.header.Get("X-Request-Id"), p.RequestID)
	shown := strings.ToLower(strings.ReplaceAll(string(r.body), p.RequestID, "")) // random base32 may spell anything
	for _, s := range internals {
		require.NotContains(t, shown, strings.ToLower(s), "500 body leaks %q: %s", s, r.body)
	}
	return p.RequestID
}

// requireLogged asserts the server logged, at ERROR and under the request's
// id, a line whose field holds want.
func requireLogged(t *testing.T, logs *lockedBuffer, requestID, field, want string) {
	t.Helper()
	var mine []map[string]any
	for _, l := range logs.lines(t) {
		if l["request_id"] == requestID {
			mine = append(mine, l)
		}
	}
	require.NotEmpty(t, mine, "no log line carries request id %s", requestID)
	for _, l := range mine {
		if v, _ := l[field].(string); l["level"] == "ERROR" && strings.Contains(v, want) {
			return
		}
	}
	t.Fatalf("no ERROR line of request %s has %q in %q; its lines: %v", requestID, want, field, mine)
}

// requireAccessLog asserts the request's access log line has status.
func requireAccessLog(t *testing.T, logs *lockedBuffer, requestID string, status int) {
	t.Helper()
	for _, l := range logs.lines(t) {
		if l["request_id"] == requestID && l["msg"] == "request" {
			require.EqualValues(t, status, l["status"])
			return
		}
	}
	t.Fatalf("no access log line for request %s", requestID)
}

func TestInternalErrorsAreLoggedNotShown(t *testing.T) {
	t.Parallel()
	fs := newFailingServer(t)

	for _, c := range []struct {
		name, path, field, want string
	}{
		{"ErrorWithSQLText", "/test/sql-text", "error", "insert into secrets: " + secretSQL},
		{"RawPgError", "/test/pg-error", "error", secretSQL},
		{"InternalDomainError", "/test/internal-code", "error", secretSQL},
		{"DomainErrorWithUnknownCode", "/test/unknown-code", "error", secretSQL},
		{"Huma500Error", "/test/huma-500", "error", secretSQL},
		{"Panic", "/test/crash", "panic", "boom: " + secretSQL},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := fs.do(t, http.MethodGet, c.path, "", "")
			id := requireBare500(t, r)
			requireLogged(t, fs.logs, id, c.field, c.want)
			// The access log line of the request records the 500 too.
			requireAccessLog(t, fs.logs, id, http.StatusInternalServerError)
		})
	}

	t.Run("CallerRequestIDIsKept", func(t *testing.T) {
		r := fs.do(t, http.MethodGet, "/test/sql-text", "", "", "X-Request-Id: support-ticket-1234")
		require.Equal(t, "support-ticket-1234", requireBare500(t, r))
		requireLogged(t, fs.logs, "support-ticket-1234", "error", secretSQL)
	})

	t.Run("PanicStackIsLogged", func(t *testing.T) {
		id := requireBare500(t, fs.do(t, http.MethodGet, "/test/crash", "", ""))
		requireLogged(t, fs.logs, id, "stack", "internal_error_test.go")
	})

	t.Run("ASlowIdempotentPostLeavesItsConnectionUsable", func(t *testing.T) {
		// One keep-alive connection for the three requests.
		tr := &http.Transport{MaxConnsPerHost: 1}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		send := func(method, path, body string, headers ...string) (int, http.Header) {
			req, err := http.NewRequest(method, fs.http.URL+path, strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+fs.secret)
			req.Header.Set("Content-Type", "application/json")
			for _, h := range headers {
				k, v, _ := strings.Cut(h, ":")
				req.Header.Set(k, strings.TrimSpace(v))
			}
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			return resp.StatusCode, resp.Header
		}
		status, _ := send(http.MethodPost, "/test/slow-things", `{"name":"slow"}`, "Idempotency-Key: slow-1")
		require.Equal(t, http.StatusCreated, status)
		status, _ = send(http.MethodPost, "/test/slow-things", `{"name":"slow"}`, "Idempotency-Key: slow-1")
		require.Equal(t, http.StatusCreated, status, "the retry on the same connection is a replay, not a 499")
		require.EqualValues(t, 1, fs.slowCalls.Load())
		status, _ = send(http.MethodGet, "/test/huma-500", "")
		require.Equal(t, http.StatusInternalServerError, status, "the connection still serves the next request")
	})

	t.Run("AStatementlessPostIsReplayed", func(t *testing.T) {
		first := fs.do(t, http.MethodPost, "/test/pure-things", fs.secret, `{"name":"p"}`, "Idempotency-Key: pure-1")
		require.Equal(t, http.StatusCreated, first.status, "%s", first.body)
		require.JSONEq(t, `{"call":1}`, string(first.body))
		replay := fs.do(t, http.MethodPost, "/test/pure-things", fs.secret, `{"name":"p"}`, "Idempotency-Key: pure-1")
		require.Equal(t, http.StatusCreated, replay.status, "%s", replay.body)
		require.Equal(t, "true", replay.header.Get("Idempotent-Replayed"))
		require.JSONEq(t, `{"call":1}`, string(replay.body), "the first outcome, not the second run's")
		other := fs.do(t, http.MethodPost, "/test/pure-things", fs.secret, `{"name":"q"}`, "Idempotency-Key: pure-1")
		require.Equal(t, http.StatusUnprocessableEntity, other.status, "%s", other.body)
		require.Contains(t, string(other.body), "idempotency_key_reused")
	})

	t.Run("ServerErrorsReleaseTheIdempotencyKey", func(t *testing.T) {
		post := func() rawResponse {
			// Release runs after the response is written, so a retry can
			// arrive while the failed attempt still holds the key: 409 says
			// retry shortly.
			deadline := time.Now().Add(5 * time.Second)
			for {
				r := fs.do(t, http.MethodPost, "/test/things", fs.secret, `{"name":"a"}`, "Idempotency-Key: thing-1")
				if r.status != http.StatusConflict || time.Now().After(deadline) {
					return r
				}
				var p Problem
				require.NoError(t, json.Unmarshal(r.body, &p))
				require.Equal(t, tenants.CodeIdempotencyBusy, p.Code, "%s", r.body)
				time.Sleep(10 * time.Millisecond)
			}
		}
		id := requireBare500(t, post())
		requireLogged(t, fs.logs, id, "error", "first call: "+secretSQL)
		require.EqualValues(t, 1, fs.calls.Load())

		id = requireBare500(t, post())
		requireLogged(t, fs.logs, id, "panic", "second call: "+secretSQL)
		require.EqualValues(t, 2, fs.calls.Load(), "the key was released after the 500, so the retry ran")

		r := post()
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		require.Empty(t, r.header.Get("Idempotent-Replayed"))
		require.JSONEq(t, `{"call":3}`, string(r.body))

		replay := post()
		require.Equal(t, http.StatusCreated, replay.status, "%s", replay.body)
		require.Equal(t, "true", replay.header.Get("Idempotent-Replayed"))
		require.Equal(t, r.body, replay.body)
		require.EqualValues(t, 3, fs.calls.Load(), "a completed key is replayed, not run again")
	})
}
