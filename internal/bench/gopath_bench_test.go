package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// BenchmarkGoPath measures what the Go server spends per write request, on
// the two write paths issue 11 is about: intake (POST /v1/tickets, as
// BenchmarkTickets sends it: half from a registered caller and serial, half
// new) and claim submission (POST /v1/claims, as BenchmarkClaims sends
// it), each with a fresh Idempotency-Key and a 201 required.
//
// The requests are served in this process by the real handler (router,
// middleware, Huma, services, pgx against the real database), one at a
// time and without a network or an HTTP client: the requests are built
// before the timer starts, so what is counted is the server's own work.
// River runs in API mode (jobs are inserted, never worked), so no worker
// allocates in the background. Reported per request:
//
//   - allocs/op and B/op (-benchmem): deterministic, whatever the
//     machine's load;
//   - go-cpu-ms/op: this process's CPU time (user + system, GC included)
//     per request, from getrusage; db-cpu-ms/op: the database's, when it
//     runs on this machine.
//
// With SERVICENET_BENCH_PGSS_URL (see BenchmarkClaimsStatements), each
// sub-benchmark prints the statements its timed loop ran, per request, with
// their server time (pg_stat_statements, reset when the loop starts).
//
// With SERVICENET_BENCH_GOPATH_PROFILE=<dir>, each sub-benchmark writes
// the CPU profile of its timed loop (<dir>/<name>.cpu) and the
// allocations made during it (<dir>/<name>.allocs, a heap profile to read
// with -base <dir>/<name>.allocs0; SERVICENET_BENCH_GOPATH_MEMRATE=4096
// samples them finely, at a CPU cost that spoils the CPU profile):
//
//	go tool pprof -top <dir>/intake.cpu
//	go tool pprof -top -sample_index=alloc_objects -base <dir>/intake.allocs0 <dir>/intake.allocs
func BenchmarkGoPath(b *testing.B) {
	if r, err := strconv.Atoi(os.Getenv("SERVICENET_BENCH_GOPATH_MEMRATE")); err == nil && r > 0 {
		runtime.MemProfileRate = r // e.g. 4096: a finer sample of the allocation sites (it costs CPU: not with a CPU profile)
	}
	env := newEnvWith(b, apitest.Options{APIOnly: true})
	tf := newTicketFixture(b, env, "bench-gopath-"+runID)
	cf := newClaimFixture(b, env, "bench-gopath-claims-"+runID, 64)
	h := env.Handler()
	meter := newCPUMeter(context.Background(), env.DB.Owner)
	su := pgssPool(b) // SERVICENET_BENCH_PGSS_URL: the statements of each timed loop, printed
	var db string
	require.NoError(b, env.DB.Owner.QueryRow(context.Background(), `SELECT current_database()`).Scan(&db))

	// serve runs reqs through h one by one and checks each answer.
	serve := func(b *testing.B, name string, reqs []*http.Request) {
		b.Helper()
		dir := os.Getenv("SERVICENET_BENCH_GOPATH_PROFILE")
		if dir != "" {
			runtime.GC()
			writeAllocs(b, filepath.Join(dir, name+".allocs0"))
			f, err := os.Create(filepath.Join(dir, name+".cpu"))
			require.NoError(b, err)
			require.NoError(b, pprof.StartCPUProfile(f))
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
		if su != nil {
			require.NoError(b, pgssReset(context.Background(), su))
		}
		self0, db0 := meter.read()
		b.ReportAllocs()
		b.ResetTimer()
		b.StartTimer()
		for _, req := range reqs {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusCreated {
				b.Fatalf("%s %s: status %d, want 201: %s", req.Method, req.URL.Path, w.Code, w.Body)
			}
		}
		b.StopTimer()
		self1, db1 := meter.read()
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(len(reqs)) }
		b.ReportMetric(per(self1-self0), "go-cpu-ms/op")
		if meter.postmaster != 0 {
			b.ReportMetric(per(db1-db0), "db-cpu-ms/op")
		}
		if su != nil {
			stmts, err := pgssRows(context.Background(), su, db)
			require.NoError(b, err)
			printStatements("gopath "+name, len(reqs), stmts)
		}
		if dir != "" {
			runtime.GC() // the profile is as of the last collection
			writeAllocs(b, filepath.Join(dir, name+".allocs"))
		}
	}
	post := func(path, key, idem string, body []byte) *http.Request {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Idempotency-Key", idem)
		return req
	}

	// Warm both paths: statements prepared, caches filled, and tables
	// with enough rows that the statistics analyze takes plan the lookups
	// by index (after 32 intakes a seq scan of notifications' one page was
	// the cheaper plan, and stayed cached while the table grew).
	for i, in := range tf.intakes(b, 256) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, post("/v1/tickets", tf.agent, "bench-gp-warm-"+runID+"-"+in.serial, tf.body(in)))
		require.Equal(b, http.StatusCreated, w.Code, "%s", w.Body)
		seq := seqs.Add(1)
		w = httptest.NewRecorder()
		h.ServeHTTP(w, post("/v1/claims", cf.tenant.AdminKey, "bench-gp-warm-clm-"+runID+"-"+strconv.Itoa(i), cf.body(seq)))
		require.Equal(b, http.StatusCreated, w.Code, "%s", w.Body)
	}
	analyze(b, env)

	b.Run("intake", func(b *testing.B) {
		b.StopTimer()
		ins := tf.intakes(b, b.N)
		reqs := make([]*http.Request, len(ins))
		for i, in := range ins {
			reqs[i] = post("/v1/tickets", tf.agent, "bench-gp-tkt-"+runID+"-"+in.serial, tf.body(in))
		}
		serve(b, "intake", reqs)
	})
	b.Run("claim", func(b *testing.B) {
		b.StopTimer()
		reqs := make([]*http.Request, b.N)
		for i := range reqs {
			seq := seqs.Add(1)
			reqs[i] = post("/v1/claims", cf.tenant.AdminKey, "bench-gp-clm-"+runID+"-"+strconv.FormatUint(seq, 10), cf.body(seq))
		}
		serve(b, "claim", reqs)
	})
	fmt.Println("gopath: per request, served in-process one at a time; see allocs/op, B/op, go-cpu-ms/op")
}

// writeAllocs writes the heap profile (its alloc_* samples count every
// allocation since the program began) to path.
func writeAllocs(b *testing.B, path string) {
	b.Helper()
	f, err := os.Create(path)
	require.NoError(b, err)
	defer f.Close()
	require.NoError(b, pprof.Lookup("allocs").WriteTo(f, 0))
}
