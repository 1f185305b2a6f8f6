package warranty

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// UnitContractTx reports, inside the caller's transaction, whether id is
// a contract of unit unitID, in any state (a malformed id is not), and the
// test clock it lives on (nil: the wall clock).
func UnitContractTx(ctx context.Context, tx pg.TenantTx, id, unitID string) (ok bool, clock *string, err error) {
	if !tenants.ValidID(tenants.PrefixContract, id) {
		return false, nil, nil
	}
	err = tx.QueryRow(ctx, `SELECT test_clock_id FROM contracts WHERE tenant_id = $1 AND id = $2 AND unit_id = $3`,
		tx.TenantID, id, unitID).Scan(&clock)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil, nil
	}
	return err == nil, clock, err
}
