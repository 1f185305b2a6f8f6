// Package payouts owns compensation payouts, due in business days of the
// tenant's zone and holiday calendar, and that calendar.
package payouts

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/payouts/calendar"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Service is the payouts context's entry point. Each exported method runs in
// one tenant-scoped transaction. Build it with NewService.
type Service struct {
	DB  pg.DB
	Now func() time.Time

	jobs                 customers.JobRelations
	enqueueDeadline      func(ctx context.Context, tx pgx.Tx, tenantID, payoutID string, at time.Time) error
	enqueueClockDeadline func(ctx context.Context, tx pgx.Tx, tenantID, payoutID, clockID string, at time.Time) error
	notify               Notifier
}

// Notifier requests a customer message in the caller's transaction
// (notifications.Service).
type Notifier interface {
	NotifyTx(ctx context.Context, tx pg.TenantTx, actor string, n notifications.Notice) (*notifications.NotificationDelivery, error)
}

// Deps are the Service's dependencies; every one is required.
type Deps struct {
	// Jobs says which units a technician's or node key's jobs serve: such
	// keys see only those units' payouts (tickets.ServedTx).
	Jobs customers.JobRelations
	// EnqueueDeadline schedules, inside tx, the check that runs at at and
	// marks the payout missed if it is still unpaid (jobs.PayoutDeadlineEnqueuer).
	EnqueueDeadline func(ctx context.Context, tx pgx.Tx, tenantID, payoutID string, at time.Time) error
	// EnqueueClockDeadline is EnqueueDeadline for a payout on the test
	// clock clockID: at is on the clock (jobs.PayoutClockDeadlineEnqueuer).
	EnqueueClockDeadline func(ctx context.Context, tx pgx.Tx, tenantID, payoutID, clockID string, at time.Time) error
	// Notifications tells the unit's customer that a payout was sent
	// (payout_sent), in the transaction that records it paid.
	Notifications Notifier
}

// NewService returns the payouts service over db. It fails when db or a
// dependency is missing.
func NewService(db pg.DB, d Deps) (*Service, error) {
	if db == nil {
		return nil, errors.New("payouts: NewService needs a database")
	}
	if d.Jobs == nil {
		return nil, errors.New("payouts: Deps.Jobs is required")
	}
	if d.EnqueueDeadline == nil {
		return nil, errors.New("payouts: Deps.EnqueueDeadline is required")
	}
	if d.EnqueueClockDeadline == nil {
		return nil, errors.New("payouts: Deps.EnqueueClockDeadline is required")
	}
	if d.Notifications == nil {
		return nil, errors.New("payouts: Deps.Notifications is required")
	}
	return &Service{DB: db, jobs: d.Jobs, enqueueDeadline: d.EnqueueDeadline, enqueueClockDeadline: d.EnqueueClockDeadline,
		notify: d.Notifications}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// State is where a payout stands.
type State string

// Payout states: scheduled until paid; missed once its due day ended unpaid
// (still payable: mark-paid moves it to paid).
const (
	StateScheduled State = "scheduled"
	StatePaid      State = "paid"
	StateMissed    State = "missed"
)

// States lists every payout state.
var States = []State{StateScheduled, StatePaid, StateMissed}

// Event types.
const (
	TypePayoutScheduled = "payout.scheduled"
	TypePayoutPaid      = "payout.paid"
	TypePayoutMissed    = "payout.missed"
)

// Who owes a payout (Payout.Payer). It is always paid to the unit's
// customer.
const (
	// PayerPlan: the plan of the payout's contract.
	PayerPlan = "plan"
	// PayerBrand: the brand (a refund of a waived charge, a compensation
	// without a plan, a statutory return; as the seller of a unit no
	// storefront sold, what PayerStorefront owes for a storefront's sale).
	PayerBrand = "brand"
	// PayerStorefront: the storefront that sold the unit, as its seller
	// (rule 9): the refund of a seven-day no-reason return (its promise)
	// or of the wrong goods it sold (its error), and the freight of a
	// return or exchange the seller pays (a fault, wrong or damaged goods:
	// 谁有错谁负责), whoever owes the refund.
	PayerStorefront = "storefront"
)

// DefaultBusinessDays is the deadline when none is given (rule 7: 5).
const DefaultBusinessDays = 5

// Payout is money owed to a customer by a deadline.
type Payout struct {
	ID           string        `json:"id" example:"pay_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	UnitID       string        `json:"unit_id" example:"unt_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	StorefrontID *string       `json:"storefront_id,omitempty" doc:"The unit's storefront." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	ClaimID      *string       `json:"claim_id,omitempty" doc:"The claim that owes it, when one does." example:"clm_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	TicketID     *string       `json:"ticket_id,omitempty" doc:"The service ticket whose repair owes it (a no-reason plan's compensation on completion), or whose visit damaged the customer's property (an upheld property_damage complaint's compensation)." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	ContractID   *string       `json:"contract_id,omitempty" doc:"The plan contract that owes it." example:"ctr_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	Payer        string        `json:"payer" enum:"plan,brand,storefront" doc:"Who owes it: the plan of contract_id; the storefront that sold the unit (storefront_id), as its seller: the refund of a seven-day no-reason return or of wrong goods, and the customer's freight of a return or exchange the seller pays (a fault, wrong or damaged goods), even when the brand owes the refund; or the brand (a refund of a waived charge, a compensation without a plan, a statutory return, a property damage compensation, and as the seller of a unit no storefront sold). It is paid to the unit's customer." example:"plan"`
	Amount       tenants.Money `json:"amount"`
	Reason       string        `json:"reason" example:"no-reason repair plan: satisfaction compensation"`
	CountedFrom  string        `json:"counted_from" format:"date" doc:"The repair or approval date the business days count from." example:"2026-09-25"`
	BusinessDays int           `json:"business_days" example:"5"`
	DueOn        string        `json:"due_on" format:"date" doc:"Pay by the end of this day (tenant's time zone): business days skip weekends and the tenant's holidays." example:"2026-10-05"`
	State        State         `json:"state" enum:"scheduled,paid,missed" doc:"missed: the due day ended unpaid; it is still payable." example:"scheduled"`
	MissedAt     *time.Time    `json:"missed_at,omitempty" example:"2026-10-06T00:00:01+08:00"`
	PaidAt       *time.Time    `json:"paid_at,omitempty" example:"2026-10-02T15:00:00+08:00"`
	Reference    *string       `json:"reference,omitempty" doc:"The payment's reference (bank or wallet transaction)." example:"ALIPAY-2026100212345"`
	Version      int           `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	TestClockID  *string       `json:"test_clock_id,omitempty" doc:"Test mode only: the test clock the payout lives on (its deadline is checked when the clock passes the due day): the clock of the ticket or claim that owes it, or the one it was attached to. Absent on the wall clock." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	CreatedAt    time.Time     `json:"created_at" example:"2026-09-25T09:30:00+08:00"`
	UpdatedAt    time.Time     `json:"updated_at" example:"2026-09-25T09:30:00+08:00"`
}

// NewPayout is a payout to schedule.
type NewPayout struct {
	UnitID       string        `json:"unit_id" maxLength:"64" doc:"The unit the compensation is for." example:"unt_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	ClaimID      string        `json:"claim_id,omitempty" maxLength:"64" doc:"The claim that owes it: a claim of this tenant about the same unit." example:"clm_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	ContractID   string        `json:"contract_id,omitempty" maxLength:"64" doc:"The unit's plan contract that owes it." example:"ctr_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	Amount       tenants.Money `json:"amount"`
	Reason       string        `json:"reason" minLength:"1" maxLength:"500" example:"no-reason repair plan: satisfaction compensation"`
	From         string        `json:"from,omitempty" format:"date" doc:"The repair or approval date; default today in the tenant's time zone; not in the future." example:"2026-09-25"`
	BusinessDays int           `json:"business_days,omitempty" minimum:"1" maximum:"60" doc:"Deadline in business days after from (default 5)." example:"5"`
	// Payer is who owes it, set by the domain, never by a request: empty
	// is the plan of ContractID, else the brand; PayerStorefront is the
	// storefront that sold the unit, owing as its seller (a unit no
	// storefront sold is an error), and takes no contract.
	Payer string `json:"-"`
	// TicketID is the ticket that owes it, set by the domain, never by a
	// request (a property damage compensation, which an upheld complaint
	// schedules through SchedulePayoutSystemTx).
	TicketID string `json:"-"`
	// TestClockID is the test clock of the ticket or claim that owes it,
	// set by the domain, never by a request: in test mode the payout lives
	// on that clock from the start (counted from the clock's today, its
	// deadline checked as the clock passes the due day, as AttachClockTx
	// does for one attached later). Ignored in live mode.
	TestClockID *string `json:"-"`
}

// clock is the test clock in's payout lives on: in.TestClockID in test
// mode, nil in live mode (no clocks there).
func (in NewPayout) clock(ctx context.Context) *string {
	if pg.Livemode(ctx) {
		return nil
	}
	return in.TestClockID
}

// Filter selects payouts; empty fields do not filter.
type Filter struct {
	State, UnitID, ClaimID string
	Limit                  int
	Cursor                 string
}

const payoutColumns = `p.id, p.unit_id, p.claim_id, p.contract_id, p.amount, p.currency, p.reason,
	to_char(p.counted_from, 'YYYY-MM-DD'), p.business_days, to_char(p.due_on, 'YYYY-MM-DD'), p.state, p.missed_at,
	p.paid_at, p.reference, p.version, p.created_at, p.updated_at, p.ticket_id, p.payer, p.test_clock_id`

const payoutFrom = ` FROM payouts p `

// scanPayout reads a payout row; its StorefrontID is the customers
// context's to fill (withStorefronts).
func scanPayout(row pgx.Row) (Payout, error) {
	var o Payout
	err := row.Scan(&o.ID, &o.UnitID, &o.ClaimID, &o.ContractID, &o.Amount.Amount, &o.Amount.Currency,
		&o.Reason, &o.CountedFrom, &o.BusinessDays, &o.DueOn, &o.State, &o.MissedAt, &o.PaidAt, &o.Reference,
		&o.Version, &o.CreatedAt, &o.UpdatedAt, &o.TicketID, &o.Payer, &o.TestClockID)
	return o, err
}

// withStorefronts fills the payouts' StorefrontID: the storefront that sold
// each one's unit, read from the customers context in one round trip.
func withStorefronts(ctx context.Context, tx pg.TenantTx, os []Payout) error {
	ids := make([]string, 0, len(os))
	for _, o := range os {
		if !slices.Contains(ids, o.UnitID) {
			ids = append(ids, o.UnitID)
		}
	}
	sf, err := customers.UnitStorefrontsTx(ctx, tx, ids)
	for i := range os {
		os[i].StorefrontID = sf[os[i].UnitID]
	}
	return err
}

// scope is what payouts a principal sees, as restrictions on the payout's
// unit: a storefront key those of the units its storefront sold
// (storefrontUnits non-nil), a technician or node key those of the units
// its jobs serve (jobUnits non-nil). The zero value sees all (the
// service's own reads).
type scope struct {
	storefrontUnits, jobUnits []string
}

// inScope is the scope predicate on a payout row aliased p; $a and $b are
// the scope's storefrontUnits and jobUnits.
func inScope(a, b string) string {
	return `(` + a + `::text[] IS NULL OR p.unit_id = ANY (` + a + `::text[]))
		AND (` + b + `::text[] IS NULL OR p.unit_id = ANY (` + b + `::text[]))`
}

func (s *Service) resolveScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal) (scope, error) {
	us, err := customers.UnitScopeTx(ctx, tx, s.jobs, p)
	if err != nil {
		return scope{}, err
	}
	sc := scope{jobUnits: us.Units}
	if us.StorefrontID != "" {
		sc.storefrontUnits, err = customers.StorefrontUnitIDsTx(ctx, tx, us.StorefrontID)
	}
	return sc, err
}

// queuePayout queues on b the read of a payout in scope into o, its
// StorefrontID not filled; lock is "" or "FOR UPDATE OF p".
func queuePayout(b *pgx.Batch, tenantID string, sc scope, id, lock string, o *Payout) {
	b.Queue(`SELECT `+payoutColumns+payoutFrom+`
		WHERE p.tenant_id = $1 AND p.id = $2 AND `+inScope("$3", "$4")+` `+lock, tenantID, id, sc.storefrontUnits, sc.jobUnits).
		QueryRow(func(row pgx.Row) error {
			var err error
			if *o, err = scanPayout(row); errors.Is(err, pgx.ErrNoRows) {
				return tenants.NotFound("payout")
			}
			return err
		})
}

// getPayout reads a payout the principal may see (scope); lock is "" or
// "FOR UPDATE OF p".
func getPayout(ctx context.Context, tx pg.TenantTx, sc scope, id, lock string) (Payout, error) {
	if !tenants.ValidID(tenants.PrefixPayout, id) {
		return Payout{}, tenants.NotFound("payout")
	}
	var o Payout
	b := &pgx.Batch{}
	queuePayout(b, tx.TenantID, sc, id, lock, &o)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return Payout{}, err
	}
	os := []Payout{o}
	err := withStorefronts(ctx, tx, os)
	return os[0], err
}

// EndOfDay is the instant a civil date (YYYY-MM-DD) ends in loc: midnight
// of the next day.
func EndOfDay(day string, loc *time.Location) time.Time {
	d, _ := time.Parse(time.DateOnly, day)
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
}

// SchedulePayout schedules a payout in the caller's transaction: due_on is
// in.BusinessDays (default 5) business days after in.From (default today
// in the tenant's zone) skipping weekends and the tenant's holidays, and the
// deadline check is enqueued in tx for the end of the due day in the
// tenant's zone. The unit is read in p's scope (not found outside it); the
// contract and the claim, when given, must be the unit's (a claim of
// another unit or tenant, or none, is invalid on claim_id). In test mode
// a payout a claim on a test clock owes lives on that clock, as
// in.TestClockID puts it on one: its today, the deadline and its check are
// the clock's. actor goes on the event.
func (s *Service) SchedulePayout(ctx context.Context, tx pg.TenantTx, p tenants.Principal, in NewPayout) (Payout, error) {
	u, err := customers.LoadUnit(ctx, tx, p, in.UnitID)
	if tenants.ErrorCode(err) == tenants.CodeNotFound && p.StorefrontID != "" {
		return Payout{}, err // outside a storefront key's scope: not found, whatever else is wrong
	}
	return s.schedule(ctx, tx, p.Subject(), in, u, err)
}

// SchedulePayoutSystemTx is SchedulePayout for a rule that decides for the
// brand (a returned unit's refund): the caller has checked the scope of its
// own object, so the unit is read without any key's scope; actor goes on
// the event.
func (s *Service) SchedulePayoutSystemTx(ctx context.Context, tx pg.TenantTx, actor string, in NewPayout) (Payout, error) {
	u, err := customers.LoadUnitSystemTx(ctx, tx, in.UnitID)
	return s.schedule(ctx, tx, actor, in, u, err)
}

// schedule checks and inserts a payout for unit u, read by the caller
// (unitErr its read's error: not_found is invalid on unit_id).
func (s *Service) schedule(ctx context.Context, tx pg.TenantTx, actor string, in NewPayout, u customers.Unit, unitErr error) (Payout, error) {
	st, err := tx.Settings(ctx)
	if err != nil {
		return Payout{}, err
	}
	// The claim that owes it, read first: a claim on a test clock puts its
	// payout on that clock (as ForApprovedClaim does), counted from the
	// clock's today and its deadline checked on the clock.
	var (
		claim    claims.Claim
		claimErr error
	)
	if in.ClaimID != "" && len(in.ClaimID) <= 64 && u.ID != "" { // a longer one is refused below
		claim, claimErr = claims.LoadClaimTx(ctx, tx, in.ClaimID)
		if claimErr == nil && claim.UnitID == u.ID && in.TestClockID == nil {
			in.TestClockID = claim.TestClockID
		}
	}
	// So does the plan contract it names, a payout of the plan's on the
	// contract's clock.
	contractOK := true
	if in.ContractID != "" && u.ID != "" {
		var clock *string
		if contractOK, clock, err = warranty.UnitContractTx(ctx, tx, in.ContractID, u.ID); err != nil {
			return Payout{}, err
		}
		if contractOK && in.TestClockID == nil {
			in.TestClockID = clock
		}
	}
	now := s.now()
	if clock := in.clock(ctx); clock != nil {
		if now, err = testclocks.NowTx(ctx, tx, *clock); err != nil {
			return Payout{}, err
		}
	}
	today, _ := time.Parse(time.DateOnly, st.Today(now))
	v := &tenants.Validation{}
	tenants.CheckMoney(v, "amount", in.Amount, st.Currency)
	if in.Amount.Amount == 0 {
		v.AddMsg("amount.amount", i18n.M("common.must_be_positive"), in.Amount.Amount)
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if n := len([]rune(in.Reason)); n < 1 || n > 500 {
		v.AddMsg("reason", i18n.M("common.length", "Min", 1, "Max", 500), in.Reason)
	}
	from := today
	if in.From != "" {
		if from, err = time.Parse(time.DateOnly, in.From); err != nil {
			v.AddMsg("from", i18n.M("common.date"), in.From)
		} else if from.After(today) {
			v.AddMsg("from", i18n.M("common.in_future_today", "Today", today.Format(time.DateOnly)), in.From)
		}
	}
	if in.BusinessDays == 0 {
		in.BusinessDays = DefaultBusinessDays
	}
	if in.BusinessDays < 1 || in.BusinessDays > 60 {
		v.AddMsg("business_days", i18n.M("common.range_dash", "Min", 1, "Max", 60), in.BusinessDays)
	}
	if len(in.ClaimID) > 64 {
		v.AddMsg("claim_id", i18n.M("common.max_length", "Max", 64), in.ClaimID)
		in.ClaimID = ""
	}
	switch {
	case tenants.ErrorCode(unitErr) == tenants.CodeNotFound:
		v.AddMsg("unit_id", i18n.M("common.no_such_unit"), in.UnitID)
	case unitErr != nil:
		return Payout{}, unitErr
	}
	if !contractOK {
		v.AddMsg("contract_id", i18n.M("common.no_such_unit_contract"), in.ContractID)
	}
	if in.ClaimID != "" && u.ID != "" {
		switch {
		case tenants.ErrorCode(claimErr) == tenants.CodeNotFound:
			v.AddMsg("claim_id", i18n.M("payouts.no_such_claim"), in.ClaimID)
		case claimErr != nil:
			return Payout{}, claimErr
		case claim.UnitID != u.ID:
			v.AddMsg("claim_id", i18n.M("payouts.claim_other_unit"), in.ClaimID)
		}
	}
	if err := v.Err(); err != nil {
		return Payout{}, err
	}
	if in.Payer == PayerStorefront && (u.StorefrontID == nil || in.ContractID != "") {
		return Payout{}, errors.New("payouts: a storefront owes only as the seller of a unit it sold, without a contract")
	}
	return s.insert(ctx, tx, actor, st, u.ID, in, from, in.TicketID)
}

// insert stores a checked payout counted from from, with its deadline job
// (parked on its test clock when it lives on one) and event.
func (s *Service) insert(ctx context.Context, tx pg.TenantTx, actor string, st pg.TenantSettings, unitID string, in NewPayout,
	from time.Time, ticketID string) (Payout, error) {
	// The tenant's working-day calendar, the one an entitlement decision
	// shows the compensation's due date from.
	due, err := calendar.WorkingDaysAfter(ctx, tx, from, in.BusinessDays)
	if err != nil {
		return Payout{}, err
	}
	id := tenants.NewID(tenants.PrefixPayout)
	payer := in.Payer
	if payer == "" {
		payer = PayerBrand
		if in.ContractID != "" {
			payer = PayerPlan
		}
	}
	clock := in.clock(ctx)
	if _, err := tx.Exec(ctx, `
		INSERT INTO payouts (tenant_id, id, unit_id, claim_id, contract_id, amount, currency, reason, counted_from,
		       business_days, due_on, created_by, ticket_id, payer, test_clock_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::date, $10, $11::date, $12, $13, $14, $15)`,
		tx.TenantID, id, unitID, nullable(in.ClaimID), nullable(in.ContractID), in.Amount.Amount, in.Amount.Currency,
		in.Reason, from, in.BusinessDays, due, actor, nullable(ticketID), payer, clock); err != nil {
		return Payout{}, err
	}
	// One round trip: the payout read back and its unit's storefront.
	var (
		out Payout
		sf  map[string]*string
		b   = &pgx.Batch{}
	)
	queuePayout(b, tx.TenantID, scope{}, id, "", &out)
	customers.QueueUnitStorefronts(b, tx.TenantID, []string{unitID}, &sf)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return Payout{}, err
	}
	out.StorefrontID = sf[unitID]
	if clock != nil {
		err = s.enqueueClockDeadline(ctx, tx.Tx, tx.TenantID, id, *clock, EndOfDay(out.DueOn, st.Location))
	} else {
		err = s.enqueueDeadline(ctx, tx.Tx, tx.TenantID, id, EndOfDay(out.DueOn, st.Location))
	}
	if err != nil {
		return Payout{}, err
	}
	return out, events.Append(ctx, tx, events.New{Type: TypePayoutScheduled, SubjectID: id, Actor: actor,
		Data: payoutData(out)})
}

func payoutData(o Payout) map[string]any {
	d := map[string]any{"unit_id": o.UnitID, "amount": o.Amount, "due_on": o.DueOn, "state": o.State, "payer": o.Payer}
	if o.StorefrontID != nil {
		d["storefront_id"] = *o.StorefrontID
	}
	if o.ClaimID != nil {
		d["claim_id"] = *o.ClaimID
	}
	if o.ContractID != nil {
		d["contract_id"] = *o.ContractID
	}
	if o.TicketID != nil {
		d["ticket_id"] = *o.TicketID
	}
	return d
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreatePayout is SchedulePayout in its own transaction.
func (s *Service) CreatePayout(ctx context.Context, p tenants.Principal, in NewPayout) (Payout, error) {
	var out Payout
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = s.SchedulePayout(ctx, tx, p, in)
		return err
	})
	return out, pg.Translate(err)
}

// GetPayout returns a payout; a storefront key sees only its units'.
func (s *Service) GetPayout(ctx context.Context, p tenants.Principal, id string) (Payout, error) {
	var out Payout
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := s.resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		out, err = getPayout(ctx, tx, sc, id, "")
		return err
	})
	return out, pg.Translate(err)
}

// ListPayouts lists payouts in id (creation) order.
func (s *Service) ListPayouts(ctx context.Context, p tenants.Principal, f Filter) ([]Payout, string, error) {
	if f.State != "" && !slices.Contains(States, State(f.State)) {
		return nil, "", tenants.InvalidMsg("state", i18n.M("common.one_of", "Values", "scheduled, paid, missed"), f.State)
	}
	page, err := pg.NewKeyset("payouts", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	var out []Payout
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := s.resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+payoutColumns+payoutFrom+`
			WHERE p.tenant_id = $1 AND p.id > $2 AND `+inScope("$3", "$8")+`
			  AND ($4 = '' OR p.state = $4) AND ($5 = '' OR p.unit_id = $5) AND ($6 = '' OR p.claim_id = $6)
			ORDER BY p.id LIMIT $7`, tx.TenantID, page.After, sc.storefrontUnits, f.State, f.UnitID, f.ClaimID, page.Fetch(), sc.jobUnits)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Payout, error) { return scanPayout(r) }); err != nil {
			return err
		}
		return withStorefronts(ctx, tx, out)
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	if out == nil {
		out = []Payout{}
	}
	out, next := pg.Page(page, out, func(o Payout) string { return o.ID })
	return out, next, nil
}

// MarkPaid records that a scheduled or missed payout was paid, with the
// payment's reference; ifVersion > 0 must match. A paid payout is a conflict.
// paid_at is the payout's time: its test clock's when it lives on one.
func (s *Service) MarkPaid(ctx context.Context, p tenants.Principal, id, reference string, ifVersion int) (Payout, error) {
	reference = strings.TrimSpace(reference)
	if n := len([]rune(reference)); n < 1 || n > 100 {
		return Payout{}, tenants.InvalidMsg("reference", i18n.M("common.length", "Min", 1, "Max", 100), reference)
	}
	var out Payout
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := s.resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		o, err := getPayout(ctx, tx, sc, id, "FOR UPDATE OF p")
		if err != nil {
			return err
		}
		if err := tenants.CheckVersion("payout", ifVersion, o.Version); err != nil {
			return err
		}
		if o.State == StatePaid {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("payouts.already_paid"))
		}
		// Paid at the payout's time: its test clock's when it is on one.
		paidAt, err := testclocks.TimeOf(ctx, tx, o.TestClockID, s.now())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE payouts SET state = 'paid', paid_at = $3, reference = $4, version = version + 1,
			updated_at = now() WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, paidAt, reference); err != nil {
			return err
		}
		if out, err = getPayout(ctx, tx, scope{}, id, ""); err != nil {
			return err
		}
		d := payoutData(out)
		d["reference"] = reference
		d["late"] = o.State == StateMissed
		if err := events.Append(ctx, tx, events.New{Type: TypePayoutPaid, SubjectID: id, Actor: p.Subject(), Data: d}); err != nil {
			return err
		}
		return s.notifySent(ctx, tx, out, p.Subject())
	})
	return out, pg.Translate(err)
}

// notifySent tells the unit's customer, in the transaction that records
// the payout paid, the amount, the payment's reference and why it was
// owed. A customer who opted out, or was erased, is not told; the message
// is sent once per payout.
func (s *Service) notifySent(ctx context.Context, tx pg.TenantTx, o Payout, actor string) error {
	own, err := customers.UnitOwnerTx(ctx, tx, o.UnitID)
	if err != nil || own.Phone == "" {
		return err
	}
	ref := ""
	if o.Reference != nil {
		ref = *o.Reference
	}
	_, err = s.notify.NotifyTx(ctx, tx, actor, notifications.Notice{Purpose: notifications.PurposePayoutSent, SubjectID: o.ID,
		To: own.Phone, OptedOut: own.OptedOut, DedupeKey: o.ID + ":" + notifications.PurposePayoutSent,
		Params: map[string]any{"amount": notifications.Money{Amount: o.Amount.Amount, Currency: o.Amount.Currency},
			"reference": ref, "reason": o.Reason}})
	return err
}

// CheckDeadline marks a payout missed, with a payout.missed event, when its
// due day has ended (tenant's zone) and it is still scheduled. It is
// idempotent: a paid or already missed payout is left alone. Before the due
// day ends it changes nothing and returns how long until it does.
func (s *Service) CheckDeadline(ctx context.Context, tenantID, id string) (wait time.Duration, err error) {
	now := s.now()
	err = pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		o, err := getPayout(ctx, tx, scope{}, id, "FOR UPDATE OF p")
		if err != nil {
			return err
		}
		if o.State != StateScheduled {
			return nil
		}
		if now, err = nowFor(ctx, tx, id, now); err != nil {
			return err
		}
		if end := EndOfDay(o.DueOn, st.Location); now.Before(end) {
			wait = end.Sub(now)
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE payouts SET state = 'missed', missed_at = $3, version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, now); err != nil {
			return err
		}
		o.State = StateMissed
		return events.Append(ctx, tx, events.New{Type: TypePayoutMissed, SubjectID: id, Actor: "system", Data: payoutData(o)})
	})
	return wait, pg.Translate(err)
}
