package apitest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/api"
	"github.com/servicenet/servicenet/internal/pg"
)

// checkEvents fails t when an event the test left in e's database (any
// tenant, either mode) is not as the event catalog says: a type it does
// not list, or data with a field it does not give that type, or of another
// shape (api.EventDataProblems). The catalog is the contract integrators
// generate their webhook handlers from, so every test is a check of it.
func checkEvents(t testing.TB, e *Env) {
	ctx := context.Background()
	rows, err := e.DB.Owner.Query(ctx, `SELECT id FROM tenants`)
	if err != nil {
		t.Errorf("event catalog check: %v", err)
		return
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Errorf("event catalog check: %v", err)
		return
	}
	seen := map[string]bool{}
	var problems []string
	for _, id := range ids {
		for _, live := range []bool{true, false} {
			err := pg.InTenantTx(pg.WithLivemode(ctx, live), e.DB.Owner, id, func(tx pg.TenantTx) error {
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
							problems = append(problems, p)
						}
					}
				}
				return rows.Err()
			})
			if err != nil {
				t.Errorf("event catalog check: %v", err)
				return
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		t.Errorf("events not as the event catalog (api/eventcatalog.go) says:\n%s", strings.Join(problems, "\n"))
	}
}
