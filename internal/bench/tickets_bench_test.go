package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
)

// Ticket benchmark sizes. Every sub-benchmark operation is a fixed batch,
// so a run is bounded in count and time and meaningful at -benchtime 1x as
// well as at the Makefile's -benchtime 3s.
const (
	ticketRawBatch    = 4000 // raw pgx inserts per round
	ticketIntakeBatch = 300  // closed-loop intakes per round
	// Interleaved raw/intake rounds: at least ticketMinRounds, and more
	// while the rounds have taken less than ticketRoundsTime, up to
	// ticketMaxRounds.
	ticketMinRounds   = 3
	ticketMaxRounds   = 9
	ticketRoundsTime  = 60 * time.Second
	ticketRate        = 200 // open-loop arrival rate, requests/s
	ticketLoopSeconds = 10  // open-loop seconds per operation
	ticketWarmSeconds = 1   // open-loop warm-up before timing
	ticketReadPool    = 200 // tickets the open-loop GETs cycle over
)

// ticketFixture is a tenant seeded like `make run`'s demo brand (the demo
// network imported, catalog, price list, plans and sales), a hotline agent
// key, a washer model and a region a repair point covers.
type ticketFixture struct {
	env    *apitest.Env
	tenant apitest.Tenant
	agent  string
	model  string
	region string
	window map[string]any // a preferred window two weekdays ahead
}

func newTicketFixture(b testing.TB, env *apitest.Env, slug string) *ticketFixture {
	b.Helper()
	d := env.DemoBrand(b, slug)
	f := &ticketFixture{env: env, tenant: d.Tenant, model: d.Washer, region: d.Region}
	f.agent, _ = env.Key(b, d.AdminKey, "agent")
	start := apitest.WeekdayMorning(time.Now(), 2)
	f.window = map[string]any{"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)}
	return f
}

// intake is one caller's complete report: a phone and a serial of the
// washer model, registered already (to the caller) or not yet (then the
// purchase date registers it).
type intake struct {
	phone, serial string
	registered    bool
}

// Phones and serials never repeat within a benchmark binary: 1370 + 7 digits
// of a counter for callers, BN + runID + counter for serials.
var intakeSeq atomic.Uint64

func newIntake(registered bool) intake {
	n := intakeSeq.Add(1)
	return intake{phone: fmt.Sprintf("1370%07d", n%10_000_000), serial: "BN" + strings.ToUpper(runID) + strconv.FormatUint(n, 10),
		registered: registered}
}

// intakes returns n intakes, alternately of registered and unregistered
// serials; the registered ones are registered first (untimed), each to a
// customer with the intake's phone, 16 at a time.
func (f *ticketFixture) intakes(b testing.TB, n int) []intake {
	b.Helper()
	ctx := context.Background()
	p := tenants.Principal{TenantID: f.tenant.ID, KeyID: f.tenant.AdminID}
	out := make([]intake, n)
	for i := range out {
		out[i] = newIntake(i%2 == 0)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if !out[i].registered {
					continue
				}
				_, err := f.env.Customers.RegisterUnit(ctx, p, customers.NewUnit{ModelID: f.model, Serial: out[i].serial,
					Customer: &customers.NewCustomer{Name: "客户", Phones: []string{out[i].phone}}, PurchaseDate: benchToday(-200),
					PurchasePrice: tenants.Money{Amount: 299900, Currency: "CNY"}, Channel: "brand_store"})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(b, err)
	}
	return out
}

func (f *ticketFixture) body(in intake) []byte {
	unit := map[string]any{"model_id": f.model, "serial": in.serial}
	if !in.registered {
		unit["purchase_date"] = benchToday(-400)
	}
	body, _ := json.Marshal(map[string]any{"channel": "hotline", "type": "repair",
		"contact":          map[string]any{"name": "客户", "phone": in.phone},
		"address":          map[string]any{"region_code": f.region, "line": "人民路 8 号 2 单元 301"},
		"unit":             unit,
		"fault":            map[string]any{"symptom": "洗衣机不脱水", "codes": []string{"E21"}, "customer_request": "上门维修"},
		"preferred_window": f.window})
	return body
}

// open posts the intake and requires a 201 with the ticket new (its four
// SLA deadlines running); it returns the ticket's ID.
func (f *ticketFixture) open(client *http.Client, in intake) (string, error) {
	req, err := http.NewRequest(http.MethodPost, f.env.Server.URL+"/v1/tickets", bytes.NewReader(f.body(in)))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.agent)
	req.Header.Set("Idempotency-Key", "bench-tkt-"+runID+"-"+in.serial)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("POST /v1/tickets: status %d, want 201: %s", resp.StatusCode, got)
	}
	if !bytes.Contains(got, []byte(`"state":"new"`)) {
		return "", fmt.Errorf("POST /v1/tickets: the intake is not new: %s", got)
	}
	id, _, _ := strings.Cut(resp.Header.Get("Location")[len("/v1/tickets/"):], "/")
	return id, nil
}

// last is xs's last value, 0 when empty.
func last(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)-1]
}

func (f *ticketFixture) get(client *http.Client, id string) error {
	req, err := http.NewRequest(http.MethodGet, f.env.Server.URL+"/v1/tickets/"+id, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+f.agent)
	return expect(client, req, http.StatusOK)
}

// BenchmarkTickets measures service-ticket intake and reads through the real
// HTTP stack against a tenant seeded like the demo brand. Every intake is
// complete (a washer model and serial, a known region, a symptom), so the
// ticket is new with its four SLA deadlines running: half call from the
// phone of a customer who owns an already registered serial, half from a
// new phone with a new serial and its purchase date (customer and unit
// created at intake). Phones, serials and Idempotency-Keys never repeat.
//
//   - raw_pgx_insert, open_ticket and ratio are measured together, in
//     interleaved rounds (at least 3, up to 9, while the rounds have
//     taken under a minute): each round a batch of 4,000 raw inserts (the
//     same baseline as BenchmarkWriteThroughput: BEGIN; one row into
//     bench_writes; COMMIT, 16 connections, 16 clients) and a batch of 300
//     intakes (POST /v1/tickets by a hotline agent key with an
//     Idempotency-Key, 16 clients: customer by phone, unit by model and
//     serial, ticket number, ticket (its four deadlines and their next
//     check on its row, migration 049), timeline, event and the
//     ticket-received notice in one transaction; every response must be
//     201 and new),
//     raw first in odd rounds, intake first in even ones. A single run's
//     ratio swings with the machine's other load (0.030-0.048 on the
//     shared 2-core machine); each round gives a ratio, and the medians
//     are reported: raw_pgx_insert tx/s, open_ticket tickets/s,
//     ratio "intake/raw" (issue 11's target ≥ 0.15; the product's goal
//     0.40). Also reported: the CPU time per operation of this process
//     (server and load generator) and of the database (when it runs on
//     this machine), which other work on a shared machine hardly changes,
//     and "cpu-raw/intake", the ratio CPU alone would allow.
//   - get_ticket_open_loop: GET /v1/tickets/{id} at 200 requests/s for 10 s
//     (open loop, latency from when the request was due) over 200 new
//     tickets; p50-ms, p99-ms (goal ≤ 10 ms) and errors.
//   - open_ticket_open_loop: POST /v1/tickets at 200 requests/s for 10 s;
//     p50-ms, p99-ms (goal ≤ 30 ms) and errors.
//
// Each open-loop run is preceded by one second at the rate, untimed. Errors
// fail the benchmark; timings are only reported.
func BenchmarkTickets(b *testing.B) {
	ctx := context.Background()
	env := newEnv(b)
	f := newTicketFixture(b, env, "bench-tickets-"+runID)
	applyAuditSwitch(b, env) // SERVICENET_BENCH_AUDIT=off: intake without the audit log

	_, err := env.DB.Owner.Exec(ctx, benchTable)
	require.NoError(b, err)
	raw, err := pg.Connect(ctx, env.DB.AppURL, pg.PoolOptions{Name: "bench-raw", MaxConns: clients})
	require.NoError(b, err)
	b.Cleanup(raw.Close)
	warmPool(b, raw)
	client := newClient(b)
	warmHTTP(b, client, env.Server.URL+"/v1/me", f.agent)

	// The tickets the GETs read, opened through the API (which also warms
	// the intake path).
	readIDs := make([]string, ticketReadPool)
	warm := f.intakes(b, ticketReadPool)
	runBatch(b, ticketReadPool, func(_, i int) error {
		id, err := f.open(client, warm[i])
		readIDs[i] = id
		return err
	})

	analyze(b, env)

	// Interleaved rounds: a raw batch and an intake batch each, in
	// alternating order, so that the shared machine's swings fall on both;
	// the medians are reported.
	meter := newCPUMeter(ctx, env.DB.Owner)
	const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	roles := []string{"dispatcher"}
	rawOp := func(int, int) error {
		tx, err := raw.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
		id := "tkt_" + runID + strconv.FormatUint(seqs.Add(1), 10)
		if _, err := tx.Exec(ctx, `INSERT INTO bench_writes (tenant_id, id, name, prefix, secret_hash, live, roles, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			f.tenant.ID, id, "bench ticket", "sn_live_Ab3dE9", hash, true, roles, f.tenant.AdminID); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	type side struct {
		rates, cpuMs []float64
		selfMs, dbMs []float64
		idle         []float64 // the machine's idle share during each batch
	}
	var rawSide, intakeSide side
	var ratios, cpuRatios []float64
	// timed runs n operations and records their rate and CPU per operation.
	timed := func(s *side, n int, op func(int, int) error) (rate, cpuMs float64) {
		self0, db0 := meter.read()
		idle0, total0 := machineIdle()
		start := time.Now()
		runBatch(b, n, op)
		rate = float64(n) / time.Since(start).Seconds()
		self1, db1 := meter.read()
		idle1, total1 := machineIdle()
		if total1 > total0 {
			s.idle = append(s.idle, float64(idle1-idle0)/float64(total1-total0))
		}
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
		cpuMs = per(self1 - self0 + db1 - db0)
		s.rates, s.cpuMs = append(s.rates, rate), append(s.cpuMs, cpuMs)
		s.selfMs, s.dbMs = append(s.selfMs, per(self1-self0)), append(s.dbMs, per(db1-db0))
		return rate, cpuMs
	}
	began := time.Now()
	for round := 0; round < ticketMaxRounds && (round < ticketMinRounds || time.Since(began) < ticketRoundsTime); round++ {
		ins := f.intakes(b, ticketIntakeBatch)
		intake := func(_, i int) error { _, err := f.open(client, ins[i]); return err }
		var rr, rc, ir, ic float64
		if round%2 == 0 {
			rr, rc = timed(&rawSide, ticketRawBatch, rawOp)
			ir, ic = timed(&intakeSide, ticketIntakeBatch, intake)
		} else {
			ir, ic = timed(&intakeSide, ticketIntakeBatch, intake)
			rr, rc = timed(&rawSide, ticketRawBatch, rawOp)
		}
		ratios = append(ratios, ir/rr)
		if ic > 0 {
			cpuRatios = append(cpuRatios, rc/ic)
		}
		fmt.Printf("tickets: round %d: raw_pgx=%.0f tx/s intake=%.0f tickets/s ratio=%.3f; CPU per op raw %.3f ms, intake %.2f ms; machine idle raw %.0f %%, intake %.0f %%\n",
			round+1, rr, ir, ir/rr, rc, ic, 100*last(rawSide.idle), 100*last(intakeSide.idle))
	}
	rounds := len(ratios)
	lo, hi := slices.Min(ratios), slices.Max(ratios)
	rawRate, intakeRate, ratio := median(rawSide.rates), median(intakeSide.rates), median(ratios)
	b.Run("raw_pgx_insert", func(b *testing.B) {
		b.ReportMetric(0, "ns/op") // measured in the rounds above
		b.ReportMetric(rawRate, "tx/s")
		b.ReportMetric(median(rawSide.cpuMs), "cpu-ms/op")
	})
	b.Run("open_ticket", func(b *testing.B) {
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(intakeRate, "tickets/s")
		b.ReportMetric(median(intakeSide.selfMs), "proc-cpu-ms/op")
		if meter.postmaster != 0 {
			b.ReportMetric(median(intakeSide.dbMs), "db-cpu-ms/op")
		}
	})
	b.Run("ratio", func(b *testing.B) {
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(ratio, "intake/raw")
		if len(cpuRatios) > 0 {
			b.ReportMetric(median(cpuRatios), "cpu-raw/intake")
		}
	})
	fmt.Printf("tickets: CPU per intake (median): %.2f ms in this process (server and load generator), %.2f ms in the database (0: not visible)\n",
		median(intakeSide.selfMs), median(intakeSide.dbMs))
	fmt.Printf("tickets: raw_pgx=%.0f tx/s intake=%.0f tickets/s ratio=%.3f (median of %d interleaved rounds, range %.3f-%.3f; %d clients)\n",
		rawRate, intakeRate, ratio, rounds, lo, hi, clients)
	if len(cpuRatios) > 0 {
		// What the ratio would be if CPU were the only limit: less
		// sensitive to other work on the machine than the rates.
		fmt.Printf("tickets: CPU per operation (median): raw %.3f ms, intake %.2f ms, ratio=%.3f\n",
			median(rawSide.cpuMs), median(intakeSide.cpuMs), median(cpuRatios))
	}

	var loop openLoopResult
	b.Run("get_ticket_open_loop", func(b *testing.B) {
		b.StopTimer()
		send := func(i int) error { return f.get(client, readIDs[i%len(readIDs)]) }
		openLoop(ticketWarmSeconds*ticketRate, ticketRate, send)
		b.StartTimer()
		r := openLoop(ticketLoopSeconds*ticketRate*b.N, ticketRate, send)
		b.StopTimer()
		r.report(b, "tickets: GET /v1/tickets/{id}")
	})

	b.Run("open_ticket_open_loop", func(b *testing.B) {
		b.StopTimer()
		warm := f.intakes(b, ticketWarmSeconds*ticketRate)
		ins := f.intakes(b, ticketLoopSeconds*ticketRate*b.N)
		openLoop(len(warm), ticketRate, func(i int) error { _, err := f.open(client, warm[i]); return err })
		b.StartTimer()
		r := openLoop(len(ins), ticketRate, func(i int) error { _, err := f.open(client, ins[i]); return err })
		b.StopTimer()
		r.report(b, "tickets: POST /v1/tickets")
		loop = r
	})
	if loop.latencies != nil {
		// The figures issue 11 asks for, together.
		fmt.Printf("tickets: summary: raw insert %.0f tx/s; intake %.0f tickets/s = %.1f %% of raw (goal ≥ 15 %%, product goal 40 %%); "+
			"intake at %d req/s open loop: p50 %.1f ms, p99 %.1f ms (goal ≤ 30 ms), %d errors\n",
			rawRate, intakeRate, 100*ratio, loop.rate, loop.pct(0.50), loop.pct(0.99), loop.errors)
	}
}
