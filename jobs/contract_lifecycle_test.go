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
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
)

type contractBundle struct {
	db  *pgtest.DB
	idn *identity.Service
}

func setupContracts(t *testing.T) *contractBundle {
	t.Helper()
	db := pgtest.NewDB(t)
	return &contractBundle{db: db, idn: &identity.Service{DB: db.App}}
}

// warranty is a warranty service whose clock stands at now (zero: the wall
// clock).
func (b *contractBundle) warranty(now time.Time) *warranty.Service {
	svc, err := warranty.NewService(b.db.App, warranty.Deps{Jobs: tickets.ServedTx})
	if err != nil {
		panic(err)
	}
	if !now.IsZero() {
		svc.Now = func() time.Time { return now }
	}
	return svc
}

func (b *contractBundle) tenant(t *testing.T, slug, zone string) tenants.Principal {
	t.Helper()
	ten, key, err := b.idn.CreateTenant(context.Background(), identity.NewTenant{Name: "Brand " + slug, Slug: slug, TimeZone: zone}, "operator")
	require.NoError(t, err)
	return tenants.Principal{TenantID: ten.ID, KeyID: key.ID, Roles: []string{tenants.RoleTenantAdmin}}
}

// contractUnit writes a model of category (12 months' warranty), a customer
// and a unit bought on purchase, as the owner in the tenant's RLS scope.
func (b *contractBundle) contractUnit(t *testing.T, tenantID, category, purchase string) string {
	t.Helper()
	ctx := context.Background()
	id := tenants.NewID(tenants.PrefixUnit)
	require.NoError(t, pg.InTenantTx(ctx, b.db.Owner, tenantID, func(tx pg.TenantTx) error {
		model, customer := tenants.NewID(tenants.PrefixProductModel), tenants.NewID(tenants.PrefixCustomer)
		if _, err := tx.Exec(ctx, `INSERT INTO product_models (tenant_id, id, model_number, category, name, retail_price, currency, warranty_months)
			VALUES ($1, $2, $2, $3, 'Model', 299900, 'CNY', 12)`, tx.TenantID, model, category); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, name, phones) VALUES ($1, $2, '李四', ARRAY['+8613900000000'])`,
			tx.TenantID, customer); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO units (tenant_id, id, model_id, serial, customer_id, purchase_date, channel, purchase_price, currency, created_by)
			VALUES ($1, $2, $3, $2::text, $4, $5::date, 'brand_store', 299900, 'CNY', 'test')`, tx.TenantID, id, model, customer, purchase)
		return err
	}))
	return id
}

// contractEvents lists the tenant's contract.* events as "type subject", in
// the order they were written.
func (b *contractBundle) contractEvents(t *testing.T, tenantID string) []string {
	t.Helper()
	out := []string{}
	ctx := context.Background()
	require.NoError(t, pg.InTenantTx(ctx, b.db.App, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT type || ' ' || subject_id FROM events WHERE tenant_id = $1 AND type LIKE 'contract.%' ORDER BY seq`, tx.TenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	}))
	return out
}

func (b *contractBundle) work(t *testing.T, at time.Time) {
	t.Helper()
	w := &jobs.ContractLifecycleWorker{Tenants: b.idn, Warranty: b.warranty(at), Now: func() time.Time { return at }}
	require.NoError(t, w.Work(context.Background(), &river.Job[jobs.ContractLifecycleArgs]{JobRow: &rivertype.JobRow{}}))
}

func TestContractLifecycleJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupContracts(t)
	sold := b.warranty(time.Date(2026, 6, 2, 4, 0, 0, 0, time.UTC))

	sell := func(t *testing.T, p tenants.Principal, category, kind string) string {
		t.Helper()
		plans, err := sold.SeedDemoPlans(ctx, p)
		require.NoError(t, err)
		c, err := sold.CreateContract(ctx, p, warranty.NewContract{UnitID: b.contractUnit(t, p.TenantID, category, "2026-06-01"), PlanID: plans[kind]})
		require.NoError(t, err)
		require.Equal(t, warranty.StatePending, c.State, "sold before day 31")
		return c.ID
	}
	sh := b.tenant(t, "ctr-shanghai", "Asia/Shanghai")
	la := b.tenant(t, "ctr-los-angeles", "America/Los_Angeles")
	susp := b.tenant(t, "ctr-suspended", "Asia/Shanghai")
	// Bought 2026-06-01: accidental damage covers 2026-07-01 (day 31) to 2027-06-30.
	shC := sell(t, sh, "phone", "accidental_damage")
	laC := sell(t, la, "phone", "accidental_damage")
	suspC := sell(t, susp, "phone", "accidental_damage")
	_, err := b.db.Owner.Exec(ctx, `UPDATE tenants SET status = 'suspended' WHERE id = $1`, susp.TenantID)
	require.NoError(t, err)
	created := func(id string) string { return warranty.TypeContractCreated + " " + id }
	activated := func(id string) string { return warranty.TypeContractActivated + " " + id }
	expired := func(id string) string { return warranty.TypeContractExpired + " " + id }

	// 17:00 UTC on 30 June is 01:00 on 1 July in Shanghai, 10:00 on 30 June in Los Angeles.
	at := time.Date(2026, 6, 30, 17, 0, 0, 0, time.UTC)
	t.Run("ActivatesInTheTenantsZone", func(t *testing.T) {
		b.work(t, at)
		require.Equal(t, []string{created(shC), activated(shC)}, b.contractEvents(t, sh.TenantID))
		require.Equal(t, []string{created(laC)}, b.contractEvents(t, la.TenantID), "still 30 June in Los Angeles")
		require.Equal(t, []string{created(suspC)}, b.contractEvents(t, susp.TenantID), "suspended tenants are skipped")
		c, err := b.warranty(at).GetContract(ctx, sh, shC)
		require.NoError(t, err)
		require.Equal(t, warranty.StateActive, c.State)
		require.Equal(t, 2, c.Version, "a state change is a change: the ETag moves")
	})
	t.Run("SecondRunIsANoOp", func(t *testing.T) {
		b.work(t, at)
		require.Equal(t, []string{created(shC), activated(shC)}, b.contractEvents(t, sh.TenantID))
	})
	t.Run("NextDayInLosAngeles", func(t *testing.T) {
		b.work(t, at.Add(24*time.Hour))
		require.Equal(t, []string{created(laC), activated(laC)}, b.contractEvents(t, la.TenantID))
	})
	t.Run("ExpiresAfterTheLastDay", func(t *testing.T) {
		// 15:00 UTC on 30 June 2027 is 23:00 in Shanghai: the last day.
		b.work(t, time.Date(2027, 6, 30, 15, 0, 0, 0, time.UTC))
		require.Equal(t, []string{created(shC), activated(shC)}, b.contractEvents(t, sh.TenantID))
		b.work(t, time.Date(2027, 6, 30, 16, 0, 0, 0, time.UTC))
		require.Equal(t, []string{created(shC), activated(shC), expired(shC)}, b.contractEvents(t, sh.TenantID))
		h, err := b.warranty(at).ContractHistory(ctx, sh, shC)
		require.NoError(t, err)
		require.Len(t, h, 3)
		require.Equal(t, warranty.StateExpired, h[2].ToState)
		require.Equal(t, "coverage ended", h[2].Reason)
	})
}

// TestContractLifecycleRunsOnStart checks the wiring: a worker River client
// runs the periodic job at start, on the real clock.
func TestContractLifecycleRunsOnStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupContracts(t)
	// Sold in 2020 before day 31: pending then, long expired now.
	past := b.warranty(time.Date(2020, 1, 5, 4, 0, 0, 0, time.UTC))
	p := b.tenant(t, "ctr-on-start", "Asia/Shanghai")
	plans, err := past.SeedDemoPlans(ctx, p)
	require.NoError(t, err)
	c, err := past.CreateContract(ctx, p, warranty.NewContract{UnitID: b.contractUnit(t, p.TenantID, "phone", "2020-01-01"), PlanID: plans["accidental_damage"]})
	require.NoError(t, err)
	require.Equal(t, warranty.StatePending, c.State)

	a := newWorker(t, b.db.App, nil)
	require.NoError(t, a.Start(ctx))

	require.Eventually(t, func() bool { return len(b.contractEvents(t, p.TenantID)) > 1 }, 15*time.Second, 50*time.Millisecond)
	require.Equal(t, []string{warranty.TypeContractCreated + " " + c.ID, warranty.TypeContractExpired + " " + c.ID}, b.contractEvents(t, p.TenantID))
	got, err := a.Warranty.GetContract(ctx, p, c.ID)
	require.NoError(t, err)
	require.Equal(t, warranty.StateExpired, got.State)
}
