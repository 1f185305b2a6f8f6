package network

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// ---------------------------------------------------------------------------
// Running an import: streamed, in batches, checkpointed.

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
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		var err error
		if im, err = getImport(ctx, tx, importID); err != nil || im.State.Finished() {
			return err
		}
		// A first run starts the count; a resumed one keeps its checkpoint,
		// counts and start time.
		return tx.QueryRow(ctx, `UPDATE network_imports SET state = 'running', started_at = coalesce(started_at, now()),
				heartbeat_at = now(),
				processed_rows = CASE WHEN phase = 0 THEN 0 ELSE processed_rows END,
				counts = CASE WHEN phase = 0 THEN '{}' ELSE counts END
			WHERE tenant_id = $1 AND id = $2 RETURNING file, charset`, tx.TenantID, importID).Scan(&file, &charset)
	})
	if err != nil {
		return Import{}, pg.Translate(err)
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
			select {
			case <-ctx.Done():
				return Import{}, ctx.Err()
			case <-time.After(200 * time.Millisecond):
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
	var (
		nodes  []*impNode
		techs  []*impTech
		last   = from
		expect = from
		mask   int // phaseIndex: the phases that have rows
	)
	flush := func(end bool) error {
		next, nextRow := phase, last
		if end {
			next, nextRow = phase+1, 0
		}
		err := pg.InTenantTx(ctx, r.s.DB, r.tenantID, func(tx pg.TenantTx) error {
			if phase != phaseIndex {
				if err := lockTree(ctx, tx, true); err != nil {
					return err
				}
				// Foreign-key checks (a node's parent, a technician's node)
				// run plans cached per connection, and on a table never
				// analyzed the generic plan may look the node up through
				// nodes_list_idx, walking every node of the tenant. Custom
				// plans use the primary key (10k nodes: 9 s of checks down
				// to 0.3 s).
				if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
					return err
				}
			}
			done, err := r.claim(ctx, tx, phase, expect)
			if err != nil {
				return err
			}
			var errs []ImportError
			switch {
			case phase == phaseIndex:
				err = r.index(ctx, tx, nodes, techs)
			case phase == phaseTechnicians:
				errs, err = r.technicianBatch(ctx, tx, techs)
			default:
				errs, err = r.nodeBatch(ctx, tx, phase, nodes)
			}
			if err != nil {
				return err
			}
			if err := r.insertErrors(ctx, tx, errs); err != nil {
				return err
			}
			rows := len(nodes) + len(techs)
			if phase == phaseIndex {
				rows = 0
			}
			_, err = tx.Exec(ctx, `UPDATE network_imports SET phase = $3, phase_row = $4, processed_rows = $5, counts = $6,
				phases = phases | $7, heartbeat_at = now() WHERE tenant_id = $1 AND id = $2`, tx.TenantID, r.importID, next, nextRow, done+rows, r.counts, mask)
			return err
		})
		if err != nil {
			return err
		}
		nodes, techs, expect = nodes[:0], techs[:0], nextRow
		return nil
	}
	if !hasRows {
		return flush(true)
	}
	// Only the phase's rows are decoded; phaseIndex reads external codes
	// and tiers only.
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
			mask |= 1 << nodePhase(n.in.Tier)
		} else {
			row = t.row
			mask |= 1 << phaseTechnicians
		}
		if row <= from {
			return nil
		}
		if n != nil {
			nodes = append(nodes, n)
		} else {
			techs = append(techs, t)
		}
		last = row
		if len(nodes)+len(techs) >= importBatch {
			return flush(false)
		}
		return nil
	}
	_, err := readImport(r.format, r.charset, r.reader(ctx), true, visit)
	if err != nil {
		if tenants.ErrorCode(err) != "" {
			return fmt.Errorf("import %s: the stored file no longer parses: %w", r.importID, err)
		}
		return err
	}
	return flush(true)
}

// claim locks the import's row for the batch and checks that the import is
// where this run left it: still running, at phase and checkpoint row. It
// loads the running counts and returns the rows processed so far.
func (r *impRun) claim(ctx context.Context, tx pg.TenantTx, phase, row int) (int, error) {
	var (
		state          ImportState
		atPhase, atRow int
		done           int
	)
	r.counts = ImportCounts{}
	if err := tx.QueryRow(ctx, `SELECT state, phase, phase_row, processed_rows, counts FROM network_imports
		WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, tx.TenantID, r.importID).Scan(&state, &atPhase, &atRow, &done, &r.counts); err != nil {
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

// index records the rows' external codes (phaseIndex). A code's first row
// wins: batches run in file order, and a later row's insert does nothing.
func (r *impRun) index(ctx context.Context, tx pg.TenantTx, nodes []*impNode, techs []*impTech) error {
	type rec struct {
		Kind string `json:"kind"`
		Code string `json:"code"`
		Row  int    `json:"row"`
		Tier string `json:"tier"`
	}
	seen := map[[2]string]bool{}
	var recs []rec
	add := func(kind, code string, row int, tier string) {
		if code == "" || seen[[2]string{kind, code}] {
			return
		}
		seen[[2]string{kind, code}] = true
		recs = append(recs, rec{kind, code, row, tier})
	}
	for _, n := range nodes {
		add("node", n.in.ExternalCode, n.row, n.in.Tier)
	}
	for _, t := range techs {
		add("technician", t.in.ExternalCode, t.row, "")
	}
	if len(recs) == 0 {
		return nil
	}
	data, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO network_import_codes (tenant_id, import_id, kind, external_code, row_number, tier)
		SELECT $1, $2, r.kind, r.code, r.row, r.tier FROM jsonb_to_recordset($3::jsonb) AS r(kind text, code text, "row" int, tier text)
		ON CONFLICT DO NOTHING`, tx.TenantID, r.importID, data)
	return err
}

// impIndexed is a code's first row in the file.
type impIndexed struct {
	row    int
	tier   Tier
	failed bool
}

func (r *impRun) loadIndex(ctx context.Context, tx pg.TenantTx, kind string, codes []string) (map[string]impIndexed, error) {
	rows, err := tx.Query(ctx, `SELECT external_code, row_number, tier, failed FROM network_import_codes
		WHERE tenant_id = $1 AND import_id = $2 AND kind = $3 AND external_code = ANY($4)`, tx.TenantID, r.importID, kind, codes)
	if err != nil {
		return nil, err
	}
	out := map[string]impIndexed{}
	var (
		code string
		e    impIndexed
	)
	_, err = pgx.ForEachRow(rows, []any{&code, &e.row, &e.tier, &e.failed}, func() error { out[code] = e; return nil })
	return out, err
}

// loadNodes reads the network's nodes of the given external codes.
func loadNodesByCode(ctx context.Context, tx pg.TenantTx, codes []string) (map[string]*impExisting, error) {
	rows, err := tx.Query(ctx, `SELECT id, external_code, tier, coalesce(parent_id, ''), status
		FROM nodes WHERE tenant_id = $1 AND external_code = ANY($2)`, tx.TenantID, codes)
	if err != nil {
		return nil, err
	}
	out := map[string]*impExisting{}
	var e impExisting
	_, err = pgx.ForEachRow(rows, []any{&e.id, &e.code, &e.tier, &e.parentID, &e.status}, func() error {
		c := e
		out[e.code] = &c
		return nil
	})
	return out, err
}

// unknownRegions returns which of codes are not GB/T 2260 region codes.
func unknownRegions(ctx context.Context, tx pg.TenantTx, codes []string) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `SELECT c FROM unnest($1::text[]) AS c WHERE NOT EXISTS (SELECT FROM regions WHERE code = c)`, codes)
	if err != nil {
		return nil, err
	}
	unknown, err := pgx.CollectRows(rows, pgx.RowTo[string])
	out := map[string]bool{}
	for _, c := range unknown {
		out[c] = true
	}
	return out, err
}

// codeSet collects distinct non-empty codes.
type codeSet struct {
	seen map[string]bool
	list []string
}

func (s *codeSet) add(c string) {
	if c == "" || s.seen[c] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[c] = true
	s.list = append(s.list, c)
}

func (s *codeSet) addRegion(c string) {
	if RegionLevel(c) != 0 {
		s.add(c)
	}
}

// duplicate reports a row whose code's first row is another.
func duplicate(index map[string]impIndexed, code string, row int) *ImportError {
	if first, ok := index[code]; ok && code != "" && first.row != row {
		return &ImportError{Row: row, Field: "external_code", Message: fmt.Sprintf("duplicate: row %d has the same external code", first.row)}
	}
	return nil
}

// validateNode checks a node row on its own, and whether it repeats an
// earlier row's code.
func (r *impRun) validateNode(n *impNode, unknown map[string]bool, index map[string]impIndexed) {
	v := &tenants.Validation{}
	validateFields(v, "", n.fields())
	tier := Tier(n.in.Tier)
	if tier.Rank() == 0 {
		v.AddMsg("tier", tierNames, n.in.Tier)
	}
	if n.in.Status != "" && n.in.Status != string(StatusProbation) && n.in.Status != string(StatusActive) {
		v.AddMsg("status", i18n.M("network.probation_or_active"), n.in.Status)
	}
	switch {
	case tier == TierManufacturer && n.in.ParentCode != "":
		v.AddMsg("parent_code", i18n.M("network.manufacturer_no_parent"), n.in.ParentCode)
	case tier.Rank() > 1 && n.in.ParentCode == "":
		v.AddMsg("parent_code", i18n.M("common.required_for_a", "What", string(tier)), nil)
	}
	if c := n.in.Address.RegionCode; unknown[c] {
		v.AddMsg("address.region_code", i18n.M("common.unknown_region_code"), c)
	}
	for i, c := range n.in.Coverage {
		if unknown[c] {
			v.AddMsg(fmt.Sprintf("coverage[%d]", i), i18n.M("common.unknown_region_code"), c)
		}
	}
	n.errs = append(n.errs, r.rowErrors(n.row, v.Fields())...)
	if dup := duplicate(index, n.in.ExternalCode, n.row); dup != nil {
		n.errs = append(n.errs, *dup)
	}
	n.failed = len(n.errs) > 0
}

// nodeBatch validates and writes a batch of node rows of one tier rank
// (phase; phase 1 also has the rows of an unknown tier), and returns their
// per-row errors.
func (r *impRun) nodeBatch(ctx context.Context, tx pg.TenantTx, rank int, batch []*impNode) ([]ImportError, error) {
	var codes, regions codeSet
	for _, n := range batch {
		codes.add(n.in.ExternalCode)
		codes.add(n.in.ParentCode)
		regions.addRegion(n.in.Address.RegionCode)
		for _, c := range n.in.Coverage {
			regions.addRegion(c)
		}
	}
	existing, err := loadNodesByCode(ctx, tx, codes.list)
	if err != nil {
		return nil, err
	}
	index, err := r.loadIndex(ctx, tx, "node", codes.list)
	if err != nil {
		return nil, err
	}
	unknown, err := unknownRegions(ctx, tx, regions.list)
	if err != nil {
		return nil, err
	}
	root := ""
	if rank == 1 {
		err := tx.QueryRow(ctx, `SELECT external_code FROM nodes WHERE tenant_id = $1 AND parent_id IS NULL`, tx.TenantID).Scan(&root)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
	}
	anyMove := false
	for _, n := range batch {
		r.validateNode(n, unknown, index)
		if n.failed || Tier(n.in.Tier).Rank() == 0 {
			continue
		}
		r.resolveParent(n, rank, index, existing)
		if n.failed {
			continue
		}
		if ex := existing[n.in.ExternalCode]; ex != nil {
			n.existing, n.id = ex, ex.id
			switch {
			case ex.tier != Tier(n.in.Tier):
				n.fail("tier", fmt.Sprintf("a node's tier cannot change: %s is a %s", ex.code, ex.tier))
			case rank > 1 && ex.parentID != n.parentID:
				n.move, anyMove = true, true
			}
			continue
		}
		if rank == 1 {
			if root != "" {
				n.fail("tier", fmt.Sprintf("the network already has its manufacturer root (%s)", root))
				continue
			}
			root = n.in.ExternalCode
		}
		n.id = tenants.NewID(tenants.PrefixNode)
	}
	if anyMove {
		for _, n := range batch {
			if !n.move || n.failed {
				continue
			}
			_, err := moveNode(ctx, tx, Scope{}, r.actor, n.id, n.parentID, 0, "parent_code")
			if te := (*tenants.Error)(nil); errors.As(err, &te) && te.Code == tenants.CodeInvalid {
				n.errs = append(n.errs, r.rowErrors(n.row, te.Fields)...)
				n.failed = true
				continue
			} else if err != nil {
				return nil, err
			}
			n.moved = true
		}
	}
	// The parents' paths, read after the moves.
	var parents codeSet
	for _, n := range batch {
		if !n.failed && n.existing == nil {
			parents.add(n.parentID)
		}
	}
	r.paths = map[string]string{}
	if len(parents.list) > 0 {
		rows, err := tx.Query(ctx, `SELECT id, path::text FROM nodes WHERE tenant_id = $1 AND id = ANY($2)`, tx.TenantID, parents.list)
		if err != nil {
			return nil, err
		}
		var id, path string
		if _, err := pgx.ForEachRow(rows, []any{&id, &path}, func() error { r.paths[id] = path; return nil }); err != nil {
			return nil, err
		}
	}
	var (
		ok     []*impNode
		errs   []ImportError
		failed []*impNode
	)
	for _, n := range batch {
		if n.failed {
			r.counts.Nodes.Failed++
			errs = append(errs, n.errs...)
			failed = append(failed, n)
			continue
		}
		if n.existing == nil {
			path := n.id
			if n.parentID != "" {
				path = r.paths[n.parentID] + "." + n.id
			}
			r.paths[n.id] = path
		}
		ok = append(ok, n)
	}
	if err := r.markFailed(ctx, tx, failed); err != nil {
		return nil, err
	}
	if len(ok) > 0 {
		if err := r.writeNodes(ctx, tx, ok); err != nil {
			return nil, err
		}
	}
	return errs, nil
}

// markFailed records in the index that these node rows were not imported,
// for the rows that name them as parent or node.
func (r *impRun) markFailed(ctx context.Context, tx pg.TenantTx, failed []*impNode) error {
	if len(failed) == 0 {
		return nil
	}
	codes := make([]string, len(failed))
	rows := make([]int32, len(failed))
	for i, n := range failed {
		codes[i], rows[i] = n.in.ExternalCode, int32(n.row)
	}
	_, err := tx.Exec(ctx, `UPDATE network_import_codes c SET failed = true
		FROM unnest($3::text[], $4::int[]) AS f(code, row_number)
		WHERE c.tenant_id = $1 AND c.import_id = $2 AND c.kind = 'node' AND c.external_code = f.code AND c.row_number = f.row_number`,
		tx.TenantID, r.importID, codes, rows)
	return err
}

// resolveParent finds a node row's parent: a row of the file (written at an
// earlier phase unless it failed) or a node of the network.
func (r *impRun) resolveParent(n *impNode, rank int, index map[string]impIndexed, nodes map[string]*impExisting) {
	if rank == 1 {
		return
	}
	code := n.in.ParentCode
	tier := Tier(n.in.Tier)
	check := func(parentTier Tier, status NodeStatus) bool {
		if parentTier.Rank() >= rank {
			n.fail("parent_code", fmt.Sprintf("a %s must be under a node of a higher tier; %s is a %s", tier, code, parentTier))
			return false
		}
		if status == StatusTerminated {
			n.fail("parent_code", fmt.Sprintf("the parent node %s is terminated", code))
			return false
		}
		return true
	}
	ex := nodes[code]
	if p, ok := index[code]; ok {
		var status NodeStatus
		if ex != nil {
			status = ex.status
		}
		switch {
		case p.tier.Rank() == 0:
			n.fail("parent_code", fmt.Sprintf("the parent (row %d) was not imported", p.row))
		case !check(p.tier, status):
		case p.failed || ex == nil:
			n.fail("parent_code", fmt.Sprintf("the parent (row %d) was not imported", p.row))
		default:
			n.parentID = ex.id
		}
		return
	}
	if ex != nil {
		if check(ex.tier, ex.status) {
			n.parentID = ex.id
		}
		return
	}
	n.fail("parent_code", fmt.Sprintf("no node with external code %s in the file or the network", strconv.Quote(code)))
}

// technicianBatch validates and writes a batch of technician rows, and
// returns their per-row errors.
func (r *impRun) technicianBatch(ctx context.Context, tx pg.TenantTx, batch []*impTech) ([]ImportError, error) {
	var codes, nodeCodes, regions codeSet
	for _, t := range batch {
		codes.add(t.in.ExternalCode)
		nodeCodes.add(t.in.NodeCode)
		if t.in.Home != nil {
			regions.addRegion(t.in.Home.RegionCode)
		}
	}
	techIDs := map[string]string{}
	rows, err := tx.Query(ctx, `SELECT external_code, id FROM technicians WHERE tenant_id = $1 AND external_code = ANY($2)`,
		tx.TenantID, codes.list)
	if err != nil {
		return nil, err
	}
	var code, id string
	if _, err := pgx.ForEachRow(rows, []any{&code, &id}, func() error { techIDs[code] = id; return nil }); err != nil {
		return nil, err
	}
	index, err := r.loadIndex(ctx, tx, "technician", codes.list)
	if err != nil {
		return nil, err
	}
	nodeIndex, err := r.loadIndex(ctx, tx, "node", nodeCodes.list)
	if err != nil {
		return nil, err
	}
	nodes, err := loadNodesByCode(ctx, tx, nodeCodes.list)
	if err != nil {
		return nil, err
	}
	unknown, err := unknownRegions(ctx, tx, regions.list)
	if err != nil {
		return nil, err
	}
	var (
		ok   []*impTech
		errs []ImportError
	)
	for _, t := range batch {
		r.validateTechnician(t, unknown, index, techIDs)
		if !t.failed {
			resolveNode(t, nodeIndex, nodes)
		}
		if t.failed {
			r.counts.Technicians.Failed++
			errs = append(errs, t.errs...)
			continue
		}
		if t.id = techIDs[t.in.ExternalCode]; t.id == "" {
			t.id = tenants.NewID(tenants.PrefixTechnician)
		}
		ok = append(ok, t)
	}
	if len(ok) > 0 {
		if err := r.writeTechnicians(ctx, tx, ok); err != nil {
			return nil, err
		}
	}
	return errs, nil
}

func (r *impRun) validateTechnician(t *impTech, unknown map[string]bool, index map[string]impIndexed, techIDs map[string]string) {
	v := &tenants.Validation{}
	in := t.in
	validateTechnician(v, "", NewTechnician{ExternalCode: in.ExternalCode, Name: in.Name, Phone: in.Phone,
		Status: in.Status, Skills: in.Skills, Licence: in.Licence, Shifts: in.Shifts, DailyJobLimit: in.DailyJobLimit,
		Home: in.Home})
	if in.NodeCode == "" {
		v.AddMsg("node_code", i18n.M("network.technician_node_code_required"), nil)
	}
	if in.Licence != nil {
		checkLicenceDates(v, "licence.", *in.Licence, r.today)
	}
	if in.Status == string(TechnicianLeft) && techIDs[in.ExternalCode] == "" {
		v.AddMsg("status", i18n.M("network.new_technician_status"), in.Status)
	}
	if in.Home != nil && unknown[in.Home.RegionCode] {
		v.AddMsg("home.region_code", i18n.M("common.unknown_region_code"), in.Home.RegionCode)
	}
	t.errs = append(t.errs, r.rowErrors(t.row, v.Fields())...)
	if dup := duplicate(index, in.ExternalCode, t.row); dup != nil {
		t.errs = append(t.errs, *dup)
	}
	t.failed = len(t.errs) > 0
}

// resolveNode finds a technician row's node: a node row of the file
// (written by an earlier phase unless it failed) or a node of the network.
func resolveNode(t *impTech, index map[string]impIndexed, nodes map[string]*impExisting) {
	code := t.in.NodeCode
	ex := nodes[code]
	if p, ok := index[code]; ok && (p.failed || ex == nil) {
		t.fail("node_code", fmt.Sprintf("the node (row %d) was not imported", p.row))
		return
	}
	if ex == nil {
		t.fail("node_code", fmt.Sprintf("no node with external code %s in the file or the network", strconv.Quote(code)))
		return
	}
	t.nodeID = ex.id
	if ex.status == StatusTerminated && t.in.Status != string(TechnicianLeft) {
		t.fail("node_code", fmt.Sprintf("the node %s is terminated", code))
	}
}

// maxErrorsPerRow bounds the errors kept of one row; an error's seq is its
// row times maxErrorsPerRow plus its rank, so that errors list in row order
// whichever phase wrote them.
const maxErrorsPerRow = 1000

func (r *impRun) insertErrors(ctx context.Context, tx pg.TenantTx, errs []ImportError) error {
	if len(errs) == 0 {
		return nil
	}
	type rec struct {
		Seq int64 `json:"seq"`
		ImportError
	}
	recs := make([]rec, 0, len(errs))
	rank, prev := 0, -1
	for _, e := range errs {
		if e.Row != prev {
			rank, prev = 0, e.Row
		}
		if rank < maxErrorsPerRow {
			recs = append(recs, rec{Seq: int64(e.Row)*maxErrorsPerRow + int64(rank), ImportError: e})
		}
		rank++
	}
	data, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO network_import_errors (tenant_id, import_id, seq, row_number, field, message)
		SELECT $1, $2, r.seq, r.row, r.field, r.message
		FROM jsonb_to_recordset($3::jsonb) AS r(seq bigint, "row" int, field text, message text)`,
		tx.TenantID, r.importID, data)
	return err
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
// tenant; a finished import is left as it is. The job calls it when it gives
// up retrying.
func (s *Service) FailImport(ctx context.Context, tenantID, importID, reason string) error {
	return pg.Translate(pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		var actor string
		err := tx.QueryRow(ctx, `UPDATE network_imports SET state = 'failed', failure = $3, finished_at = now()
			WHERE tenant_id = $1 AND id = $2 AND state IN ('queued', 'running') RETURNING created_by`,
			tx.TenantID, importID, reason).Scan(&actor)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeImportFinished, SubjectID: importID, Actor: actor,
			Data: map[string]any{"state": ImportFailed, "failure": reason}})
	}))
}

// impExisting is a node already in the network.
type impExisting struct {
	id, parentID string
	tier         Tier
	status       NodeStatus
	code         string
}

// rowErrors turns validation problems into per-row errors; CSV rows name
// their columns.
func (r *impRun) rowErrors(row int, fes []tenants.FieldError) []ImportError {
	out := make([]ImportError, 0, len(fes))
	for _, fe := range fes {
		field := fe.Location
		if r.format == FormatCSV {
			field = csvField(field)
		}
		msg := fe.Message
		if s, ok := fe.Value.(string); ok && s != "" && len(s) <= 80 {
			msg += " (got " + strconv.Quote(s) + ")"
		}
		out = append(out, ImportError{Row: row, Field: field, Message: msg})
	}
	return out
}

func (n *impNode) fail(field, msg string) {
	n.errs = append(n.errs, ImportError{Row: n.row, Field: field, Message: msg})
	n.failed = true
}

func (t *impTech) fail(field, msg string) {
	t.errs = append(t.errs, ImportError{Row: t.row, Field: field, Message: msg})
	t.failed = true
}

func (n *impNode) fields() NodeFields {
	return NodeFields{ExternalCode: n.in.ExternalCode, Name: n.in.Name, Grade: n.in.Grade, Contact: n.in.Contact,
		Address: n.in.Address, Location: n.in.Location, Coverage: n.in.Coverage, Categories: n.in.Categories,
		ServiceKinds: n.in.ServiceKinds, DailyCapacity: n.in.DailyCapacity}
}

var tierNames = i18n.M("common.one_of", "Values", "manufacturer, service_center, specialist_depot, repair_point")

// impNodeRec is a node row as the upsert reads it.
type impNodeRec struct {
	ID            string   `json:"id"`
	ExternalCode  string   `json:"external_code"`
	Name          string   `json:"name"`
	Tier          Tier     `json:"tier"`
	ParentID      *string  `json:"parent_id"`
	Path          string   `json:"path"`
	Status        string   `json:"status"`
	Grade         *string  `json:"grade"`
	Contact       Contact  `json:"contact"`
	Address       Address  `json:"address"`
	Latitude      *float64 `json:"latitude"`
	Longitude     *float64 `json:"longitude"`
	Coverage      []string `json:"coverage"`
	Categories    []string `json:"categories"`
	ServiceKinds  []string `json:"service_kinds"`
	DailyCapacity int      `json:"daily_capacity"`
}

// upsertNodes writes node rows, inserting new external codes and updating
// existing ones only where an attribute differs, so that an identical row
// writes nothing (version and updated_at stay). Tier, parent, path and
// status of an existing node are not touched here: moves go through
// moveNode, status changes through ChangeNodeStatus.
const upsertNodes = `
INSERT INTO nodes AS n (tenant_id, id, external_code, name, tier, parent_id, path, status, grade, contact, address,
                        latitude, longitude, coverage, categories, service_kinds, daily_capacity)
SELECT $1, r.id, r.external_code, r.name, r.tier, r.parent_id, r.path::ltree, r.status, r.grade, r.contact, r.address,
       r.latitude, r.longitude, r.coverage, r.categories, r.service_kinds, r.daily_capacity
FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (id text, external_code text, name text, tier text, parent_id text,
     path text, status text, grade text, contact jsonb, address jsonb, latitude float8, longitude float8,
     coverage text[], categories text[], service_kinds text[], daily_capacity int)) WITH ORDINALITY AS r
ORDER BY r.ordinality
ON CONFLICT (tenant_id, livemode, external_code) DO UPDATE SET
  name = excluded.name, grade = excluded.grade, contact = excluded.contact, address = excluded.address,
  latitude = excluded.latitude, longitude = excluded.longitude, coverage = excluded.coverage,
  categories = excluded.categories, service_kinds = excluded.service_kinds, daily_capacity = excluded.daily_capacity,
  version = n.version + 1, updated_at = now()
WHERE (n.name, n.grade, n.contact, n.address, n.latitude, n.longitude, n.coverage, n.categories, n.service_kinds,
       n.daily_capacity)
   IS DISTINCT FROM (excluded.name, excluded.grade, excluded.contact, excluded.address, excluded.latitude,
       excluded.longitude, excluded.coverage, excluded.categories, excluded.service_kinds, excluded.daily_capacity)
RETURNING n.id, (n.xmax = 0) AS inserted`

func (r *impRun) writeNodes(ctx context.Context, tx pg.TenantTx, chunk []*impNode) error {
	recs := make([]impNodeRec, len(chunk))
	for i, n := range chunk {
		lat, lon := latLon(n.in.Location)
		status := n.in.Status
		if status == "" {
			status = string(StatusProbation)
		}
		recs[i] = impNodeRec{ID: n.id, ExternalCode: n.in.ExternalCode, Name: n.in.Name, Tier: Tier(n.in.Tier),
			ParentID: nullable(n.parentID), Path: r.paths[n.id], Status: status, Grade: nullable(n.in.Grade),
			Contact: n.in.Contact, Address: n.in.Address, Latitude: lat, Longitude: lon,
			Coverage: orEmpty(n.in.Coverage), Categories: orEmpty(n.in.Categories),
			ServiceKinds: orEmpty(n.in.ServiceKinds), DailyCapacity: n.in.DailyCapacity}
	}
	written, err := upsert(ctx, tx, upsertNodes, recs)
	if err != nil {
		return err
	}
	var evs []events.New
	var created []string
	for i, n := range chunk {
		inserted, ok := written[n.id]
		switch {
		case ok && inserted:
			r.counts.Nodes.Created++
			created = append(created, n.id)
			rec := recs[i]
			evs = append(evs, events.New{Type: TypeNodeCreated, SubjectID: n.id, Actor: r.actor,
				Data: map[string]any{"external_code": rec.ExternalCode, "tier": rec.Tier, "parent_id": rec.ParentID,
					"status": rec.Status, "import_id": r.importID}})
		case ok || n.moved:
			r.counts.Nodes.Updated++
		default:
			r.counts.Nodes.Unchanged++
		}
	}
	if err := r.recordCreatedStatuses(ctx, tx, created, recs); err != nil {
		return err
	}
	return events.AppendManyTx(ctx, tx, evs)
}

// upsert runs an INSERT ... SELECT FROM jsonb_to_recordset($2) ... RETURNING
// id, inserted over recs and reports, by id, the rows it wrote and whether
// each was inserted (rather than updated). Rows it did not return were
// identical and left alone.
func upsert[T any](ctx context.Context, tx pg.TenantTx, sql string, recs []T, args ...any) (map[string]bool, error) {
	data, err := json.Marshal(recs)
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, sql, append([]any{tx.TenantID, data}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	written := make(map[string]bool, len(recs))
	for rows.Next() {
		var (
			id       string
			inserted bool
		)
		if err := rows.Scan(&id, &inserted); err != nil {
			return nil, err
		}
		written[id] = inserted
	}
	return written, rows.Err()
}

// recordCreatedStatuses starts the status history of nodes the import created.
func (r *impRun) recordCreatedStatuses(ctx context.Context, tx pg.TenantTx, ids []string, recs []impNodeRec) error {
	if len(ids) == 0 {
		return nil
	}
	status := make(map[string]string, len(recs))
	for _, rec := range recs {
		status[rec.ID] = rec.Status
	}
	type change struct {
		ID     string `json:"id"`
		NodeID string `json:"node_id"`
		To     string `json:"to_status"`
	}
	changes := make([]change, len(ids))
	for i, id := range ids {
		changes[i] = change{ID: tenants.NewID(tenants.PrefixNodeStatus), NodeID: id, To: status[id]}
	}
	data, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO node_status_changes (tenant_id, id, node_id, from_status, to_status, reason, actor)
		SELECT $1, r.id, r.node_id, NULL, r.to_status, $3, $4
		FROM jsonb_to_recordset($2::jsonb) AS r(id text, node_id text, to_status text)`,
		tx.TenantID, data, "created by import "+r.importID, r.actor)
	return err
}

// impTechRec is a technician row as the upsert reads it.
type impTechRec struct {
	ID               string         `json:"id"`
	ExternalCode     string         `json:"external_code"`
	NodeID           string         `json:"node_id"`
	Name             string         `json:"name"`
	Phone            string         `json:"phone"`
	Status           string         `json:"status"`
	Skills           map[string]int `json:"skills"`
	LicenceNumber    *string        `json:"licence_number"`
	LicenceIssuedOn  *string        `json:"licence_issued_on"`
	LicenceExpiresOn *string        `json:"licence_expires_on"`
	Shifts           []Shift        `json:"shifts"`
	DailyJobLimit    int            `json:"daily_job_limit"`
	HomeRegion       *string        `json:"home_region"`
	HomeLatitude     *float64       `json:"home_latitude"`
	HomeLongitude    *float64       `json:"home_longitude"`
}

// upsertTechnicians writes technician rows like upsertNodes: an identical
// row writes nothing. A licence that expired before the tenant's today ($3)
// marks the technician ineligible (licence_expired_at), as the licence-expiry
// job would; a renewed one clears it.
const upsertTechnicians = `
INSERT INTO technicians AS t (tenant_id, id, external_code, node_id, name, phone, status, skills, licence_number,
                              licence_issued_on, licence_expires_on, licence_expired_at, shifts, daily_job_limit,
                              home_region, home_latitude, home_longitude)
SELECT $1, r.id, r.external_code, r.node_id, r.name, r.phone, r.status, r.skills, r.licence_number,
       r.licence_issued_on, r.licence_expires_on, CASE WHEN r.licence_expires_on < $3::date THEN now() END,
       r.shifts, r.daily_job_limit, r.home_region, r.home_latitude, r.home_longitude
FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (id text, external_code text, node_id text, name text,
     phone text, status text, skills jsonb, licence_number text, licence_issued_on date, licence_expires_on date,
     shifts jsonb, daily_job_limit int, home_region text, home_latitude float8, home_longitude float8)) WITH ORDINALITY AS r
ORDER BY r.ordinality
ON CONFLICT (tenant_id, livemode, external_code) DO UPDATE SET
  node_id = excluded.node_id, name = excluded.name, phone = excluded.phone, status = excluded.status,
  skills = excluded.skills, licence_number = excluded.licence_number, licence_issued_on = excluded.licence_issued_on,
  licence_expires_on = excluded.licence_expires_on,
  licence_expired_at = CASE WHEN excluded.licence_expires_on < $3::date THEN coalesce(t.licence_expired_at, now()) END,
  shifts = excluded.shifts, daily_job_limit = excluded.daily_job_limit, home_region = excluded.home_region,
  home_latitude = excluded.home_latitude, home_longitude = excluded.home_longitude,
  version = t.version + 1, updated_at = now()
WHERE (t.node_id, t.name, t.phone, t.status, t.skills, t.licence_number, t.licence_issued_on, t.licence_expires_on,
       t.shifts, t.daily_job_limit, t.home_region, t.home_latitude, t.home_longitude)
   IS DISTINCT FROM (excluded.node_id, excluded.name, excluded.phone, excluded.status, excluded.skills,
       excluded.licence_number, excluded.licence_issued_on, excluded.licence_expires_on, excluded.shifts,
       excluded.daily_job_limit, excluded.home_region, excluded.home_latitude, excluded.home_longitude)
RETURNING t.id, (t.xmax = 0) AS inserted`

func (r *impRun) writeTechnicians(ctx context.Context, tx pg.TenantTx, chunk []*impTech) error {
	recs := make([]impTechRec, len(chunk))
	for i, t := range chunk {
		in := t.in
		rec := impTechRec{ID: t.id, ExternalCode: in.ExternalCode, NodeID: t.nodeID, Name: in.Name, Phone: in.Phone,
			Status: in.Status, Skills: skillMap(in.Skills), Shifts: sortedShifts(in.Shifts), DailyJobLimit: DefaultDailyJobLimit}
		if rec.Status == "" {
			rec.Status = string(TechnicianActive)
		}
		if l := in.Licence; l != nil {
			rec.LicenceNumber, rec.LicenceIssuedOn, rec.LicenceExpiresOn = nullable(l.Number), nullable(l.IssuedOn), nullable(l.ExpiresOn)
		}
		if in.DailyJobLimit != nil {
			rec.DailyJobLimit = *in.DailyJobLimit
		}
		if h := in.Home; h != nil {
			rec.HomeRegion = nullable(h.RegionCode)
			rec.HomeLatitude, rec.HomeLongitude = latLon(h.Location)
		}
		recs[i] = rec
	}
	written, err := upsert(ctx, tx, upsertTechnicians, recs, r.today)
	if err != nil {
		return err
	}
	var evs []events.New
	for i, t := range chunk {
		inserted, ok := written[t.id]
		switch {
		case ok && inserted:
			r.counts.Technicians.Created++
			rec := recs[i]
			licence := licenceStatus(rec.LicenceExpiresOn, r.today)
			evs = append(evs, events.New{Type: TypeTechnicianCreated, SubjectID: t.id, Actor: r.actor,
				Data: map[string]any{"external_code": rec.ExternalCode, "node_id": rec.NodeID, "status": rec.Status,
					"licence_status": licence, "eligible": rec.Status == string(TechnicianActive) && licence == LicenceValid,
					"import_id": r.importID}})
		case ok:
			r.counts.Technicians.Updated++
		default:
			r.counts.Technicians.Unchanged++
		}
	}
	return events.AppendManyTx(ctx, tx, evs)
}
