package claims

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Claims on test clocks (migration 065). In test mode a claim lives on a
// test clock from its first instant when it is filed with test_clock_id
// (testclocks.AtTx: a live key, or a clock the key does not see, is
// invalid at test_clock_id), or when the ticket or contract it names is on
// a clock: the claim takes that clock, as a Stripe invoice takes its
// customer's. Objects on two clocks do not mix: a claim on one clock
// naming a ticket or contract on another (or a ticket on one and a
// contract on another) is invalid at test_clock_id. A ticket or contract
// on no clock may be named by a claim on one (its dates are facts, not
// timers). A claim filed on the wall clock can be attached later
// (AttachClockTx); its deadlines, already set, are then checked on the
// clock's time.
//
// On its clock a claim's time is the clock's: its filing (created_at,
// the version's submitted_at) and the deadlines counted from it, the
// "today" its occurred_on is checked against and its approval dated on,
// and every later timestamp (responded_at, updated_at, adjudicated_at,
// paid_at, the history's changed_at). Its deadlines are checked when the
// clock advances (SweepClockDeadlines).

// onClock sets c.now, c's time in the transaction that changes it: its
// test clock's time when it is on one (nil otherwise: the database's
// now()).
func onClock(ctx context.Context, tx pg.TenantTx, c *Claim) error {
	if c.TestClockID == nil {
		return nil
	}
	at, err := testclocks.NowTx(ctx, tx, *c.TestClockID)
	if err != nil {
		return err
	}
	c.now = &at
	return nil
}

// timeOr is c's time: its clock's (onClock), else now.
func (c Claim) timeOr(now time.Time) time.Time {
	if c.now != nil {
		return *c.now
	}
	return now
}

// nowSQL is the SQL for a claim's time given as the parameter p (a
// *time.Time, Claim.now): the clock's time, else the transaction's now().
func nowSQL(p string) string {
	return `coalesce(` + p + `::timestamptz, now())`
}

// submissionClock decides the test clock a new claim lives on and its
// time: the clock the submission names (checked by testclocks.AtTx), else
// the one its ticket or contract is on. Problems are added to v at
// test_clock_id. It returns nil and now for a claim on no clock.
func (s *Service) submissionClock(ctx context.Context, tx pg.TenantTx, p tenants.Principal, v *tenants.Validation,
	in NewClaim, contract *string, r unitReads, now time.Time) (*string, time.Time, error) {
	problems := len(v.Fields())
	at, err := testclocks.AtTx(ctx, tx, p, v, "test_clock_id", in.TestClockID, now)
	switch {
	case err != nil:
		return nil, now, err
	case len(v.Fields()) > problems, p.Live || pg.Livemode(ctx):
		return nil, now, nil // refused, or live mode: no clocks there
	}
	var clock *string
	if in.TestClockID != "" {
		clock = &in.TestClockID
	}
	// The clocks of the objects the claim names.
	type named struct {
		id    string
		clock *string
	}
	var objects []named
	if in.TicketID != "" && r.ticketFound { // a ticket of the unit (else refused at ticket_id)
		tc, err := s.ticketClock(ctx, tx, in.TicketID)
		if err != nil {
			return nil, now, err
		}
		objects = append(objects, named{in.TicketID, tc})
	}
	if contract != nil {
		for _, ct := range r.contracts {
			if ct.ID == *contract {
				objects = append(objects, named{ct.ID, ct.TestClockID})
			}
		}
	}
	for _, o := range objects {
		switch {
		case o.clock == nil:
		case clock == nil:
			clock = o.clock
		case *clock != *o.clock:
			v.AddMsg("test_clock_id", i18n.M("claims.other_clock", "Object", o.id, "Clock", *o.clock, "Claim", *clock), in.TestClockID)
			return nil, now, nil
		}
	}
	if clock == nil {
		return nil, now, nil
	}
	if in.TestClockID == "" { // taken from a named object: its clock's time
		if at, err = testclocks.NowTx(ctx, tx, *clock); err != nil {
			return nil, now, err
		}
	}
	return clock, at, nil
}

// AttachClockTx attaches claim id to the test clock clockID inside tx
// (testclocks.Attacher): from then on its actions take the clock's time
// and its deadlines, set at its filing, are checked on the clock's time
// (SweepClockDeadlines), no longer by the wall-clock sweep. A claim the
// transaction does not see, or p may not (another storefront's), is
// not_found; one on another clock is a conflict, and so is one whose
// ticket or contract is on another clock (objects on two clocks do not
// mix, as at filing). Attaching it again to its clock does nothing.
func (s *Service) AttachClockTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id, clockID string) error {
	sc, err := resolveScope(ctx, tx, p)
	if err != nil {
		return err
	}
	var (
		current, contract, ticket *string
		unit                      string
	)
	err = tx.QueryRow(ctx, `SELECT c.test_clock_id, c.unit_id, c.contract_id, v.ticket_id FROM claims c
		JOIN claim_versions v ON v.tenant_id = c.tenant_id AND v.claim_id = c.id AND v.version = c.current_version
		WHERE c.tenant_id = $1 AND c.id = $2 AND `+inScope("$3", "$4")+`
		FOR UPDATE OF c`, tx.TenantID, id, sc.storefront, sc.nodes).Scan(&current, &unit, &contract, &ticket)
	if errors.Is(err, pgx.ErrNoRows) {
		return tenants.NotFound("claim")
	}
	if err != nil {
		return err
	}
	if attach, err := testclocks.Attachable("claim", current, clockID); !attach {
		return err
	}
	// The clocks of the objects it names: none may be on another clock.
	if ticket != nil {
		tc, err := s.ticketClock(ctx, tx, *ticket)
		if err != nil {
			return err
		}
		if _, err := testclocks.Attachable("ticket "+*ticket, tc, clockID); err != nil {
			return err
		}
	}
	if contract != nil {
		cs, err := warranty.UnitContracts(ctx, tx, unit)
		if err != nil {
			return err
		}
		for _, ct := range cs {
			if ct.ID != *contract {
				continue
			}
			if _, err := testclocks.Attachable("contract "+ct.ID, ct.TestClockID, clockID); err != nil {
				return err
			}
		}
	}
	_, err = tx.Exec(ctx, `UPDATE claims SET test_clock_id = $3 WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, clockID)
	return err
}
