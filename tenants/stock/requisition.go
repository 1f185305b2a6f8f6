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
	"github.com/servicenet/servicenet/tenants/catalog"
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
	ids, err := r.partIDs()
	if err != nil {
		return Result{}, err
	}
	lines, err := r.readLines(ctx, tx, ids)
	if err != nil {
		return Result{}, err
	}
	keys, err := r.stockKeys(lines)
	if err != nil {
		return Result{}, err
	}
	stock, err := lockStock(ctx, tx, r.Op, keys)
	if err != nil {
		return Result{}, err
	}
	res, moves, err := r.move(lines, stock, keys)
	if err != nil {
		return Result{}, err
	}
	if err := r.write(ctx, tx, lines, stock, moves); err != nil {
		return Result{}, err
	}
	res.Parts, err = TicketParts(ctx, tx, r.TicketID)
	return res, err
}

// partIDs checks the lines' count, quantities and parts listed once, and
// returns their part ids in line order.
func (r Requisition) partIDs() ([]string, error) {
	if len(r.Lines) == 0 {
		return nil, tenants.InvalidMsg(r.Loc, i18n.M("stock.line_required"), nil)
	}
	if len(r.Lines) > MaxLines {
		return nil, tenants.InvalidMsg(r.Loc, i18n.M("common.max_lines", "Max", MaxLines), len(r.Lines))
	}
	v := &tenants.Validation{}
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
	return ids, v.Err()
}

// readLines reads, in one round trip, the catalog's parts of the lines and
// the ticket's requisition lines of them (locked); every part must exist
// and, on reserve, fit the model. It returns the ticket's lines by part.
func (r Requisition) readLines(ctx context.Context, tx pg.TenantTx, ids []string) (map[string]*TicketPart, error) {
	var parts []catalog.Part
	lines := map[string]*TicketPart{}
	b := &pgx.Batch{}
	catalog.QueueParts(b, tx.TenantID, ids, &parts)
	b.Queue(`
		SELECT part_id, node_id, reserved, issued, used, returned, defective_returned FROM ticket_parts
		WHERE tenant_id = $1 AND ticket_id = $2 AND part_id = ANY($3) ORDER BY part_id FOR UPDATE`, tx.TenantID, r.TicketID, ids).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var tp TicketPart
				if err := rows.Scan(&tp.PartID, &tp.NodeID, &tp.Reserved, &tp.Issued, &tp.Used, &tp.Returned, &tp.DefectiveReturned); err != nil {
					return err
				}
				lines[tp.PartID] = &tp
			}
			return rows.Err()
		})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	v := &tenants.Validation{}
	for i, l := range r.Lines {
		loc := fmt.Sprintf("%s[%d].part_id", r.Loc, i)
		j := slices.IndexFunc(parts, func(p catalog.Part) bool { return p.ID == l.PartID })
		switch {
		case j < 0:
			v.AddMsg(loc, i18n.M("common.no_such_part"), l.PartID)
		case r.Op == OpReserve && r.ModelID != "" && !parts[j].Fits(r.ModelID):
			v.AddMsg(loc, i18n.M("stock.part_not_compatible"), l.PartID)
		}
	}
	return lines, v.Err()
}

// stockKeys is the node and part whose stock each line moves: the
// requisition's node, or the node that first reserved the ticket's line. A
// reserve at another node while the line's parts are still reserved or
// issued there is a conflict.
func (r Requisition) stockKeys(lines map[string]*TicketPart) ([]stockKey, error) {
	keys := make([]stockKey, len(r.Lines))
	for i, l := range r.Lines {
		keys[i] = stockKey{r.NodeID, l.PartID}
		tp := lines[l.PartID]
		if tp == nil {
			continue
		}
		if r.Op != OpReserve || tp.NodeID == r.NodeID {
			keys[i].node = tp.NodeID
			continue
		}
		if tp.Reserved > tp.Issued || tp.Issued > tp.Used+tp.Returned {
			return nil, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("stock.part_held_elsewhere", "Part", l.PartID, "Node", tp.NodeID))
		}
	}
	return keys, nil
}

// sortedKeys are keys in (part, node) order: the order stock rows are
// locked and written in, so concurrent requisitions cannot deadlock.
func sortedKeys(keys []stockKey) []stockKey {
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, func(a, b stockKey) int {
		if a.part != b.part {
			return cmp.Compare(a.part, b.part)
		}
		return cmp.Compare(a.node, b.node)
	})
	return sorted
}

// lockStock locks the stock rows of keys in (part, node) order; operations
// that may add to a node's stock (return, return_defective) create its
// row first. Keys without a row are absent from the map.
func lockStock(ctx context.Context, tx pg.TenantTx, op Op, keys []stockKey) (map[stockKey]*stockRow, error) {
	sorted := sortedKeys(keys)
	nodes, partIDs := make([]string, len(sorted)), make([]string, len(sorted))
	for i, k := range sorted {
		nodes[i], partIDs[i] = k.node, k.part
	}
	if op == OpReturn || op == OpReturnDefective {
		if _, err := tx.Exec(ctx, `
			INSERT INTO part_stock (tenant_id, node_id, part_id)
			SELECT $1, k.node_id, k.part_id FROM unnest($2::text[], $3::text[]) WITH ORDINALITY k(node_id, part_id, n) ORDER BY k.n
			ON CONFLICT DO NOTHING`, tx.TenantID, nodes, partIDs); err != nil {
			return nil, err
		}
	}
	stock := map[stockKey]*stockRow{}
	rows, err := tx.Query(ctx, `
		SELECT s.node_id, s.part_id, s.on_hand, s.reserved, s.defective FROM part_stock s
		JOIN unnest($2::text[], $3::text[]) k(node_id, part_id) ON k.node_id = s.node_id AND k.part_id = s.part_id
		WHERE s.tenant_id = $1 ORDER BY s.part_id, s.node_id FOR UPDATE OF s`, tx.TenantID, nodes, partIDs)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var k stockKey
		row := &stockRow{exists: true}
		if err := rows.Scan(&k.node, &k.part, &row.onHand, &row.reserved, &row.defective); err != nil {
			return nil, err
		}
		stock[k] = row
	}
	return stock, rows.Err()
}

// move applies the operation to each line's stock row and ticket line in
// memory (adding rows for those that have none), and returns the
// shortages and the movements; a quantity beyond what the operation
// allows is invalid and nothing moves.
func (r Requisition) move(lines map[string]*TicketPart, stock map[stockKey]*stockRow, keys []stockKey) (Result, []move, error) {
	v := &tenants.Validation{}
	var res Result
	var moves []move
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
		moves = append(moves, move{node: k.node, part: l.PartID, kind: r.Op, qty: q})
	}
	return res, moves, v.Err()
}

// write stores, in one round trip, the changed stock rows (in lock order),
// the ticket's lines that moved and the movements.
func (r Requisition) write(ctx context.Context, tx pg.TenantTx, lines map[string]*TicketPart, stock map[stockKey]*stockRow, moves []move) error {
	b := &pgx.Batch{}
	keys := make([]stockKey, 0, len(stock))
	for k := range stock {
		keys = append(keys, k)
	}
	for _, k := range sortedKeys(keys) {
		st := stock[k]
		if !st.exists || !st.changed {
			continue
		}
		b.Queue(`
			UPDATE part_stock SET on_hand = $4, reserved = $5, defective = $6, version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND node_id = $2 AND part_id = $3`,
			tx.TenantID, k.node, k.part, st.onHand, st.reserved, st.defective)
	}
	touched := map[string]bool{}
	for _, m := range moves {
		touched[m.part] = true
	}
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
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// TicketParts returns a ticket's requisition lines in part number order
// (empty when it has none).
func TicketParts(ctx context.Context, tx pg.TenantTx, ticketID string) ([]TicketPart, error) {
	rows, err := tx.Query(ctx, `
		SELECT part_id, node_id, reserved, issued, used, returned, defective_returned
		FROM ticket_parts WHERE tenant_id = $1 AND ticket_id = $2`, tx.TenantID, ticketID)
	if err != nil {
		return nil, err
	}
	tps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TicketPart, error) {
		var tp TicketPart
		err := r.Scan(&tp.PartID, &tp.NodeID, &tp.Reserved, &tp.Issued, &tp.Used, &tp.Returned, &tp.DefectiveReturned)
		return tp, err
	})
	if err != nil || len(tps) == 0 {
		return tps, err
	}
	byPart := make(map[string]TicketPart, len(tps))
	ids := make([]string, len(tps))
	for i, tp := range tps {
		byPart[tp.PartID], ids[i] = tp, tp.PartID
	}
	parts, err := catalog.PartsTx(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]TicketPart, 0, len(tps))
	for _, p := range parts { // the catalog's part number order
		tp := byPart[p.ID]
		tp.PartNumber, tp.Name = p.PartNumber, p.Name
		out = append(out, tp)
	}
	return out, nil
}

// QueueTicketParts queues on b the read of ticket ticketID's requisition
// lines by part (cumulative counts, without the catalog's names) into out,
// empty when it has none: what another context needs of what a ticket
// fitted and took back (a claim for its repair asks for no part it did
// not fit).
func QueueTicketParts(b *pgx.Batch, tenantID, ticketID string, out *map[string]TicketPart) {
	*out = map[string]TicketPart{}
	b.Queue(`SELECT part_id, node_id, reserved, issued, used, returned, defective_returned
		FROM ticket_parts WHERE tenant_id = $1 AND ticket_id = $2`, tenantID, ticketID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var tp TicketPart
			if err := rows.Scan(&tp.PartID, &tp.NodeID, &tp.Reserved, &tp.Issued, &tp.Used, &tp.Returned, &tp.DefectiveReturned); err != nil {
				return err
			}
			(*out)[tp.PartID] = tp
		}
		return rows.Err()
	})
}
