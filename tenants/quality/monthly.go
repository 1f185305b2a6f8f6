package quality

import (
	"context"
	"time"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/events"
)

// ScorecardReadyData is the data of scorecard.ready.
type ScorecardReadyData struct {
	Month        string `json:"month" format:"date" doc:"The month's first day." example:"2026-11-01"`
	From         string `json:"from" format:"date" example:"2026-11-01"`
	To           string `json:"to" format:"date" example:"2026-11-30"`
	Position     int64  `json:"position" doc:"The feed position the rollups were folded to." example:"4211"`
	GradingRunID string `json:"grading_run_id,omitempty" doc:"The grading run the month's close wrote, when the tenant has a grading policy."`
	LevelRunID   string `json:"level_run_id,omitempty" doc:"The technician levelling run the month's close wrote, when the tenant has a technician level policy."`
}

// MonthlyClose closes the tenant's previous month (in its time zone) once:
// it folds the feed up to date, declares the month's scorecards ready with a
// scorecard.ready event and, when the tenant has a grading policy, grades
// the network for the month, and when it has a technician level policy,
// levels the technicians (proposals for a person to decide). Running it
// again for the same month does nothing; it reports whether it closed one.
func (s *Service) MonthlyClose(ctx context.Context, tenantID string, now time.Time) (bool, error) {
	if _, err := s.Fold(ctx, tenantID, 0); err != nil {
		return false, err
	}
	closed := false
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		today := dayOf(now, st.Location)
		from := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
		to := from.AddDate(0, 1, -1)
		// A month with no rollups (a tenant that had no tickets yet) is not
		// closed: nothing is ready, and the check is retried next hour.
		var any bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM quality_monthly WHERE tenant_id = $1 AND month = $2)`,
			tx.TenantID, from).Scan(&any); err != nil || !any {
			return err
		}
		var pos int64
		if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT position FROM quality_positions WHERE tenant_id = $1), 0)`, tx.TenantID).Scan(&pos); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO quality_months (tenant_id, month, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			tx.TenantID, from, pos)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		closed = true
		data := ScorecardReadyData{Month: from.Format(time.DateOnly), From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Position: pos}
		if _, ok, err := currentPolicy(ctx, tx); err != nil {
			return err
		} else if ok {
			run, err := gradeTx(ctx, tx, "job:quality_monthly", from, to)
			if err != nil {
				return err
			}
			data.GradingRunID = run.ID
		}
		if _, ok, err := currentLevelPolicy(ctx, tx); err != nil {
			return err
		} else if ok {
			run, err := levelTx(ctx, tx, "job:quality_monthly", from, to)
			if err != nil {
				return err
			}
			data.LevelRunID = run.ID
		}
		return events.Append(ctx, tx, events.New{Type: TypeScorecardReady, SubjectID: tx.TenantID, Actor: "job:quality_monthly", Data: data})
	})
	return closed, pg.Translate(err)
}
