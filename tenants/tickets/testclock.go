package tickets

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// AttachClockTx attaches ticket id to the test clock clockID inside tx
// (testclocks.Attacher): from then on the ticket's actions take the clock's
// time and its SLA deadlines, those already running included, are checked
// on it (SweepClockSLA). A ticket the transaction does not see is
// not_found; one on another clock is a conflict. Attaching it again to its
// clock does nothing. A storefront key attaches only its storefront's
// tickets. The ticket's unit, when it is on no clock, goes on the clock
// with it (customers.FollowClockTx): its care reminders follow the clock
// its service runs on.
func AttachClockTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id, clockID string) error {
	var current, unit *string
	err := tx.QueryRow(ctx, `SELECT test_clock_id, unit_id FROM tickets WHERE tenant_id = $1 AND id = $2
		AND ($3 = '' OR storefront_id = $3) FOR UPDATE`, tx.TenantID, id, p.StorefrontID).Scan(&current, &unit)
	if errors.Is(err, pgx.ErrNoRows) {
		return tenants.NotFound("ticket")
	}
	if err != nil {
		return err
	}
	if attach, err := testclocks.Attachable("ticket", current, clockID); !attach {
		return err
	}
	if _, err = tx.Exec(ctx, `UPDATE tickets SET test_clock_id = $3 WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, clockID); err != nil {
		return err
	}
	if unit == nil {
		return nil
	}
	return customers.FollowClockTx(ctx, tx, *unit, clockID)
}

// clockOf returns the test clock ticket id is attached to and its time, or
// "" and now. Live transactions have no clocks and skip the read.
func clockOf(ctx context.Context, tx pg.TenantTx, id string, now time.Time) (string, time.Time, error) {
	if pg.Livemode(ctx) {
		return "", now, nil
	}
	var clock *string
	if err := tx.QueryRow(ctx, `SELECT test_clock_id FROM tickets WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&clock); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return "", now, nil
		}
		return "", now, err
	}
	if clock == nil {
		return "", now, nil
	}
	at, err := testclocks.NowTx(ctx, tx, *clock)
	return *clock, at, err
}

// ClockTickets lists the IDs of the tickets attached to clockID.
func (s *Service) ClockTickets(ctx context.Context, tenantID, clockID string) ([]string, error) {
	var ids []string
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM tickets WHERE tenant_id = $1 AND test_clock_id = $2 ORDER BY id`, tx.TenantID, clockID)
		if err != nil {
			return err
		}
		ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return ids, pg.Translate(err)
}
