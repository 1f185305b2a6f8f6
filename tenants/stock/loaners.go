package stock

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// LoanerStatus is where a loaner unit stands. A loaner returned damaged is
// retired: it is not lent again (its loans stay in its history); register
// the repaired unit again under a new serial to put it back in service.
type LoanerStatus string

// Loaner statuses.
const (
	LoanerAvailable LoanerStatus = "available"
	LoanerLent      LoanerStatus = "lent"
	LoanerRetired   LoanerStatus = "retired"
)

// Loan conditions on return.
const (
	ConditionGood    = "good"
	ConditionDamaged = "damaged"
)

// Loaner is a unit a node lends to customers while their own is carried in.
type Loaner struct {
	ID        string       `json:"id" example:"lnr_01jd3zq8w6v7t3y2k9x4n5m6pl"`
	NodeID    string       `json:"node_id" doc:"The node that keeps and lends it." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Category  string       `json:"category" doc:"Product category; tickets ask for a loaner of their unit's category." example:"phone"`
	ModelID   *string      `json:"model_id" doc:"The loaner's product model, when known." example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Serial    string       `json:"serial" doc:"Serial number; unique per tenant." example:"LN-QD-0001"`
	Note      *string      `json:"note" doc:"A remark (accessories, cosmetic state)." example:"含充电器"`
	Status    LoanerStatus `json:"status" enum:"available,lent,retired" doc:"available to lend, lent to a ticket, or retired (returned damaged)." example:"lent"`
	TicketID  *string      `json:"ticket_id" doc:"The ticket it is lent to; null unless lent." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	LentAt    *time.Time   `json:"lent_at" doc:"When the current loan began; null unless lent." example:"2026-11-30T10:00:00+08:00"`
	DueOn     *string      `json:"due_on" format:"date" doc:"When the current loan is due back (tenant's zone); null unless lent." example:"2026-12-07"`
	Overdue   bool         `json:"overdue" doc:"Lent and due before today in the tenant's time zone (the test clock's today for a loan to a ticket on a test clock)." example:"false"`
	Version   int          `json:"version" doc:"Increases with every change." example:"3"`
	CreatedAt time.Time    `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt time.Time    `json:"updated_at" example:"2026-11-30T10:00:00+08:00"`
	Loans     []Loan       `json:"loans,omitempty" doc:"The loan history, newest first (getLoaner only)."`
}

// Loan is one lending of a loaner to a ticket.
type Loan struct {
	LoanerID   string     `json:"loaner_id" example:"lnr_01jd3zq8w6v7t3y2k9x4n5m6pl"`
	Serial     string     `json:"serial" doc:"The loaner's serial number." example:"LN-QD-0001"`
	Category   string     `json:"category" doc:"The loaner's product category." example:"phone"`
	NodeID     string     `json:"node_id" doc:"The node that lent it." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	TicketID   string     `json:"ticket_id" doc:"The ticket it was lent for." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	ModelID    *string    `json:"model_id" doc:"The loaner's product model, when known." example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	LentAt     time.Time  `json:"lent_at" example:"2026-11-30T10:00:00+08:00"`
	DueOn      string     `json:"due_on" format:"date" doc:"Due back on this day (tenant's zone)." example:"2026-12-07"`
	ReturnedAt *time.Time `json:"returned_at" doc:"When it came back; null while out." example:"2026-12-05T16:20:00+08:00"`
	Condition  *string    `json:"condition" enum:"good,damaged" doc:"Its condition on return (damaged retires the loaner); null while out." example:"good"`
	Overdue    bool       `json:"overdue" doc:"Still out and due before today in the tenant's time zone (the test clock's today for a loan to a ticket on a test clock)." example:"false"`
}

// NewLoaner registers a loaner unit at a node.
type NewLoaner struct {
	NodeID   string `json:"node_id" maxLength:"64" doc:"The node that keeps it; in the caller's scope." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Category string `json:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Product category." example:"phone"`
	ModelID  string `json:"model_id,omitempty" maxLength:"64" doc:"Its product model, of the same category." example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Serial   string `json:"serial" minLength:"1" maxLength:"64" doc:"Serial number; unique per tenant." example:"LN-QD-0001"`
	Note     string `json:"note,omitempty" maxLength:"500" doc:"A remark (accessories, cosmetic state)." example:"含充电器"`
}

// LoanerFilter narrows a loaner list; empty fields do not filter.
type LoanerFilter struct {
	NodeID   string
	Status   string
	Category string
	// Overdue keeps only loaners lent and due before today (tenant's zone).
	Overdue bool
	Limit   int
	Cursor  string
}

func today(ctx context.Context, tx pg.TenantTx, now time.Time) (string, error) {
	_, d, err := tx.Today(ctx, now)
	return d, err
}

// overdueSQL is the SQL of whether a loan (alias a: a loaner's current
// loan or a loaner_loans row) is due before today: the day, in the tenant's
// zone, of now, or of its test clock's time when it was lent to a ticket on
// a clock (lent, due and returned on the clock's days: Lend). now and zone
// are placeholders.
func overdueSQL(a, now, zone string) string {
	return a + `.due_on < (` + testclocks.TimeOfSQL(a+".tenant_id", a+".test_clock_id", now+"::timestamptz") +
		` AT TIME ZONE ` + zone + `::text)::date`
}

// judged is what a loan's overdue flag is judged at: now and the tenant's
// zone, the arguments of overdueSQL's placeholders.
func judged(ctx context.Context, tx pg.TenantTx, now time.Time) ([]any, error) {
	st, err := tx.Settings(ctx)
	return []any{now, st.Location.String()}, err
}

// loanerColumns are a loaner's columns, its overdue flag judged at the
// placeholders now and zone.
func loanerColumns(now, zone string) string {
	return `l.id, l.node_id, l.category, l.model_id, l.serial, l.note, l.status, l.ticket_id, l.lent_at,
	to_char(l.due_on, 'YYYY-MM-DD'), l.version, l.created_at, l.updated_at, l.status = 'lent' AND ` + overdueSQL("l", now, zone)
}

func scanLoaner(row pgx.Row) (Loaner, error) {
	var l Loaner
	err := row.Scan(&l.ID, &l.NodeID, &l.Category, &l.ModelID, &l.Serial, &l.Note, &l.Status, &l.TicketID, &l.LentAt, &l.DueOn,
		&l.Version, &l.CreatedAt, &l.UpdatedAt, &l.Overdue)
	return l, err
}

// loanColumns are a loan's columns, its overdue flag judged at the
// placeholders now and zone.
func loanColumns(now, zone string) string {
	return `ll.loaner_id, l.serial, l.category, ll.node_id, ll.ticket_id, l.model_id, ll.lent_at,
	to_char(ll.due_on, 'YYYY-MM-DD'), ll.returned_at, ll.condition, ll.returned_at IS NULL AND ` + overdueSQL("ll", now, zone)
}

const loanFrom = ` FROM loaner_loans ll JOIN loaners l ON l.tenant_id = ll.tenant_id AND l.id = ll.loaner_id `

func scanLoan(row pgx.Row) (Loan, error) {
	var l Loan
	err := row.Scan(&l.LoanerID, &l.Serial, &l.Category, &l.NodeID, &l.TicketID, &l.ModelID, &l.LentAt, &l.DueOn, &l.ReturnedAt, &l.Condition,
		&l.Overdue)
	return l, err
}

// currentLoan reads the open loan of a loaner.
func currentLoan(ctx context.Context, tx pg.TenantTx, loanerID string, now time.Time) (Loan, error) {
	at, err := judged(ctx, tx, now)
	if err != nil {
		return Loan{}, err
	}
	return scanLoan(tx.QueryRow(ctx, `SELECT `+loanColumns("$3", "$4")+loanFrom+`
		WHERE ll.tenant_id = $1 AND ll.loaner_id = $2 ORDER BY ll.seq DESC LIMIT 1`, append([]any{tx.TenantID, loanerID}, at...)...))
}

// Lend lends a loaner of the node to the ticket until dueOn (YYYY-MM-DD in
// the tenant's zone, not before today: invalid on due_on): loanerID
// when given (not_found if it does not exist; invalid on loaner_id if
// another node keeps it; conflict unless available), else the first
// available one of category at the node (conflict when there is none). A
// ticket has one loaner at a time (conflict). now is the lending's time,
// the ticket's (its test clock's when it is on one, clock, "" for none):
// the loan is lent then, "today" is its day in the tenant's zone, and the
// loan lives on the clock (judged overdue on its days). Runs inside the
// caller's tx and appends loaner.lent.
func Lend(ctx context.Context, tx pg.TenantTx, now time.Time, clock, nodeID, ticketID, loanerID, category, dueOn, actor string) (Loan, error) {
	d, err := today(ctx, tx, now)
	if err != nil {
		return Loan{}, err
	}
	if due, err := time.Parse(time.DateOnly, dueOn); err != nil || due.Format(time.DateOnly) != dueOn {
		return Loan{}, tenants.InvalidMsg("due_on", i18n.M("common.date_format"), dueOn)
	} else if dueOn < d {
		return Loan{}, tenants.InvalidMsg("due_on", i18n.M("stock.not_before_today", "Today", d), dueOn)
	}
	var held string
	err = tx.QueryRow(ctx, `SELECT id FROM loaners WHERE tenant_id = $1 AND ticket_id = $2`, tx.TenantID, ticketID).Scan(&held)
	if err == nil {
		return Loan{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("stock.loaner_held", "Loaner", held))
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return Loan{}, err
	}
	var id, node string
	var status LoanerStatus
	if loanerID != "" {
		if !tenants.ValidID(tenants.PrefixLoaner, loanerID) {
			return Loan{}, tenants.NotFound("loaner")
		}
		err := tx.QueryRow(ctx, `SELECT id, node_id, status FROM loaners WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
			tx.TenantID, loanerID).Scan(&id, &node, &status)
		if errors.Is(err, pgx.ErrNoRows) {
			return Loan{}, tenants.NotFound("loaner")
		} else if err != nil {
			return Loan{}, err
		}
		if node != nodeID {
			return Loan{}, tenants.InvalidMsg("loaner_id", i18n.M("stock.loaner_other_node"), loanerID)
		}
		if status != LoanerAvailable {
			return Loan{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("stock.loaner_not_available", "Loaner", loanerID, "Status", status))
		}
	} else {
		if category == "" {
			return Loan{}, tenants.InvalidMsg("category", i18n.M("stock.loaner_or_category"), nil)
		}
		err := tx.QueryRow(ctx, `SELECT id FROM loaners WHERE tenant_id = $1 AND node_id = $2 AND category = $3 AND status = 'available'
			ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED`, tx.TenantID, nodeID, category).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return Loan{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("stock.no_loaner_available", "Category", category))
		} else if err != nil {
			return Loan{}, err
		}
	}
	if _, err := tx.Exec(ctx, `
		UPDATE loaners SET status = 'lent', ticket_id = $3, lent_at = $5, due_on = $4, test_clock_id = nullif($6, ''),
			version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, ticketID, dueOn, now, clock); err != nil {
		return Loan{}, err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO loaner_loans (tenant_id, loaner_id, seq, ticket_id, node_id, lent_at, due_on, lent_by, test_clock_id)
		SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $7, $5, $6, nullif($8, '') FROM loaner_loans WHERE tenant_id = $1 AND loaner_id = $2`,
		tx.TenantID, id, ticketID, nodeID, dueOn, actor, now, clock); err != nil {
		return Loan{}, err
	}
	loan, err := currentLoan(ctx, tx, id, now)
	if err != nil {
		return Loan{}, err
	}
	return loan, events.Append(ctx, tx, events.New{Type: TypeLoanerLent, SubjectID: id, Actor: actor,
		Data: map[string]any{"loaner_id": id, "serial": loan.Serial, "category": loan.Category, "node_id": nodeID,
			"ticket_id": ticketID, "due_on": dueOn}})
}

// ReturnLoan takes back the loaner lent to the ticket, in condition "good"
// (it is available again) or "damaged" (it is retired and not lent again);
// another condition is invalid on condition, and a ticket with nothing
// lent is a conflict. now is the return's time, the ticket's (its test
// clock's when it is on one): the loan is returned then, and its
// overdue_days are counted to its day in the tenant's zone. Runs inside
// the caller's tx and appends loaner.returned.
func ReturnLoan(ctx context.Context, tx pg.TenantTx, now time.Time, ticketID, condition, actor string) (Loan, error) {
	if condition != ConditionGood && condition != ConditionDamaged {
		return Loan{}, tenants.InvalidMsg("condition", i18n.M("stock.condition"), condition)
	}
	d, err := today(ctx, tx, now)
	if err != nil {
		return Loan{}, err
	}
	var id string
	err = tx.QueryRow(ctx, `SELECT id FROM loaners WHERE tenant_id = $1 AND ticket_id = $2 FOR UPDATE`, tx.TenantID, ticketID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Loan{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("stock.no_loaner_lent"))
	} else if err != nil {
		return Loan{}, err
	}
	status := LoanerAvailable
	if condition == ConditionDamaged {
		status = LoanerRetired
	}
	if _, err := tx.Exec(ctx, `
		UPDATE loaners SET status = $3, ticket_id = NULL, lent_at = NULL, due_on = NULL, test_clock_id = NULL, version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, string(status)); err != nil {
		return Loan{}, err
	}
	if _, err := tx.Exec(ctx, `
		UPDATE loaner_loans SET returned_at = $6, condition = $4, returned_by = $5
		WHERE tenant_id = $1 AND loaner_id = $2 AND ticket_id = $3 AND returned_at IS NULL`,
		tx.TenantID, id, ticketID, condition, actor, now); err != nil {
		return Loan{}, err
	}
	loan, err := currentLoan(ctx, tx, id, now)
	if err != nil {
		return Loan{}, err
	}
	return loan, events.Append(ctx, tx, events.New{Type: TypeLoanerReturned, SubjectID: id, Actor: actor,
		Data: map[string]any{"loaner_id": id, "serial": loan.Serial, "node_id": loan.NodeID, "ticket_id": ticketID,
			"condition": condition, "status": status, "overdue_days": overdueDays(loan.DueOn, d)}})
}

// overdueDays is how many days after dueOn today is (0 when not late).
func overdueDays(dueOn, today string) int {
	due, err1 := time.Parse(time.DateOnly, dueOn)
	t, err2 := time.Parse(time.DateOnly, today)
	if err1 != nil || err2 != nil || !t.After(due) {
		return 0
	}
	return int(t.Sub(due).Hours() / 24)
}

// TicketLoan returns the ticket's latest loan, open or returned, or nil
// when it never had a loaner; it is overdue when still out after its due
// day, judged at now (the ticket's time).
func TicketLoan(ctx context.Context, tx pg.TenantTx, now time.Time, ticketID string) (*Loan, error) {
	at, err := judged(ctx, tx, now)
	if err != nil {
		return nil, err
	}
	l, err := scanLoan(tx.QueryRow(ctx, `SELECT `+loanColumns("$3", "$4")+loanFrom+`
		WHERE ll.tenant_id = $1 AND ll.ticket_id = $2 ORDER BY ll.lent_at DESC, ll.seq DESC LIMIT 1`, append([]any{tx.TenantID, ticketID}, at...)...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// getLoaner reads a loaner of a node in the principal's scope; nodes is
// that scope as its subtree's node ids
// (network.ScopeNodesTx; nil: the whole tenant), judged overdue at now.
func getLoaner(ctx context.Context, tx pg.TenantTx, nodes []string, id string, now time.Time) (Loaner, error) {
	if !tenants.ValidID(tenants.PrefixLoaner, id) {
		return Loaner{}, tenants.NotFound("loaner")
	}
	at, err := judged(ctx, tx, now)
	if err != nil {
		return Loaner{}, err
	}
	l, err := scanLoaner(tx.QueryRow(ctx, `SELECT `+loanerColumns("$4", "$5")+` FROM loaners l
		WHERE l.tenant_id = $1 AND l.id = $2 AND ($3::text[] IS NULL OR l.node_id = ANY ($3::text[]))`,
		append([]any{tx.TenantID, id, nodes}, at...)...))
	if errors.Is(err, pgx.ErrNoRows) {
		return Loaner{}, tenants.NotFound("loaner")
	}
	return l, err
}

// CreateLoaner registers a loaner at a node of the principal's scope
// (invalid on node_id otherwise). model_id must name a model of the
// same category (invalid on model_id); serials are unique per tenant
// (conflict on serial). Appends loaner.created.
func (s *Service) CreateLoaner(ctx context.Context, p tenants.Principal, in NewLoaner) (Loaner, error) {
	var out Loaner
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		v := &tenants.Validation{}
		if err := nodeInScope(ctx, tx, p, in.NodeID); tenants.ErrorCode(err) == tenants.CodeNotFound {
			v.AddMsg("node_id", i18n.M("stock.no_node_in_scope"), in.NodeID)
		} else if err != nil {
			return err
		}
		serial := strings.TrimSpace(in.Serial)
		if serial == "" || len(serial) > 64 {
			v.AddMsg("serial", i18n.M("common.length", "Min", 1, "Max", 64), in.Serial)
		}
		if in.ModelID != "" {
			m, err := catalog.LoadModel(ctx, tx, in.ModelID)
			switch {
			case tenants.ErrorCode(err) == tenants.CodeNotFound:
				v.AddMsg("model_id", i18n.M("common.no_such_product_model"), in.ModelID)
			case err != nil:
				return err
			case m.Category != in.Category:
				v.AddMsg("model_id", i18n.M("stock.model_category_mismatch", "Category", m.Category, "Want", in.Category), in.ModelID)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		id := tenants.NewID(tenants.PrefixLoaner)
		if _, err := tx.Exec(ctx, `INSERT INTO loaners (tenant_id, id, node_id, category, model_id, serial, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			tx.TenantID, id, in.NodeID, in.Category, nullIfEmpty(in.ModelID), serial, nullIfEmpty(in.Note)); err != nil {
			return err
		}
		var err error
		if out, err = getLoaner(ctx, tx, nil, id, s.now()); err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeLoanerCreated, SubjectID: id, Actor: p.Subject(),
			Data: map[string]any{"loaner_id": id, "node_id": in.NodeID, "ticket_id": nil, "category": in.Category, "serial": serial}})
	})
	return out, pg.Translate(err)
}

// GetLoaner returns a loaner of the principal's scope with its loan
// history, newest first.
func (s *Service) GetLoaner(ctx context.Context, p tenants.Principal, id string) (Loaner, error) {
	var out Loaner
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		now := s.now()
		at, err := judged(ctx, tx, now)
		if err != nil {
			return err
		}
		nodes, err := network.ScopeNodesTx(ctx, tx, p)
		if err != nil {
			return err
		}
		if out, err = getLoaner(ctx, tx, nodes, id, now); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+loanColumns("$3", "$4")+loanFrom+` WHERE ll.tenant_id = $1 AND ll.loaner_id = $2 ORDER BY ll.seq DESC`,
			append([]any{tx.TenantID, id}, at...)...)
		if err != nil {
			return err
		}
		out.Loans, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Loan, error) { return scanLoan(r) })
		return err
	})
	return out, pg.Translate(err)
}

// ListLoaners lists the loaners of the principal's scope in id order,
// filtered by node, status, category and overdue (lent and due before today
// in the tenant's zone).
func (s *Service) ListLoaners(ctx context.Context, p tenants.Principal, f LoanerFilter) ([]Loaner, string, error) {
	page, err := pg.NewKeyset("loaners", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	var out []Loaner
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		at, err := judged(ctx, tx, s.now())
		if err != nil {
			return err
		}
		nodes, err := network.ScopeNodesTx(ctx, tx, p)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+loanerColumns("$9", "$10")+` FROM loaners l
			WHERE l.tenant_id = $1 AND l.id > $2 AND ($3::text[] IS NULL OR l.node_id = ANY ($3::text[]))
			  AND ($4 = '' OR l.node_id = $4) AND ($5 = '' OR l.status = $5) AND ($6 = '' OR l.category = $6)
			  AND (NOT $7 OR (l.status = 'lent' AND `+overdueSQL("l", "$9", "$10")+`))
			ORDER BY l.id LIMIT $8`,
			append([]any{tx.TenantID, page.After, nodes, f.NodeID, f.Status, f.Category, f.Overdue, page.Fetch()}, at...)...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Loaner, error) { return scanLoaner(r) })
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := pg.Page(page, out, func(l Loaner) string { return l.ID })
	return out, next, nil
}

// AvailableLoanersTx counts, inside the caller's transaction, the available
// loaners of a category held by each of the given nodes (nodes holding none
// are absent).
func AvailableLoanersTx(ctx context.Context, tx pg.TenantTx, nodeIDs []string, category string) (map[string]int, error) {
	rows, err := tx.Query(ctx, `SELECT node_id, count(*)::int FROM loaners
		WHERE tenant_id = $1 AND node_id = ANY ($2::text[]) AND category = $3 AND status = 'available'
		GROUP BY node_id`, tx.TenantID, nodeIDs, category)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		counts[id] = n
	}
	return counts, rows.Err()
}
