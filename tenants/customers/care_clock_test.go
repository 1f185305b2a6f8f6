package customers_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// A unit attached to a test clock is reminded of care on the clock's
// today: under a 90-day policy, a washer bought 100 days ago on a clock 20
// days back (its day 80) is not due, though the wall clock's day 100 is
// past the interval; advanced 15 days (day 95) the clock's advance emits
// its reminder, due on the purchase day plus 90, once. A unit bought 10
// days ago on a clock advanced 85 days (day 95) is due for the hourly run
// too; the same unit on no clock is not. A replacement keeps its unit's
// clock. A live caller cannot attach, and another storefront's unit is not
// found.
func TestCareReminderOnATestClockFallsDueOnTheClock(t *testing.T) {
	const day = 24 * time.Hour
	e := domaintest.New(t)
	e.TestMode()
	_, err := e.Customers.SetCarePolicy(e.Ctx, e.Admin, customers.CarePolicy{Enabled: true, IntervalDays: new(90)}, 0)
	require.NoError(t, err)
	washer, _ := e.Product(t, "W-CARE", "washer", 12, "pump", 8500)
	now := time.Now().Truncate(time.Second)
	reminders := func(t *testing.T, unit string) []string {
		t.Helper()
		rows, err := e.Tx.Query(e.Ctx, `SELECT to_char(due_on, 'YYYY-MM-DD') FROM care_reminders WHERE tenant_id = $1 AND unit_id = $2
			ORDER BY due_on`, e.Tenant, unit)
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			var d string
			require.NoError(t, rows.Scan(&d))
			out = append(out, d)
		}
		require.NoError(t, rows.Err())
		return out
	}
	events := func(t *testing.T, unit string) int {
		t.Helper()
		return e.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'unit.care_due' AND subject_id = $2`, unit)
	}

	// A clock in the past: not due on the clock, due once the clock passes
	// the interval.
	past := e.TestClock(t, now.Add(-20*day))
	old := e.Unit(t, washer, "WSN-CARE-1", -100, "+86 139 0000 0501")
	_, err = e.TestClocks.Attach(e.Ctx, e.Admin, past, old)
	require.NoError(t, err)
	u, err := e.Customers.GetUnit(e.Ctx, e.Admin, old)
	require.NoError(t, err)
	require.Equal(t, past, *u.TestClockID)
	n, err := e.Customers.RemindCare(e.Ctx, e.Tenant, now)
	require.NoError(t, err)
	require.Zero(t, n, "day 80 on the clock: not due (the wall clock's day 100 is)")
	require.Empty(t, reminders(t, old))
	e.AdvanceClock(t, past, now.Add(-5*day))
	n, err = e.Customers.RemindClockCare(e.Ctx, e.Tenant, past) // what the advance's job does
	require.NoError(t, err)
	require.Equal(t, 1, n, "day 95 on the clock")
	require.Equal(t, []string{domaintest.Today(-10)}, reminders(t, old), "due on the purchase day plus 90")
	require.Equal(t, 1, events(t, old))
	n, err = e.Customers.RemindCare(e.Ctx, e.Tenant, now)
	require.NoError(t, err)
	require.Zero(t, n, "announced once")

	// A clock advanced ahead: the hourly run judges the unit on it; a unit
	// on no clock with the same purchase day is not due.
	ahead := e.TestClock(t, now)
	young := e.Unit(t, washer, "WSN-CARE-2", -10, "+86 139 0000 0502")
	wall := e.Unit(t, washer, "WSN-CARE-3", -10, "+86 139 0000 0503")
	_, err = e.TestClocks.Attach(e.Ctx, e.Admin, ahead, young)
	require.NoError(t, err)
	n, err = e.Customers.RemindClockCare(e.Ctx, e.Tenant, ahead)
	require.NoError(t, err)
	require.Zero(t, n, "day 10 on the clock")
	e.AdvanceClock(t, ahead, now.Add(85*day))
	n, err = e.Customers.RemindCare(e.Ctx, e.Tenant, now)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the unit on the clock, at day 95")
	require.Equal(t, []string{domaintest.Today(80)}, reminders(t, young))
	require.Empty(t, reminders(t, wall), "day 10 on the wall clock")
	n, err = e.Customers.RemindClockCare(e.Ctx, e.Tenant, ahead)
	require.NoError(t, err)
	require.Zero(t, n, "announced once")

	// The replacement of a unit on a clock stays on it.
	nu, err := customers.ReplaceUnitSystemTx(e.Ctx, pg.TenantTx{Tx: e.Tx, TenantID: e.Tenant}, "system", young,
		customers.Replacement{ModelID: washer, Serial: "WSN-CARE-4"}, now.Add(85*day))
	require.NoError(t, err)
	require.NotNil(t, nu.TestClockID)
	require.Equal(t, ahead, *nu.TestClockID)

	// Attaching: a live caller finds no clock; another storefront's key
	// does not see the unit; a unit on another clock is a conflict.
	live := e.Admin
	live.Live = true
	_, err = e.TestClocks.Attach(pg.WithLivemode(e.Ctx, true), live, ahead, wall)
	require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err), "%v", err)
	_, err = e.TestClocks.Attach(e.Ctx, e.Admin, ahead, old)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
	sf, err := e.Customers.CreateStorefront(e.Ctx, e.Admin, customers.NewStorefront{Code: "CARE-SHOP", Name: "CARE-SHOP", Platform: "tmall"})
	require.NoError(t, err)
	shop := e.As(tenants.Principal{StorefrontID: sf.ID}, tenants.RoleStorefront)
	shop.Live = false
	shopClock, err := e.TestClocks.Create(e.Ctx, shop, testclocks.NewClock{})
	require.NoError(t, err)
	_, err = e.TestClocks.Attach(e.Ctx, shop, shopClock.ID, wall)
	require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err), "%v", err)
}
