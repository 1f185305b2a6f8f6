package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants/identity"
)

// oneTenantLister lists an active and a suspended tenant.
type oneTenantLister struct{}

func (oneTenantLister) ListTenants(context.Context, int, string) ([]identity.Tenant, string, error) {
	return []identity.Tenant{{ID: "ten_active", Status: "active"}, {ID: "ten_suspended", Status: "suspended"}}, "", nil
}

// recordingApplier records the retention runs it is asked for.
type recordingApplier struct {
	name string
	runs *[]string
	err  error
}

func (a recordingApplier) ApplyRetention(ctx context.Context, tenantID string, now time.Time) (int, error) {
	*a.runs = append(*a.runs, a.name+" "+tenantID+" "+pg.ModeName(pg.Livemode(ctx)))
	return 0, a.err
}

// TestPrivacyRetentionMasksTicketsThenCustomers: the retention job applies
// every active tenant's policy to its tickets, then to its customers, in
// each mode; a failure of the tickets' does not hold the customers' back,
// and the job fails so that its retry goes on. Failed before: the job
// masked tickets only (customers kept their data for ever).
func TestPrivacyRetentionMasksTicketsThenCustomers(t *testing.T) {
	t.Parallel()
	var runs []string
	w := &jobs.PrivacyRetentionWorker{Tenants: oneTenantLister{},
		Tickets:   recordingApplier{name: "tickets", runs: &runs, err: errors.New("tickets failed")},
		Customers: recordingApplier{name: "customers", runs: &runs},
		Now:       func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }}
	err := w.Work(context.Background(), &river.Job[jobs.PrivacyRetentionArgs]{})
	require.ErrorContains(t, err, "tickets failed")
	require.Len(t, runs, 4, "%v", runs)
	for i := 0; i < len(runs); i += 2 {
		require.Regexp(t, `^tickets ten_active `, runs[i])
		require.Equal(t, "customers"+runs[i][len("tickets"):], runs[i+1], "the same tenant and mode, after the tickets")
	}
}
