// Package audit owns the tenant's audit log (audit_log): every write to a
// business object with its changed fields' old and new values, and every
// read of unmasked personal data, with who did it (key, roles, the
// technician, storefront or node the key acts for), the operation and the
// request.
//
// Writes are recorded by the database itself, in the writing transaction:
// the audit_rows trigger (migrations 022, 035) reads the actor the
// request's transaction set in its BEGIN round trip (pg.WithActor), so
// recording costs no round trip of its own: one INSERT per written row,
// run by the server inside the writing statement. Reads are recorded by Record. The log is
// append-only for the application role (no UPDATE or DELETE grant); the one
// exception is the erasure of a customer's personal values (EraseSubjectTx).
package audit

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Change is a field's value before and after a write.
type Change struct {
	Old any `json:"old" doc:"The value before (null: none)."`
	New any `json:"new" doc:"The value after (null: none)."`
}

// Entry is one audit log entry.
type Entry struct {
	ID         string            `json:"id" doc:"Position in the tenant's log." example:"1042"`
	At         time.Time         `json:"at" example:"2026-11-30T10:00:00+08:00"`
	Actor      string            `json:"actor" doc:"The API key, or system for jobs." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	Roles      []string          `json:"roles" doc:"The key's roles." example:"[\"agent\"]"`
	OnBehalfOf *string           `json:"on_behalf_of,omitempty" doc:"The technician, storefront or node the key acts for." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pr"`
	Operation  string            `json:"operation" doc:"The API operation (operationId), or system." example:"updatePriceList"`
	RequestID  *string           `json:"request_id,omitempty" example:"01jd3zq8w6v7t3y2k9x4n5m6pq"`
	ObjectType string            `json:"object_type" doc:"The kind of object (its table)." example:"customers"`
	ObjectID   string            `json:"object_id" example:"cus_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	Action     string            `json:"action" enum:"create,update,delete,read,export,erase" example:"update"`
	Changes    map[string]Change `json:"changes" doc:"Changed fields with old and new values (secrets are never recorded); empty for reads."`
}

// Filter narrows a listing. From and To bound the time range and are
// required: [From, To), at most MaxRange long.
type Filter struct {
	ObjectID  string
	Actor     string
	Operation string
	From, To  *time.Time
	Limit     int
	Cursor    string
}

// MaxRange bounds one audit query's time range.
const MaxRange = 366 * 24 * time.Hour

// Service reads the audit log and records reads; each method is one transaction.
type Service struct {
	DB pg.DB
}

// Read is an access to personal data to record.
type Read struct {
	Operation string
	Action    string // read or export
	ObjectIDs []string
}

// objectType names the table of an id by its prefix.
func objectType(id string) string {
	switch {
	case strings.HasPrefix(id, tenants.PrefixCustomer+"_"):
		return "customers"
	case strings.HasPrefix(id, tenants.PrefixTicket+"_"):
		return "tickets"
	}
	return "objects"
}

// QueueReadTx queues, on b, the record of p's read r.
func QueueRead(b *pgx.Batch, tenantID string, a pg.Actor, r Read) {
	types := make([]string, len(r.ObjectIDs))
	for i, id := range r.ObjectIDs {
		types[i] = objectType(id)
	}
	b.Queue(`INSERT INTO audit_log (tenant_id, actor, roles, on_behalf_of, operation, request_id, object_type, object_id, action)
		SELECT $1, $2, $3, NULLIF($4, ''), $5, NULLIF($6, ''), ty, id, $9 FROM unnest($7::text[], $8::text[]) AS o(id, ty)`,
		tenantID, a.Key, a.Roles, a.OnBehalfOf, a.Operation, a.RequestID, r.ObjectIDs, types, r.Action)
}

// Record records a read of personal data by a in its own transaction.
func (s *Service) Record(ctx context.Context, tenantID string, a pg.Actor, r Read) error {
	if len(r.ObjectIDs) == 0 {
		return nil
	}
	// One round trip: BEGIN, scope, the entry, COMMIT.
	return pg.Translate(pg.InTenantWrite(ctx, s.DB, tenantID, func(b *pgx.Batch, tenant string) {
		QueueRead(b, tenant, a, r)
	}))
}

// EraseSubjectTx scrubs, inside the caller's transaction, the personal
// values customerID and its tickets left in the log.
func EraseSubjectTx(ctx context.Context, tx pg.TenantTx, customerID string, ticketIDs []string) error {
	_, err := tx.Exec(ctx, `SELECT audit_erase_subject($1, $2)`, customerID, ticketIDs)
	return err
}

// List returns entries matching f, oldest first. The time range is
// required, From before To, at most MaxRange.
func (s *Service) List(ctx context.Context, p tenants.Principal, f Filter) ([]Entry, string, error) {
	v := &tenants.Validation{}
	switch {
	case f.From == nil:
		v.AddMsg("from", i18n.M("audit.from_required"), nil)
	case f.To == nil:
		v.AddMsg("to", i18n.M("audit.to_required"), nil)
	case !f.From.Before(*f.To):
		v.AddMsg("to", i18n.M("audit.to_after_from"), f.To)
	case f.To.Sub(*f.From) > MaxRange:
		v.AddMsg("to", i18n.M("audit.range_too_long", "Days", 366), f.To)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	f.Limit = tenants.PageLimit(f.Limit)
	after := int64(0)
	if f.Cursor != "" {
		k, err := tenants.DecodeCursor("audit", f.Cursor)
		if err != nil {
			return nil, "", err
		}
		if after, err = strconv.ParseInt(k, 10, 64); err != nil {
			return nil, "", tenants.MalformedCursor(f.Cursor)
		}
	}
	out, err := pg.QueryRows(ctx, s.DB, p.TenantID, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		var id int64
		err := r.Scan(&id, &e.At, &e.Actor, &e.Roles, &e.OnBehalfOf, &e.Operation, &e.RequestID, &e.ObjectType, &e.ObjectID, &e.Action, &e.Changes)
		e.ID = strconv.FormatInt(id, 10)
		if e.Roles == nil {
			e.Roles = []string{}
		}
		if e.Changes == nil {
			e.Changes = map[string]Change{}
		}
		return e, err
	}, `SELECT id, at, actor, roles, on_behalf_of, operation, request_id, object_type, object_id, action, audit_changes(changes)
		FROM audit_log WHERE tenant_id = $1 AND id > $2 AND at >= $3 AND at < $4
		  AND ($5 = '' OR object_id = $5) AND ($6 = '' OR actor = $6) AND ($7 = '' OR operation = $7)
		ORDER BY id LIMIT $8`, after, *f.From, *f.To, f.ObjectID, f.Actor, f.Operation, f.Limit+1)
	if err != nil {
		return nil, "", err
	}
	out, next := tenants.NextPage("audit", out, f.Limit, func(e Entry) string { return e.ID })
	return out, next, nil
}
