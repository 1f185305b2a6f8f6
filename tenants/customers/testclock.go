package customers

import (
	"context"

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
