package tickets

import (
	"context"
	"maps"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/audit"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/privacy"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// A ticket's personal data (contact name and phone, service address) is
// need-to-know: a technician or node key sees it while the job is live —
// open, or ended (completed, closed, cancelled, resolved) less than the
// tenant's grace period ago. Every ticket a key reads is in its scope (its
// own job, its subtree's ticket), so the relation is the job's liveness.

// ended is when the job ended (completed, closed, cancelled, resolved), or
// nil while it is open.
func (t *Ticket) ended() *time.Time {
	var at *time.Time
	switch t.State {
	case StateCompleted:
		at = t.CompletedAt
	case StateClosed:
		at = t.ClosedAt
	case StateCancelled:
		at = t.CancelledAt
	case StateResolved:
	default:
		return nil
	}
	if at == nil {
		at = &t.UpdatedAt
	}
	return at
}

// endedSQL is ended() for a ticket row aliased t (NULL while open).
const endedSQL = `(CASE t.state WHEN 'completed' THEN coalesce(t.completed_at, t.updated_at)
	WHEN 'closed' THEN coalesce(t.closed_at, t.updated_at) WHEN 'cancelled' THEN coalesce(t.cancelled_at, t.updated_at)
	WHEN 'resolved' THEN t.updated_at END)`

// PersonalRelation implements tenants.Personal.
func (t *Ticket) PersonalRelation() tenants.Relation {
	return tenants.Relation{Job: t.ended() == nil || t.inGrace}
}

// PersonalID implements tenants.Personal.
func (t *Ticket) PersonalID() string { return t.ID }

// MaskPersonal implements tenants.Personal: the contact, the service
// address, the free texts and the receipts' invoices (maskReceipts).
func (t *Ticket) MaskPersonal() {
	t.Masked = true
	t.maskFreeText(t.Contact.Name)
	t.Contact.Name = privacy.MaskName(t.Contact.Name)
	t.Contact.Phone = privacy.MaskPhone(t.Contact.Phone)
	t.Contact.PhoneDisplay = t.Contact.Phone
	t.Address.Line = privacy.MaskAddressLine(t.Address.Line)
	t.Address.Latitude, t.Address.Longitude = nil, nil
	t.maskReceipts()
}

// maskFreeText masks the personal data in what the customer and the
// technician wrote (the fault and the request as the customer described
// them, the diagnosis's notes, the customer's comment at the sign-off): a
// customer's own number in the symptom ("please call my wife on
// 13800138000") is as personal as the contact's, names the contact's
// given (privacy.MaskText).
func (t *Ticket) maskFreeText(names ...string) {
	t.Fault.Symptom = privacy.MaskText(t.Fault.Symptom, names...)
	t.Fault.CustomerRequest = privacy.MaskText(t.Fault.CustomerRequest, names...)
	if t.Diagnosis != nil {
		t.Diagnosis.Notes = privacy.MaskText(t.Diagnosis.Notes, names...)
	}
	if c := t.Signoff.Comment; c != nil {
		masked := privacy.MaskText(*c, names...)
		t.Signoff.Comment = &masked
	}
}

// PersonalColumns are the tickets table's columns with personal data, the
// contact, the service address, the receipts' invoices (a person's title,
// the mailing address) and the free texts, each masked in the
// values the audit log recorded of it as MaskPersonal masks a ticket's;
// the free texts mask names (the tickets' contacts': a column does not
// hold its row's contact) and numbers.
func PersonalColumns(names ...string) audit.Columns {
	cols := audit.Columns{
		"contact": func(v any) any {
			return audit.MaskAs(v, func(c *TicketContact) {
				t := Ticket{Contact: *c}
				t.MaskPersonal()
				*c = t.Contact
			})
		},
		"address": func(v any) any {
			return audit.MaskAs(v, func(a *ServiceAddress) {
				t := Ticket{Address: *a}
				t.MaskPersonal()
				*a = t.Address
			})
		},
		"receipts": func(v any) any {
			return audit.MaskAs(v, func(rs *[]PaymentReceipt) {
				t := Ticket{Receipts: *rs}
				t.maskReceipts()
				*rs = t.Receipts
			})
		},
	}
	maps.Copy(cols, FreeTextColumns(names...))
	return cols
}

// ContactNamesTx returns, inside the caller's transaction, the name of the
// contact of each of the tickets ids, by id (audit.Personal.Names: what a
// free text the log recorded of the ticket may hold). A masked or erased
// name is returned as it is: it masks nothing. No scope applies.
func ContactNamesTx(ctx context.Context, tx pg.TenantTx, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	rows, err := tx.Query(ctx, `SELECT id, coalesce(contact ->> 'name', '') FROM tickets WHERE tenant_id = $1 AND id = ANY ($2)`, tx.TenantID, ids)
	if err != nil {
		return nil, err
	}
	var id, name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		out[id] = []string{name}
		return nil
	})
	return out, err
}

// FreeTextColumns are the tickets table's columns of free text (the
// fault, the diagnosis's notes, the customer's comment), masked as
// PersonalColumns masks them: what an erasure masks in the audit log
// beside the contact and address it erases.
func FreeTextColumns(names ...string) audit.Columns {
	return audit.Columns{
		"fault": func(v any) any {
			return audit.MaskAs(v, func(f *ReportedFault) {
				t := Ticket{Fault: *f}
				t.maskFreeText(names...)
				*f = t.Fault
			})
		},
		"diagnosis": func(v any) any {
			return audit.MaskAs(v, func(d *map[string]any) {
				if notes, ok := (*d)["notes"].(string); ok {
					(*d)["notes"] = privacy.MaskText(notes, names...)
				}
			})
		},
		"rating_comment": func(v any) any {
			if c, ok := v.(string); ok {
				return privacy.MaskText(c, names...)
			}
			return v
		},
	}
}

// A visit exception's product location (product_elsewhere: where the
// product is) is an address of the customer's, shown and masked with the
// ticket's service address.

// PersonalRelation implements tenants.Personal: the ticket's.
func (e *VisitEntry) PersonalRelation() tenants.Relation { return tenants.Relation{Job: e.job} }

// PersonalID implements tenants.Personal: the ticket, when the visit holds
// a product location; "" otherwise.
func (e *VisitEntry) PersonalID() string {
	if _, ok := e.Exception["product_location"].(string); ok {
		return e.TicketID
	}
	return ""
}

// MaskPersonal implements tenants.Personal.
func (e *VisitEntry) MaskPersonal() {
	if loc, ok := e.Exception["product_location"].(string); ok {
		e.Exception["product_location"] = privacy.MaskAddressLine(loc)
	}
}

// VisitPersonalColumns are the ticket_visits table's columns with personal
// data, the exception's product location, masked in the values the audit
// log recorded of it as MaskPersonal masks a visit's.
func VisitPersonalColumns() audit.Columns {
	return audit.Columns{
		"exception": func(v any) any {
			return audit.MaskAs(v, func(x *map[string]any) {
				e := VisitEntry{Exception: *x}
				e.MaskPersonal()
			})
		},
	}
}

// relate works out, for a principal whose view depends on it, whether the
// ended tickets in ts are still in the grace period: at now, or for a
// ticket on a test clock at the clock's time (its end was stamped with it).
func relate(ctx context.Context, tx pg.TenantTx, p tenants.Principal, now time.Time, ts []Ticket) error {
	if !p.NeedsJobRelation() {
		return nil
	}
	var pol *privacy.Policy
	clocks := map[string]time.Time{}
	for i := range ts {
		end := ts[i].ended()
		if end == nil {
			continue
		}
		if pol == nil {
			p, err := privacy.PolicyTx(ctx, tx)
			if err != nil {
				return err
			}
			pol = &p
		}
		at := now
		if c := ts[i].TestClockID; c != nil {
			t, ok := clocks[*c]
			if !ok {
				var err error
				if t, err = testclocks.NowTx(ctx, tx, *c); err != nil {
					return err
				}
				clocks[*c] = t
			}
			at = t
		}
		ts[i].inGrace = at.Sub(*end) < pol.Grace()
	}
	return nil
}

// ServedTx is the customers.JobRelations the other contexts are built
// with: the customers and units of the tickets in p's scope, inside the
// caller's transaction.
func ServedTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal) (customers.Served, error) {
	out := customers.Served{Customers: map[string]bool{}, Units: map[string]bool{}}
	sc, err := resolveScope(ctx, tx, p)
	if err != nil {
		return out, err
	}
	args := append([]any{tx.TenantID}, sc.args()...)
	rows, err := tx.Query(ctx, `SELECT DISTINCT t.customer_id, t.unit_id
		FROM tickets t WHERE t.tenant_id = $1 AND `+inScope("$2", "$3", "$4", "$5"), args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var cus string
		var unit *string
		if err := rows.Scan(&cus, &unit); err != nil {
			return out, err
		}
		out.Customers[cus] = true
		if unit != nil {
			out.Units[*unit] = true
		}
	}
	return out, rows.Err()
}
