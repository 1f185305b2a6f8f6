package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// testAdminKey issues an sn_test_ tenant_admin key with the tenant's live
// admin key and returns its secret and ID.
func testAdminKey(t *testing.T, env *apitest.Env, liveAdmin string) (secret, id string) {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/api-keys", liveAdmin, map[string]any{"name": "test admin",
		"roles": []string{"tenant_admin"}, "environment": "test"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	m := r.JSON(t)
	require.Equal(t, "test", m["environment"])
	return m["secret"].(string), m["id"].(string)
}

// TestCrossModeIsolation is the cross-tenant walk between the two modes of
// one tenant: every operation that names an object, with a test key and the
// live objects' IDs, is 404 and leaks nothing, and every list the test key
// reads leaks nothing; then the reverse, a live key on test objects. There
// is no application filter on the mode at all (queries name the tenant,
// never the mode): the walk goes through row-level security alone, and the
// database check below names the other mode's rows outright.
func TestCrossModeIsolation(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	for _, victimLive := range []bool{true, false} {
		name := "TestKeyOnLiveObjects"
		if !victimLive {
			name = "LiveKeyOnTestObjects"
		}
		t.Run(name, func(t *testing.T) {
			ten := env.CreateTenant(t, "modes-"+pg.ModeName(victimLive))
			testKey, testKeyID := testAdminKey(t, env, ten.AdminKey)
			victimKey, victimID, attackerKey := ten.AdminKey, ten.AdminID, testKey
			if !victimLive {
				victimKey, victimID, attackerKey = testKey, testKeyID, ten.AdminKey
			}
			// The attacker's mode has data of its own in every list.
			attackerNet := env.CreateNetwork(t, attackerKey, "anet")
			ctx := pg.WithLivemode(context.Background(), victimLive)
			fx := walkVictim(t, env, ctx, ten.ID, victimKey, victimID, attackerNet.Root)
			walkIsolation(t, env, attackerKey, victimKey, fx)

			// RLS alone: a transaction in the attacker's mode that names the
			// victim's mode outright sees, changes and writes nothing of it.
			actx := pg.WithLivemode(context.Background(), !victimLive)
			require.NoError(t, pg.InTenantTx(actx, env.DB.App, ten.ID, func(tx pg.TenantTx) error {
				rows, err := tx.Query(actx, `SELECT table_name::text FROM information_schema.columns
					WHERE table_schema = 'public' AND column_name = 'livemode' ORDER BY 1`)
				require.NoError(t, err)
				tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
				require.NoError(t, err)
				require.Greater(t, len(tables), 40)
				for _, table := range tables {
					var n int
					require.NoError(t, tx.QueryRow(actx, `SELECT count(*) FROM `+table+` WHERE tenant_id = $1 AND livemode = $2`,
						ten.ID, victimLive).Scan(&n))
					require.Zero(t, n, "%s: rows of the other mode are visible", table)
				}
				var n int
				require.NoError(t, tx.QueryRow(actx, `SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND live = $2`, ten.ID, victimLive).Scan(&n))
				require.Zero(t, n, "api_keys of the other mode are visible")
				tag, err := tx.Exec(actx, `UPDATE tickets SET priority = 'urgent' WHERE tenant_id = $1 AND id = $2`, ten.ID, fx.objects["ticket_id"])
				require.NoError(t, err)
				require.Zero(t, tag.RowsAffected())
				return nil
			}))
			err := pg.InTenantTx(actx, env.DB.App, ten.ID, func(tx pg.TenantTx) error {
				_, err := tx.Exec(actx, `INSERT INTO storefronts (tenant_id, id, code, name, platform, livemode) VALUES ($1, $2, 'SMUGGLED', 'x', 'tmall', $3)`,
					ten.ID, tenants.NewID(tenants.PrefixStorefront), victimLive)
				return err
			})
			require.Error(t, err, "a row of the other mode cannot be written")
			// In its own mode the victim's rows are there (the walk was not vacuous).
			require.NoError(t, pg.InTenantTx(ctx, env.DB.App, ten.ID, func(tx pg.TenantTx) error {
				var n int
				require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE tenant_id = $1`, ten.ID).Scan(&n))
				require.Equal(t, 1, n)
				return nil
			}))
		})
	}
}

// TestDeleteTestData: one call with a test key deletes every test object of
// the tenant and nothing live; a live key may not call it.
func TestDeleteTestData(t *testing.T) {
	t.Parallel()
	// Its own server: the delete sweeps every table of the tenant's test
	// mode, and on the shared database it once met another test's
	// concurrent work (409, a concurrent change interfered).
	env := apitest.New(t)
	ten := env.CreateTenant(t, "test-data")
	testKey, testKeyID := testAdminKey(t, env, ten.AdminKey)
	liveNet := env.CreateNetwork(t, ten.AdminKey, "live")
	ctx := pg.WithLivemode(context.Background(), false)
	fx := walkVictim(t, env, ctx, ten.ID, testKey, testKeyID, liveNet.Root)
	sfKey := env.StorefrontKey(t, testKey, fx.objects["storefront_id"])

	r := env.Do(t, http.MethodDelete, "/v1/test-data", ten.AdminKey, nil)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)

	r = env.Do(t, http.MethodDelete, "/v1/test-data", testKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Greater(t, r.JSON(t)["deleted_rows"].(float64), float64(50))

	for _, path := range []string{"/v1/tickets", "/v1/claims", "/v1/units", "/v1/customers", "/v1/contracts", "/v1/network/nodes",
		"/v1/catalog/models", "/v1/storefronts", "/v1/webhooks", "/v1/events", "/v1/payouts", "/v1/swaps"} {
		r = env.Do(t, http.MethodGet, path, testKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", path, r.Body)
		require.Empty(t, r.JSON(t)["data"], "%s still lists test data", path)
	}
	// The storefront's test key went with its storefront; the admin's test key stays.
	r = env.Do(t, http.MethodGet, "/v1/me", sfKey, nil)
	require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r.Body)
	// Live data is untouched.
	r = env.Do(t, http.MethodGet, "/v1/network/nodes/"+liveNet.Root, ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/network/nodes", ten.AdminKey, nil)
	require.Len(t, r.JSON(t)["data"], 4)
	// Test mode starts over: the same codes are free again.
	env.CreateNetwork(t, testKey, "bnet")
}

// testModeCtx is a context whose transactions run in test mode.
func testModeCtx() context.Context { return pg.WithLivemode(context.Background(), false) }

// TestTestKeyLeavesTheTenantsSettings: the tenant's name, time zone,
// default language and service hotline are one row that both modes read
// (every live deadline and business day is reckoned in that zone, every
// live customer text names that hotline). A test key changes no live data,
// so it may not change them: 409, nothing changed, no event in either mode;
// the live key changes them as before.
func TestTestKeyLeavesTheTenantsSettings(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "test-key-settings")
	testKey, _ := testAdminKey(t, env, ten.AdminKey)
	read := func(key string) (map[string]any, string) {
		r := env.Do(t, http.MethodGet, "/v1/tenant", key, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return r.JSON(t), r.Header.Get("ETag")
	}
	before, etag := read(ten.AdminKey)
	seen, _ := read(testKey)
	require.Equal(t, before, seen, "a test key reads the tenant's settings")

	for _, body := range []map[string]any{
		{"time_zone": "America/New_York"},
		{"name": "Renamed in test mode"},
		{"default_language": "en"},
		{"service_hotline": "400-699-9999"},
	} {
		r := env.Do(t, http.MethodPatch, "/v1/tenant", testKey, body)
		require.Equal(t, http.StatusConflict, r.Status, "%v: %s", body, r.Body)
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		require.Equal(t, "identity.tenant_settings_need_live_key", r.JSON(t)["detail_i18n"].(map[string]any)["code"])
		after, now := read(ten.AdminKey)
		require.Equal(t, before, after, "%v: nothing changed", body)
		require.Equal(t, etag, now, "%v: nothing changed", body)
	}
	for _, live := range []bool{true, false} {
		ctx := pg.WithLivemode(context.Background(), live)
		require.NoError(t, pg.InTenantTx(ctx, env.DB.App, ten.ID, func(tx pg.TenantTx) error {
			var n int
			require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'tenant.updated'`, ten.ID).Scan(&n))
			require.Zero(t, n, "%s: no tenant.updated", pg.ModeName(live))
			return nil
		}))
	}
	r := env.Do(t, http.MethodPatch, "/v1/tenant", ten.AdminKey, map[string]any{"service_hotline": "400-699-9999"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "400 699 9999", r.JSON(t)["service_hotline"])
}
