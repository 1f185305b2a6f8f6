package bench

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// The floor of an operation's database work: the rows it writes, and
// nothing else. A captured transaction (every row whose xmin is its
// transaction ID, in every table but audit_log, which the triggers
// refill) is replayed as prepared INSERTs of the same rows, as the
// application role, into the same tables with their triggers, indexes,
// checks, foreign keys and row-level security, in one transaction (BEGIN
// and the tenant scope; one pipelined batch of the inserts; COMMIT). IDs
// get fresh values (the same mapping throughout one replay, so foreign
// keys between the rows still hold) and the other values of unique keys a
// fresh tail of the same shape. No read, no function, no Go beyond
// sending: what is left between an operation and this floor is what the
// application does besides writing its rows.

// replayTable is a table's rows of one captured transaction: the columns
// that take a value on insert (not generated, not an identity always
// generated, no sequence or transaction-ID default), their types, which
// of them belong to a unique key, and the rows as text (nil: NULL).
type replayTable struct {
	name   string
	cols   []string
	types  []string
	unique []bool
	rows   [][]*string
	sql    string
}

// replayTx is a captured transaction's rows, table by table in the order
// they are inserted (a referenced table before the tables that reference
// it: customers, units, tickets …).
type replayTx struct {
	tables []*replayTable
	rows   int
	// created are the IDs of the rows the transaction created (its rows'
	// id columns): a replay gives each a fresh ID, wherever it appears.
	created map[string]bool
}

// captureTx reads the rows tenantID's transaction txid (an xid8, as
// events.txid stores it) left in every table.
func captureTx(ctx context.Context, owner *pgxpool.Pool, tenantID, txid string) (replayTx, error) {
	x, err := strconv.ParseUint(txid, 10, 64)
	if err != nil {
		return replayTx{}, err
	}
	xid := strconv.FormatUint(x%(1<<32), 10)
	out := replayTx{created: map[string]bool{}}
	err = pg.InTenantTx(ctx, owner, tenantID, func(tx pg.TenantTx) error {
		// Tables in foreign-key order: a table after those it references.
		rows, err := tx.Query(ctx, `
			WITH RECURSIVE t AS (
				SELECT c.oid, c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
				WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'audit_log'
			), d AS (
				SELECT t.oid, 0 AS depth FROM t
				UNION ALL
				SELECT k.conrelid, d.depth + 1 FROM d JOIN pg_constraint k ON k.confrelid = d.oid AND k.contype = 'f'
				WHERE k.conrelid <> k.confrelid AND d.depth < 20
			)
			SELECT t.name FROM t JOIN d USING (oid) GROUP BY t.name ORDER BY max(d.depth), t.name`)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, name := range names {
			t := &replayTable{name: name}
			rows, err := tx.Query(ctx, `
				SELECT a.attname::text, format_type(coalesce(nullif(ty.typbasetype, 0), a.atttypid), a.atttypmod),
				       EXISTS (SELECT FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique AND a.attnum = ANY (i.indkey))
				FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid -- a domain's base type
				LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
				WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
				  AND a.attgenerated = '' AND a.attidentity <> 'a'
				  AND coalesce(pg_get_expr(d.adbin, d.adrelid), '') NOT LIKE 'nextval(%'
				  AND coalesce(pg_get_expr(d.adbin, d.adrelid), '') NOT LIKE 'pg_current_xact_id()%'
				ORDER BY a.attnum`, pgx.Identifier{name}.Sanitize())
			if err != nil {
				return err
			}
			for rows.Next() {
				var c, typ string
				var u bool
				if err := rows.Scan(&c, &typ, &u); err != nil {
					return err
				}
				t.cols, t.types, t.unique = append(t.cols, c), append(t.types, typ), append(t.unique, u && c != "tenant_id" && c != "livemode")
			}
			if err := rows.Err(); err != nil {
				return err
			}
			sel := make([]string, len(t.cols))
			ins := make([]string, len(t.cols))
			for i, c := range t.cols {
				sel[i] = pgx.Identifier{c}.Sanitize() + "::text"
				ins[i] = fmt.Sprintf("$%d::text::%s", i+1, t.types[i])
			}
			rows, err = tx.Query(ctx, `SELECT `+strings.Join(sel, ", ")+` FROM `+pgx.Identifier{name}.Sanitize()+
				` WHERE xmin::text = $1`, xid)
			if err != nil {
				return err
			}
			for rows.Next() {
				vals := make([]*string, len(t.cols))
				ptrs := make([]any, len(t.cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					return err
				}
				t.rows = append(t.rows, vals)
				if i := slices.Index(t.cols, "id"); i >= 0 && vals[i] != nil && idShape.MatchString(*vals[i]) {
					out.created[*vals[i]] = true
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
			if len(t.rows) == 0 {
				continue
			}
			quoted := make([]string, len(t.cols))
			for i, c := range t.cols {
				quoted[i] = pgx.Identifier{c}.Sanitize()
			}
			t.sql = `INSERT INTO ` + pgx.Identifier{name}.Sanitize() + ` (` + strings.Join(quoted, ", ") + `) VALUES (` + strings.Join(ins, ", ") + `)`
			out.tables = append(out.tables, t)
			out.rows += len(t.rows)
		}
		return nil
	})
	return out, err
}

// String lists the captured rows per table.
func (r replayTx) String() string {
	var parts []string
	for _, t := range r.tables {
		parts = append(parts, fmt.Sprintf("%s %d", t.name, len(t.rows)))
	}
	return fmt.Sprintf("%d rows (%s)", r.rows, strings.Join(parts, ", "))
}

var idShape = regexp.MustCompile(`^([a-z]{2,6})_[0-9a-z]{26}$`)

// uniqueTail makes the text values of unique keys fresh (numbers, such
// as a claim's version, are kept: a created ID beside them keeps the key
// unique): a random base per
// benchmark binary plus a counter, written into a value's last 8
// characters in their own classes (digit, upper or lower case letter;
// anything else is kept), so the value keeps its shape and its checks.
var uniqueTail = func() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) % (1 << 40)
}()

func freshTail(v string, n uint64) string {
	r := []rune(v)
	for i := len(r) - 1; i >= 0 && i >= len(r)-8; i-- {
		switch c := r[i]; {
		case c >= '0' && c <= '9':
			r[i] = rune('0' + n%10)
			n /= 10
		case c >= 'A' && c <= 'Z':
			r[i] = rune('A' + n%26)
			n /= 26
		case c >= 'a' && c <= 'z':
			r[i] = rune('a' + n%26)
			n /= 26
		}
	}
	return string(r)
}

// queue queues one replay of r into b, with fresh IDs for the rows it
// creates and fresh unique values (n numbers the replay).
func (r replayTx) queue(b *pgx.Batch, n uint64) {
	ids := map[string]string{}
	for _, t := range r.tables {
		for _, row := range t.rows {
			args := make([]any, len(row))
			for i, v := range row {
				if v == nil {
					continue
				}
				s := *v
				switch m := idShape.FindStringSubmatch(s); {
				case m != nil && r.created[s]:
					if ids[s] == "" {
						ids[s] = tenants.NewID(m[1])
					}
					s = ids[s]
				case m != nil: // another row's ID: kept
				case t.unique[i] && t.types[i] == "bytea":
					var raw [32]byte
					_, _ = rand.Read(raw[:])
					s = `\x` + hex.EncodeToString(raw[:])[:max(0, len(s)-2)]
				case t.unique[i] && (t.types[i] == "text" || strings.HasPrefix(t.types[i], "character varying")):
					s = freshTail(s, uniqueTail+n)
				}
				args[i] = s
			}
			b.Queue(t.sql, args...)
		}
	}
}

// replayGroup writes group replays of templates (in turn, numbered from
// the shared sequence) for tenantID as one transaction on pool (the
// application role): BEGIN and the scope, the inserts in one batch,
// COMMIT. A group of 1 is the operation's own transaction; a larger one
// is what the rows would cost if the application committed concurrent
// operations together (group commit), each statement still one row.
//
// The fresh values of unique keys come from a random base (uniqueTail),
// so a replay's may, rarely, equal a row the capture's own operations
// wrote (a ticket number SN-<date>-<sequence> keeps only 7 digits to
// freshen): such a replay is rolled back and replayed with the next
// numbers, up to 3 times.
func replayGroup(ctx context.Context, pool *pgxpool.Pool, tenantID string, templates []replayTx, group int) error {
	var err error
	for range 3 {
		err = pg.InTenantTx(ctx, pool, tenantID, func(tx pg.TenantTx) error {
			b := &pgx.Batch{}
			for range group {
				n := seqs.Add(1)
				templates[n%uint64(len(templates))].queue(b, n)
			}
			return tx.SendBatch(ctx, b).Close()
		})
		if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != pgerrcode.UniqueViolation {
			return err
		}
	}
	return err
}

// captureLatest captures the transaction that appended the tenant's
// latest event of type typ.
func captureLatest(b *testing.B, ctx context.Context, owner *pgxpool.Pool, tenantID, typ string) replayTx {
	b.Helper()
	var txid string
	require.NoError(b, pg.InTenantTx(ctx, owner, tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT txid::text FROM events WHERE tenant_id = $1 AND type = $2 ORDER BY seq DESC LIMIT 1`,
			tx.TenantID, typ).Scan(&txid)
	}))
	r, err := captureTx(ctx, owner, tenantID, txid)
	require.NoError(b, err)
	require.NotZero(b, r.rows)
	return r
}

// floorResult is what a floor run measured: the replay's and the raw
// insert's rates (medians of interleaved rounds) and the database CPU
// per transaction of each at one client.
type floorResult struct {
	replayRate, rawRate float64
	replayCPU, rawCPU   float64 // ms of database CPU per transaction, one client
	replaySelf, rawSelf float64 // ms of this process's CPU per transaction, one client
	replayWAL, rawWAL   int64   // WAL bytes per transaction
	rounds              int
}

// measureFloor replays templates (in turn, group of them per transaction,
// see replayGroup) against the raw single-row insert: first at one client
// for the CPU per replay (database and this process), then in interleaved
// rounds at 16 clients for the rates.
func measureFloor(b *testing.B, ctx context.Context, owner, app *pgxpool.Pool, tenantID, adminID string, templates []replayTx, group int) floorResult {
	b.Helper()
	const hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	roles := []string{"dispatcher"}
	_, err := owner.Exec(ctx, benchTable)
	require.NoError(b, err)
	rawOp := func() error {
		tx, err := app.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
		if _, err := tx.Exec(ctx, `INSERT INTO bench_writes (tenant_id, id, name, prefix, secret_hash, live, roles, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			tenantID, "flr_"+runID+strconv.FormatUint(seqs.Add(1), 10), "bench key", "sn_live_Ab3dE9", hash, true, roles, adminID); err != nil {
			return err
		}
		return tx.Commit(ctx)
	}
	replayOp := func() error { return replayGroup(ctx, app, tenantID, templates, group) }
	// Warm: every statement prepared on every connection.
	runBatch(b, 8*clients, func(int, int) error { return replayOp() })
	runBatch(b, 8*clients, func(int, int) error { return rawOp() })

	var out floorResult
	meter := newCPUMeter(ctx, owner)
	wal := func() int64 {
		var lsn int64
		require.NoError(b, owner.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn() - '0/0'`).Scan(&lsn))
		return lsn
	}
	// perOp runs n operations at one client and returns this process's
	// and the database's CPU and the WAL bytes per operation.
	perOp := func(n int, op func() error) (self, db float64, walBytes int64) {
		w0 := wal()
		s0, d0 := meter.read()
		for range n {
			require.NoError(b, op())
		}
		s1, d1 := meter.read()
		return float64((s1 - s0).Microseconds()) / 1000 / float64(n), float64((d1 - d0).Microseconds()) / 1000 / float64(n),
			(wal() - w0) / int64(n)
	}
	// perReplay is perOp of n transactions of replays, per replay.
	perReplay := func(n int) (self, db float64, walBytes int64) {
		self, db, walBytes = perOp(n, replayOp)
		return self / float64(group), db / float64(group), walBytes / int64(group)
	}
	su := pgssPool(b)
	if su != nil {
		require.NoError(b, pgssReset(ctx, su))
	}
	// CPU time still moves with the machine's other load (caches, the
	// other hyperthread): the least of 5 alternating runs of each is
	// reported. WAL bytes do not move.
	out.replaySelf, out.replayCPU, out.rawSelf, out.rawCPU = math.Inf(1), math.Inf(1), math.Inf(1), math.Inf(1)
	const replayN, rawN = 100, 500
	for range 5 {
		self, db, w := perReplay(replayN)
		out.replaySelf, out.replayCPU, out.replayWAL = min(out.replaySelf, self), min(out.replayCPU, db), w
		self, db, w = perOp(rawN, rawOp)
		out.rawSelf, out.rawCPU, out.rawWAL = min(out.rawSelf, self), min(out.rawCPU, db), w
	}
	if su != nil {
		var db string
		require.NoError(b, owner.QueryRow(ctx, `SELECT current_database()`).Scan(&db))
		stmts, err := pgssRows(ctx, su, db)
		require.NoError(b, err)
		printStatements("floor replay (and raw inserts)", 5*replayN, stmts)
	}

	if os.Getenv("SERVICENET_BENCH_FLOOR_RATES") == "off" {
		return out // the CPU per transaction only
	}
	var replays, raws []float64
	deadline := time.Now().Add(40 * time.Second)
	for r := 0; r < 3 || (r < 7 && time.Now().Before(deadline)); r++ {
		rep := func() {
			replays = append(replays, float64(group)*runBatch(b, max(1, 1000/group), func(int, int) error { return replayOp() }))
		}
		raw := func() { raws = append(raws, runBatch(b, 3000, func(int, int) error { return rawOp() })) }
		if r%2 == 0 {
			raw()
			rep()
		} else {
			rep()
			raw()
		}
		out.rounds++
	}
	out.replayRate, out.rawRate = median(replays), median(raws)
	return out
}

// report prints and reports a floor run for what (intake, claim).
func (r floorResult) report(b *testing.B, what string, templates []replayTx) {
	b.ReportMetric(0, "ns/op")
	if r.rounds > 0 { // no rates with SERVICENET_BENCH_FLOOR_RATES=off
		b.ReportMetric(r.replayRate, "replay-tx/s")
		b.ReportMetric(r.rawRate, "raw-tx/s")
		b.ReportMetric(r.replayRate/r.rawRate, "replay/raw")
	}
	b.ReportMetric(r.replayCPU, "replay-db-cpu-ms")
	b.ReportMetric(r.rawCPU, "raw-db-cpu-ms")
	for i, t := range templates {
		fmt.Printf("%s floor: template %d: %s\n", what, i+1, t)
	}
	if r.rounds > 0 {
		fmt.Printf("%s floor: replay of its rows %.0f tx/s, raw insert %.0f tx/s: ceiling %.3f of raw (16 clients, median of %d interleaved rounds)\n",
			what, r.replayRate, r.rawRate, r.replayRate/r.rawRate, r.rounds)
	}
	fmt.Printf("%s floor: WAL per transaction: replay %d bytes, raw insert %d bytes\n", what, r.replayWAL, r.rawWAL)
	b.ReportMetric(float64(r.replayWAL), "replay-wal-B")
	if r.rawCPU > 0 {
		fmt.Printf("%s floor: CPU per transaction at one client (least of 5 runs): replay database %.3f ms + process %.3f ms; raw insert database %.3f ms + process %.3f ms: CPU ceiling %.3f of raw\n",
			what, r.replayCPU, r.replaySelf, r.rawCPU, r.rawSelf, (r.rawCPU+r.rawSelf)/(r.replayCPU+r.replaySelf))
	}
}

// BenchmarkIntakeFloor measures the floor under an intake (see replayTx):
// the rows of two captured intakes (POST /v1/tickets as BenchmarkTickets
// sends them: a known caller's registered serial, and a new caller with a
// new serial, whose customer, phone and unit are created) replayed in
// turn, beside the raw single-row insert of BenchmarkTickets. Reported:
// the replay's and the raw insert's tx/s at 16 clients (medians of
// interleaved rounds) and their ratio, the ceiling of intake/raw if the
// application cost nothing but its rows; and the database CPU per
// transaction of each at one client. River only inserts (APIOnly): the
// replayed jobs are not worked. What a kind of row costs is measured by
// leaving it out (SERVICENET_BENCH_FLOOR_SKIP, see replayTx.without) or
// by a schema variant (SERVICENET_BENCH_FLOOR_SQL, e.g. the audit
// triggers disabled); SERVICENET_BENCH_FLOOR_GROUP=n commits n replays
// per transaction (see replayGroup); SERVICENET_BENCH_FLOOR_RATES=off
// measures the CPU per transaction only. Unless rows are left out by
// SERVICENET_BENCH_FLOOR_SKIP, it measures the floor twice: all_rows, the
// intake's rows, and core_rows, those of intakeBeyondCore left out.
func BenchmarkIntakeFloor(b *testing.B) {
	ctx := context.Background()
	env := newEnvWith(b, apitest.Options{APIOnly: true})
	f := newTicketFixture(b, env, "bench-floor-"+runID)
	client := newClient(b)
	warmHTTP(b, client, env.Server.URL+"/v1/me", f.agent)
	warm := f.intakes(b, 2*clients)
	runBatch(b, len(warm), func(_, i int) error { _, err := f.open(client, warm[i]); return err })
	var templates []replayTx
	for _, in := range f.intakes(b, 2) {
		_, err := f.open(client, in)
		require.NoError(b, err)
		templates = append(templates, captureLatest(b, ctx, env.DB.Owner, f.tenant.ID, "ticket.opened"))
	}
	if skip := floorSkip(); skip != nil {
		runFloor(b, ctx, env, f.tenant, "intake", templates, skip)
		return
	}
	b.Run("all_rows", func(b *testing.B) { runFloor(b, ctx, env, f.tenant, "intake", templates, nil) })
	b.Run("core_rows", func(b *testing.B) { runFloor(b, ctx, env, f.tenant, "intake core", templates, intakeBeyondCore) })
}

// intakeBeyondCore are the rows of an intake that a write model could
// derive after the commit instead of writing them in the intake's
// transaction: its events (the outbox; logical decoding of the ticket's
// row could stand in), its timeline entries and the customer's
// notification. What is left, the core, no write model can leave out:
// the ticket, its idempotency record (exactly once) and, for a new
// caller, the customer, the phone and the unit the ticket references,
// with their audit rows. Its floor bounds what any intake can reach on
// the machine, whatever else it moved out of the request.
var intakeBeyondCore = []string{"events", "ticket_timeline", "notifications"}

// BenchmarkClaimFloor is BenchmarkIntakeFloor for a claim submission
// (POST /v1/claims as BenchmarkClaims sends it).
func BenchmarkClaimFloor(b *testing.B) {
	ctx := context.Background()
	env := newEnvWith(b, apitest.Options{APIOnly: true})
	f := newClaimFixture(b, env, "bench-claim-floor-"+runID, 8)
	client := newClient(b)
	warmHTTP(b, client, env.Server.URL+"/v1/me", f.tenant.AdminKey)
	url := env.Server.URL + "/v1/claims"
	for range 2 * clients {
		require.NoError(b, f.submit(client, url, seqs.Add(1)))
	}
	require.NoError(b, f.submit(client, url, seqs.Add(1)))
	templates := []replayTx{captureLatest(b, ctx, env.DB.Owner, f.tenant.ID, "claim.submitted")}
	runFloor(b, ctx, env, f.tenant, "claim", templates, floorSkip())
}

// runFloor measures and reports the floor of templates, captured from
// ten's operations (what: intake, claim), less the rows skip names (see
// replayTx.without), through an application-role pool of its own, after
// the variant SQL if any.
func runFloor(b *testing.B, ctx context.Context, env *apitest.Env, ten apitest.Tenant, what string, templates []replayTx, skip []string) {
	b.Helper()
	app, err := pg.Connect(ctx, env.DB.AppURL, pg.PoolOptions{Name: "bench-floor", MaxConns: clients})
	require.NoError(b, err)
	b.Cleanup(app.Close)
	floorVariant(b, ctx, env.DB.Owner)
	if skip != nil {
		kept := make([]replayTx, len(templates))
		for i, t := range templates {
			kept[i] = t.without(skip)
		}
		templates = kept
		fmt.Printf("%s floor: rows left out: %s\n", what, strings.Join(skip, ","))
	}
	group := floorGroup()
	if group > 1 {
		fmt.Printf("floor variant: %d replays per transaction; rates, CPU and WAL are per replay\n", group)
	}
	measureFloor(b, ctx, env.DB.Owner, app, ten.ID, ten.AdminID, templates, group).report(b, what, templates)
}

// without is r less the rows skip names, each a table ("notifications":
// all its rows) or a table's rows with a column's value
// ("events.type=notification.requested"): what an operation would write
// without them, for measuring what a row the product writes costs.
func (r replayTx) without(skip []string) replayTx {
	out := replayTx{created: r.created}
	for _, t := range r.tables {
		kept := *t
		kept.rows = nil
		for _, row := range t.rows {
			if !skipped(t, row, skip) {
				kept.rows = append(kept.rows, row)
			}
		}
		if len(kept.rows) > 0 {
			out.tables = append(out.tables, &kept)
			out.rows += len(kept.rows)
		}
	}
	return out
}

func skipped(t *replayTable, row []*string, skip []string) bool {
	for _, s := range skip {
		table, cond, _ := strings.Cut(s, ".")
		if table != t.name {
			continue
		}
		col, val, ok := strings.Cut(cond, "=")
		if !ok {
			return true // the whole table
		}
		if i := slices.Index(t.cols, col); i >= 0 && row[i] != nil && *row[i] == val {
			return true
		}
	}
	return false
}

// floorSkip is SERVICENET_BENCH_FLOOR_SKIP, the rows to leave out of a
// floor (comma-separated, see replayTx.without); nil unless set.
func floorSkip() []string {
	if v := os.Getenv("SERVICENET_BENCH_FLOOR_SKIP"); v != "" {
		return strings.Split(v, ",")
	}
	return nil
}

// floorGroup is SERVICENET_BENCH_FLOOR_GROUP: how many replays share a
// transaction (1 unless set; see replayGroup).
func floorGroup() int {
	if g, err := strconv.Atoi(os.Getenv("SERVICENET_BENCH_FLOOR_GROUP")); err == nil && g > 1 {
		return g
	}
	return 1
}

// floorVariant runs SERVICENET_BENCH_FLOOR_SQL, when set, as the owner
// after the capture and before the replays: a schema variant (an index
// dropped, a trigger disabled) measured against the same rows.
func floorVariant(b *testing.B, ctx context.Context, owner *pgxpool.Pool) {
	b.Helper()
	if q := os.Getenv("SERVICENET_BENCH_FLOOR_SQL"); q != "" {
		_, err := owner.Exec(ctx, q)
		require.NoError(b, err)
		fmt.Printf("floor variant: %s\n", q)
	}
}
