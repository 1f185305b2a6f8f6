package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
)

func TestNetworkImportWorker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	idn := &identity.Service{DB: db.App}
	ten, key, err := idn.CreateTenant(ctx, identity.NewTenant{Name: "Worker brand", Slug: "worker-brand"}, "test")
	require.NoError(t, err)
	p := tenants.Principal{TenantID: ten.ID, KeyID: key.ID}
	nw, err := network.NewService(db.App, network.Deps{EnqueueImport: func(ctx context.Context, tx pgx.Tx, tenantID, importID string) error { return nil }})
	require.NoError(t, err)
	worker := &jobs.NetworkImportWorker{Network: nw, Logger: slog.New(slog.DiscardHandler)}
	file := []byte(`{"type":"node","external_code":"MFR","name":"Brand","tier":"manufacturer"}` + "\n")
	// work runs the worker as River would on attempt of maxAttempts.
	work := func(importID string, attempt, maxAttempts int) error {
		return worker.Work(ctx, &river.Job[jobs.NetworkImportArgs]{
			JobRow: &rivertype.JobRow{ID: 1, Kind: "network_import", Attempt: attempt, MaxAttempts: maxAttempts},
			Args:   jobs.NetworkImportArgs{TenantID: ten.ID, ImportID: importID}})
	}

	t.Run("RunsTheImportAndThenDoesNothing", func(t *testing.T) {
		im, err := nw.CreateImport(ctx, p, network.FormatJSONL, file)
		require.NoError(t, err)
		require.NoError(t, work(im.ID, 1, 5))
		got, err := nw.GetImport(ctx, p, im.ID)
		require.NoError(t, err)
		require.Equal(t, network.ImportSucceeded, got.State)
		require.Equal(t, 1, got.Counts.Nodes.Created)
		require.NoError(t, work(im.ID, 2, 5), "a finished import completes at once")
	})

	t.Run("TheLastFailedAttemptMarksTheImportFailed", func(t *testing.T) {
		im, err := nw.CreateImport(ctx, p, network.FormatJSONL, file)
		require.NoError(t, err)
		// A stored file that no longer parses fails every attempt.
		require.NoError(t, pg.InTenantTx(ctx, db.App, ten.ID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, `UPDATE network_imports SET file = 'not json' WHERE tenant_id = $1 AND id = $2`, tx.TenantID, im.ID)
			return err
		}))
		require.Error(t, work(im.ID, 1, 3))
		got, err := nw.GetImport(ctx, p, im.ID)
		require.NoError(t, err)
		require.Equal(t, network.ImportRunning, got.State, "retries are still to come")

		require.Error(t, work(im.ID, 3, 3))
		got, err = nw.GetImport(ctx, p, im.ID)
		require.NoError(t, err)
		require.Equal(t, network.ImportFailed, got.State)
		require.NotNil(t, got.Failure)
		require.NotContains(t, *got.Failure, "not json", "no internals in the failure shown to the tenant")
		require.NotNil(t, got.FinishedAt)
	})

	t.Run("AnUnknownImportCancelsTheJob", func(t *testing.T) {
		var cancel *river.JobCancelError
		require.True(t, errors.As(work("imp_01jd3zq8w6v7t3y2k9x4n5m6pc", 1, 5), &cancel), "no retries for an import that does not exist")
	})
}
