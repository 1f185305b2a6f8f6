package domaintest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// TestMode puts Ctx and Admin in test mode, as a test key's requests are:
// test clocks, and what lives on them, exist in test mode only. A test
// that also calls as live keeps Ctx and Admin before.
func (e *Env) TestMode() {
	e.Ctx = pg.WithLivemode(e.Ctx, false)
	e.Admin.Live = false
}

// TestClock creates a test clock frozen at at, as Admin (call TestMode
// first), and returns its ID.
func (e *Env) TestClock(t testing.TB, at time.Time) string {
	t.Helper()
	c, err := e.TestClocks.Create(e.Ctx, e.Admin, testclocks.NewClock{FrozenTime: &at})
	require.NoError(t, err)
	return c.ID
}

// AdvanceClock moves clock forward to to, as Admin. The advance's job is
// only enqueued (jobs never run in an Env): a test that needs what it does
// calls it (Warranty.AdvanceClockContracts, Customers.RemindClockCare).
// The clock is then marked ready, as the job would once done, so that it
// can be advanced again (an advancing clock is not).
func (e *Env) AdvanceClock(t testing.TB, clock string, to time.Time) {
	t.Helper()
	_, err := e.TestClocks.Advance(e.Ctx, e.Admin, clock, to)
	require.NoError(t, err)
	var seq int
	require.NoError(t, pg.InTenantTx(e.Ctx, e.Tx, e.Admin.TenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(e.Ctx, `SELECT advance_seq FROM test_clocks WHERE tenant_id = $1 AND id = $2`, tx.TenantID, clock).Scan(&seq)
	}))
	require.NoError(t, e.TestClocks.Ready(e.Ctx, e.Admin.TenantID, clock, seq))
}

// NowAt is a service's Now that a test moves by setting *at: the wall
// clock while *at is zero, *at after. A test sets it on the services whose
// times it follows (e.Tickets.Now = domaintest.NowAt(&now)).
func NowAt(at *time.Time) func() time.Time {
	return func() time.Time {
		if at.IsZero() {
			return time.Now()
		}
		return *at
	}
}
