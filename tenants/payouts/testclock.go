package payouts

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// AttachClockTx attaches payout id to the test clock clockID inside tx
// (testclocks.Attacher): its deadline is then checked on the clock's time,
// by a deadline check parked until the clock passes the due day's end
// (Deps.EnqueueClockDeadline). A payout the transaction does not see is
// not_found; one on another clock is a conflict; attaching it again to its
// clock does nothing. Storefront keys see no payouts: to them every payout
// is not_found.
func (s *Service) AttachClockTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id, clockID string) error {
	if p.StorefrontID != "" {
		return tenants.NotFound("payout")
	}
	var (
		current *string
		dueOn   string
	)
	err := tx.QueryRow(ctx, `SELECT test_clock_id, to_char(due_on, 'YYYY-MM-DD') FROM payouts WHERE tenant_id = $1 AND id = $2 FOR UPDATE`,
		tx.TenantID, id).Scan(&current, &dueOn)
	if errors.Is(err, pgx.ErrNoRows) {
		return tenants.NotFound("payout")
	}
	if err != nil {
		return err
	}
	if attach, err := testclocks.Attachable("payout", current, clockID); !attach {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE payouts SET test_clock_id = $3 WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, clockID); err != nil {
		return err
	}
	st, err := tx.Settings(ctx)
	if err != nil {
		return err
	}
	return s.enqueueClockDeadline(ctx, tx.Tx, tx.TenantID, id, clockID, EndOfDay(dueOn, st.Location))
}

// nowFor is the payout's time: its test clock's, else now.
func nowFor(ctx context.Context, tx pg.TenantTx, id string, now time.Time) (time.Time, error) {
	if pg.Livemode(ctx) {
		return now, nil
	}
	var clock *string
	if err := tx.QueryRow(ctx, `SELECT test_clock_id FROM payouts WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id).Scan(&clock); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return now, nil
		}
		return now, err
	}
	return testclocks.TimeOf(ctx, tx, clock, now)
}
