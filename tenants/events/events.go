// Package events owns the tenant's append-only event feed. An event is
// written in the same transaction as the change it describes, so the feed
// never tells of a change that rolled back and never misses one that
// committed. Webhook delivery (later) reads the same rows.
package events

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Event types defined by the platform foundation. Later contexts add theirs.
const (
	TypeTenantCreated = "tenant.created"
	TypeTenantUpdated = "tenant.updated"
	TypeAPIKeyCreated = "api_key.created"
	TypeAPIKeyRevoked = "api_key.revoked"
)

// Event is one entry of a tenant's feed.
type Event struct {
	ID         string          `db:"id"`
	Type       string          `db:"type"`
	SubjectID  string          `db:"subject_id"`
	Actor      string          `db:"actor"`
	Data       json.RawMessage `db:"data"`
	OccurredAt time.Time       `db:"occurred_at"`
}

// New describes an event to append.
type New struct {
	Type      string
	SubjectID string
	Actor     string
	Data      any
}

// Append writes ev to the tenant's feed inside tx. In a transaction begun
// by pg.InTenantTx, ev joins the transaction's event buffer: every event
// the transaction appends, from any context, is written by one INSERT, in
// the order appended, when the transaction's callback ends, in the same
// transaction (riding its next round trip, normally the COMMIT's); a
// rollback discards them. So an event is still written in the same
// transaction as its change, exactly once. A TenantTx built by hand has no
// buffer: ev is written at once.
func Append(ctx context.Context, tx pg.TenantTx, ev New) error {
	if buf := buffer(tx); buf != nil {
		return buf.add(ev)
	}
	sql, args, err := insertArgs(tx.TenantID, ev)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, sql, args...)
	return err
}

// QueueTx adds ev to tx's event buffer (see Append), or, for a TenantTx
// without one, queues its insert into b, the caller's batch sent in tx.
func QueueTx(b *pgx.Batch, tx pg.TenantTx, ev New) error {
	if buf := buffer(tx); buf != nil {
		return buf.add(ev)
	}
	return Queue(b, tx.TenantID, ev)
}

// Queue queues ev's append into b, for a caller that sends its writes in one
// round trip; b must be sent in the tenant's transaction. A caller holding
// the transaction uses QueueTx, which shares the transaction's one insert.
func Queue(b *pgx.Batch, tenantID string, ev New) error {
	sql, args, err := insertArgs(tenantID, ev)
	if err != nil {
		return err
	}
	b.Queue(sql, args...)
	return nil
}

// pending is a transaction's event buffer: its events, IDs given and data
// encoded when appended (so a bad payload fails the append, not the commit).
type pending struct {
	tenantID string
	recs     []pendingRec
}

type pendingRec struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	SubjectID string          `json:"subject_id"`
	Actor     string          `json:"actor"`
	Data      json.RawMessage `json:"data"`
}

type bufferKey struct{}

// buffer is tx's event buffer, nil when it has none.
func buffer(tx pg.TenantTx) *pending {
	v, ok := tx.AtEnd(bufferKey{}, func() (any, func(b *pgx.Batch) error) {
		p := &pending{tenantID: tx.TenantID}
		return p, p.flush
	})
	if !ok {
		return nil
	}
	return v.(*pending)
}

func (p *pending) add(ev New) error {
	data, err := encodeData(ev.Data)
	if err != nil {
		return err
	}
	p.recs = append(p.recs, pendingRec{ID: tenants.NewID(tenants.PrefixEvent), Type: ev.Type, SubjectID: ev.SubjectID,
		Actor: ev.Actor, Data: data})
	return nil
}

// flush queues the buffer's one INSERT (rows in the order appended: their
// seq, and so the feed, keeps that order).
func (p *pending) flush(b *pgx.Batch) error {
	if len(p.recs) == 0 {
		return nil
	}
	recs, err := json.Marshal(p.recs)
	if err != nil {
		return fmt.Errorf("event data: %w", err)
	}
	p.recs = nil
	b.Queue(insertManySQL, p.tenantID, recs)
	return nil
}

// insertManySQL appends the events of a JSON array ($2) in its order. Data
// that encodes as JSON null (a nil map) is stored as JSON null, as Append
// stores it, not as SQL NULL.
const insertManySQL = `INSERT INTO events (tenant_id, id, type, subject_id, actor, data)
	SELECT $1, r.id, r.type, r.subject_id, r.actor, coalesce(r.data, 'null'::jsonb)
	FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (id text, type text, subject_id text, actor text, data jsonb)) WITH ORDINALITY AS r
	ORDER BY r.ordinality`

// encodeData is v as JSON ({} for nil).
func encodeData(v any) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("{}"), nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("event data: %w", err)
	}
	return data, nil
}

// written writes tx's buffered events now, so that a read of the feed in tx
// sees them.
func written(ctx context.Context, tx pg.TenantTx) error {
	buf := buffer(tx)
	if buf == nil || len(buf.recs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	if err := buf.flush(b); err != nil {
		return err
	}
	return tx.SendBatch(ctx, b).Close()
}

func insertArgs(tenantID string, ev New) (string, []any, error) {
	data, err := encodeData(ev.Data)
	if err != nil {
		return "", nil, err
	}
	return `INSERT INTO events (tenant_id, id, type, subject_id, actor, data) VALUES ($1, $2, $3, $4, $5, $6)`,
		[]any{tenantID, tenants.NewID(tenants.PrefixEvent), ev.Type, ev.SubjectID, ev.Actor, data}, nil
}

// Filter narrows a feed read.
type Filter struct {
	Types []string // exact types, "prefix.*", or "*" for all (ValidTypeFilter); none is all
	// StorefrontID, when set, keeps the events about that storefront's own
	// objects (data.storefront_id, as webhook deliveries to its endpoints)
	// and about the storefront itself.
	StorefrontID string
	After        string // cursor from a previous page
	Limit        int
}

// Page is a page of events and the cursor to read on from. A feed has no
// end: NextCursor is returned even on a short page, and polling with it later
// returns what has been committed since.
type Page struct {
	Events     []Event
	NextCursor string
}

// A cursor is the feed position of the last event a page returned.
func encodeCursor(position int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("p" + strconv.FormatInt(position, 10)))
}

func decodeCursor(s string) (int64, error) {
	bad := tenants.InvalidMsg("cursor", i18n.M("common.malformed_cursor"), s)
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, bad
	}
	digits, ok := strings.CutPrefix(string(raw), "p")
	if !ok {
		return 0, bad
	}
	position, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || position < 0 {
		return 0, bad
	}
	return position, nil
}

// sequenceBatch bounds how many events one read positions.
const sequenceBatch = 5000

// sequence gives the tenant's committed events that have no feed position
// yet the next positions, in the order their transactions began and then
// wrote them. Readers take turns (a per-tenant transaction lock), and each
// statement sees what the previous reader committed; an event whose
// transaction commits later gets a later position, so a reader that has
// passed position N never misses an event placed after N.
func sequence(ctx context.Context, tx pg.TenantTx) error {
	if err := written(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('events.sequence:' || $1, 0))`, tx.TenantID); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
		WITH todo AS (
			SELECT id, row_number() OVER (ORDER BY txid, seq) AS n
			FROM events WHERE tenant_id = $1 AND position IS NULL
			ORDER BY txid, seq LIMIT $2
		), base AS (
			SELECT coalesce(max(position), 0) AS last FROM events WHERE tenant_id = $1
		)
		UPDATE events e SET position = base.last + todo.n
		FROM todo, base WHERE e.tenant_id = $1 AND e.id = todo.id`, tx.TenantID, sequenceBatch)
	return err
}

// typeFilterShape is an event type, a family (claim.*) or * for all.
var typeFilterShape = regexp.MustCompile(`^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$`)

// ValidTypeFilter reports whether s selects event types as the feed and
// webhook endpoints take them: an exact type (claim.submitted), a family
// (claim.*) or * for every type; at most 100 bytes.
func ValidTypeFilter(s string) bool { return len(s) <= 100 && typeFilterShape.MatchString(s) }

// likeEscaper quotes LIKE's metacharacters (backslash is LIKE's default escape).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// List reads the tenant's feed in the order events became visible, after
// f.After. Reading first positions what has committed since the last read
// (see sequence), so following next_cursor never skips an event that
// commits late and never waits for unrelated transactions. The next
// cursor is always set: after the page's last event when the page is full,
// else after the last event positioned (what a filter read and passed
// over included), so a filtered poller moves on and sees each matching
// event once. A type filter
// that is not ValidTypeFilter is a validation error on types[i].
func List(ctx context.Context, db pg.DB, tenantID string, f Filter) (Page, error) {
	var after int64
	if f.After != "" {
		c, err := decodeCursor(f.After)
		if err != nil {
			return Page{}, err
		}
		after = c
	}
	v := &tenants.Validation{}
	all := len(f.Types) == 0
	for i, t := range f.Types {
		if !ValidTypeFilter(t) {
			v.AddMsg("type["+strconv.Itoa(i)+"]", i18n.M("events.type_filter"), t)
		}
		all = all || t == "*"
	}
	if err := v.Err(); err != nil {
		return Page{}, err
	}
	if all {
		f.Types = nil
	}
	exact, prefixes := []string{}, []string{}
	for _, t := range f.Types {
		if p, ok := strings.CutSuffix(t, ".*"); ok {
			// The family is a literal prefix: "_" and "%" in it are not wildcards.
			prefixes = append(prefixes, likeEscaper.Replace(p)+".%")
		} else {
			exact = append(exact, t)
		}
	}
	var page Page
	err := pg.InTenantTx(ctx, db, tenantID, func(tx pg.TenantTx) error {
		if err := sequence(ctx, tx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT id, type, subject_id, actor, data, occurred_at, position
			FROM events
			WHERE tenant_id = $1 AND position > $2
			  AND (cardinality($3::text[]) + cardinality($4::text[]) = 0 OR type = ANY($3) OR type LIKE ANY($4))
			  AND ($6 = '' OR data->>'storefront_id' = $6 OR subject_id = $6)
			ORDER BY position
			LIMIT $5`,
			tx.TenantID, after, exact, prefixes, f.Limit, f.StorefrontID)
		if err != nil {
			return err
		}
		last := after
		for rows.Next() {
			var e Event
			if err := rows.Scan(&e.ID, &e.Type, &e.SubjectID, &e.Actor, &e.Data, &e.OccurredAt, &last); err != nil {
				return err
			}
			page.Events = append(page.Events, e)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if filtered := len(exact)+len(prefixes) > 0 || f.StorefrontID != ""; filtered && len(page.Events) < f.Limit {
			// A short filtered page read every event positioned so far,
			// matching or not: the next read starts after the last of
			// them, not after the last match (a filter matching nothing
			// kept its cursor, or had none, and every poll scanned the
			// same events again). Positions are given under the lock
			// sequence took, so an event positioned later comes after this
			// head. An unfiltered short page's last event is the head.
			var head int64
			if err := tx.QueryRow(ctx, `SELECT coalesce(max(position), 0) FROM events
				WHERE tenant_id = $1 AND position IS NOT NULL`, tx.TenantID).Scan(&head); err != nil {
				return err
			}
			last = max(last, head)
		}
		page.NextCursor = encodeCursor(last)
		return nil
	})
	return page, pg.Translate(err)
}

// AboutTx returns, inside the caller's transaction, the events whose
// subject is one of ids, oldest first (a data-subject export).
func AboutTx(ctx context.Context, tx pg.TenantTx, ids []string) ([]Event, error) {
	if err := written(ctx, tx); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT id, type, subject_id, actor, data, occurred_at FROM events
		WHERE tenant_id = $1 AND subject_id = ANY ($2) ORDER BY seq`, tx.TenantID, ids)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		err := r.Scan(&e.ID, &e.Type, &e.SubjectID, &e.Actor, &e.Data, &e.OccurredAt)
		return e, err
	})
	if out == nil {
		out = []Event{}
	}
	return out, err
}

// FeedEntry is an event with its feed position.
type FeedEntry struct {
	Event
	Position int64
}

// FeedTx reads, inside the caller's transaction, up to limit events of the
// given exact types or "prefix.*" families after feed position after, in
// feed order (positioning what has committed since, as List does). A folder
// that stores the last position it read in the same transaction never skips
// or repeats an event.
func FeedTx(ctx context.Context, tx pg.TenantTx, types []string, after int64, limit int) ([]FeedEntry, error) {
	if err := sequence(ctx, tx); err != nil {
		return nil, err
	}
	exact, prefixes := []string{}, []string{}
	for _, t := range types {
		if p, ok := strings.CutSuffix(t, ".*"); ok {
			prefixes = append(prefixes, likeEscaper.Replace(p)+".%")
		} else {
			exact = append(exact, t)
		}
	}
	rows, err := tx.Query(ctx, `
		SELECT id, type, subject_id, actor, data, occurred_at, position
		FROM events
		WHERE tenant_id = $1 AND position > $2 AND (type = ANY($3) OR type LIKE ANY($4))
		ORDER BY position LIMIT $5`, tx.TenantID, after, exact, prefixes, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (FeedEntry, error) {
		var e FeedEntry
		err := r.Scan(&e.ID, &e.Type, &e.SubjectID, &e.Actor, &e.Data, &e.OccurredAt, &e.Position)
		return e, err
	})
}
