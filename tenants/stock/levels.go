package stock

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/events"
)

// ReceiptLine is a quantity of one part received.
type ReceiptLine struct {
	PartID   string `json:"part_id" maxLength:"64" doc:"The part; it must exist in the catalog." example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Quantity int    `json:"quantity" minimum:"1" maximum:"100000" doc:"How many arrived." example:"10"`
}

// Receipt is parts arriving at a node.
type Receipt struct {
	Lines []ReceiptLine `json:"lines" minItems:"1" maxItems:"100" doc:"The parts received; each part once."`
	Note  string        `json:"note,omitempty" maxLength:"500" doc:"The delivery's reference or a remark, kept on the movements." example:"DN-20261130-0042"`
}

// Count is the counted stock of one part, after a stocktake or when
// defective parts leave for the brand.
type Count struct {
	PartID    string `json:"part_id" maxLength:"64" doc:"The part." example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	OnHand    *int   `json:"on_hand,omitempty" minimum:"0" maximum:"1000000" doc:"Good parts counted on the shelf (reserved ones included); it cannot be less than what is reserved. Absent: unchanged." example:"4"`
	Defective *int   `json:"defective,omitempty" minimum:"0" maximum:"1000000" doc:"Defective parts still held (0 once shipped to the brand). Absent: unchanged." example:"0"`
}

// Adjustment corrects a node's stock counts.
type Adjustment struct {
	Reason string  `json:"reason" minLength:"1" maxLength:"500" doc:"Why the counts change; kept on the movements." example:"月度盘点"`
	Lines  []Count `json:"lines" minItems:"1" maxItems:"100" doc:"The counts; each part once, each with on_hand or defective."`
}

// StockFilter narrows a node's stock list.
type StockFilter struct {
	Limit  int
	Cursor string
}

// MoveFilter narrows a node's movement log; empty fields do not filter.
type MoveFilter struct {
	PartID   string
	TicketID string
	Limit    int
	Cursor   string
}

const levelColumns = `s.node_id, s.part_id, s.on_hand, s.reserved, s.on_hand - s.reserved, s.defective, s.version, s.updated_at`

const levelFrom = ` FROM part_stock s `

// scanLevel reads a stock row; its part's number and name are the
// catalog's to fill (named).
func scanLevel(r pgx.CollectableRow) (Level, error) {
	var l Level
	err := r.Scan(&l.NodeID, &l.PartID, &l.OnHand, &l.Reserved, &l.Available, &l.Defective, &l.Version, &l.UpdatedAt)
	return l, err
}

// named fills the levels' part numbers and names from parts (the
// catalog's); levels of parts not among them are dropped.
func named(ls []Level, parts []catalog.Part) []Level {
	out := ls[:0]
	for _, l := range ls {
		if i := slices.IndexFunc(parts, func(p catalog.Part) bool { return p.ID == l.PartID }); i >= 0 {
			l.PartNumber, l.Name = parts[i].PartNumber, parts[i].Name
			out = append(out, l)
		}
	}
	return out
}

// levels reads a node's levels of the parts, with the parts' names from
// the catalog in the same round trip.
func levels(ctx context.Context, tx pg.TenantTx, nodeID string, partIDs []string) ([]Level, error) {
	var (
		ls    []Level
		parts []catalog.Part
		b     = &pgx.Batch{}
	)
	b.Queue(`SELECT `+levelColumns+levelFrom+`
		WHERE s.tenant_id = $1 AND s.node_id = $2 AND s.part_id = ANY($3) ORDER BY s.part_id`, tx.TenantID, nodeID, partIDs).
		Query(func(rows pgx.Rows) error {
			var err error
			ls, err = pgx.CollectRows(rows, scanLevel)
			return err
		})
	catalog.QueueParts(b, tx.TenantID, partIDs, &parts)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return named(ls, parts), nil
}

// checkParts adds "no such part" and "listed twice" problems for the part
// ids at loc[i].part_id.
func checkParts(ctx context.Context, tx pg.TenantTx, v *tenants.Validation, loc string, ids []string) error {
	parts, err := catalog.PartsTx(ctx, tx, ids)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, id := range ids {
		l := fmt.Sprintf("%s[%d].part_id", loc, i)
		switch {
		case seen[id]:
			v.AddMsg(l, i18n.M("common.part_listed_twice"), id)
		case !slices.ContainsFunc(parts, func(p catalog.Part) bool { return p.ID == id }):
			v.AddMsg(l, i18n.M("common.no_such_part"), id)
		}
		seen[id] = true
	}
	return nil
}

// lockRows creates the node's missing stock rows of the parts and locks
// them all in part order.
func lockRows(ctx context.Context, tx pg.TenantTx, nodeID string, partIDs []string) (map[string]*stockRow, error) {
	sorted := slices.Clone(partIDs)
	slices.SortFunc(sorted, cmp.Compare[string])
	if _, err := tx.Exec(ctx, `
		INSERT INTO part_stock (tenant_id, node_id, part_id)
		SELECT $1, $2, k.part_id FROM unnest($3::text[]) WITH ORDINALITY k(part_id, n) ORDER BY k.n
		ON CONFLICT DO NOTHING`, tx.TenantID, nodeID, sorted); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT part_id, on_hand, reserved, defective FROM part_stock
		WHERE tenant_id = $1 AND node_id = $2 AND part_id = ANY($3) ORDER BY part_id FOR UPDATE`, tx.TenantID, nodeID, sorted)
	if err != nil {
		return nil, err
	}
	out := map[string]*stockRow{}
	for rows.Next() {
		var id string
		r := &stockRow{exists: true}
		if err := rows.Scan(&id, &r.onHand, &r.reserved, &r.defective); err != nil {
			return nil, err
		}
		out[id] = r
	}
	return out, rows.Err()
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Receive adds parts arriving at a node to its stock on hand: one receive
// movement per line and a stock.received event. Parts must exist and be
// listed once (invalid on lines[i].part_id); a node outside the
// principal's scope is not_found. It returns the node's levels of the parts.
func (s *Service) Receive(ctx context.Context, p tenants.Principal, nodeID string, in Receipt) ([]Level, error) {
	var out []Level
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if err := nodeInScope(ctx, tx, p, nodeID); err != nil {
			return err
		}
		v := &tenants.Validation{}
		if len(in.Lines) == 0 || len(in.Lines) > MaxLines {
			v.AddMsg("lines", i18n.M("common.line_count", "Max", MaxLines, "Min", 1), len(in.Lines))
		}
		ids := make([]string, len(in.Lines))
		for i, l := range in.Lines {
			ids[i] = l.PartID
			if l.Quantity < 1 || l.Quantity > 100000 {
				v.AddMsg(fmt.Sprintf("lines[%d].quantity", i), i18n.M("common.range", "Min", 1, "Max", 100000), l.Quantity)
			}
		}
		if err := checkParts(ctx, tx, v, "lines", ids); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if _, err := lockRows(ctx, tx, nodeID, ids); err != nil {
			return err
		}
		b := &pgx.Batch{}
		data := make([]map[string]any, len(in.Lines))
		for i, l := range in.Lines {
			b.Queue(`UPDATE part_stock SET on_hand = on_hand + $4, version = version + 1, updated_at = now()
				WHERE tenant_id = $1 AND node_id = $2 AND part_id = $3`, tx.TenantID, nodeID, l.PartID, l.Quantity)
			b.Queue(`INSERT INTO stock_moves (tenant_id, id, node_id, part_id, kind, quantity, note, actor)
				VALUES ($1, $2, $3, $4, 'receive', $5, $6, $7)`,
				tx.TenantID, tenants.NewID(tenants.PrefixStockMove), nodeID, l.PartID, l.Quantity, nullIfEmpty(in.Note), p.Subject())
			data[i] = map[string]any{"part_id": l.PartID, "quantity": l.Quantity}
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if err := events.Append(ctx, tx, events.New{Type: TypeStockReceived, SubjectID: nodeID, Actor: p.Subject(),
			Data: map[string]any{"node_id": nodeID, "ticket_id": nil, "lines": data, "note": nullIfEmpty(in.Note)}}); err != nil {
			return err
		}
		var err error
		out, err = levels(ctx, tx, nodeID, ids)
		return err
	})
	return out, pg.Translate(err)
}

// Adjust sets a node's counted stock of parts: on_hand after a stocktake
// (never below what tickets have reserved: invalid on
// lines[i].on_hand), defective when defective parts leave for the
// brand. Each change is an adjust (or adjust_defective) movement with the
// signed difference and the reason; one stock.adjusted event lists them. It
// returns the node's levels of the parts.
func (s *Service) Adjust(ctx context.Context, p tenants.Principal, nodeID string, in Adjustment) ([]Level, error) {
	var out []Level
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if err := nodeInScope(ctx, tx, p, nodeID); err != nil {
			return err
		}
		v := &tenants.Validation{}
		if len(in.Lines) == 0 || len(in.Lines) > MaxLines {
			v.AddMsg("lines", i18n.M("common.line_count", "Max", MaxLines, "Min", 1), len(in.Lines))
		}
		if in.Reason == "" {
			v.AddMsg("reason", i18n.M("common.required"), in.Reason)
		}
		ids := make([]string, len(in.Lines))
		for i, l := range in.Lines {
			ids[i] = l.PartID
			loc := fmt.Sprintf("lines[%d]", i)
			if l.OnHand == nil && l.Defective == nil {
				v.AddMsg(loc, i18n.M("stock.on_hand_or_defective"), nil)
			}
			if l.OnHand != nil && *l.OnHand < 0 {
				v.AddMsg(loc+".on_hand", i18n.M("common.at_least", "Min", 0), *l.OnHand)
			}
			if l.Defective != nil && *l.Defective < 0 {
				v.AddMsg(loc+".defective", i18n.M("common.at_least", "Min", 0), *l.Defective)
			}
		}
		if err := checkParts(ctx, tx, v, "lines", ids); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		rows, err := lockRows(ctx, tx, nodeID, ids)
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		var data []map[string]any
		addMove := func(partID string, kind MoveKind, delta int) {
			b.Queue(`INSERT INTO stock_moves (tenant_id, id, node_id, part_id, kind, quantity, note, actor)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				tx.TenantID, tenants.NewID(tenants.PrefixStockMove), nodeID, partID, string(kind), delta, in.Reason, p.Subject())
			data = append(data, map[string]any{"part_id": partID, "kind": kind, "quantity": delta})
		}
		for i, l := range in.Lines {
			r := rows[l.PartID]
			onHand, defective := r.onHand, r.defective
			if l.OnHand != nil {
				if *l.OnHand < r.reserved {
					v.AddMsg(fmt.Sprintf("lines[%d].on_hand", i),
						i18n.M("stock.below_reserved", "Reserved", r.reserved), *l.OnHand)
					continue
				}
				onHand = *l.OnHand
			}
			if l.Defective != nil {
				defective = *l.Defective
			}
			if onHand == r.onHand && defective == r.defective {
				continue
			}
			b.Queue(`UPDATE part_stock SET on_hand = $4, defective = $5, version = version + 1, updated_at = now()
				WHERE tenant_id = $1 AND node_id = $2 AND part_id = $3`, tx.TenantID, nodeID, l.PartID, onHand, defective)
			if onHand != r.onHand {
				addMove(l.PartID, MoveAdjust, onHand-r.onHand)
			}
			if defective != r.defective {
				addMove(l.PartID, MoveAdjustDefective, defective-r.defective)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			if err := events.Append(ctx, tx, events.New{Type: TypeStockAdjusted, SubjectID: nodeID, Actor: p.Subject(),
				Data: map[string]any{"node_id": nodeID, "ticket_id": nil, "reason": in.Reason, "changes": data}}); err != nil {
				return err
			}
		}
		out, err = levels(ctx, tx, nodeID, ids)
		return err
	})
	return out, pg.Translate(err)
}

// ListStock lists a node's stock levels in part id order (not_found for a
// node outside the principal's scope).
func (s *Service) ListStock(ctx context.Context, p tenants.Principal, nodeID string, f StockFilter) ([]Level, string, error) {
	page, err := pg.NewKeyset("stock", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	var out []Level
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if err := nodeInScope(ctx, tx, p, nodeID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+levelColumns+levelFrom+`
			WHERE s.tenant_id = $1 AND s.node_id = $2 AND s.part_id > $3 ORDER BY s.part_id LIMIT $4`,
			tx.TenantID, nodeID, page.After, page.Fetch())
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, scanLevel); err != nil || len(out) == 0 {
			return err
		}
		ids := make([]string, len(out))
		for i, l := range out {
			ids[i] = l.PartID
		}
		parts, err := catalog.PartsTx(ctx, tx, ids)
		out = named(out, parts)
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := pg.Page(page, out, func(l Level) string { return l.PartID })
	return out, next, nil
}

// ListMoves lists a node's movements oldest first, optionally of one part or
// one ticket (not_found for a node outside the principal's scope).
func (s *Service) ListMoves(ctx context.Context, p tenants.Principal, nodeID string, f MoveFilter) ([]Move, string, error) {
	page, err := pg.NewKeyset("stock_moves", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	afterSeq := int64(0)
	if page.After != "" {
		if afterSeq, err = strconv.ParseInt(page.After, 10, 64); err != nil || afterSeq < 0 {
			return nil, "", tenants.MalformedCursor(f.Cursor)
		}
	}
	type seqMove struct {
		seq int64
		m   Move
	}
	var out []seqMove
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if err := nodeInScope(ctx, tx, p, nodeID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT seq, id, node_id, part_id, ticket_id, kind, quantity, note, actor, at FROM stock_moves
			WHERE tenant_id = $1 AND node_id = $2 AND seq > $3 AND ($4 = '' OR part_id = $4) AND ($5 = '' OR ticket_id = $5)
			ORDER BY seq LIMIT $6`, tx.TenantID, nodeID, afterSeq, f.PartID, f.TicketID, page.Fetch())
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (seqMove, error) {
			var sm seqMove
			err := r.Scan(&sm.seq, &sm.m.ID, &sm.m.NodeID, &sm.m.PartID, &sm.m.TicketID, &sm.m.Kind, &sm.m.Quantity, &sm.m.Note,
				&sm.m.Actor, &sm.m.At)
			return sm, err
		})
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := pg.Page(page, out, func(sm seqMove) string { return strconv.FormatInt(sm.seq, 10) })
	moves := make([]Move, len(out))
	for i, sm := range out {
		moves[i] = sm.m
	}
	return moves, next, nil
}
