package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
)

func ptr[T any](v T) *T { return &v }

func TestTenantReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	acme, _, _ := b.createTenant(t, "acme")
	bolt, _, _ := b.createTenant(t, "bolt")
	cask, _, _ := b.createTenant(t, "cask")

	got, err := b.svc.GetTenant(ctx, bolt.ID)
	require.NoError(t, err)
	require.Equal(t, bolt, got)
	_, err = b.svc.GetTenant(ctx, "ten_doesnotexist")
	requireCode(t, err, tenants.CodeNotFound, "")

	got, err = b.svc.TenantBySlug(ctx, "cask")
	require.NoError(t, err)
	require.Equal(t, cask.ID, got.ID)
	require.Equal(t, "Brand cask", got.Name)
	_, err = b.svc.TenantBySlug(ctx, "nobody")
	requireCode(t, err, tenants.CodeNotFound, "")

	// Pages of two, oldest (smallest ID) first, until the cursor runs out.
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 3)
		page, next, err := b.svc.ListTenants(ctx, 2, cursor)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 2)
		for _, ten := range page {
			seen = append(seen, ten.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	require.ElementsMatch(t, []string{acme.ID, bolt.ID, cask.ID}, seen)
	require.IsIncreasing(t, seen)

	_, _, err = b.svc.ListTenants(ctx, 2, "not-a-cursor")
	requireCode(t, err, tenants.CodeInvalid, "")
}

func TestUpdateTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	ten, p, _ := b.createTenant(t, "acme")

	for _, c := range []struct {
		name  string
		u     identity.TenantUpdate
		field string
	}{
		{"UnknownZone", identity.TenantUpdate{TimeZone: ptr("Mars/Olympus")}, "time_zone"},
		{"LocalZone", identity.TenantUpdate{TimeZone: ptr("Local")}, "time_zone"},
		{"EmptyZone", identity.TenantUpdate{TimeZone: ptr("")}, "time_zone"},
		{"UnsupportedLanguage", identity.TenantUpdate{DefaultLanguage: ptr("fr")}, "default_language"},
		{"ShortServiceHotline", identity.TenantUpdate{ServiceHotline: ptr("95555")}, "service_hotline"},
		{"LettersServiceHotline", identity.TenantUpdate{ServiceHotline: ptr("400-HOTLINE")}, "service_hotline"},
	} {
		_, err := b.svc.UpdateTenant(ctx, p, c.u)
		requireCode(t, err, tenants.CodeInvalid, c.field)
	}

	_, err := b.svc.UpdateTenant(ctx, p, identity.TenantUpdate{Name: ptr("Stale"), IfVersion: ptr(ten.Version + 1)})
	requireCode(t, err, tenants.CodePreconditionFailed, "")

	got, err := b.svc.UpdateTenant(ctx, p, identity.TenantUpdate{Name: ptr("Acme Europe"), TimeZone: ptr("Europe/Berlin"),
		DefaultLanguage: ptr("en"), IfVersion: ptr(ten.Version)})
	require.NoError(t, err)
	require.Equal(t, "Acme Europe", got.Name)
	require.Equal(t, "Europe/Berlin", got.TimeZone)
	require.Equal(t, "en", got.DefaultLanguage)
	require.Equal(t, ten.Version+1, got.Version)
	require.Equal(t, ten.Slug, got.Slug, "fields not named are left alone")
	require.Equal(t, ten.Currency, got.Currency)
	require.Nil(t, got.ServiceHotline, "fields not named are left alone")

	stored, err := b.svc.GetTenant(ctx, ten.ID)
	require.NoError(t, err)
	require.Equal(t, got, stored)

	// The settings it has, sent again: no change, same version (failed
	// before: version 3), no tenant.updated event.
	same, err := b.svc.UpdateTenant(ctx, p, identity.TenantUpdate{Name: ptr("Acme Europe"), TimeZone: ptr("Europe/Berlin"),
		DefaultLanguage: ptr("en"), IfVersion: ptr(got.Version)})
	require.NoError(t, err)
	require.Equal(t, got, same)
	var updates int
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, ten.ID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'tenant.updated'`, tx.TenantID).Scan(&updates)
	}))
	require.Equal(t, 1, updates)

	// The service hotline is stored as shown, read by other contexts inside
	// their transaction, and cleared by an empty string.
	got, err = b.svc.UpdateTenant(ctx, p, identity.TenantUpdate{ServiceHotline: ptr("400-699-9999")})
	require.NoError(t, err)
	require.Equal(t, "400 699 9999", *got.ServiceHotline)
	hotline := func() string {
		var h string
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, ten.ID, func(tx pg.TenantTx) (err error) {
			h, err = identity.ServiceHotlineTx(ctx, tx)
			return err
		}))
		return h
	}
	require.Equal(t, "400 699 9999", hotline())
	got, err = b.svc.UpdateTenant(ctx, p, identity.TenantUpdate{ServiceHotline: ptr("")})
	require.NoError(t, err)
	require.Nil(t, got.ServiceHotline)
	require.Equal(t, "", hotline())

	// The tenant's locale, as other contexts read it inside their transaction.
	err = pg.InTenantTx(ctx, b.db.App, ten.ID, func(tx pg.TenantTx) error {
		lang, loc, err := identity.LocaleTx(ctx, tx)
		require.NoError(t, err)
		require.Equal(t, "en", lang)
		require.Equal(t, "Europe/Berlin", loc.String())
		return nil
	})
	require.NoError(t, err)
}

func TestQueueLocaleReadsAnUnknownZoneAsUTC(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	ten, _, _ := b.createTenant(t, "acme")
	_, err := b.db.Owner.Exec(ctx, `ALTER TABLE tenants DISABLE TRIGGER USER`)
	require.NoError(t, err)
	_, err = b.db.Owner.Exec(ctx, `UPDATE tenants SET time_zone = 'Mars/Olympus' WHERE id = $1`, ten.ID)
	require.NoError(t, err)

	err = pg.InTenantTx(ctx, b.db.App, ten.ID, func(tx pg.TenantTx) error {
		var (
			lang string
			loc  *time.Location
			one  int
		)
		batch := &pgx.Batch{}
		identity.QueueLocale(batch, tx.TenantID, &lang, &loc)
		batch.Queue(`SELECT 1`).QueryRow(func(row pgx.Row) error { return row.Scan(&one) })
		require.NoError(t, tx.SendBatch(ctx, batch).Close())
		require.Equal(t, "zh-CN", lang)
		require.Equal(t, time.UTC, loc)
		require.Equal(t, 1, one, "the locale rides in a batch with the caller's own reads")
		return nil
	})
	require.NoError(t, err)
}

func TestDeleteTestData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	_, key, err := b.svc.CreateTenant(ctx, identity.NewTenant{Name: "Acme", Slug: "acme", Test: true}, "operator")
	require.NoError(t, err)
	testP, err := b.svc.Authenticate(ctx, key.Secret)
	require.NoError(t, err)
	require.False(t, testP.Live)

	liveP := testP
	liveP.Live = true
	_, err = b.svc.DeleteTestData(ctx, liveP)
	requireCode(t, err, tenants.CodeConflict, "")
	_, err = b.svc.DeleteTestData(pg.WithLivemode(ctx, true), testP)
	requireCode(t, err, tenants.CodeConflict, "")

	// rows counts, per kind, the rows of the tenant in a mode (api_keys
	// by their live flag).
	rows := func(live bool) map[string]int {
		t.Helper()
		out := map[string]int{}
		require.NoError(t, pg.InTenantTx(pg.WithLivemode(ctx, live), b.db.App, testP.TenantID, func(tx pg.TenantTx) error {
			for _, q := range []struct{ kind, sql string }{
				{"events", `SELECT count(*) FROM events WHERE tenant_id = $1 AND livemode = $2`},
				{"audit_log", `SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND livemode = $2`},
				{"api_keys", `SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND live = $2`},
			} {
				var n int
				if err := tx.QueryRow(ctx, q.sql, tx.TenantID, live).Scan(&n); err != nil {
					return err
				}
				out[q.kind] = n
			}
			return nil
		}))
		return out
	}
	testBefore, liveBefore := rows(false), rows(true)
	// A fresh test tenant: tenant.created and api_key.created on the test
	// feed, the admin test key and its creation's audit entry.
	require.Equal(t, map[string]int{"events": 2, "audit_log": 1, "api_keys": 1}, testBefore)

	testCtx := pg.WithLivemode(ctx, false)
	n, err := b.svc.DeleteTestData(testCtx, testP)
	require.NoError(t, err)
	require.Equal(t, int64(2), n, "the two test events, and nothing else")
	require.Equal(t, map[string]int{"events": 0, "audit_log": 1, "api_keys": 1}, rows(false),
		"the events went; the audit log (append-only) and the unbound key stay")
	require.Equal(t, liveBefore, rows(true), "live data is untouched")

	_, err = b.svc.Authenticate(ctx, key.Secret)
	require.NoError(t, err, "an unbound test key survives")
}
