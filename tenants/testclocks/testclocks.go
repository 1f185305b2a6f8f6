// Package testclocks owns test clocks (table test_clocks): in test mode a
// tenant creates a clock frozen at a time, attaches test objects to it and
// advances it, as Stripe's test clocks do. An object attached to a clock
// lives on the clock's time: its context reads that time with NowTx, and
// advancing the clock runs, through the real River jobs, what fell due for
// its objects on the way (jobs.TestClockAdvanceWorker). A clock never goes
// back, and live mode never sees one: every method answers not_found to a
// live caller, and row-level security hides the table from live
// transactions.
//
// A clock created with a storefront key belongs to that storefront: only
// its keys (and the brand's) see it, advance it and attach to it, and a
// storefront key attaches only its own objects.
//
// The objects' own contexts own the attachment (a test_clock_id column on
// their tables): Deps.Attachers attach by ID prefix, inside the clock's
// transaction.
package testclocks

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// Status of a clock.
const (
	StatusReady     = "ready"
	StatusAdvancing = "advancing"
)

// Event types.
const (
	TypeTestClockCreated  = "test_clock.created"
	TypeTestClockAdvanced = "test_clock.advanced"
	TypeTestClockReady    = "test_clock.ready"
)

// MaxAdvance bounds one advance: two years, enough to see a one-year plan
// start and end.
const MaxAdvance = 2 * 366 * 24 * time.Hour

// Clock is a test clock.
type Clock struct {
	ID         string    `json:"id" doc:"The clock's ID." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	Name       *string   `json:"name,omitempty" doc:"A name for the clock." example:"plan starts on day 31"`
	FrozenTime time.Time `json:"frozen_time" doc:"The clock's time: what now is for the objects attached to it." example:"2026-12-01T10:00:00+08:00"`
	Status     string    `json:"status" enum:"ready,advancing" doc:"ready; advancing while the jobs due on the way run (the clock is ready again once they have been fired)." example:"ready"`
	Livemode   bool      `json:"livemode" doc:"Always false: test clocks exist in test mode only." example:"false"`
	// StorefrontID is the storefront whose key created the clock.
	StorefrontID *string   `json:"storefront_id,omitempty" doc:"The storefront whose key created the clock: only its keys and the brand's see it. Absent for the brand's clocks." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	CreatedAt    time.Time `json:"created_at" doc:"When the clock was created (wall-clock time)." example:"2026-12-01T10:00:00+08:00"`
}

// NewClock is what creates a clock.
type NewClock struct {
	Name *string
	// FrozenTime is the clock's first time; nil: now.
	FrozenTime *time.Time
}

// Attacher attaches the object id to clockID inside tx, for p. It answers
// not_found when the transaction sees no such object or p may not see it (a
// storefront key: another storefront's object), and conflict when the
// object is attached to another clock.
type Attacher func(ctx context.Context, tx pg.TenantTx, p tenants.Principal, objectID, clockID string) error

// Deps are the Service's dependencies; every one is required.
type Deps struct {
	// EnqueueAdvance inserts, inside tx, the job that fires what fell due
	// for the clock's objects up to its time (jobs.TestClockAdvanceEnqueuer).
	EnqueueAdvance func(ctx context.Context, tx pgx.Tx, tenantID, clockID string, seq int) error
	// Attachers attach an object by its ID prefix (tenants.PrefixTicket:
	// tickets.AttachClockTx ...).
	Attachers map[string]Attacher
}

// Service is the test clocks' entry point; each exported method is one
// tenant transaction. Build it with NewService.
type Service struct {
	DB  pg.DB
	Now func() time.Time

	enqueueAdvance func(ctx context.Context, tx pgx.Tx, tenantID, clockID string, seq int) error
	attachers      map[string]Attacher
}

// NewService returns the service over db; it fails when a dependency is
// missing.
func NewService(db pg.DB, d Deps) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("testclocks: NewService needs a database")
	case d.EnqueueAdvance == nil:
		return nil, errors.New("testclocks: Deps.EnqueueAdvance is required")
	case len(d.Attachers) == 0:
		return nil, errors.New("testclocks: Deps.Attachers is required")
	}
	return &Service{DB: db, enqueueAdvance: d.EnqueueAdvance, attachers: d.Attachers}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Attachable lists the ID prefixes of objects that can be attached.
func (s *Service) Attachable() []string {
	out := make([]string, 0, len(s.attachers))
	for p := range s.attachers {
		out = append(out, p+"_")
	}
	return out
}

// live answers not_found to a live caller: there is no clock in live mode.
func live(ctx context.Context, p tenants.Principal) error {
	if p.Live || pg.Livemode(ctx) {
		return tenants.NotFound("test clock")
	}
	return nil
}

const columns = `id, name, frozen_time, status, livemode, storefront_id, created_at`

func scan(row pgx.Row) (Clock, error) {
	var c Clock
	err := row.Scan(&c.ID, &c.Name, &c.FrozenTime, &c.Status, &c.Livemode, &c.StorefrontID, &c.CreatedAt)
	return c, err
}

// storefront is p's storefront, nil for a key not bound to one: the clocks
// p sees are that storefront's (all when nil).
func storefront(p tenants.Principal) *string {
	if p.StorefrontID == "" {
		return nil
	}
	return &p.StorefrontID
}

// Create creates a clock frozen at in.FrozenTime (default: now).
func (s *Service) Create(ctx context.Context, p tenants.Principal, in NewClock) (Clock, error) {
	if err := live(ctx, p); err != nil {
		return Clock{}, err
	}
	v := &tenants.Validation{}
	if in.Name != nil && (strings.TrimSpace(*in.Name) == "" || len(*in.Name) > 200) {
		v.AddMsg("name", i18n.M("common.length", "Min", 1, "Max", 200), *in.Name)
	}
	at := s.now()
	if in.FrozenTime != nil {
		at = *in.FrozenTime
	}
	if err := v.Err(); err != nil {
		return Clock{}, err
	}
	var out Clock
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = scan(tx.QueryRow(ctx, `INSERT INTO test_clocks (tenant_id, id, name, frozen_time, storefront_id)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+columns, tx.TenantID, tenants.NewID(tenants.PrefixTestClock), in.Name, at, storefront(p)))
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeTestClockCreated, SubjectID: out.ID, Actor: p.Subject(),
			Data: map[string]any{"test_clock_id": out.ID, "frozen_time": out.FrozenTime}})
	})
	return out, pg.Translate(err)
}

// Get returns a clock.
func (s *Service) Get(ctx context.Context, p tenants.Principal, id string) (Clock, error) {
	if err := live(ctx, p); err != nil {
		return Clock{}, err
	}
	if !tenants.ValidID(tenants.PrefixTestClock, id) {
		return Clock{}, tenants.NotFound("test clock")
	}
	var out Clock
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = getTx(ctx, tx, p, id, "")
		return err
	})
	return out, pg.Translate(err)
}

// getTx reads clock id as p sees it (a storefront key: its storefront's
// clocks only); lock is "" or a locking clause.
func getTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id, lock string) (Clock, error) {
	c, err := scan(tx.QueryRow(ctx, `SELECT `+columns+` FROM test_clocks
		WHERE tenant_id = $1 AND id = $2 AND ($3::text IS NULL OR storefront_id = $3) `+lock, tx.TenantID, id, storefront(p)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Clock{}, tenants.NotFound("test clock")
	}
	return c, err
}

// List returns the tenant's clocks, newest first, a page at a time.
func (s *Service) List(ctx context.Context, p tenants.Principal, limit int, cursor string) ([]Clock, string, error) {
	if err := live(ctx, p); err != nil {
		return nil, "", err
	}
	after, err := tenants.PageAfter("test_clocks", cursor)
	if err != nil {
		return nil, "", err
	}
	limit = tenants.PageLimit(limit)
	var out []Clock
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT `+columns+` FROM test_clocks WHERE tenant_id = $1 AND ($2 = '' OR id < $2)
			AND ($4::text IS NULL OR storefront_id = $4)
			ORDER BY id DESC LIMIT $3`, tx.TenantID, after, limit+1, storefront(p))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Clock, error) { return scan(r) })
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := tenants.NextPage("test_clocks", out, limit, func(c Clock) string { return c.ID })
	if out == nil {
		out = []Clock{}
	}
	return out, next, nil
}

// Advance moves the clock forward to to, and enqueues, in the same
// transaction, the job that fires what fell due for the clock's objects.
// The clock is advancing until that job has run, and is advanced one step
// at a time: while it is advancing another advance is a conflict and
// changes nothing (else the first step's time never happens: its job would
// fire at the later time, a plan asked to start on day 31 going straight
// to the next step's state). A time not later than the clock's is a
// validation error on frozen_time (a clock never goes back), and so is a
// jump of more than MaxAdvance.
func (s *Service) Advance(ctx context.Context, p tenants.Principal, id string, to time.Time) (Clock, error) {
	if err := live(ctx, p); err != nil {
		return Clock{}, err
	}
	if !tenants.ValidID(tenants.PrefixTestClock, id) {
		return Clock{}, tenants.NotFound("test clock")
	}
	var out Clock
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		c, err := getTx(ctx, tx, p, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		switch {
		case c.Status == StatusAdvancing:
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("testclocks.advancing", "Time", c.FrozenTime.UTC().Format(time.RFC3339Nano)))
		case !to.After(c.FrozenTime):
			return tenants.InvalidMsg("frozen_time", i18n.M("testclocks.goes_back", "Time", c.FrozenTime.UTC().Format(time.RFC3339Nano)), to)
		case to.Sub(c.FrozenTime) > MaxAdvance:
			return tenants.InvalidMsg("frozen_time", i18n.M("testclocks.advance_too_far", "Time", c.FrozenTime.UTC().Format(time.RFC3339Nano)), to)
		}
		var seq int
		err = tx.QueryRow(ctx, `UPDATE test_clocks SET frozen_time = $3, status = 'advancing', advance_seq = advance_seq + 1,
			updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING `+columns+`, advance_seq`, tx.TenantID, id, to).
			Scan(&out.ID, &out.Name, &out.FrozenTime, &out.Status, &out.Livemode, &out.StorefrontID, &out.CreatedAt, &seq)
		if err != nil {
			return err
		}
		if err := events.Append(ctx, tx, events.New{Type: TypeTestClockAdvanced, SubjectID: id, Actor: p.Subject(),
			Data: map[string]any{"test_clock_id": id, "from": c.FrozenTime, "frozen_time": out.FrozenTime}}); err != nil {
			return err
		}
		return s.enqueueAdvance(ctx, tx.Tx, tx.TenantID, id, seq)
	})
	return out, pg.Translate(err)
}

// Attach attaches the test object objectID (a ticket, a contract ...) to
// the clock: from then on it lives on the clock's time. An object of
// another tenant or of live mode, or one that does not exist, is a
// validation error on object_id; one attached to another clock is a
// conflict. A storefront key attaches only its own objects (its tickets,
// the contracts it sold): any other object is not_found, as it is
// everywhere else for that key.
func (s *Service) Attach(ctx context.Context, p tenants.Principal, id, objectID string) (Clock, error) {
	if err := live(ctx, p); err != nil {
		return Clock{}, err
	}
	if !tenants.ValidID(tenants.PrefixTestClock, id) {
		return Clock{}, tenants.NotFound("test clock")
	}
	prefix, _, _ := strings.Cut(objectID, "_")
	attach, ok := s.attachers[prefix]
	if !ok || !tenants.ValidID(prefix, objectID) {
		return Clock{}, tenants.InvalidMsg("object_id", i18n.M("testclocks.attachable_id", "Kinds", strings.Join(s.Attachable(), ", ")), objectID)
	}
	var out Clock
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		if out, err = getTx(ctx, tx, p, id, "FOR SHARE"); err != nil {
			return err
		}
		err = attach(ctx, tx, p, objectID, id)
		if tenants.ErrorCode(err) == tenants.CodeNotFound && p.StorefrontID == "" {
			return tenants.InvalidMsg("object_id", i18n.M("testclocks.no_such_object"), objectID)
		}
		return err
	})
	return out, pg.Translate(err)
}

// NowTx is the time of clockID, for a context whose object is attached to
// it.
func NowTx(ctx context.Context, tx pg.TenantTx, clockID string) (time.Time, error) {
	var at time.Time
	err := tx.QueryRow(ctx, `SELECT frozen_time FROM test_clocks WHERE tenant_id = $1 AND id = $2`, tx.TenantID, clockID).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, tenants.NotFound("test clock")
	}
	return at, err
}

// Attachable is the attach rule every object on a clock shares, given the
// clock the object is on (current, nil for none): true to attach it to
// clockID, false when it is on clockID already (nothing to do), a conflict
// naming the other clock when it is on one.
func Attachable(object string, current *string, clockID string) (bool, error) {
	switch {
	case current == nil:
		return true, nil
	case *current == clockID:
		return false, nil
	}
	return false, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("testclocks.already_attached", "Object", object, "Clock", *current))
}

// LatestTx is the latest time of the tenant's test clocks in the
// transaction's mode (ok false when it has none; live mode has none): the
// furthest an object of test mode may have lived to.
func LatestTx(ctx context.Context, tx pg.TenantTx) (at time.Time, ok bool, err error) {
	var latest *time.Time
	if err := tx.QueryRow(ctx, `SELECT max(frozen_time) FROM test_clocks WHERE tenant_id = $1`, tx.TenantID).Scan(&latest); err != nil {
		return time.Time{}, false, err
	}
	if latest == nil {
		return time.Time{}, false, nil
	}
	return *latest, true, nil
}

// TimeOf is the time of an object on clock (nil for none): the clock's,
// else now.
func TimeOf(ctx context.Context, tx pg.TenantTx, clock *string, now time.Time) (time.Time, error) {
	if clock == nil {
		return now, nil
	}
	return NowTx(ctx, tx, *clock)
}

// TimeOfSQL is an SQL expression for the time of a row on the clock its
// column clockCol names, in the tenant its column tenantCol names: the
// clock's time, else now (an SQL expression: the wall clock's time) when
// clockCol is NULL. A context whose list query judges its objects at their
// time (claims' overdue filter) reads the clock through it.
func TimeOfSQL(tenantCol, clockCol, now string) string {
	return `coalesce((SELECT k.frozen_time FROM test_clocks k WHERE k.tenant_id = ` + tenantCol + ` AND k.id = ` + clockCol + `), ` + now + `)`
}

// Due is what an advance job works on: the clock's time, and whether this
// advance is still the clock's latest (a later advance's job does the rest).
func (s *Service) Due(ctx context.Context, tenantID, clockID string) (time.Time, error) {
	var at time.Time
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		var err error
		at, err = NowTx(ctx, tx, clockID)
		return err
	})
	return at, pg.Translate(err)
}

// Ready marks the clock ready once the job of its advance seq has fired
// what fell due (an earlier advance's job leaves it advancing), with a
// test_clock.ready event.
func (s *Service) Ready(ctx context.Context, tenantID, clockID string, seq int) error {
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		var at time.Time
		err := tx.QueryRow(ctx, `UPDATE test_clocks SET status = 'ready', updated_at = now()
			WHERE tenant_id = $1 AND id = $2 AND advance_seq = $3 AND status = 'advancing' RETURNING frozen_time`,
			tx.TenantID, clockID, seq).Scan(&at)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeTestClockReady, SubjectID: clockID, Actor: "system",
			Data: map[string]any{"test_clock_id": clockID, "frozen_time": at}})
	})
	return pg.Translate(err)
}

// AtTx is the time an object created inside tx on the clock clockID lives
// at: the clock's time, when the caller may put an object on it. When it
// may not, the problem is added to v on field (the input's test_clock_id)
// and now is returned: a live caller (test mode only), or a clock the
// caller does not see (none of that ID in the tenant's test mode, or, for
// a storefront key, another storefront's). An empty clockID is now.
func AtTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, v *tenants.Validation, field, clockID string, now time.Time) (time.Time, error) {
	switch {
	case clockID == "":
		return now, nil
	case p.Live || pg.Livemode(ctx):
		v.AddMsg(field, i18n.M("testclocks.live_object"), clockID)
		return now, nil
	case !tenants.ValidID(tenants.PrefixTestClock, clockID):
		v.AddMsg(field, i18n.M("testclocks.no_such_clock"), clockID)
		return now, nil
	}
	c, err := getTx(ctx, tx, p, clockID, "FOR SHARE")
	if tenants.ErrorCode(err) == tenants.CodeNotFound {
		v.AddMsg(field, i18n.M("testclocks.no_such_clock"), clockID)
		return now, nil
	} else if err != nil {
		return now, err
	}
	return c.FrozenTime, nil
}
