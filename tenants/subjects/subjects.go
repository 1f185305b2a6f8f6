// Package subjects answers data-subject requests (PIPL's rights of access
// and deletion) for one customer: an export of everything the tenant holds
// about them, and an erasure that tombstones their personal data while the
// brand keeps the ticket, claim and payout records it needs for warranty
// and accounting. It owns no tables: each context reads and tombstones its
// own rows through its ...Tx functions, in one transaction.
package subjects

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/audit"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// SubjectEvent is an event of the feed that names the customer or its objects.
type SubjectEvent struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	SubjectID  string          `json:"subject_id"`
	Actor      string          `json:"actor"`
	Data       json.RawMessage `json:"data"`
	OccurredAt time.Time       `json:"occurred_at"`
}

// Export is everything the tenant holds about one customer.
type Export struct {
	ExportedAt time.Time              `json:"exported_at" doc:"When the export was taken." example:"2026-12-01T09:30:00+08:00"`
	Customer   customers.Customer     `json:"customer"`
	Units      []customers.Unit       `json:"units"`
	Tickets    []tickets.Ticket       `json:"tickets"`
	Visits     []tickets.VisitEntry   `json:"visits" doc:"The visits and attempted visits of the customer's tickets, with what their visit exceptions reported (where the product is)."`
	Claims     []claims.Claim         `json:"claims"`
	Payouts    []payouts.Payout       `json:"payouts"`
	Complaints []complaints.Complaint `json:"complaints"`
	Events     []SubjectEvent         `json:"events" doc:"Events whose subject is the customer, one of its units or tickets."`
}

// Erasure is the outcome of an erasure.
type Erasure struct {
	// The customer as it remains: its id, no personal data.
	Customer        customers.Customer `json:"customer"`
	TicketsRetained int                `json:"tickets_retained" doc:"Tickets kept for the brand's records, their contact and address tombstoned." example:"2"`
	ClaimsRetained  int                `json:"claims_retained" doc:"Claims on the customer's units kept unchanged." example:"1"`
}

// Service answers data-subject requests; each method is one transaction.
type Service struct {
	DB  pg.DB
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func unitIDs(us []customers.Unit) []string {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

func ticketIDs(ts []tickets.Ticket) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

// Export collects everything held about a customer and records the export
// in the audit log, in one transaction.
func (s *Service) Export(ctx context.Context, p tenants.Principal, a pg.Actor, customerID string) (Export, error) {
	out := Export{ExportedAt: s.now()}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		if out.Customer, out.Units, err = customers.SubjectTx(ctx, tx, customerID, ""); err != nil {
			return err
		}
		units := unitIDs(out.Units)
		if out.Tickets, err = tickets.OfCustomerTx(ctx, tx, customerID); err != nil {
			return err
		}
		tks := ticketIDs(out.Tickets)
		if out.Visits, err = tickets.VisitsOfTx(ctx, tx, tks); err != nil {
			return err
		}
		if out.Claims, err = claims.OfUnitsTx(ctx, tx, units); err != nil {
			return err
		}
		if out.Payouts, err = payouts.OfUnitsTx(ctx, tx, units); err != nil {
			return err
		}
		if out.Complaints, err = complaints.OfCustomerTx(ctx, tx, customerID, tks, out.ExportedAt); err != nil {
			return err
		}
		evs, err := events.AboutTx(ctx, tx, append(append([]string{customerID}, units...), tks...))
		if err != nil {
			return err
		}
		out.Events = make([]SubjectEvent, len(evs))
		for i, e := range evs {
			out.Events[i] = SubjectEvent{ID: e.ID, Type: e.Type, SubjectID: e.SubjectID, Actor: e.Actor, Data: e.Data, OccurredAt: e.OccurredAt}
		}
		b := &pgx.Batch{}
		audit.QueueRead(b, tx.TenantID, a, audit.Read{Operation: a.Operation, Action: "export", ObjectIDs: []string{customerID}})
		return tx.SendBatch(ctx, b).Close()
	})
	return out, pg.Translate(err)
}

// Erase tombstones a customer's personal data: the customer's name, phones
// and addresses, its tickets' contact and address and the product location
// their visit exceptions reported, the values the audit
// log recorded of them, and the recipient of the messages sent to it about
// its tickets, claims and payouts; its phones may register again as a new
// customer.
// Tickets, claims and payouts stay with their amounts. A customer with an
// open ticket is a conflict naming the ticket; erasing twice is harmless.
func (s *Service) Erase(ctx context.Context, p tenants.Principal, a pg.Actor, customerID string) (Erasure, error) {
	var out Erasure
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		c, units, err := customers.SubjectTx(ctx, tx, customerID, "FOR UPDATE OF c")
		if err != nil {
			return err
		}
		ts, err := tickets.OfCustomerTx(ctx, tx, customerID)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.Open() {
				return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("subjects.open_ticket_erase", "Ticket", t.ID, "State", string(t.State))).With(
					tenants.FieldMsg("customer_id", i18n.M("subjects.open_ticket", "Ticket", t.ID), t.ID))
			}
		}
		if err := tickets.EraseCustomerTx(ctx, tx, ts, c.Name); err != nil {
			return err
		}
		if out.Customer, err = customers.EraseTx(ctx, tx, p, customerID); err != nil {
			return err
		}
		cs, err := claims.OfUnitsTx(ctx, tx, unitIDs(units))
		if err != nil {
			return err
		}
		ps, err := payouts.OfUnitsTx(ctx, tx, unitIDs(units))
		if err != nil {
			return err
		}
		out.TicketsRetained, out.ClaimsRetained = len(ts), len(cs)
		if err := audit.EraseSubjectTx(ctx, tx, customerID, ticketIDs(ts)); err != nil {
			return err
		}
		// What the customer and the technicians wrote keeps the fault,
		// not the customer's numbers and names.
		names := []string{c.Name}
		for _, t := range ts {
			names = append(names, t.Contact.Name)
		}
		if err := audit.MaskObjectsTx(ctx, tx, "tickets", ticketIDs(ts), tickets.FreeTextColumns(names...)); err != nil {
			return err
		}
		// The messages sent to the customer about its tickets, claims and
		// payouts keep their purpose and status, not its number.
		about := ticketIDs(ts)
		for _, c := range cs {
			about = append(about, c.ID)
		}
		for _, o := range ps {
			about = append(about, o.ID)
		}
		b := &pgx.Batch{}
		notifications.QueueForgetRecipients(b, tx.TenantID, about, true)
		audit.QueueRead(b, tx.TenantID, a, audit.Read{Operation: a.Operation, Action: "erase", ObjectIDs: []string{customerID}})
		return tx.SendBatch(ctx, b).Close()
	})
	return out, pg.Translate(err)
}
