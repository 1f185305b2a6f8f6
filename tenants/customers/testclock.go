package customers

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// AttachClockTx attaches unit id to the test clock clockID inside tx
// (testclocks.Attacher): from then on its care reminders are judged on the
// clock's today (RemindCare) and fall due as the clock is advanced
// (RemindClockCare). A unit p does not see (a storefront key: another
// storefront's) is not_found; one on another clock is a conflict.
func AttachClockTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id, clockID string) error {
	u, err := getUnit(ctx, tx, ScopeOf(p), id, "FOR UPDATE OF u")
	if err != nil {
		return err
	}
	if attach, err := testclocks.Attachable("unit", u.TestClockID, clockID); !attach {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE units SET test_clock_id = $3 WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, clockID)
	return err
}

// FollowClockTx puts unit id on the test clock clockID inside tx when it is
// on none: a ticket attached to the clock takes its unit with it (the
// tickets context calls it), so the unit's care is judged on the clock its
// service runs on. A unit already on a clock stays there. The write rides
// the transaction's next round trip (pg.TenantTx.Defer), after the unit's
// own insert when the intake created it in the same transaction.
func FollowClockTx(ctx context.Context, tx pg.TenantTx, id, clockID string) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE units SET test_clock_id = $3 WHERE tenant_id = $1 AND id = $2 AND test_clock_id IS NULL`,
		tx.TenantID, id, clockID)
	return tx.Defer(ctx, b)
}
