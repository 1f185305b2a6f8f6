package jobs_test

import (
	"context"
	"testing"
	"time"

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

type licenceBundle struct {
	db  *pgtest.DB
	idn *identity.Service
}

func setupLicence(t *testing.T) *licenceBundle {
	t.Helper()
	db := pgtest.NewDB(t)
	return &licenceBundle{db: db, idn: &identity.Service{DB: db.App}}
}

// network is a network service whose clock stands at now.
func (b *licenceBundle) network(now time.Time) *network.Service {
	return &network.Service{DB: b.db.App, Now: func() time.Time { return now }}
}

// tenant creates a tenant in zone with a manufacturer root and returns its
// admin principal and the root's id; the node is created on nw's clock.
func (b *licenceBundle) tenant(t *testing.T, nw *network.Service, slug, zone string) (tenants.Principal, string) {
	t.Helper()
	ctx := context.Background()
	ten, key, err := b.idn.CreateTenant(ctx, identity.NewTenant{Name: "Brand " + slug, Slug: slug, TimeZone: zone}, "operator")
	require.NoError(t, err)
	p := tenants.Principal{TenantID: ten.ID, KeyID: key.ID, Roles: []string{tenants.RoleTenantAdmin}}
	root, err := nw.CreateNode(ctx, p, network.NewNode{Tier: network.TierManufacturer, Status: "active",
		NodeFields: network.NodeFields{ExternalCode: slug + "-ROOT", Name: slug}})
	require.NoError(t, err)
	return p, root.ID
}

// technician creates a technician at node with a licence issued on 2019-01-01
// and expiring on expiresOn ("" for none).
func technician(t *testing.T, nw *network.Service, p tenants.Principal, node, code, expiresOn string) string {
	t.Helper()
	in := network.NewTechnician{ExternalCode: code, NodeID: node, Name: "Tech " + code, Phone: "+86 138 0000 0000"}
	if expiresOn != "" {
		in.Licence = &network.LicenceInput{Number: "LIC-" + code, IssuedOn: "2019-01-01", ExpiresOn: expiresOn}
	}
	tec, err := nw.CreateTechnician(context.Background(), p, in)
	require.NoError(t, err)
	return tec.ID
}

// expiredEvents lists the subjects of the tenant's technician.licence_expired
// events in the order they were written.
func (b *licenceBundle) expiredEvents(t *testing.T, tenantID string) []string {
	t.Helper()
	subjects := []string{}
	err := pg.InTenantTx(context.Background(), b.db.App, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(context.Background(), `SELECT subject_id FROM events WHERE tenant_id = $1 AND type = $2 ORDER BY seq`,
			tx.TenantID, network.TypeTechnicianLicenceExpired)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			subjects = append(subjects, s)
		}
		return rows.Err()
	})
	require.NoError(t, err)
	return subjects
}

func (b *licenceBundle) work(t *testing.T, at time.Time) {
	t.Helper()
	w := &jobs.LicenceExpiryWorker{Tenants: b.idn, Network: b.network(at), Now: func() time.Time { return at }}
	require.NoError(t, w.Work(context.Background(), &river.Job[jobs.LicenceExpiryArgs]{JobRow: &rivertype.JobRow{}}))
}

func TestLicenceExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupLicence(t)
	created := b.network(time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC))

	sh, shRoot := b.tenant(t, created, "lic-shanghai", "Asia/Shanghai")
	la, laRoot := b.tenant(t, created, "lic-los-angeles", "America/Los_Angeles")
	susp, suspRoot := b.tenant(t, created, "lic-suspended", "Asia/Shanghai")
	_, err := b.db.Owner.Exec(ctx, `UPDATE tenants SET status = 'suspended' WHERE id = $1`, susp.TenantID)
	require.NoError(t, err)

	shDue := technician(t, created, sh, shRoot, "SH-DUE", "2026-03-10")
	technician(t, created, sh, shRoot, "SH-LATER", "2027-01-01")
	technician(t, created, sh, shRoot, "SH-NONE", "")
	shLeft := technician(t, created, sh, shRoot, "SH-LEFT", "2026-03-10")
	left := string(network.TechnicianLeft)
	_, err = created.UpdateTechnician(ctx, sh, shLeft, network.TechnicianUpdate{Status: &left}, 0)
	require.NoError(t, err)
	laDue := technician(t, created, la, laRoot, "LA-DUE", "2026-03-10")
	technician(t, created, susp, suspRoot, "SU-DUE", "2026-03-10")

	// 17:00 UTC on 10 March is 01:00 on the 11th in Shanghai (expired: valid
	// through the 10th) but 10:00 on the 10th in Los Angeles (still valid).
	at := time.Date(2026, 3, 10, 17, 0, 0, 0, time.UTC)

	t.Run("MarksInTheTenantsZone", func(t *testing.T) {
		b.work(t, at)
		require.Equal(t, []string{shDue}, b.expiredEvents(t, sh.TenantID), "only the due, not-left technician")
		require.Empty(t, b.expiredEvents(t, la.TenantID), "still the 10th in Los Angeles")
		require.Empty(t, b.expiredEvents(t, susp.TenantID), "suspended tenants are skipped")

		tec, err := b.network(at).GetTechnician(ctx, sh, shDue)
		require.NoError(t, err)
		require.Equal(t, network.LicenceExpired, tec.Licence.Status)
		require.False(t, tec.Eligible)
		require.Equal(t, 1, tec.Version, "marking is not an edit: the ETag holds")
		tec, err = b.network(at).GetTechnician(ctx, la, laDue)
		require.NoError(t, err)
		require.Equal(t, network.LicenceValid, tec.Licence.Status)
		require.True(t, tec.Eligible)
	})

	t.Run("SecondRunIsANoOp", func(t *testing.T) {
		n, err := b.network(at).ExpireLicences(ctx, sh.TenantID, at)
		require.NoError(t, err)
		require.Zero(t, n)
		b.work(t, at)
		require.Equal(t, []string{shDue}, b.expiredEvents(t, sh.TenantID))
		require.Empty(t, b.expiredEvents(t, la.TenantID))
	})

	t.Run("NextDayInLosAngeles", func(t *testing.T) {
		next := at.Add(24 * time.Hour)
		b.work(t, next)
		require.Equal(t, []string{laDue}, b.expiredEvents(t, la.TenantID))
		require.Equal(t, []string{shDue}, b.expiredEvents(t, sh.TenantID))
	})

	t.Run("RenewalClearsTheMark", func(t *testing.T) {
		day := time.Date(2026, 3, 12, 2, 0, 0, 0, time.UTC)
		tec, err := b.network(day).RenewLicence(ctx, sh, shDue, network.LicenceInput{Number: "LIC-SH-DUE-2", IssuedOn: "2026-03-12", ExpiresOn: "2026-04-30"}, 0)
		require.NoError(t, err)
		require.True(t, tec.Eligible)
		b.work(t, day)
		require.Equal(t, []string{shDue}, b.expiredEvents(t, sh.TenantID), "a renewed licence is not expired")
		// 00:00 UTC on 1 May is 08:00 in Shanghai: the renewed licence has run out.
		b.work(t, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
		require.Equal(t, []string{shDue, shDue}, b.expiredEvents(t, sh.TenantID), "the renewed licence expires in its turn")
	})
}

// TestLicenceExpiryRunsOnStart checks the wiring: a worker River client runs
// the periodic job at start, on the real clock.
func TestLicenceExpiryRunsOnStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupLicence(t)
	// Created in 2020, when a licence running to 2021 was valid; it has expired since.
	past := b.network(time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC))
	p, root := b.tenant(t, past, "lic-on-start", "Asia/Shanghai")
	due := technician(t, past, p, root, "DUE", "2021-01-01")
	require.Empty(t, b.expiredEvents(t, p.TenantID))

	require.NoError(t, newWorker(t, b.db.App, nil).Start(ctx))

	require.Eventually(t, func() bool { return len(b.expiredEvents(t, p.TenantID)) > 0 }, 15*time.Second, 50*time.Millisecond)
	require.Equal(t, []string{due}, b.expiredEvents(t, p.TenantID))
}
