package complaints_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/complaints"
)

// A real clock has nanoseconds; Postgres keeps microseconds. The SLA timer
// carries the deadline it was scheduled for (with nanoseconds, in its JSON
// args) and must still find the stored deadline its own: the complaint
// escalates at every level. Before the fix the timer compared the two
// exactly, found "another deadline" and never escalated anything filed
// through the API.
func TestReviewSLATimerWithSubMicrosecondClock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tenant := b.admin.TenantID
	b.mu.Lock()
	b.clock = time.Date(2026, 11, 20, 1, 30, 0, 123456789, time.UTC)
	b.mu.Unlock()

	c, err := b.svc.FileComplaint(ctx, b.admin, complaints.NewComplaint{TicketID: b.ticketA, Category: "attitude", Severity: "high",
		Description: "师傅态度恶劣"})
	require.NoError(t, err)
	tm := b.lastTimer(t)
	require.Equal(t, 1, tm.level)
	require.WithinDuration(t, b.now().Add(24*time.Hour), tm.due, time.Microsecond, "high: 24 h")

	ok, err := b.svc.SLAExpired(ctx, tenant, c.ID, tm.level, tm.due)
	require.NoError(t, err)
	require.True(t, ok, "the filing's own timer escalates to the dispatcher")
	tm2 := b.lastTimer(t)
	require.Equal(t, 2, tm2.level)
	ok, err = b.svc.SLAExpired(ctx, tenant, c.ID, tm2.level, tm2.due)
	require.NoError(t, err)
	require.True(t, ok, "the dispatcher's timer escalates to the node manager")
	got, err := b.svc.GetComplaint(ctx, b.admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, 2, got.EscalationLevel)
	require.Equal(t, "node_manager", got.EscalatedTo)

	// A timer for a deadline that really moved still does nothing.
	ok, err = b.svc.SLAExpired(ctx, tenant, c.ID, 3, tm2.due.Add(time.Millisecond))
	require.NoError(t, err)
	require.False(t, ok)
}
