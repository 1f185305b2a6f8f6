package network

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// Event types of the network context.
const (
	TypeNodeCreated              = "node.created"
	TypeNodeUpdated              = "node.updated"
	TypeNodeMoved                = "node.moved"
	TypeNodeStatusChanged        = "node.status_changed"
	TypeTechnicianCreated        = "technician.created"
	TypeTechnicianUpdated        = "technician.updated"
	TypeTechnicianLicenceRenewed = "technician.licence_renewed"
	TypeTechnicianLicenceExpired = "technician.licence_expired"
	TypeImportFinished           = "network_import.finished"
)

const nodeColumns = `id, external_code, name, tier, parent_id, path::text, status, status_reason, status_changed_at,
	grade, contact, address, latitude, longitude, coverage, categories, service_kinds, daily_capacity,
	version, created_at, updated_at`

// The two hot read queries, exported so benchmarks can check their plans.
var (
	// CandidatesSQL: $1 tenant, $2 region codes (district, city, province),
	// $3 category, $4 service kind, $5 scope path or NULL, $6 tier or '', $7 limit.
	CandidatesSQL = `SELECT ` + nodeColumns + ` FROM nodes
		WHERE tenant_id = $1 AND coverage && $2::text[] AND status = 'active' AND daily_capacity > 0
		  AND $3 = ANY (categories) AND $4 = ANY (service_kinds)
		  AND ($5::ltree IS NULL OR path <@ $5::ltree)
		  AND ($6 = '' OR tier = $6)
		ORDER BY network_tier_rank(tier) DESC, grade NULLS LAST, id
		LIMIT $7`
	// SubtreeSQL: $1 tenant, $2 the top node's path, $3 cursor path or '',
	// $4 max depth (0: all), $5 limit.
	SubtreeSQL = `SELECT ` + nodeColumns + ` FROM nodes
		WHERE tenant_id = $1 AND path <@ $2::ltree AND path >= $2::ltree
		  AND ($3 = '' OR path > $3::ltree)
		  AND ($4 = 0 OR nlevel(path) <= nlevel($2::ltree) + $4)
		ORDER BY nodes.path LIMIT $5` // nodes.path: the ltree, not the text column of the same name
)

func scanNode(row pgx.Row) (Node, error) {
	var (
		n        Node
		path     string
		lat, lon *float64
	)
	err := row.Scan(&n.ID, &n.ExternalCode, &n.Name, &n.Tier, &n.ParentID, &path, &n.Status, &n.StatusReason,
		&n.StatusChangedAt, &n.Grade, &n.Contact, &n.Address, &lat, &lon, &n.Coverage, &n.Categories,
		&n.ServiceKinds, &n.DailyCapacity, &n.Version, &n.CreatedAt, &n.UpdatedAt)
	if err != nil {
		return Node{}, err
	}
	n.Path = splitPath(path)
	if lat != nil && lon != nil {
		n.Location = &Point{Latitude: *lat, Longitude: *lon}
	}
	return n, nil
}

func collectNodes(rows pgx.Rows) ([]Node, error) {
	defer rows.Close()
	nodes := []Node{}
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, rows.Err()
}

// lockTree serialises tree reshaping (moves) against writes that read a
// parent's path (creates, imports): they take it shared, moves exclusive.
func lockTree(ctx context.Context, tx pg.TenantTx, exclusive bool) error {
	fn := "pg_advisory_xact_lock_shared"
	if exclusive {
		fn = "pg_advisory_xact_lock"
	}
	_, err := tx.Exec(ctx, `SELECT `+fn+`(hashtextextended('network.tree:' || $1, 0))`, tx.TenantID)
	return err
}

// checkRegions adds a problem for every code not in the GB/T 2260 table.
func checkRegions(ctx context.Context, tx pg.TenantTx, v *tenants.Validation, loc string, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT c FROM unnest($1::text[]) AS c WHERE NOT EXISTS (SELECT FROM regions WHERE code = c)`, codes)
	if err != nil {
		return err
	}
	unknown, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for i, c := range codes {
		if slices.Contains(unknown, c) && RegionLevel(c) != 0 {
			v.AddMsg(fmt.Sprintf("%s[%d]", loc, i), i18n.M("common.unknown_region_code"), c)
		}
	}
	return nil
}

func nodeRegionCodes(f NodeFields) (single []string, coverage []string) {
	if f.Address.RegionCode != "" && RegionLevel(f.Address.RegionCode) != 0 {
		single = []string{f.Address.RegionCode}
	}
	for _, c := range f.Coverage {
		if RegionLevel(c) != 0 {
			coverage = append(coverage, c)
		}
	}
	return single, coverage
}

func checkNodeRegions(ctx context.Context, tx pg.TenantTx, v *tenants.Validation, prefix string, f NodeFields) error {
	addr, _ := nodeRegionCodes(f)
	av := &tenants.Validation{}
	if err := checkRegions(ctx, tx, av, prefix+"address.region_code", addr); err != nil {
		return err
	}
	for _, fe := range av.Fields() {
		v.AddField(fe.At(prefix + "address.region_code"))
	}
	return checkRegions(ctx, tx, v, prefix+"coverage", f.Coverage)
}

// getNode reads a node visible in scope; lock is "", "FOR UPDATE" or "FOR SHARE".
func getNode(ctx context.Context, tx pg.TenantTx, sc Scope, id, lock string) (Node, error) {
	if !tenants.ValidID(tenants.PrefixNode, id) {
		return Node{}, tenants.NotFound("node")
	}
	n, err := scanNode(tx.QueryRow(ctx, `SELECT `+nodeColumns+` FROM nodes
		WHERE tenant_id = $1 AND id = $2 AND ($3::ltree IS NULL OR path <@ $3::ltree) `+lock,
		tx.TenantID, id, sc.Path()))
	if errors.Is(err, pgx.ErrNoRows) {
		return Node{}, tenants.NotFound("node")
	}
	return n, err
}

func pathText(n Node) string { return strings.Join(n.Path, ".") }

// tierUnder checks that a node of tier may sit under parent.
func tierUnder(v *tenants.Validation, loc string, tier Tier, parent Node) {
	if parent.Tier.Rank() >= tier.Rank() {
		v.AddMsg(loc, i18n.M("network.parent_tier", "Tier", tier, "Parent", parent.ID, "ParentTier", parent.Tier), parent.ID)
	}
	if parent.Status == StatusTerminated {
		v.AddMsg(loc, i18n.M("network.parent_terminated"), parent.ID)
	}
}

// CreateNode adds a node to the tree.
func (s *Service) CreateNode(ctx context.Context, p tenants.Principal, in NewNode) (Node, error) {
	v := &tenants.Validation{}
	validateFields(v, "", in.NodeFields)
	if in.Tier.Rank() == 0 {
		v.AddMsg("tier", i18n.M("common.one_of", "Values", "manufacturer, service_center, specialist_depot, repair_point"), in.Tier)
	}
	status := NodeStatus(in.Status)
	if status == "" {
		status = StatusProbation
	}
	if status != StatusProbation && status != StatusActive {
		v.AddMsg("status", i18n.M("network.new_node_status"), in.Status)
	}
	switch {
	case in.Tier == TierManufacturer && in.ParentID != "":
		v.AddMsg("parent_id", i18n.M("network.manufacturer_no_parent"), in.ParentID)
	case in.Tier != TierManufacturer && in.Tier.Rank() != 0 && in.ParentID == "":
		v.AddMsg("parent_id", i18n.M("common.required_for_a", "What", string(in.Tier)), nil)
	}
	if err := v.Err(); err != nil {
		return Node{}, err
	}
	var out Node
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := ResolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		if err := lockTree(ctx, tx, false); err != nil {
			return err
		}
		if err := checkNodeRegions(ctx, tx, v, "", in.NodeFields); err != nil {
			return err
		}
		id := tenants.NewID(tenants.PrefixNode)
		path := id
		var parentID *string
		if in.ParentID != "" {
			parent, err := getNode(ctx, tx, sc, in.ParentID, "FOR SHARE")
			if tenants.ErrorCode(err) == tenants.CodeNotFound {
				v.AddMsg("parent_id", i18n.M("common.no_such_node"), in.ParentID)
			} else if err != nil {
				return err
			} else {
				tierUnder(v, "parent_id", in.Tier, parent)
				path = pathText(parent) + "." + id
				parentID = &parent.ID
			}
		} else if !sc.Whole() {
			v.AddMsg("parent_id", i18n.M("network.node_key_parent_required"), nil)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := withinOwnServiceArea(ctx, tx, sc, NodeFields{}, in.NodeFields); err != nil {
			return err
		}
		out, err = insertNode(ctx, tx, id, parentID, path, in.Tier, status, in.NodeFields)
		if err != nil {
			return err
		}
		if err := recordStatus(ctx, tx, out.ID, nil, status, "created", p.Subject()); err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeNodeCreated, SubjectID: out.ID, Actor: p.Subject(),
			Data: map[string]any{"external_code": out.ExternalCode, "tier": out.Tier, "parent_id": out.ParentID, "status": out.Status}})
	})
	return out, pg.Translate(err)
}

func nullable[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func latLon(p *Point) (lat, lon *float64) {
	if p == nil {
		return nil, nil
	}
	return &p.Latitude, &p.Longitude
}

func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func insertNode(ctx context.Context, tx pg.TenantTx, id string, parentID *string, path string, tier Tier, status NodeStatus, f NodeFields) (Node, error) {
	lat, lon := latLon(f.Location)
	return scanNode(tx.QueryRow(ctx, `
		INSERT INTO nodes (tenant_id, id, external_code, name, tier, parent_id, path, status, grade, contact, address,
		                   latitude, longitude, coverage, categories, service_kinds, daily_capacity)
		VALUES ($1, $2, $3, $4, $5, $6, $7::ltree, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		RETURNING `+nodeColumns,
		tx.TenantID, id, f.ExternalCode, f.Name, tier, parentID, path, status, nullable(f.Grade), f.Contact, f.Address,
		lat, lon, orEmpty(f.Coverage), orEmpty(f.Categories), orEmpty(f.ServiceKinds), f.DailyCapacity))
}

func recordStatus(ctx context.Context, tx pg.TenantTx, nodeID string, from *NodeStatus, to NodeStatus, reason, actor string) error {
	_, err := tx.Exec(ctx, `INSERT INTO node_status_changes (tenant_id, id, node_id, from_status, to_status, reason, actor)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		tx.TenantID, tenants.NewID(tenants.PrefixNodeStatus), nodeID, from, to, reason, actor)
	return err
}

// GetNode returns a node in the principal's scope.
func (s *Service) GetNode(ctx context.Context, p tenants.Principal, id string) (Node, error) {
	var n Node
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := ResolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		n, err = getNode(ctx, tx, sc, id, "")
		return err
	})
	return n, pg.Translate(err)
}

// NodeFilter selects nodes; empty fields do not filter.
type NodeFilter struct {
	Tier        string
	Status      string
	ParentID    string
	SubtreeOf   string
	RegionCode  string
	Category    string
	ServiceKind string
	Limit       int
	Cursor      string
}

// ListNodes lists nodes in scope in id order.
func (s *Service) ListNodes(ctx context.Context, p tenants.Principal, f NodeFilter) ([]Node, string, error) {
	page, err := pg.NewKeyset("nodes", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	var regions []string
	if f.RegionCode != "" {
		regions = RegionAncestors(f.RegionCode)
	}
	var nodes []Node
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := ResolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT `+nodeColumns+` FROM nodes
			WHERE tenant_id = $1 AND id > $2
			  AND ($3::ltree IS NULL OR path <@ $3::ltree)
			  AND ($4 = '' OR tier = $4)
			  AND ($5 = '' OR status = $5)
			  AND ($6 = '' OR parent_id = $6)
			  AND ($7 = '' OR path <@ (SELECT n.path FROM nodes n WHERE n.tenant_id = $1 AND n.id = $7))
			  AND ($8::text[] IS NULL OR coverage && $8::text[])
			  AND ($9 = '' OR $9 = ANY (categories))
			  AND ($10 = '' OR $10 = ANY (service_kinds))
			ORDER BY id LIMIT $11`,
			tx.TenantID, page.After, sc.Path(), f.Tier, f.Status, f.ParentID, f.SubtreeOf, regions, f.Category, f.ServiceKind, page.Fetch())
		if err != nil {
			return err
		}
		nodes, err = collectNodes(rows)
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	nodes, next := pg.Page(page, nodes, func(n Node) string { return n.ID })
	return nodes, next, nil
}

// SubtreeNode is a node in a subtree listing, with its depth below the
// subtree's top (0 for the top itself).
type SubtreeNode struct {
	Node
	Depth int `json:"depth" doc:"Levels below the subtree's top node (0 for the top itself)." example:"1"`
}

// Subtree lists a node and everything under it in tree (depth-first) order,
// optionally only maxDepth levels deep (0: all).
func (s *Service) Subtree(ctx context.Context, p tenants.Principal, id string, maxDepth, limit int, cursor string) ([]SubtreeNode, string, error) {
	page, err := pg.NewKeyset("subtree", cursor, limit)
	if err != nil {
		return nil, "", err
	}
	var out []SubtreeNode
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := ResolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		top, err := getNode(ctx, tx, sc, id, "")
		if err != nil {
			return err
		}
		topPath := pathText(top)
		rows, err := tx.Query(ctx, SubtreeSQL,
			tx.TenantID, topPath, page.After, maxDepth, page.Fetch())
		if err != nil {
			return err
		}
		nodes, err := collectNodes(rows)
		if err != nil {
			return err
		}
		for _, n := range nodes {
			out = append(out, SubtreeNode{Node: n, Depth: len(n.Path) - len(top.Path)})
		}
		return nil
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := pg.Page(page, out, func(n SubtreeNode) string { return pathText(n.Node) })
	if out == nil {
		out = []SubtreeNode{}
	}
	return out, next, nil
}

// lockNode locks node id of scope sc for update; ifVersion > 0 must be its
// version (precondition failed otherwise).
func lockNode(ctx context.Context, tx pg.TenantTx, sc Scope, id string, ifVersion int) (Node, error) {
	n, err := getNode(ctx, tx, sc, id, "FOR UPDATE")
	if err != nil {
		return Node{}, err
	}
	return n, tenants.CheckVersion("node", ifVersion, n.Version)
}

// lockScopedNode is lockNode in p's scope, which it returns too.
func lockScopedNode(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string, ifVersion int) (Scope, Node, error) {
	sc, err := ResolveScope(ctx, tx, p)
	if err != nil {
		return Scope{}, Node{}, err
	}
	n, err := lockNode(ctx, tx, sc, id, ifVersion)
	return sc, n, err
}

// UpdateNode applies u to a node; ifVersion > 0 must match its version. A
// node-bound key may not change its own node's grade, coverage, categories
// or service kinds (forbidden).
func (s *Service) UpdateNode(ctx context.Context, p tenants.Principal, id string, u NodeUpdate, ifVersion int) (Node, error) {
	var out Node
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, n, err := lockScopedNode(ctx, tx, p, id, ifVersion)
		if err != nil {
			return err
		}
		if !sc.Whole() && n.ID == sc.Root && tenants.DiffersPtr(u.Grade, n.Grade) {
			// The brand grades its nodes (quality grading, with history
			// and appeal), and dispatch ranks them by grade.
			return tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("network.node_key_own_grade"))
		}
		if !sc.Whole() && n.ID == sc.Root && (changesSet(n.Coverage, u.Coverage) || changesSet(n.Categories, u.Categories) ||
			changesSet(n.ServiceKinds, u.ServiceKinds)) {
			// What a node serves (its regions, categories and kinds of
			// service) is the brand's authorisation, and dispatch sends it
			// work by them: a node widening its own coverage takes its
			// neighbours' customers.
			return tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("network.node_key_own_service_area"))
		}
		f := fieldsOf(n)
		var changed tenants.Changes
		set := changed.Set
		set("external_code", tenants.Differs(u.ExternalCode, f.ExternalCode), func() { f.ExternalCode = *u.ExternalCode })
		set("name", tenants.Differs(u.Name, f.Name), func() { f.Name = *u.Name })
		set("grade", tenants.Differs(u.Grade, f.Grade), func() { f.Grade = *u.Grade })
		set("contact", tenants.Differs(u.Contact, f.Contact), func() { f.Contact = *u.Contact })
		set("address", tenants.Differs(u.Address, f.Address), func() { f.Address = *u.Address })
		set("location", tenants.DiffersPtr(u.Location, f.Location), func() { f.Location = u.Location })
		set("coverage", tenants.Differs(u.Coverage, f.Coverage), func() { f.Coverage = *u.Coverage })
		set("categories", tenants.Differs(u.Categories, f.Categories), func() { f.Categories = *u.Categories })
		set("service_kinds", tenants.Differs(u.ServiceKinds, f.ServiceKinds), func() { f.ServiceKinds = *u.ServiceKinds })
		set("daily_capacity", tenants.Differs(u.DailyCapacity, f.DailyCapacity), func() { f.DailyCapacity = *u.DailyCapacity })
		v := &tenants.Validation{}
		validateFields(v, "", f)
		if err := checkNodeRegions(ctx, tx, v, "", f); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			out = n
			return nil
		}
		if err := withinOwnServiceArea(ctx, tx, sc, fieldsOf(n), f); err != nil {
			return err
		}
		out, err = updateNodeFields(ctx, tx, n.ID, f)
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeNodeUpdated, SubjectID: n.ID, Actor: p.Subject(),
			Data: map[string]any{"changed": changed, "version": out.Version}})
	})
	return out, pg.Translate(err)
}

func fieldsOf(n Node) NodeFields {
	f := NodeFields{ExternalCode: n.ExternalCode, Name: n.Name, Contact: n.Contact, Address: n.Address,
		Location: n.Location, Coverage: n.Coverage, Categories: n.Categories, ServiceKinds: n.ServiceKinds,
		DailyCapacity: n.DailyCapacity}
	if n.Grade != nil {
		f.Grade = *n.Grade
	}
	return f
}

func updateNodeFields(ctx context.Context, tx pg.TenantTx, id string, f NodeFields) (Node, error) {
	lat, lon := latLon(f.Location)
	return scanNode(tx.QueryRow(ctx, `
		UPDATE nodes SET external_code = $3, name = $4, grade = $5, contact = $6, address = $7, latitude = $8,
		       longitude = $9, coverage = $10, categories = $11, service_kinds = $12, daily_capacity = $13,
		       version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND id = $2
		RETURNING `+nodeColumns,
		tx.TenantID, id, f.ExternalCode, f.Name, nullable(f.Grade), f.Contact, f.Address, lat, lon,
		orEmpty(f.Coverage), orEmpty(f.Categories), orEmpty(f.ServiceKinds), f.DailyCapacity))
}

// MoveNode puts a node, with its whole subtree, under a new parent.
func (s *Service) MoveNode(ctx context.Context, p tenants.Principal, id, newParentID string, ifVersion int) (Node, error) {
	var out Node
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if err := lockTree(ctx, tx, true); err != nil {
			return err
		}
		sc, err := ResolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		out, err = moveNode(ctx, tx, sc, p.Subject(), id, newParentID, ifVersion, "parent_id")
		return err
	})
	return out, pg.Translate(err)
}

// moveNode is MoveNode inside a transaction holding the tree lock.
func moveNode(ctx context.Context, tx pg.TenantTx, sc Scope, actor, id, newParentID string, ifVersion int, loc string) (Node, error) {
	n, err := lockNode(ctx, tx, sc, id, ifVersion)
	if err != nil {
		return Node{}, err
	}
	if n.ParentID == nil {
		return Node{}, tenants.InvalidMsg("id", i18n.M("network.manufacturer_not_movable"), id)
	}
	if !sc.Whole() && n.ID == sc.Root {
		return Node{}, tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("network.node_key_move_own"))
	}
	parent, err := getNode(ctx, tx, sc, newParentID, "FOR SHARE")
	if tenants.ErrorCode(err) == tenants.CodeNotFound {
		return Node{}, tenants.InvalidMsg(loc, i18n.M("common.no_such_node"), newParentID)
	} else if err != nil {
		return Node{}, err
	}
	if *n.ParentID == parent.ID {
		return n, nil
	}
	oldPath, newParentPath := pathText(n), pathText(parent)
	if newParentPath == oldPath || strings.HasPrefix(newParentPath, oldPath+".") {
		return Node{}, tenants.InvalidMsg(loc, i18n.M("network.move_under_itself"), newParentID)
	}
	v := &tenants.Validation{}
	tierUnder(v, loc, n.Tier, parent)
	if err := v.Err(); err != nil {
		return Node{}, err
	}
	tag, err := tx.Exec(ctx, `
		UPDATE nodes SET path = $3::ltree || subpath(path, nlevel($4::ltree) - 1),
		       parent_id = CASE WHEN id = $2 THEN $5 ELSE parent_id END,
		       version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND path <@ $4::ltree`,
		tx.TenantID, n.ID, newParentPath, oldPath, parent.ID)
	if err != nil {
		return Node{}, err
	}
	out, err := getNode(ctx, tx, Scope{}, n.ID, "")
	if err != nil {
		return Node{}, err
	}
	return out, events.Append(ctx, tx, events.New{Type: TypeNodeMoved, SubjectID: n.ID, Actor: actor,
		Data: map[string]any{"from_parent_id": *n.ParentID, "to_parent_id": parent.ID, "nodes_moved": tag.RowsAffected()}})
}

// ChangeNodeStatus moves a node through probation → active ⇄ suspended →
// terminated, recording the reason. Terminating a node that still has
// non-terminated children or technicians who have not left is refused.
func (s *Service) ChangeNodeStatus(ctx context.Context, p tenants.Principal, id string, to NodeStatus, reason string, ifVersion int) (Node, error) {
	if !slices.Contains(NodeStatuses, to) {
		return Node{}, tenants.InvalidMsg("status", i18n.M("common.one_of", "Values", "probation, active, suspended, terminated"), to)
	}
	if strings.TrimSpace(reason) == "" {
		return Node{}, tenants.InvalidMsg("reason", i18n.M("network.status_reason_required"), reason)
	}
	var out Node
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, n, err := lockScopedNode(ctx, tx, p, id, ifVersion)
		if err != nil {
			return err
		}
		if !sc.Whole() && n.ID == sc.Root {
			return tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("network.node_key_own_status"))
		}
		if !slices.Contains(statusTransitions[n.Status], to) {
			allowed := statusTransitions[n.Status]
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("network.status_transition", "Status", n.Status, "To", to, "Allowed", joinStatuses(allowed)))
		}
		if to == StatusTerminated {
			var children, techs int
			if err := tx.QueryRow(ctx, `
				SELECT (SELECT count(*) FROM nodes WHERE tenant_id = $1 AND parent_id = $2 AND status <> 'terminated'),
				       (SELECT count(*) FROM technicians WHERE tenant_id = $1 AND node_id = $2 AND status <> 'left')`,
				tx.TenantID, n.ID).Scan(&children, &techs); err != nil {
				return err
			}
			if children > 0 || techs > 0 {
				return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("network.node_has_members", "Children", children, "Technicians", techs))
			}
		}
		out, err = setStatusTx(ctx, tx, n, to, reason, p.Subject())
		return err
	})
	return out, pg.Translate(err)
}

// setStatusTx moves locked node n to status to (an allowed transition,
// checked by the caller) with reason: the row, its status history and a
// node.status_changed event.
func setStatusTx(ctx context.Context, tx pg.TenantTx, n Node, to NodeStatus, reason, actor string) (Node, error) {
	out, err := scanNode(tx.QueryRow(ctx, `
		UPDATE nodes SET status = $3, status_reason = $4, status_changed_at = now(), version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 RETURNING `+nodeColumns, tx.TenantID, n.ID, to, reason))
	if err != nil {
		return Node{}, err
	}
	from := n.Status
	if err := recordStatus(ctx, tx, n.ID, &from, to, reason, actor); err != nil {
		return Node{}, err
	}
	return out, events.Append(ctx, tx, events.New{Type: TypeNodeStatusChanged, SubjectID: n.ID, Actor: actor,
		Data: map[string]any{"from": from, "to": to, "reason": reason}})
}

func joinStatuses(ss []NodeStatus) string {
	if len(ss) == 0 {
		return "none: terminated is final"
	}
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// StatusChange is one entry of a node's status history.
type StatusChange struct {
	ID        string      `json:"id" example:"nsc_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	From      *NodeStatus `json:"from,omitempty" example:"probation"`
	To        NodeStatus  `json:"to" example:"active"`
	Reason    string      `json:"reason" example:"passed the 3-month probation review"`
	Actor     string      `json:"actor" doc:"Key ID (or \"operator\", \"system\") that made the change." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	ChangedAt time.Time   `json:"changed_at" example:"2026-11-01T09:30:00+08:00"`
}

// StatusHistory lists a node's status changes, oldest first.
func (s *Service) StatusHistory(ctx context.Context, p tenants.Principal, id string) ([]StatusChange, error) {
	var out []StatusChange
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := ResolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		if _, err := getNode(ctx, tx, sc, id, ""); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, from_status, to_status, reason, actor, changed_at FROM node_status_changes
			WHERE tenant_id = $1 AND node_id = $2 ORDER BY changed_at, id`, tx.TenantID, id)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (StatusChange, error) {
			var c StatusChange
			err := r.Scan(&c.ID, &c.From, &c.To, &c.Reason, &c.Actor, &c.ChangedAt)
			return c, err
		})
		return err
	})
	return out, pg.Translate(err)
}

// CandidateQuery asks which nodes can take a job: active nodes covering the
// region (directly or through its city or province), servicing the category
// and offering the service kind, with daily capacity.
type CandidateQuery struct {
	RegionCode  string
	Category    string
	ServiceKind string
	Tier        string
	Limit       int
}

// Candidate is a node that can take the job, and how it matched.
type Candidate struct {
	Node
	MatchedRegion string `json:"matched_region" doc:"The coverage code that matched: the district itself, its city or its province." example:"370212"`
}

// Candidates answers the candidate query, nearest tier first (repair points,
// then depots, service centers, the manufacturer), better grade first.
func (s *Service) Candidates(ctx context.Context, p tenants.Principal, q CandidateQuery) ([]Candidate, error) {
	if RegionLevel(q.RegionCode) == 0 {
		return nil, tenants.InvalidMsg("region_code", i18n.M("common.region_code_6"), q.RegionCode)
	}
	ancestors := RegionAncestors(q.RegionCode)
	var out []Candidate
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		v := &tenants.Validation{}
		if err := checkRegions(ctx, tx, v, "region_code", []string{q.RegionCode}); err != nil {
			return err
		}
		if len(v.Fields()) > 0 {
			return tenants.InvalidMsg("region_code", i18n.M("common.unknown_region_code"), q.RegionCode)
		}
		sc, err := ResolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, CandidatesSQL,
			tx.TenantID, ancestors, q.Category, q.ServiceKind, sc.Path(), q.Tier, q.Limit)
		if err != nil {
			return err
		}
		nodes, err := collectNodes(rows)
		if err != nil {
			return err
		}
		out = make([]Candidate, 0, len(nodes))
		for _, n := range nodes {
			c := Candidate{Node: n}
			for _, a := range ancestors { // most specific first
				if slices.Contains(n.Coverage, a) {
					c.MatchedRegion = a
					break
				}
			}
			out = append(out, c)
		}
		return nil
	})
	return out, pg.Translate(err)
}

// withinOwnServiceArea refuses (forbidden, naming the value) a node-bound
// key giving a node under it a region, category or kind of service that
// its own node does not serve: what a node serves is the brand's
// authorisation, passed down the tree, and dispatch sends work by it, so a
// center's key giving its repair point the neighbouring city (or a
// category the center was never authorised for) would send the point
// customers no one authorised the center to serve. A region is within the
// key's node's coverage when it or a region containing it is covered (a
// district of a covered city). Only the values to adds (those from does
// not hold) are checked: narrowing is always the key's to do, and what the brand set
// beyond it stays. The brand's keys are not bounded.
func withinOwnServiceArea(ctx context.Context, tx pg.TenantTx, sc Scope, from, to NodeFields) error {
	if sc.Whole() {
		return nil
	}
	own, err := getNode(ctx, tx, sc, sc.Root, "")
	if err != nil {
		return err
	}
	beyond := func(loc string, from, to []string, serves func(string) bool) []tenants.FieldError {
		var out []tenants.FieldError
		for i, c := range to {
			if !slices.Contains(from, c) && !serves(c) {
				out = append(out, tenants.FieldMsg(fmt.Sprintf("%s[%d]", loc, i),
					i18n.M("network.node_key_beyond_own_service_area", "Node", own.ID), c))
			}
		}
		return out
	}
	var fields []tenants.FieldError
	fields = append(fields, beyond("coverage", from.Coverage, to.Coverage, func(c string) bool {
		return slices.ContainsFunc(RegionAncestors(c), func(a string) bool { return slices.Contains(own.Coverage, a) })
	})...)
	fields = append(fields, beyond("categories", from.Categories, to.Categories, func(c string) bool { return slices.Contains(own.Categories, c) })...)
	fields = append(fields, beyond("service_kinds", from.ServiceKinds, to.ServiceKinds, func(c string) bool { return slices.Contains(own.ServiceKinds, c) })...)
	if len(fields) == 0 {
		return nil
	}
	return tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("network.node_key_beyond_own_service_area", "Node", own.ID)).With(fields...)
}

// changesSet reports whether to, when given, holds other values than from,
// whatever their order and repetitions.
func changesSet(from []string, to *[]string) bool {
	if to == nil {
		return false
	}
	a, b := slices.Clone(from), slices.Clone(*to)
	slices.Sort(a)
	slices.Sort(b)
	return !slices.Equal(slices.Compact(a), slices.Compact(b))
}
