package jobs_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/jobs"
)

func TestDeferred(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := pgxpool.New(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable") // never connects
	require.NoError(t, err)
	t.Cleanup(db.Close)
	rc, err := jobs.NewClient(db, jobs.Deps{}, jobs.Options{})
	require.NoError(t, err)

	d := &jobs.Deferred{}
	_, err = d.InsertTx(ctx, nil, jobs.SwapEvaluationArgs{}, nil)
	require.ErrorContains(t, err, "no River client attached", "an insert before Attach fails, it is not skipped")
	_, err = d.InsertManyTx(ctx, nil, nil)
	require.Error(t, err)
	_, err = d.InsertManyFastTx(ctx, nil, nil)
	require.Error(t, err)

	require.Error(t, d.Attach(nil))
	require.False(t, d.Attached())
	require.NoError(t, d.Attach(rc))
	require.True(t, d.Attached())
	require.Error(t, d.Attach(rc), "attached once")
}
