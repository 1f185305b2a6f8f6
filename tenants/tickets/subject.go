package tickets

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/audit"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/privacy"
)

// OfCustomerTx returns, inside the caller's transaction, every ticket of a
// customer, oldest first (a data-subject request; no scope applies).
func OfCustomerTx(ctx context.Context, tx pg.TenantTx, customerID string) ([]Ticket, error) {
	rows, err := tx.Query(ctx, `SELECT `+ticketColumns+` FROM tickets t WHERE t.tenant_id = $1 AND t.customer_id = $2 ORDER BY t.id`,
		tx.TenantID, customerID)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) { return scanTicket(r) })
	if out == nil {
		out = []Ticket{}
	}
	return out, err
}

// Open reports whether the ticket is still being worked (not closed,
// cancelled or resolved): its customer cannot be erased yet.
func (t *Ticket) Open() bool {
	return t.State != StateClosed && t.State != StateCancelled && t.State != StateResolved
}

// tombstoneSQL replaces a ticket row's personal data ($3: the contact's
// replacement name, $4 phone, $5 address line; its free texts as
// freeTextSQL's $3 to $6; $10 its receipts, their invoices' personal data
// replaced) and drops its sign-off code.
const tombstoneSQL = `UPDATE tickets t SET contact = jsonb_build_object('name', $3::text, 'phone', $4::text),
		receipts = $10,
		address = (t.address - 'latitude' - 'longitude') || jsonb_build_object('line', $5::text),
		fault = t.fault || jsonb_strip_nulls(jsonb_build_object('symptom', $6::text, 'customer_request', $7::text)),
		diagnosis = CASE WHEN t.diagnosis ? 'notes' THEN jsonb_set(t.diagnosis, '{notes}', to_jsonb($8::text)) ELSE t.diagnosis END,
		rating_comment = $9, unmasked_free_text = NULL, signoff_code_hash = NULL, version = version + 1, updated_at = now()
	WHERE t.tenant_id = $1 AND t.id = $2`

// freeTextSQL replaces a ticket row's free texts ($3 the fault's symptom,
// $4 its customer_request, both left as they are when NULL; $5 the
// diagnosis's notes; $6 the rating comment) and clears its
// unmasked_free_text mark.
const freeTextSQL = `UPDATE tickets t SET
		fault = t.fault || jsonb_strip_nulls(jsonb_build_object('symptom', $3::text, 'customer_request', $4::text)),
		diagnosis = CASE WHEN t.diagnosis ? 'notes' THEN jsonb_set(t.diagnosis, '{notes}', to_jsonb($5::text)) ELSE t.diagnosis END,
		rating_comment = $6, unmasked_free_text = NULL, version = version + 1, updated_at = now()
	WHERE t.tenant_id = $1 AND t.id = $2`

// queueTombstone queues tombstoneSQL for t: its contact and address as
// given, its free texts masked (maskFreeText, names the customer's), its
// invoices' personal title and mailing address erased with the contact
// (name privacy.Erased), else masked (maskReceipts).
func queueTombstone(b *pgx.Batch, tenantID string, t Ticket, name, phone, line string, names ...string) {
	t.maskFreeText(names...)
	if name == privacy.Erased {
		erase := func(string) string { return privacy.Erased }
		t.maskInvoices(erase, erase)
	} else {
		t.maskReceipts()
	}
	var notes *string
	if t.Diagnosis != nil {
		notes = &t.Diagnosis.Notes
	}
	b.Queue(tombstoneSQL, tenantID, t.ID, name, phone, line, nullText(t.Fault.Symptom), nullText(t.Fault.CustomerRequest),
		notes, t.Signoff.Comment, receiptsOf(&t))
}

// nullText is s, or nil (SQL NULL) when empty.
func nullText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// visitLocationSQL replaces the product location of ticket $2's visit $3
// (a visit exception's report) with $4.
const visitLocationSQL = `UPDATE ticket_visits SET exception = jsonb_set(exception, '{product_location}', to_jsonb($4::text))
	WHERE tenant_id = $1 AND ticket_id = $2 AND seq = $3`

// VisitsOfTx returns, inside the caller's transaction, the visits of the
// tickets ids (a data-subject request: no scope applies), by ticket, oldest
// first.
func VisitsOfTx(ctx context.Context, tx pg.TenantTx, ids []string) ([]VisitEntry, error) {
	rows, err := tx.Query(ctx, `SELECT `+visitColumns+` FROM ticket_visits WHERE tenant_id = $1 AND ticket_id = ANY ($2)
		ORDER BY ticket_id, seq`, tx.TenantID, ids)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (VisitEntry, error) { return scanVisit(r) })
	if out == nil {
		out = []VisitEntry{}
	}
	return out, err
}

// EraseCustomerTx tombstones, inside the caller's transaction, the personal
// data in a customer's tickets (contact, service address, sign-off code,
// the product location a visit exception reported) and masks it in their
// free texts (numbers, and the contact's and names' occurrences: the
// customer's names). Everything the brand needs for warranty and
// accounting stays.
func EraseCustomerTx(ctx context.Context, tx pg.TenantTx, ts []Ticket, names ...string) error {
	if len(ts) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	ids := make([]string, len(ts))
	for i, t := range ts {
		queueTombstone(b, tx.TenantID, t, privacy.Erased, privacy.Erased, privacy.Erased, append([]string{t.Contact.Name}, names...)...)
		ids[i] = t.ID
	}
	b.Queue(`UPDATE ticket_visits SET exception = jsonb_set(exception, '{product_location}', to_jsonb($3::text))
		WHERE tenant_id = $1 AND ticket_id = ANY ($2) AND exception ? 'product_location'`, tx.TenantID, ids, privacy.Erased)
	return tx.SendBatch(ctx, b).Close()
}

// MaskEndedTx masks at rest, inside the caller's transaction, the personal
// data of up to limit tickets closed or cancelled before `before` whose
// data is still in the clear, in the tickets and in what the audit log
// recorded of them, and returns how many it masked (the retention job). A
// cancelled ticket is as ended as a closed one: nothing reopens it.
//
// With what limit leaves, it then masks the tickets masked or erased before
// their free texts were (maskLeftFreeTexts).
func MaskEndedTx(ctx context.Context, tx pg.TenantTx, before time.Time, limit int) (int, error) {
	n, err := maskEnded(ctx, tx, before, limit)
	if err != nil || n >= limit {
		return n, err
	}
	left, err := maskLeftFreeTexts(ctx, tx, limit-n)
	return n + left, err
}

// maskEnded is MaskEndedTx's masking of the tickets newly past retention.
func maskEnded(ctx context.Context, tx pg.TenantTx, before time.Time, limit int) (int, error) {
	type row struct {
		Ticket
		visits map[string]string // seq → the product location its visit exception reported
	}
	var rs []row
	rows, err := tx.Query(ctx, `SELECT t.id, t.contact, t.address, t.fault, t.diagnosis, t.rating_comment, t.receipts,
			(SELECT coalesce(jsonb_object_agg(v.seq, v.exception ->> 'product_location'), '{}') FROM ticket_visits v
			  WHERE v.tenant_id = t.tenant_id AND v.ticket_id = t.id AND v.exception ? 'product_location')
		FROM tickets t
		WHERE t.tenant_id = $1 AND t.state IN ('closed', 'cancelled') AND `+endedSQL+` < $2
		  AND t.contact ->> 'phone' NOT LIKE '%****%' AND t.contact ->> 'phone' <> $3
		ORDER BY `+endedSQL+` LIMIT $4 FOR UPDATE OF t SKIP LOCKED`, tx.TenantID, before, privacy.Erased, limit)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.ID, &r.Contact, &r.Address, &r.Fault, &r.Diagnosis, &r.Signoff.Comment, &r.Receipts, &r.visits); err != nil {
			rows.Close()
			return 0, err
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(rs) == 0 {
		return 0, nil
	}
	b := &pgx.Batch{}
	ids := make([]string, len(rs))
	for i, r := range rs {
		queueTombstone(b, tx.TenantID, r.Ticket, privacy.MaskName(r.Contact.Name), privacy.MaskPhone(r.Contact.Phone),
			privacy.MaskAddressLine(r.Address.Line), r.Contact.Name)
		for seq, loc := range r.visits {
			n, err := strconv.Atoi(seq)
			if err != nil {
				return 0, err
			}
			b.Queue(visitLocationSQL, tx.TenantID, r.ID, n, privacy.MaskAddressLine(loc))
		}
		ids[i] = r.ID
	}
	// The messages about them keep their masked recipient, not the number.
	notifications.QueueForgetRecipients(b, tx.TenantID, ids, false)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, err
	}
	// The audit log keeps no more than the tickets and their visits: their
	// creations, their changes and the masking just recorded (its old values
	// the clear ones) are masked alike.
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Contact.Name
	}
	if err := audit.MaskObjectsTx(ctx, tx, "tickets", ids, PersonalColumns(names...)); err != nil {
		return 0, err
	}
	return len(rs), audit.MaskObjectsTx(ctx, tx, "ticket_visits", ids, VisitPersonalColumns())
}

// maskLeftFreeTexts masks at rest, inside the caller's transaction, the
// free texts of up to limit tickets whose contact the retention masked, or
// an erasure erased, before either masked free texts (unmasked_free_text,
// migration 084): in the tickets and in what the audit log recorded of
// them and their visits (contact and address included: the log kept them
// in the clear before migration 070). It returns how many it read; each
// loses its mark, so none is read again. Their contact's name is masked
// already: the names masked in their texts are their customers' (those
// neither masked nor erased, customers.NamesTx), numbers in any case. A
// text with nothing left to mask is not written (no version, no audit
// entry).
func maskLeftFreeTexts(ctx context.Context, tx pg.TenantTx, limit int) (int, error) {
	rows, err := tx.Query(ctx, `SELECT t.id, coalesce(t.customer_id, ''), t.contact, t.fault, t.diagnosis, t.rating_comment
		FROM tickets t WHERE t.tenant_id = $1 AND t.unmasked_free_text
		ORDER BY t.id LIMIT $2 FOR UPDATE OF t SKIP LOCKED`, tx.TenantID, limit)
	if err != nil {
		return 0, err
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Ticket, error) {
		var t Ticket
		return t, r.Scan(&t.ID, &t.CustomerID, &t.Contact, &t.Fault, &t.Diagnosis, &t.Signoff.Comment)
	})
	if err != nil || len(ts) == 0 {
		return 0, err
	}
	customerIDs := make([]string, 0, len(ts))
	for _, t := range ts {
		if t.CustomerID != "" {
			customerIDs = append(customerIDs, t.CustomerID)
		}
	}
	customerNames, err := customers.NamesTx(ctx, tx, customerIDs)
	if err != nil {
		return 0, err
	}
	b := &pgx.Batch{}
	ids := make([]string, len(ts))
	var names, unchanged []string
	for i, t := range ts {
		ids[i] = t.ID
		ns := []string{t.Contact.Name}
		if name, ok := customerNames[t.CustomerID]; ok {
			ns = append(ns, name)
		}
		names = append(names, ns...)
		clear := t.freeTexts()
		t.maskFreeText(ns...)
		if t.freeTexts() == clear {
			unchanged = append(unchanged, t.ID)
			continue
		}
		var notes *string
		if t.Diagnosis != nil {
			notes = &t.Diagnosis.Notes
		}
		b.Queue(freeTextSQL, tx.TenantID, t.ID, nullText(t.Fault.Symptom), nullText(t.Fault.CustomerRequest), notes, t.Signoff.Comment)
	}
	b.Queue(`UPDATE tickets SET unmasked_free_text = NULL WHERE tenant_id = $1 AND id = ANY ($2)`, tx.TenantID, unchanged)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, err
	}
	if err := audit.MaskObjectsTx(ctx, tx, "tickets", ids, PersonalColumns(names...)); err != nil {
		return 0, err
	}
	return len(ts), audit.MaskObjectsTx(ctx, tx, "ticket_visits", ids, VisitPersonalColumns())
}

// freeTexts are t's free texts (maskFreeText's), "" for one it has not.
func (t *Ticket) freeTexts() [4]string {
	var out [4]string
	out[0], out[1] = t.Fault.Symptom, t.Fault.CustomerRequest
	if t.Diagnosis != nil {
		out[2] = t.Diagnosis.Notes
	}
	if t.Signoff.Comment != nil {
		out[3] = *t.Signoff.Comment
	}
	return out
}

// ApplyRetention masks at rest the personal data of the tenant's tickets
// closed or cancelled longer ago than its privacy policy's retention_days
// (none when the policy keeps data), in the mode of ctx, at most
// privacy.RetentionBatch per call, and returns how many it masked. The
// retention job runs it hourly for every tenant.
func (s *Service) ApplyRetention(ctx context.Context, tenantID string, now time.Time) (int, error) {
	return privacy.ApplyRetention(ctx, s.DB, tenantID, now, MaskEndedTx)
}
