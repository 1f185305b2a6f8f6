package tickets

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// Problem is what the daily reconciliation found wrong with a completed
// ticket, or with an invoice asked for on one of its receipts.
type Problem string

// Reconciliation problems.
const (
	// ProblemNoSignoff: the customer's sign-off was not in by the end of the
	// day the ticket was completed. A sign-off the customer declined is in
	// (a recorded outcome; the quality scorecards count them).
	ProblemNoSignoff Problem = "no_signoff"
	// ProblemRatingNotConfirmed: a rating is recorded but the customer did
	// not confirm it with the one-time code.
	ProblemRatingNotConfirmed Problem = "rating_not_confirmed"
	// ProblemInvoiceOverdue: an invoice the customer asked for on one of the
	// ticket's receipts was promised by the day (Invoice.PromisedOn: agreed
	// for delivery later or by mail, the day of the request on site) and
	// was not recorded as issued (RecordInvoiceIssued) by the day's end,
	// whether it is still outstanding or was issued after. Found once the
	// day has ended, whatever day the ticket was completed; a ticket with
	// several invoices promised by the day has one finding.
	ProblemInvoiceOverdue Problem = "invoice_overdue"
)

// Problems lists every reconciliation problem.
var Problems = []Problem{ProblemNoSignoff, ProblemRatingNotConfirmed, ProblemInvoiceOverdue}

// Finding is one problem the daily reconciliation found with a ticket
// completed that day, or with an invoice promised by that day.
type Finding struct {
	Day          string    `json:"day" format:"date" doc:"The day (tenant's time zone) reconciled: for no_signoff and rating_not_confirmed the day the ticket was completed, for invoice_overdue the day the invoice was promised by." example:"2026-11-29"`
	TicketID     string    `json:"ticket_id" doc:"The ticket." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	Number       string    `json:"number" doc:"The ticket's number." example:"SN-20261129-00042"`
	Problem      Problem   `json:"problem" enum:"no_signoff,rating_not_confirmed,invoice_overdue" doc:"no_signoff: the customer's sign-off was not in by the end of the day (a sign-off the customer declined is in); rating_not_confirmed: a rating is recorded that the customer did not confirm with the one-time code; invoice_overdue: an invoice the customer asked for on one of the ticket's receipts was promised by the day (its promised_on) and not recorded as issued by the day's end (one finding per ticket and day, however many of its invoices)." example:"no_signoff"`
	NodeID       *string   `json:"node_id" doc:"The node that did the work; null if none." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	TechnicianID *string   `json:"technician_id" doc:"The technician who did the work; null if none." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	CompletedAt  time.Time `json:"completed_at" doc:"When the ticket was completed." example:"2026-11-29T16:20:00+08:00"`
	FoundAt      time.Time `json:"found_at" doc:"When the reconciliation recorded the finding." example:"2026-11-30T00:05:00+08:00"`
	Summary      string    `json:"summary" doc:"The finding told for people, in the response's Content-Language (summary_i18n)." example:"Ticket SN-20261129-00042 was completed at 2026-11-29T08:20:00Z, but the customer's sign-off was not in by the end of 2026-11-29"`
	// SummaryI18n is Summary as a catalog message.
	SummaryI18n *i18n.Message `json:"summary_i18n" doc:"The summary as a message code (reconcile.<problem>) and its params."`

	loc *time.Location // the tenant's time zone, for the summary
}

// FindingFilter narrows a findings listing; empty fields do not filter.
type FindingFilter struct {
	Day, Problem, NodeID string
	Limit                int
	Cursor               string
}

const findingCursorKind = "reconciliation_findings"

// Reconcile records the findings of the tenant's day (YYYY-MM-DD in the
// tenant's time zone): every ticket completed that day whose sign-off was
// not in by the day's end (no_signoff), or whose rating is not confirmed by
// the customer's code (rating_not_confirmed), and, once the day has ended,
// every ticket with an invoice promised by the day and not recorded as
// issued by its end (invoice_overdue). A finding is recorded once, so
// reruns add only what is new. It returns the number of findings the day
// has.
func (s *Service) Reconcile(ctx context.Context, tenantID string, day string) (int, error) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0, tenants.InvalidMsg("day", i18n.M("common.date_format"), day)
	}
	var n int
	err = pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		n, err = s.reconcile(ctx, tx, st.Location, d, s.now())
		return err
	})
	return n, pg.Translate(err)
}

// ReconcileYesterday is Reconcile of the day before now's date in the
// tenant's time zone, found at now, in one transaction; it returns the day
// and the number of findings it has.
func (s *Service) ReconcileYesterday(ctx context.Context, tenantID string, now time.Time) (string, int, error) {
	var day string
	var n int
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		local := now.In(st.Location)
		d := time.Date(local.Year(), local.Month(), local.Day()-1, 0, 0, 0, 0, time.UTC)
		day = d.Format(time.DateOnly)
		n, err = s.reconcile(ctx, tx, st.Location, d, now)
		return err
	})
	return day, n, pg.Translate(err)
}

// RunReconciliation is Reconcile on demand: day must not be in the future
// (tenant's zone), else 422 on day.
func (s *Service) RunReconciliation(ctx context.Context, p tenants.Principal, day string) (int, error) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0, tenants.InvalidMsg("day", i18n.M("common.date_format"), day)
	}
	var n int
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		st, today, err := tx.Today(ctx, s.now())
		if err != nil {
			return err
		}
		if day > today {
			return tenants.InvalidMsg("day", i18n.M("common.must_not_be_in_future_today", "Today", today), day)
		}
		n, err = s.reconcile(ctx, tx, st.Location, d, s.now())
		return err
	})
	return n, pg.Translate(err)
}

// reconcile records day d's findings (d's date, in the tenant's zone loc)
// at now and counts them.
func (s *Service) reconcile(ctx context.Context, tx pg.TenantTx, loc *time.Location, d, now time.Time) (int, error) {
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	end := start.AddDate(0, 0, 1)
	day := d.Format(time.DateOnly)
	if _, err := tx.Exec(ctx, `INSERT INTO reconciliation_findings (tenant_id, day, ticket_id, problem, node_id, technician_id, found_at)
		SELECT t.tenant_id, $2::date, t.id, p.problem, t.node_id, t.technician_id, $5
		FROM tickets t
		CROSS JOIN LATERAL (VALUES
			('no_signoff', t.signed_off_at IS NULL OR t.signed_off_at >= $4),
			('rating_not_confirmed', t.rating IS NOT NULL AND NOT t.signed_by_code)) AS p (problem, found)
		WHERE t.tenant_id = $1 AND t.completed_at >= $3 AND t.completed_at < $4 AND p.found
		  AND t.test_clock_id IS NULL -- a test clock's tickets are reconciled on its time (ReconcileClock)
		ON CONFLICT DO NOTHING`, tx.TenantID, day, start, end, now); err != nil {
		return 0, err
	}
	// Whether an invoice promised by the day was issued by its end is
	// known once the day has ended (a run of today finds none yet).
	if !now.Before(end) {
		if _, err := tx.Exec(ctx, `INSERT INTO reconciliation_findings (tenant_id, day, ticket_id, problem, node_id, technician_id, found_at)
			SELECT t.tenant_id, $2::date, t.id, 'invoice_overdue', t.node_id, t.technician_id, $4
			FROM tickets t
			WHERE t.tenant_id = $1
			  -- not issued by the day's end: outstanding (requested before it), or issued after it
			  AND (t.invoice_requested_at < $3 OR t.invoice_last_issued_at >= $3)
			  AND EXISTS (SELECT FROM jsonb_array_elements(t.receipts) r
			               WHERE r.value -> 'invoice' ->> 'promised_on' = $5::text
			                 AND (r.value -> 'invoice' ->> 'issued_at' IS NULL OR (r.value -> 'invoice' ->> 'issued_at')::timestamptz >= $3))
			  AND t.test_clock_id IS NULL
			ON CONFLICT DO NOTHING`, tx.TenantID, day, end, now, day); err != nil {
			return 0, err
		}
	}
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM reconciliation_findings WHERE tenant_id = $1 AND day = $2::date`,
		tx.TenantID, day).Scan(&n)
	return n, err
}

// ReconcileClock reconciles the tickets attached to the test clock
// clockID on the clock's time, as the daily reconciliation does on the wall
// clock's: every day (tenant's time zone) on which one of them was
// completed, or by which one of their invoices was promised, and that has
// ended on the clock gets its findings, found at the clock's time. A finding is recorded once, so reruns add only what is new.
// It returns the number of findings of the clock's tickets; a clock that no
// longer exists is not_found.
func (s *Service) ReconcileClock(ctx context.Context, tenantID, clockID string) (int, error) {
	var n int
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		at, err := testclocks.NowTx(ctx, tx, clockID)
		if err != nil {
			return err
		}
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		local := at.In(st.Location)
		today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, st.Location)
		if _, err := tx.Exec(ctx, `INSERT INTO reconciliation_findings (tenant_id, day, ticket_id, problem, node_id, technician_id, found_at)
			SELECT t.tenant_id, d.day, t.id, p.problem, t.node_id, t.technician_id, $4
			FROM tickets t
			CROSS JOIN LATERAL (SELECT (t.completed_at AT TIME ZONE $5)::date AS day) AS d
			CROSS JOIN LATERAL (VALUES
				('no_signoff', t.signed_off_at IS NULL OR t.signed_off_at >= ((d.day + 1)::timestamp AT TIME ZONE $5)),
				('rating_not_confirmed', t.rating IS NOT NULL AND NOT t.signed_by_code)) AS p (problem, found)
			WHERE t.tenant_id = $1 AND t.test_clock_id = $2 AND t.completed_at < $3 AND p.found
			ON CONFLICT DO NOTHING`, tx.TenantID, clockID, today, at, st.Location.String()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO reconciliation_findings (tenant_id, day, ticket_id, problem, node_id, technician_id, found_at)
			SELECT DISTINCT t.tenant_id, d.day, t.id, 'invoice_overdue', t.node_id, t.technician_id, $4::timestamptz
			FROM tickets t
			CROSS JOIN LATERAL jsonb_array_elements(t.receipts) r
			CROSS JOIN LATERAL (SELECT (r.value -> 'invoice' ->> 'promised_on')::date AS day) AS d
			WHERE t.tenant_id = $1 AND t.test_clock_id = $2 AND d.day < $3::date
			  AND (r.value -> 'invoice' ->> 'issued_at' IS NULL
			       OR (r.value -> 'invoice' ->> 'issued_at')::timestamptz >= ((d.day + 1)::timestamp AT TIME ZONE $5))
			ON CONFLICT DO NOTHING`, tx.TenantID, clockID, today.Format(time.DateOnly), at, st.Location.String()); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM reconciliation_findings f JOIN tickets t ON t.tenant_id = f.tenant_id AND t.id = f.ticket_id
			WHERE f.tenant_id = $1 AND t.test_clock_id = $2`, tx.TenantID, clockID).Scan(&n)
	})
	return n, pg.Translate(err)
}

// ListFindings lists reconciliation findings, newest day first, filtered by
// day, problem and node. A node-scoped principal sees the findings whose
// node is in its subtree.
func (s *Service) ListFindings(ctx context.Context, p tenants.Principal, f FindingFilter) ([]Finding, string, error) {
	v := &tenants.Validation{}
	if f.Day != "" {
		if _, err := time.Parse(time.DateOnly, f.Day); err != nil {
			v.AddMsg("day", i18n.M("common.date_format"), f.Day)
		}
	}
	if f.Problem != "" && !slices.Contains(Problems, Problem(f.Problem)) {
		v.AddMsg("problem", i18n.M("common.one_of", "Values", "no_signoff, rating_not_confirmed, invoice_overdue"), f.Problem)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	f.Limit = tenants.PageLimit(f.Limit)
	key, err := tenants.PageAfter(findingCursorKind, f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var afterDay *string
	var afterTicket, afterProblem string
	if key != "" {
		parts := strings.Split(key, "|")
		if len(parts) != 3 {
			return nil, "", tenants.MalformedCursor(f.Cursor)
		}
		if _, err := time.Parse(time.DateOnly, parts[0]); err != nil {
			return nil, "", tenants.MalformedCursor(f.Cursor)
		}
		afterDay, afterTicket, afterProblem = &parts[0], parts[1], parts[2]
	}
	var out []Finding
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		nodes, err := network.ScopeNodesTx(ctx, tx, p)
		if err != nil {
			return err
		}
		st, err := tx.Settings(ctx) // read before the rows: one query at a time on a connection
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT to_char(f.day, 'YYYY-MM-DD'), f.ticket_id, t.number, f.problem, f.node_id, f.technician_id,
			t.completed_at, f.found_at
			FROM reconciliation_findings f JOIN tickets t ON t.tenant_id = f.tenant_id AND t.id = f.ticket_id
			WHERE f.tenant_id = $1
			  AND ($2::date IS NULL OR (f.day, f.ticket_id, f.problem) < ($2::date, $3, $4))
			  AND ($5::text[] IS NULL OR f.node_id = ANY ($5::text[]))
			  AND ($6::text IS NULL OR t.storefront_id = $6) AND ($7::text IS NULL OR f.technician_id = $7)
			  AND ($8::date IS NULL OR f.day = $8::date) AND ($9 = '' OR f.problem = $9) AND ($10 = '' OR f.node_id = $10)
			ORDER BY f.day DESC, f.ticket_id DESC, f.problem DESC LIMIT $11`,
			tx.TenantID, afterDay, afterTicket, afterProblem, nodes, nonEmpty(p.StorefrontID), nonEmpty(p.TechnicianID),
			nonEmpty(f.Day), f.Problem, f.NodeID, f.Limit+1)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Finding, error) {
			x := Finding{loc: st.Location}
			var completed *time.Time
			err := r.Scan(&x.Day, &x.TicketID, &x.Number, &x.Problem, &x.NodeID, &x.TechnicianID, &completed, &x.FoundAt)
			if completed != nil {
				x.CompletedAt = *completed
			}
			return x, err
		})
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := tenants.NextPage(findingCursorKind, out, f.Limit, func(x Finding) string {
		return x.Day + "|" + x.TicketID + "|" + string(x.Problem)
	})
	return out, next, nil
}
