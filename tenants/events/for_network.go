package events

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// AppendManyTx is Append for many events at once, in order, in one
// statement inside the caller's transaction (a network import's batch).
func AppendManyTx(ctx context.Context, tx pg.TenantTx, evs []New) error {
	if len(evs) == 0 {
		return nil
	}
	if buf := buffer(tx); buf != nil { // one insert with the transaction's other events
		for _, ev := range evs {
			if err := buf.add(ev); err != nil {
				return err
			}
		}
		return nil
	}
	type rec struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		SubjectID string `json:"subject_id"`
		Actor     string `json:"actor"`
		Data      any    `json:"data"`
	}
	recs := make([]rec, len(evs))
	for i, ev := range evs {
		data := ev.Data
		if data == nil {
			data = map[string]any{}
		}
		recs[i] = rec{ID: tenants.NewID(tenants.PrefixEvent), Type: ev.Type, SubjectID: ev.SubjectID, Actor: ev.Actor, Data: data}
	}
	b, err := json.Marshal(recs)
	if err != nil {
		return fmt.Errorf("event data: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO events (tenant_id, id, type, subject_id, actor, data)
		SELECT $1, r.id, r.type, r.subject_id, r.actor, r.data
		FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (id text, type text, subject_id text, actor text, data jsonb)) WITH ORDINALITY AS r
		ORDER BY r.ordinality`, tx.TenantID, b)
	return err
}
