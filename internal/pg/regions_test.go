package pg_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pgtest"
)

// TestRegions checks the GB/T 2260 reference data loaded by 003_regions.sql,
// as the application role sees it.
func TestRegions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)

	t.Run("Counts", func(t *testing.T) {
		t.Parallel()
		minimum := map[int]int{1: 31, 2: 300, 3: 2800}
		rows, err := db.App.Query(ctx, `SELECT level, count(*) FROM regions GROUP BY level`)
		require.NoError(t, err)
		got := map[int]int{}
		for rows.Next() {
			var level int16
			var n int
			require.NoError(t, rows.Scan(&level, &n))
			got[int(level)] = n
		}
		require.NoError(t, rows.Err())
		for level, least := range minimum {
			require.GreaterOrEqual(t, got[level], least, "level %d rows", level)
		}
		t.Logf("regions per level: %v", got)
	})

	t.Run("Hierarchy", func(t *testing.T) {
		t.Parallel()
		var bad []string
		// Provinces have no parent; cities hang off a province and districts
		// off a city, under the same code prefix.
		err := db.App.QueryRow(ctx, `
			SELECT coalesce(array_agg(r.code ORDER BY r.code), '{}')
			FROM regions r LEFT JOIN regions p ON p.code = r.parent_code
			WHERE (r.level = 1 AND r.parent_code IS NOT NULL)
			   OR (r.level > 1 AND (p.code IS NULL OR p.level <> r.level - 1
			                        OR left(p.code, 2 * (r.level - 1)) <> left(r.code, 2 * (r.level - 1))))`).Scan(&bad)
		require.NoError(t, err)
		require.Empty(t, bad, "regions whose parent is missing or at the wrong level")

		// The level agrees with the code's shape (XX0000, XXYY00, other).
		err = db.App.QueryRow(ctx, `
			SELECT coalesce(array_agg(code ORDER BY code), '{}') FROM regions
			WHERE level <> CASE WHEN code LIKE '__0000' THEN 1 WHEN code LIKE '____00' THEN 2 ELSE 3 END`).Scan(&bad)
		require.NoError(t, err)
		require.Empty(t, bad, "regions whose level disagrees with the code")
	})

	t.Run("WellKnownCodes", func(t *testing.T) {
		t.Parallel()
		for code, name := range map[string]string{
			"110101": "东城区",
			"310115": "浦东新区",
			"440305": "南山区",
			"370212": "崂山区", // Haier, Qingdao
			"440606": "顺德区", // Midea, Foshan
			"420106": "武昌区",
		} {
			var got string
			var level int16
			require.NoError(t, db.App.QueryRow(ctx, `SELECT name, level FROM regions WHERE code = $1`, code).Scan(&got, &level), code)
			require.Equal(t, name, got, code)
			require.EqualValues(t, 3, level, code)
		}
	})
}
