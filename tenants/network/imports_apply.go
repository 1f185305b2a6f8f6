package network

// Applying rows: a batch of node or technician rows is validated against
// the network, then written with set-based upserts and their events.

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// nodeBatch validates and writes a batch of node rows of one tier rank
// (phase; phase 1 also has the rows of an unknown tier), and returns their
// per-row errors.
func (r *impRun) nodeBatch(ctx context.Context, tx pg.TenantTx, rank int, batch []*impNode) ([]ImportError, error) {
	lk, err := r.lookupNodes(ctx, tx, rank, batch)
	if err != nil {
		return nil, err
	}
	if r.resolveNodes(rank, batch, lk) {
		if err := r.moveNodes(ctx, tx, batch); err != nil {
			return nil, err
		}
	}
	if err := r.loadParentPaths(ctx, tx, batch); err != nil {
		return nil, err
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

// impNodeLookups is what validating a batch of node rows needs to know:
// the network's nodes and the file's first rows by the codes the batch
// names, the region codes it names that are unknown, and (rank 1) the
// network's manufacturer root.
type impNodeLookups struct {
	existing map[string]*impExisting
	index    map[string]impIndexed
	unknown  map[string]bool
	root     string
}

func (r *impRun) lookupNodes(ctx context.Context, tx pg.TenantTx, rank int, batch []*impNode) (impNodeLookups, error) {
	var (
		codes, regions codeSet
		lk             impNodeLookups
		err            error
	)
	for _, n := range batch {
		codes.add(n.in.ExternalCode)
		codes.add(n.in.ParentCode)
		regions.addRegion(n.in.Address.RegionCode)
		for _, c := range n.in.Coverage {
			regions.addRegion(c)
		}
	}
	if lk.existing, err = loadNodesByCode(ctx, tx, codes.list); err != nil {
		return lk, err
	}
	if lk.index, err = r.loadIndex(ctx, tx, "node", codes.list); err != nil {
		return lk, err
	}
	if lk.unknown, err = unknownRegions(ctx, tx, regions.list); err != nil {
		return lk, err
	}
	if rank == 1 {
		err := tx.QueryRow(ctx, `SELECT external_code FROM nodes WHERE tenant_id = $1 AND parent_id IS NULL`, tx.TenantID).Scan(&lk.root)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return lk, err
		}
	}
	return lk, nil
}

// resolveNodes validates each row, finds its parent, and matches it to the
// node of its code (an update, a move when its parent changed) or gives it
// a new id. It reports whether any row moves a node.
func (r *impRun) resolveNodes(rank int, batch []*impNode, lk impNodeLookups) (anyMove bool) {
	root := lk.root
	for _, n := range batch {
		r.validateNode(n, lk.unknown, lk.index)
		if n.failed || Tier(n.in.Tier).Rank() == 0 {
			continue
		}
		r.resolveParent(n, rank, lk.index, lk.existing)
		if n.failed {
			continue
		}
		if ex := lk.existing[n.in.ExternalCode]; ex != nil {
			n.existing, n.id = ex, ex.id
			switch {
			case ex.tier != Tier(n.in.Tier):
				n.fail("tier", i18n.M("import.tier_fixed", "Code", ex.code, "Tier", string(ex.tier)))
			case rank > 1 && ex.parentID != n.parentID:
				n.move, anyMove = true, true
			}
			continue
		}
		if rank == 1 {
			if root != "" {
				n.fail("tier", i18n.M("import.root_exists", "Code", root))
				continue
			}
			root = n.in.ExternalCode
		}
		n.id = tenants.NewID(tenants.PrefixNode)
	}
	return anyMove
}

// moveNodes moves the batch's nodes whose parent changed, with their
// subtrees; a move the network refuses fails its row.
func (r *impRun) moveNodes(ctx context.Context, tx pg.TenantTx, batch []*impNode) error {
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
			return err
		}
		n.moved = true
	}
	return nil
}

// loadParentPaths reads the paths of the new nodes' parents into r.paths,
// after the moves.
func (r *impRun) loadParentPaths(ctx context.Context, tx pg.TenantTx, batch []*impNode) error {
	var parents codeSet
	for _, n := range batch {
		if !n.failed && n.existing == nil {
			parents.add(n.parentID)
		}
	}
	r.paths = map[string]string{}
	if len(parents.list) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id, path::text FROM nodes WHERE tenant_id = $1 AND id = ANY($2)`, tx.TenantID, parents.list)
	if err != nil {
		return err
	}
	var id, path string
	_, err = pgx.ForEachRow(rows, []any{&id, &path}, func() error { r.paths[id] = path; return nil })
	return err
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
