package network

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// UnknownRegionsTx returns those of codes that are not in the GB/T 2260
// reference table, in one read inside the caller's transaction.
func UnknownRegionsTx(ctx context.Context, tx pg.TenantTx, codes []string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT c FROM unnest($1::text[]) AS c WHERE NOT EXISTS (SELECT FROM regions WHERE code = c)`, codes)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
