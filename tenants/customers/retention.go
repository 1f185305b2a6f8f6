package customers

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/audit"
	"github.com/servicenet/servicenet/tenants/privacy"
)

// A customer's personal data is kept as long as the brand serves them
// (PIPL art. 19: no longer than the purpose needs), then the tenant's
// privacy policy's retention_days more, then masked at rest by the
// retention job, as a closed ticket's is (tickets.MaskEndedTx). The brand
// serves a customer while a ticket or complaint of theirs is open and while
// one of their units is under the manufacturer's warranty (the longest of
// its whole-unit and key-part terms) or a contract (pending, active, or
// expired less than retention_days ago); the period runs from the last of
// these ends, of the record's last change and of a unit's registration
// (migration 082 says it in full, with the views the owners export for
// it); a ticket the retention masked before it masked free texts keeps
// its customer until its texts are masked with the customer's name
// (084). Masked means shown as a reader without the right to see it sees it
// (MaskPersonal: 王*, 138****8000, 北京市朝阳区****), in the customer and
// in the audit log's record of it; its phones are released (customer_phones,
// customer_storefront_phones): a phone lookup no longer finds it and the
// phone may register a new customer. Units, tickets, claims and payouts keep
// referring to it by id. Unlike an erasure, the masked forms stay: the
// record is still recognised on a call ("王*, 138****8000").

// termEndSQL is the SQL for the last day of a term of months (an int
// expression) from start (a date expression), as entitlement.TermEnd
// computes it: PostgreSQL's date + months clamps to the month's last day
// (31 January + 1 month is 28 February); a clamped day is the term's last
// day, any other the day after it. Its arguments are this file's column
// references, never input.
func termEndSQL(start, months string) string {
	plus := start + " + make_interval(months => " + months + ")"
	return "((" + plus + ")::date - (extract(day FROM " + plus + ") = extract(day FROM " + start + "))::int)"
}

// retentionCandidatesSQL selects up to $4 customers of tenant $1 past
// retention: $2 is the instant before which the brand's last service must
// have ended, $3 the same day in the tenant's calendar (warranty and
// contract terms are dates). A unit's manufacturer warranty is the longest
// of the model's terms (model_warranty_terms) and of the warranty
// promotions whose window holds its purchase date
// (model_warranty_promotion_terms, 098), as warranty.EngineUnit gives the
// engine. Oldest first (by id), locked, skipping rows another transaction
// holds.
var retentionCandidatesSQL = `SELECT c.id, c.name, c.phones, c.addresses FROM customers c
	WHERE c.tenant_id = $1 AND c.erased_at IS NULL AND c.masked_at IS NULL AND c.updated_at < $2
	  AND NOT EXISTS (SELECT FROM customer_ticket_ends t WHERE t.tenant_id = $1 AND t.customer_id = c.id
	                  AND (t.ended_at IS NULL OR t.ended_at >= $2))
	  AND NOT EXISTS (SELECT FROM customer_complaint_ends k WHERE k.tenant_id = $1 AND k.customer_id = c.id
	                  AND (k.ended_at IS NULL OR k.ended_at >= $2))
	  AND NOT EXISTS (SELECT FROM units u JOIN model_warranty_terms m ON m.tenant_id = u.tenant_id AND m.model_id = u.model_id
	                  WHERE u.tenant_id = $1 AND u.customer_id = c.id
	                    AND (u.created_at >= $2
	                         OR ` + termEndSQL("u.purchase_date", "m.warranty_months") + ` >= $3::date
	                         OR EXISTS (SELECT FROM model_warranty_promotion_terms p WHERE p.tenant_id = $1 AND p.model_id = u.model_id
	                                    AND u.purchase_date BETWEEN p.purchased_from AND p.purchased_through
	                                    AND ` + termEndSQL("u.purchase_date", "p.warranty_months") + ` >= $3::date)
	                         OR EXISTS (SELECT FROM unit_contract_ends e WHERE e.tenant_id = $1 AND e.unit_id = u.id AND e.ends_on >= $3::date)))
	ORDER BY c.id LIMIT $4 FOR UPDATE OF c SKIP LOCKED`

// MaskRetainedTx masks at rest, inside the caller's transaction, the
// personal data of up to limit customers the brand last served before
// `before` (see above), in the customers, their phone lookups and what the
// audit log recorded of them, and returns how many it masked (the retention
// job). A customer masked or erased is not read again: reruns are no-ops.
func MaskRetainedTx(ctx context.Context, tx pg.TenantTx, before time.Time, limit int) (int, error) {
	st, err := tx.Settings(ctx)
	if err != nil {
		return 0, err
	}
	rows, err := tx.Query(ctx, retentionCandidatesSQL, tx.TenantID, before, st.Today(before), limit)
	if err != nil {
		return 0, err
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Customer, error) {
		var c Customer
		return c, r.Scan(&c.ID, &c.Name, &c.Phones, &c.Addresses)
	})
	if err != nil || len(cs) == 0 {
		return 0, err
	}
	b := &pgx.Batch{}
	ids := make([]string, len(cs))
	for i, c := range cs {
		c.MaskPersonal()
		if c.Addresses == nil {
			c.Addresses = []CustomerAddress{}
		}
		b.Queue(`UPDATE customers SET name = $3, phones = $4, addresses = $5, masked_at = now(), version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, c.ID, c.Name, c.Phones, c.Addresses)
		ids[i] = c.ID
	}
	b.Queue(`DELETE FROM customer_phones WHERE tenant_id = $1 AND customer_id = ANY ($2)`, tx.TenantID, ids)
	b.Queue(`DELETE FROM customer_storefront_phones WHERE tenant_id = $1 AND customer_id = ANY ($2)`, tx.TenantID, ids)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, err
	}
	// The log keeps no more than the customers: their creations, their
	// changes and the masking just recorded (its old values the clear ones).
	return len(cs), audit.MaskObjectsTx(ctx, tx, "customers", ids, PersonalColumns())
}

// ApplyRetention masks at rest the personal data of the tenant's customers
// the brand last served longer ago than its privacy policy's
// retention_days (none when the policy keeps data), in the mode of ctx, at
// most privacy.RetentionBatch per call, and returns how many it masked.
// The retention job runs it hourly for every tenant, after the tickets'.
func (s *Service) ApplyRetention(ctx context.Context, tenantID string, now time.Time) (int, error) {
	return privacy.ApplyRetention(ctx, s.DB, tenantID, now, MaskRetainedTx)
}
