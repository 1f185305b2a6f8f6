package apitest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/api"
	"github.com/servicenet/servicenet/internal/pg"
)

// checkEvents fails t when an event the test left in e's database is not
// as the event catalog says (eventProblems).
func checkEvents(t testing.TB, e *Env) {
	if err := eventProblems(e); err != nil {
		t.Error(err)
	}
}

// eventProblems reports the events left in e's database (any tenant,
// either mode) that are not as the event catalog says: a type it does not
// list, or data with a field it does not give that type, or of another
// shape (api.EventDataProblems), each problem once, with the slug of the
// first tenant that has it (on Shared's database, the test that made the
// tenant). The catalog is the contract integrators generate their webhook
// handlers from, so every test is a check of it.
func eventProblems(e *Env) error {
	ctx := context.Background()
	rows, err := e.DB.Owner.Query(ctx, `SELECT id, slug FROM tenants ORDER BY slug`)
	if err != nil {
		return fmt.Errorf("event catalog check: %w", err)
	}
	tenants, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ ID, Slug string }])
	if err != nil {
		return fmt.Errorf("event catalog check: %w", err)
	}
	seen := map[string]bool{}
	var problems []string
	for _, tenant := range tenants {
		for _, live := range []bool{true, false} {
			err := pg.InTenantTx(pg.WithLivemode(ctx, live), e.DB.Owner, tenant.ID, func(tx pg.TenantTx) error {
				rows, err := tx.Query(ctx, `SELECT type, data FROM events WHERE tenant_id = $1`, tx.TenantID)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var typ string
					var raw []byte
					if err := rows.Scan(&typ, &raw); err != nil {
						return err
					}
					var data any
					if err := json.Unmarshal(raw, &data); err != nil {
						return err
					}
					for _, p := range api.EventDataProblems(typ, data) {
						if !seen[p] {
							seen[p] = true
							problems = append(problems, p+" (tenant "+tenant.Slug+")")
						}
					}
				}
				return rows.Err()
			})
			if err != nil {
				return fmt.Errorf("event catalog check: %w", err)
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return errors.New("events not as the event catalog (api/eventcatalog.go) says:\n" + strings.Join(problems, "\n"))
	}
	return nil
}
