package network

// Running an import: streamed, in batches, checkpointed.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// errImportDone stops a run that finds its import finished.
var errImportDone = errors.New("network: import already finished")

// errImportMoved stops a batch whose import another run of it (a rescued
// job's copy, the seed command) moved on: the batch is not applied, and the
// run carries on from the new checkpoint, so RunImport returns only when the
// import has finished, whichever run finished it.
var errImportMoved = errors.New("network: import moved on by another run")

// The phases of a run. Each reads the stored file once, row by row, and
// handles its own rows in batches.
const (
	// phaseIndex records the first row of each external code per row type,
	// and each node row's tier (network_import_codes).
	phaseIndex = 0
	// Phases 1 to 4 write the node rows of tier rank 1 to 4 (manufacturer
	// first: a parent is always of a higher tier, so every parent was
	// written by an earlier phase). Phase 1 also fails the rows of an
	// unknown tier.
	phaseTechnicians = 5
	phaseFinish      = 6
)

// importBatch is how many rows of a phase one transaction handles: their
// effects, events, per-row errors, the running counts and the checkpoint
// commit together, so a batch happens exactly once.
const importBatch = importChunk

// RunImport runs an import (the network_import job calls it). It is
// idempotent and resumable: an import already finished is returned as it
// is, and an unfinished one carries on from its checkpoint.
//
// The stored file is read as a stream, once per phase (phaseIndex, node rows
// tier by tier, technician rows), holding one batch of rows at a time: the
// memory a run needs does not grow with the file. Each batch commits in its
// own transaction with the checkpoint (phase and the last file line it
// handled), which the next batch checks under a row lock: a run stopped
// anywhere (SIGTERM past the grace, a crash) rolls back only its current
// batch, and the next run skips what was committed. Rows are upserts keyed on
// external codes that leave identical rows untouched, so even a batch run
// twice would change nothing the second time. Bad rows become per-row errors
// and the good ones land.
func (s *Service) RunImport(ctx context.Context, tenantID, importID string) (Import, error) {
	var (
		im      Import
		file    []byte // set only for imports uploaded before migration 020
		charset string
	)
	for {
		err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
			var err error
			if im, err = getImport(ctx, tx, importID); err != nil || im.State.Finished() {
				return err
			}
			// A first run starts the count; a resumed one keeps its
			// checkpoint, counts and start time. Another run's batch may hold
			// the row: NOWAIT, and this run waits for it below.
			return tx.QueryRow(ctx, `WITH held AS (SELECT id FROM network_imports WHERE tenant_id = $1 AND id = $2 FOR UPDATE NOWAIT)
				UPDATE network_imports SET state = 'running', started_at = coalesce(started_at, now()),
					heartbeat_at = now(),
					processed_rows = CASE WHEN phase = 0 THEN 0 ELSE processed_rows END,
					counts = CASE WHEN phase = 0 THEN '{}' ELSE counts END
				WHERE tenant_id = $1 AND id = (SELECT id FROM held) RETURNING file, charset`, tx.TenantID, importID).Scan(&file, &charset)
		})
		if !heldByAnotherRun(err) {
			if err != nil {
				return Import{}, pg.Translate(err)
			}
			break
		}
		if err := waitForAnotherRun(ctx); err != nil {
			return Import{}, err
		}
	}
	if im.State.Finished() {
		return s.loadImport(ctx, tenantID, importID)
	}
	r := &impRun{s: s, tenantID: tenantID, importID: importID, actor: im.CreatedBy, format: im.Format,
		charset: charset, file: file}
	for {
		err := r.run(ctx)
		if errors.Is(err, errImportMoved) {
			// Let the other run have the next batches; resume after it.
			if err := waitForAnotherRun(ctx); err != nil {
				return Import{}, err
			}
			continue
		}
		if err != nil && !errors.Is(err, errImportDone) {
			return Import{}, err
		}
		break
	}
	return s.loadImport(ctx, tenantID, importID)
}

// heldByAnotherRun reports whether err is a NOWAIT lock of the import's row
// that another run's batch holds (the job beside the seed command, a rescued
// job beside a slow one). That run moves the import on; this one waits for
// it in its own time, never behind the lock, where a batch longer than the
// pool's lock_timeout (a loaded machine) would fail it.
func heldByAnotherRun(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == pgerrcode.LockNotAvailable
}

// waitForAnotherRun lets another run have the import's next batch.
func waitForAnotherRun(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(200 * time.Millisecond):
		return nil
	}
}

// impRun is one run of an import.
type impRun struct {
	s                  *Service
	tenantID, importID string
	actor              string
	format, charset    string
	file               []byte
	today              string

	// Per batch.
	counts ImportCounts
	paths  map[string]string // node id -> ltree path, for the nodes written
}

func (r *impRun) run(ctx context.Context) error {
	for {
		var (
			state  ImportState
			phase  int
			from   int
			phases int
		)
		err := pg.InTenantTx(ctx, r.s.DB, r.tenantID, func(tx pg.TenantTx) error {
			if err := tx.QueryRow(ctx, `SELECT state, phase, phase_row, phases FROM network_imports WHERE tenant_id = $1 AND id = $2`,
				tx.TenantID, r.importID).Scan(&state, &phase, &from, &phases); err != nil {
				return err
			}
			if r.today == "" {
				var err error
				r.today, err = tenantToday(ctx, tx, r.s.now())
				return err
			}
			return nil
		})
		if err != nil {
			return err
		}
		if state.Finished() {
			return errImportDone
		}
		if phase == phaseFinish {
			return r.finish(ctx)
		}
		if err := r.pass(ctx, phase, from, phase == phaseIndex || phases&(1<<phase) != 0); err != nil {
			return err
		}
	}
}

// reader opens the stored file from its start.
func (r *impRun) reader(ctx context.Context) io.Reader {
	if r.file != nil {
		return bytes.NewReader(r.file)
	}
	return &chunkReader{ctx: ctx, db: r.s.DB, tenantID: r.tenantID, importID: r.importID}
}

// nodePhase is the phase that writes a node row of a tier.
func nodePhase(tier string) int {
	return max(Tier(tier).Rank(), 1)
}

// pass runs one phase from its checkpoint: rows at or before line from were
// handled by batches that committed. A phase without rows (hasRows, per
// phaseIndex) only moves the checkpoint on.
func (r *impRun) pass(ctx context.Context, phase, from int, hasRows bool) error {
	b := &impBatch{last: from, expect: from}
	if !hasRows {
		return r.commit(ctx, phase, b, true)
	}
	visit := r.phaseVisitor(phase, from, b, func() error { return r.commit(ctx, phase, b, false) })
	_, err := readImport(r.format, r.charset, r.reader(ctx), true, visit)
	if err != nil {
		if tenants.ErrorCode(err) != "" {
			return fmt.Errorf("import %s: the stored file no longer parses: %w", r.importID, err)
		}
		return err
	}
	return r.commit(ctx, phase, b, true)
}

// impBatch is the rows of a phase read since its last commit.
type impBatch struct {
	nodes []*impNode
	techs []*impTech
	// last is the file line of the last row read; expect the checkpoint
	// row the batch starts after.
	last, expect int
	// mask (phaseIndex) has bit n set for each phase n that has rows.
	mask int
}

// phaseVisitor reads the rows of phase after line from into b, and calls
// flush when b is full. Only the phase's rows are decoded; phaseIndex reads
// external codes and tiers only.
func (r *impRun) phaseVisitor(phase, from int, b *impBatch, flush func() error) *impVisitor {
	visit := &impVisitor{headOnly: phase == phaseIndex, want: func(node bool, tier string) bool {
		switch {
		case phase == phaseIndex:
			return true
		case phase == phaseTechnicians:
			return !node
		}
		return node && nodePhase(tier) == phase
	}}
	visit.fn = func(n *impNode, t *impTech) error {
		row := 0
		if n != nil {
			row = n.row
			b.mask |= 1 << nodePhase(n.in.Tier)
		} else {
			row = t.row
			b.mask |= 1 << phaseTechnicians
		}
		if row <= from {
			return nil
		}
		if n != nil {
			b.nodes = append(b.nodes, n)
		} else {
			b.techs = append(b.techs, t)
		}
		b.last = row
		if len(b.nodes)+len(b.techs) >= importBatch {
			return flush()
		}
		return nil
	}
	return visit
}

// commit handles batch b of phase in one transaction with its effects, its
// per-row errors, the running counts and the checkpoint; end marks the
// phase's last batch, whose checkpoint is the next phase's start.
func (r *impRun) commit(ctx context.Context, phase int, b *impBatch, end bool) error {
	next, nextRow := phase, b.last
	if end {
		next, nextRow = phase+1, 0
	}
	err := pg.InTenantTx(ctx, r.s.DB, r.tenantID, func(tx pg.TenantTx) error {
		// The import's row first (NOWAIT): a batch another run holds moves
		// this run aside at once, not after waiting for the tree lock that
		// batch also holds (beyond the pool's lock_timeout on a loaded
		// machine, which failed the run).
		done, err := r.claim(ctx, tx, phase, b.expect)
		if err != nil {
			return err
		}
		if phase != phaseIndex {
			if err := prepareWrites(ctx, tx); err != nil {
				return err
			}
		}
		if err := r.apply(ctx, tx, phase, b); err != nil {
			return err
		}
		rows := len(b.nodes) + len(b.techs)
		if phase == phaseIndex {
			rows = 0
		}
		_, err = tx.Exec(ctx, `UPDATE network_imports SET phase = $3, phase_row = $4, processed_rows = $5, counts = $6,
				phases = phases | $7, heartbeat_at = now() WHERE tenant_id = $1 AND id = $2`, tx.TenantID, r.importID, next, nextRow, done+rows, r.counts, b.mask)
		return err
	})
	if err != nil {
		return err
	}
	b.nodes, b.techs, b.expect = b.nodes[:0], b.techs[:0], nextRow
	return nil
}

// prepareWrites readies tx for a batch that writes nodes or technicians:
// the network's tree lock, and custom plans for the foreign-key checks.
func prepareWrites(ctx context.Context, tx pg.TenantTx) error {
	if err := lockTree(ctx, tx, true); err != nil {
		return err
	}
	// Foreign-key checks (a node's parent, a technician's node) run plans
	// cached per connection, and on a table never analyzed the generic plan
	// may look the node up through nodes_list_idx, walking every node of
	// the tenant. Custom plans use the primary key (10k nodes: 9 s of
	// checks down to 0.3 s).
	_, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`)
	return err
}

// apply handles the batch's rows as its phase does (index them, write node
// rows of a tier, or technician rows) and records their per-row errors.
func (r *impRun) apply(ctx context.Context, tx pg.TenantTx, phase int, b *impBatch) error {
	var (
		errs []ImportError
		err  error
	)
	switch {
	case phase == phaseIndex:
		err = r.index(ctx, tx, b.nodes, b.techs)
	case phase == phaseTechnicians:
		errs, err = r.technicianBatch(ctx, tx, b.techs)
	default:
		errs, err = r.nodeBatch(ctx, tx, phase, b.nodes)
	}
	if err != nil {
		return err
	}
	return r.insertErrors(ctx, tx, errs)
}

// claim locks the import's row for the batch and checks that the import is
// where this run left it: still running, at phase and checkpoint row. It
// loads the running counts and returns the rows processed so far. A row
// another run holds is errImportMoved at once (NOWAIT: heldByAnotherRun).
func (r *impRun) claim(ctx context.Context, tx pg.TenantTx, phase, row int) (int, error) {
	var (
		state          ImportState
		atPhase, atRow int
		done           int
	)
	r.counts = ImportCounts{}
	if err := tx.QueryRow(ctx, `SELECT state, phase, phase_row, processed_rows, counts FROM network_imports
		WHERE tenant_id = $1 AND id = $2 FOR UPDATE NOWAIT`, tx.TenantID, r.importID).Scan(&state, &atPhase, &atRow, &done, &r.counts); err != nil {
		if heldByAnotherRun(err) {
			return 0, errImportMoved
		}
		return 0, err
	}
	if state.Finished() || atPhase != phase || atRow != row {
		if state.Finished() {
			return 0, errImportDone
		}
		return 0, errImportMoved
	}
	return done, nil
}

// finish writes the import's final state and the network_import.finished
// event, and drops the file's index.
func (r *impRun) finish(ctx context.Context) error {
	return pg.InTenantTx(ctx, r.s.DB, r.tenantID, func(tx pg.TenantTx) error {
		if _, err := r.claim(ctx, tx, phaseFinish, 0); err != nil {
			return err
		}
		var errs, total int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM network_import_errors WHERE tenant_id = $1 AND import_id = $2),
				total_rows FROM network_imports WHERE tenant_id = $1 AND id = $2`, tx.TenantID, r.importID).Scan(&errs, &total); err != nil {
			return err
		}
		state := ImportSucceeded
		if errs > 0 {
			state = ImportCompletedWithErrors
		}
		if _, err := tx.Exec(ctx, `UPDATE network_imports SET state = $3, processed_rows = total_rows, finished_at = now()
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, r.importID, state); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM network_import_codes WHERE tenant_id = $1 AND import_id = $2`,
			tx.TenantID, r.importID); err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeImportFinished, SubjectID: r.importID, Actor: r.actor,
			Data: map[string]any{"state": state, "counts": r.counts, "total_rows": total, "errors": errs}})
	})
}

// FailImport marks an unfinished import failed, with the reason shown to the
// tenant (a catalog message, stored with its English text and read in the
// reader's language); a finished import is left as it is. The job calls it
// when it gives up retrying.
func (s *Service) FailImport(ctx context.Context, tenantID, importID string, reason i18n.Message) error {
	text := reason.Render(i18n.English)
	return pg.Translate(pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		var actor string
		err := tx.QueryRow(ctx, `UPDATE network_imports SET state = 'failed', failure = $3, failure_code = $4, failure_params = $5,
				finished_at = now()
			WHERE tenant_id = $1 AND id = $2 AND state IN ('queued', 'running') RETURNING created_by`,
			tx.TenantID, importID, text, reason.Code, reason.Params).Scan(&actor)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeImportFinished, SubjectID: importID, Actor: actor,
			Data: map[string]any{"state": ImportFailed, "failure": text, "failure_i18n": reason}})
	}))
}

// ImportFailure is why an import failed, told for people: err's own
// message when it is a domain error (its English text, import.text, when it
// has no catalog code), else import.failed.retries: every attempt failed,
// the rows already processed stay, and uploading the file again completes
// it.
func ImportFailure(err error) i18n.Message {
	var te *tenants.Error
	switch {
	case !errors.As(err, &te):
		return i18n.M("import.failed.retries")
	case te.Msg != nil:
		return *te.Msg
	default:
		return i18n.M("import.text", "Text", te.Message)
	}
}
