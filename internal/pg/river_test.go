package pg_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
)

// Migrate leaves River's schema without the indexes it drops, every other
// index River's reindexer rebuilds in place, and a second run changes
// nothing.
func TestMigrateDropsRiversUnusedIndexes(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	ctx := context.Background()
	indexes := func() []string {
		rows, err := db.Owner.Query(ctx, `SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'river_job'::regclass ORDER BY 1`)
		require.NoError(t, err)
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return names
	}
	check := func() {
		t.Helper()
		have := indexes()
		for _, name := range pg.DroppedRiverIndexes {
			require.NotContains(t, have, name)
		}
		for _, name := range pg.RiverIndexes() {
			require.Contains(t, have, name, "River's reindexer rebuilds it")
		}
		require.Len(t, pg.RiverIndexes(), len(river.ReindexerIndexNamesDefault())-len(pg.DroppedRiverIndexes))
	}
	check()
	require.NoError(t, pg.Migrate(ctx, db.Owner, pgtest.AppPassword))
	check()
}
