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
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

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

// Append writes ev to the tenant's feed inside tx.
func Append(ctx context.Context, tx pg.TenantTx, ev New) error {
	data, err := json.Marshal(ev.Data)
	if err != nil {
		return fmt.Errorf("event data: %w", err)
	}
	if ev.Data == nil {
		data = []byte("{}")
	}
	_, err = tx.Exec(ctx, `INSERT INTO events (tenant_id, id, type, subject_id, actor, data) VALUES ($1, $2, $3, $4, $5, $6)`,
		tx.TenantID, tenants.NewID(tenants.PrefixEvent), ev.Type, ev.SubjectID, ev.Actor, data)
	return err
}

// Filter narrows a feed read.
type Filter struct {
	Types []string // exact types, or "prefix.*"
	After string   // cursor from a previous page
	Limit int
}

// Page is a page of events and the cursor to read on from. A feed has no
// end: NextCursor is returned even on a short page, and polling with it later
// returns what has been committed since.
type Page struct {
	Events     []Event
	NextCursor string
}

type cursor struct {
	txid uint64
	seq  int64
}

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(c.txid, 10) + "." + strconv.FormatInt(c.seq, 10)))
}

func decodeCursor(s string) (cursor, error) {
	bad := tenants.Invalid("query.cursor", "malformed cursor; pass next_cursor from a previous page", s)
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	a, b, ok := strings.Cut(string(raw), ".")
	if !ok {
		return cursor{}, bad
	}
	var c cursor
	if c.txid, err = strconv.ParseUint(a, 10, 64); err != nil {
		return cursor{}, bad
	}
	if c.seq, err = strconv.ParseInt(b, 10, 64); err != nil {
		return cursor{}, bad
	}
	return c, nil
}

// likeEscaper quotes LIKE's metacharacters (backslash is LIKE's default escape).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// List reads the tenant's feed in commit order, after f.After. Only events of
// transactions older than every transaction still running are returned, so
// following next_cursor never skips an event that commits late.
func List(ctx context.Context, db *pgxpool.Pool, tenantID string, f Filter) (Page, error) {
	var after cursor
	if f.After != "" {
		c, err := decodeCursor(f.After)
		if err != nil {
			return Page{}, err
		}
		after = c
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
		rows, err := tx.Query(ctx, `
			SELECT id, type, subject_id, actor, data, occurred_at, txid::text::bigint AS txid, seq
			FROM events
			WHERE tenant_id = $1
			  AND (txid, seq) > ($2::text::xid8, $3)
			  AND txid < pg_snapshot_xmin(pg_current_snapshot())
			  AND (cardinality($4::text[]) + cardinality($5::text[]) = 0 OR type = ANY($4) OR type LIKE ANY($5))
			ORDER BY txid, seq
			LIMIT $6`,
			tx.TenantID, strconv.FormatUint(after.txid, 10), after.seq, exact, prefixes, f.Limit)
		if err != nil {
			return err
		}
		last := after
		for rows.Next() {
			var e Event
			var txid, seq int64
			if err := rows.Scan(&e.ID, &e.Type, &e.SubjectID, &e.Actor, &e.Data, &e.OccurredAt, &txid, &seq); err != nil {
				return err
			}
			page.Events = append(page.Events, e)
			last = cursor{txid: uint64(txid), seq: seq}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if last != (cursor{}) {
			page.NextCursor = last.encode()
		}
		return nil
	})
	return page, pg.Translate(err)
}
