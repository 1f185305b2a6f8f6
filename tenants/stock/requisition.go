package stock

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Op is what a requisition does with a ticket's parts.
type Op string

// Requisition operations.
const (
	OpReserve         Op = "reserve"
	OpRelease         Op = "release"
	OpIssue           Op = "issue"
	OpUse             Op = "use"
	OpReturn          Op = "return"
	OpReturnDefective Op = "return_defective"
)

// Ops lists the operations in the order a part goes through them.
var Ops = []Op{OpReserve, OpRelease, OpIssue, OpUse, OpReturn, OpReturnDefective}

// Requisition moves parts of a node's stock for a ticket.
type Requisition struct {
	NodeID   string // the ticket's node: reservations take its stock
	TicketID string
	// ModelID is the unit's model: reserved parts must fit it. Empty: the
	// model is unknown and fit is not checked.
	ModelID string
	Op      Op
	Lines   []Line
	Actor   string
	// Loc prefixes error locations: Loc+"[i].quantity" ("lines").
	Loc string
}

// TicketPart is one requisition line of a ticket: cumulative counts.
type TicketPart struct {
	PartID            string `json:"part_id" example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	PartNumber        string `json:"part_number" doc:"The brand's part number." example:"0021800078A"`
	Name              string `json:"name" doc:"The part's name." example:"变频电机 (BLDC)"`
	NodeID            string `json:"node_id" doc:"The node whose stock the line moves." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Reserved          int    `json:"reserved" doc:"Reserved for the ticket, net of releases; includes what was issued since." example:"2"`
	Issued            int    `json:"issued" doc:"Taken from the node's shelf for the ticket." example:"2"`
	Used              int    `json:"used" doc:"Fitted to the unit." example:"1"`
	Returned          int    `json:"returned" doc:"Issued but not used, back on the node's shelf." example:"1"`
	DefectiveReturned int    `json:"defective_returned" doc:"Replaced (defective) parts taken back to the node and held for the brand." example:"1"`
}

// Shortage is a reserve line the node's stock could not cover: nothing of
// it was reserved.
type Shortage struct {
	PartID    string `json:"part_id" example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Requested int    `json:"requested" doc:"How many the line asked for." example:"2"`
	Available int    `json:"available" doc:"How many the node could reserve (on hand less reserved)." example:"1"`
}

// Result is a ticket's requisition lines after Apply, and the reserve lines
// that were short.
type Result struct {
	Parts     []TicketPart
	Shortages []Shortage
}

type stockKey struct{ node, part string }

type stockRow struct {
	onHand, reserved, defective int
	exists, changed             bool
}

type move struct {
	node, part string
	kind       Op
	qty        int
}

// Apply moves stock for a ticket inside tx (the caller holds the ticket's
// lock). Lines name each part once. Every part must exist and, on reserve,
// fit ModelID (invalid on Loc[i].part_id).
//
//   - reserve reserves at NodeID what is available; a line that cannot be
//     fully reserved is reported in Shortages and reserves nothing.
//   - release un-reserves at most reserved-not-issued;
//   - issue takes at most reserved-not-issued off the shelf;
//   - use records at most issued-not-used-not-returned as fitted;
//   - return puts at most issued-not-used-not-returned back on the shelf;
//   - return_defective takes back at most used-not-yet-returned-defective
//     replaced parts, held as defective.
//
// A quantity beyond these is invalid on Loc[i].quantity and nothing moves.
// A line keeps the node that first reserved it: later operations move that
// node's stock, and reserving it at another node while parts are still
// reserved or issued there is a conflict. Every movement is a stock_moves
// row; stock rows are locked FOR UPDATE in part order, so concurrent
// requisitions cannot deadlock.
func Apply(ctx context.Context, tx pg.TenantTx, r Requisition) (Result, error) {
	if !slices.Contains(Ops, r.Op) {
		return Result{}, fmt.Errorf("stock: unknown requisition op %q", r.Op)
	}
	v := &tenants.Validation{}
	if len(r.Lines) == 0 {
		return Result{}, tenants.InvalidMsg(r.Loc, i18n.M("stock.line_required"), nil)
	}
	if len(r.Lines) > MaxLines {
		return Result{}, tenants.InvalidMsg(r.Loc, i18n.M("common.max_lines", "Max", MaxLines), len(r.Lines))
	}
	ids := make([]string, 0, len(r.Lines))
	seen := map[string]bool{}
	for i, l := range r.Lines {
		loc := fmt.Sprintf("%s[%d]", r.Loc, i)
		if l.Quantity < 1 || l.Quantity > 100 {
			v.AddMsg(loc+".quantity", i18n.M("common.range", "Min", 1, "Max", 100), l.Quantity)
		}
		if seen[l.PartID] {
			v.AddMsg(loc+".part_id", i18n.M("common.part_listed_twice"), l.PartID)
		}
		seen[l.PartID] = true
		ids = append(ids, l.PartID)
	}
	if err := v.Err(); err != nil {
		return Result{}, err
	}
	type partInfo struct{ fits bool }
	parts := map[string]partInfo{}
	rows, err := tx.Query(ctx, `
		SELECT p.id, $3 = '' OR EXISTS (SELECT 1 FROM part_models pm WHERE pm.tenant_id = p.tenant_id AND pm.part_id = p.id AND pm.model_id = $3)
		FROM parts p WHERE p.tenant_id = $1 AND p.id = ANY($2)`, tx.TenantID, ids, r.ModelID)
	if err != nil {
		return Result{}, err
	}
	for rows.Next() {
		var id string
		var pi partInfo
		if err := rows.Scan(&id, &pi.fits); err != nil {
			return Result{}, err
		}
		parts[id] = pi
	}
	if err := rows.Err(); err != nil {
		return Result{}, err
	}
	for i, l := range r.Lines {
		loc := fmt.Sprintf("%s[%d].part_id", r.Loc, i)
		pi, ok := parts[l.PartID]
		switch {
		case !ok:
			v.AddMsg(loc, i18n.M("common.no_such_part"), l.PartID)
		case r.Op == OpReserve && !pi.fits:
			v.AddMsg(loc, i18n.M("stock.part_not_compatible"), l.PartID)
		}
	}
	if err := v.Err(); err != nil {
		return Result{}, err
	}

	// The ticket's lines for these parts.
	lines := map[string]*TicketPart{}
	rows, err = tx.Query(ctx, `
		SELECT part_id, node_id, reserved, issued, used, returned, defective_returned FROM ticket_parts
		WHERE tenant_id = $1 AND ticket_id = $2 AND part_id = ANY($3) ORDER BY part_id FOR UPDATE`, tx.TenantID, r.TicketID, ids)
	if err != nil {
		return Result{}, err
	}
	for rows.Next() {
		var tp TicketPart
		if err := rows.Scan(&tp.PartID, &tp.NodeID, &tp.Reserved, &tp.Issued, &tp.Used, &tp.Returned, &tp.DefectiveReturned); err != nil {
			return Result{}, err
		}
		lines[tp.PartID] = &tp
	}
	if err := rows.Err(); err != nil {
		return Result{}, err
	}

	// Which node each line moves, and the conflicts of moving a line.
	nodeOf := make([]string, len(r.Lines))
	for i, l := range r.Lines {
		nodeOf[i] = r.NodeID
		tp := lines[l.PartID]
		if tp == nil {
			continue
		}
		if r.Op != OpReserve || tp.NodeID == r.NodeID {
			nodeOf[i] = tp.NodeID
			continue
		}
		if tp.Reserved > tp.Issued || tp.Issued > tp.Used+tp.Returned {
			return Result{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("stock.part_held_elsewhere", "Part", l.PartID, "Node", tp.NodeID))
		}
	}

	// Lock the stock rows in (part, node) order; operations that may add
	// to a node's stock create its row first.
	keys := make([]stockKey, len(r.Lines))
	for i, l := range r.Lines {
		keys[i] = stockKey{nodeOf[i], l.PartID}
	}
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, func(a, b stockKey) int {
		if a.part != b.part {
			return cmp.Compare(a.part, b.part)
		}
		return cmp.Compare(a.node, b.node)
	})
	nodes, partIDs := make([]string, len(sorted)), make([]string, len(sorted))
	for i, k := range sorted {
		nodes[i], partIDs[i] = k.node, k.part
	}
	if r.Op == OpReturn || r.Op == OpReturnDefective {
		if _, err := tx.Exec(ctx, `
			INSERT INTO part_stock (tenant_id, node_id, part_id)
			SELECT $1, k.node_id, k.part_id FROM unnest($2::text[], $3::text[]) WITH ORDINALITY k(node_id, part_id, n) ORDER BY k.n
			ON CONFLICT DO NOTHING`, tx.TenantID, nodes, partIDs); err != nil {
			return Result{}, err
		}
	}
	stock := map[stockKey]*stockRow{}
	rows, err = tx.Query(ctx, `
		SELECT s.node_id, s.part_id, s.on_hand, s.reserved, s.defective FROM part_stock s
		JOIN unnest($2::text[], $3::text[]) k(node_id, part_id) ON k.node_id = s.node_id AND k.part_id = s.part_id
		WHERE s.tenant_id = $1 ORDER BY s.part_id, s.node_id FOR UPDATE OF s`, tx.TenantID, nodes, partIDs)
	if err != nil {
		return Result{}, err
	}
	for rows.Next() {
		var k stockKey
		row := &stockRow{exists: true}
		if err := rows.Scan(&k.node, &k.part, &row.onHand, &row.reserved, &row.defective); err != nil {
			return Result{}, err
		}
		stock[k] = row
	}
	if err := rows.Err(); err != nil {
		return Result{}, err
	}

	var res Result
	var moves []move
	touched := map[string]bool{}
	for i, l := range r.Lines {
		k := keys[i]
		st := stock[k]
		if st == nil {
			st = &stockRow{}
			stock[k] = st
		}
		tp := lines[l.PartID]
		if tp == nil {
			tp = &TicketPart{PartID: l.PartID, NodeID: k.node}
			lines[l.PartID] = tp
		}
		q := l.Quantity
		loc := fmt.Sprintf("%s[%d].quantity", r.Loc, i)
		limit := func(max int, what string) bool {
			if q > max {
				v.AddMsg(loc, i18n.M("stock.at_most_of", "Max", max, "What", what), q)
				return false
			}
			return true
		}
		switch r.Op {
		case OpReserve:
			if avail := st.onHand - st.reserved; avail < q {
				res.Shortages = append(res.Shortages, Shortage{PartID: l.PartID, Requested: q, Available: max(avail, 0)})
				continue
			}
			tp.NodeID = k.node
			st.reserved += q
			tp.Reserved += q
		case OpRelease:
			if !limit(tp.Reserved-tp.Issued, "reserved and not issued") {
				continue
			}
			st.reserved -= q
			tp.Reserved -= q
		case OpIssue:
			if !limit(tp.Reserved-tp.Issued, "reserved and not issued") {
				continue
			}
			st.onHand -= q
			st.reserved -= q
			tp.Issued += q
		case OpUse:
			if !limit(tp.Issued-tp.Used-tp.Returned, "issued and neither used nor returned") {
				continue
			}
			tp.Used += q
		case OpReturn:
			if !limit(tp.Issued-tp.Used-tp.Returned, "issued and neither used nor returned") {
				continue
			}
			st.onHand += q
			tp.Returned += q
		case OpReturnDefective:
			if !limit(tp.Used-tp.DefectiveReturned, "used and not yet returned defective") {
				continue
			}
			st.defective += q
			tp.DefectiveReturned += q
		}
		st.changed = st.changed || r.Op != OpUse
		touched[l.PartID] = true
		moves = append(moves, move{node: k.node, part: l.PartID, kind: r.Op, qty: q})
	}
	if err := v.Err(); err != nil {
		return Result{}, err
	}

	for _, k := range sorted {
		st := stock[k]
		if !st.exists || !st.changed {
			continue
		}
		if _, err := tx.Exec(ctx, `
			UPDATE part_stock SET on_hand = $4, reserved = $5, defective = $6, version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND node_id = $2 AND part_id = $3`,
			tx.TenantID, k.node, k.part, st.onHand, st.reserved, st.defective); err != nil {
			return Result{}, err
		}
	}
	b := &pgx.Batch{}
	for _, l := range r.Lines {
		if !touched[l.PartID] {
			continue
		}
		tp := lines[l.PartID]
		b.Queue(`
			INSERT INTO ticket_parts (tenant_id, ticket_id, part_id, node_id, reserved, issued, used, returned, defective_returned)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (tenant_id, ticket_id, part_id) DO UPDATE SET node_id = $4, reserved = $5, issued = $6, used = $7,
			  returned = $8, defective_returned = $9, updated_at = now()`,
			tx.TenantID, r.TicketID, tp.PartID, tp.NodeID, tp.Reserved, tp.Issued, tp.Used, tp.Returned, tp.DefectiveReturned)
	}
	for _, m := range moves {
		b.Queue(`INSERT INTO stock_moves (tenant_id, id, node_id, part_id, ticket_id, kind, quantity, actor)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			tx.TenantID, tenants.NewID(tenants.PrefixStockMove), m.node, m.part, r.TicketID, string(m.kind), m.qty, r.Actor)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return Result{}, err
		}
	}
	res.Parts, err = TicketParts(ctx, tx, r.TicketID)
	return res, err
}

// TicketParts returns a ticket's requisition lines in part number order
// (empty when it has none).
func TicketParts(ctx context.Context, tx pg.TenantTx, ticketID string) ([]TicketPart, error) {
	rows, err := tx.Query(ctx, `
		SELECT tp.part_id, p.part_number, p.name, tp.node_id, tp.reserved, tp.issued, tp.used, tp.returned, tp.defective_returned
		FROM ticket_parts tp JOIN parts p ON p.tenant_id = tp.tenant_id AND p.id = tp.part_id
		WHERE tp.tenant_id = $1 AND tp.ticket_id = $2 ORDER BY p.part_number`, tx.TenantID, ticketID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TicketPart, error) {
		var tp TicketPart
		err := r.Scan(&tp.PartID, &tp.PartNumber, &tp.Name, &tp.NodeID, &tp.Reserved, &tp.Issued, &tp.Used, &tp.Returned, &tp.DefectiveReturned)
		return tp, err
	})
}
