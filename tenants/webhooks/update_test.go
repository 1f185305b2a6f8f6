package webhooks_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/webhooks"
)

// A PATCH whose values are the endpoint's own changes nothing: no version
// (so no ETag) bump, no updated_at, no webhook_endpoint.updated event. One
// that changes a field bumps the version once and tells of it once.
func TestUpdateEndpointWithItsOwnValuesChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, "whk-noop-patch")
	ctx := context.Background()
	b.svc.AllowHost("127.0.0.1:9")
	created, err := b.svc.CreateEndpoint(ctx, b.p, webhooks.NewEndpoint{URL: "http://127.0.0.1:9/a",
		EventTypes: []string{"claim.*", "unit.registered"}, Description: "Order system"})
	require.NoError(t, err)
	updates := func() int {
		return b.count(t, `SELECT count(*) FROM events WHERE type = 'webhook_endpoint.updated'`)
	}

	url, types, desc, on := " http://127.0.0.1:9/a ", []string{"claim.*", "unit.registered", "claim.*"}, "Order system", true
	same := webhooks.EndpointUpdate{URL: &url, EventTypes: &types, Description: &desc, Enabled: &on}
	for _, u := range []webhooks.EndpointUpdate{same, {Enabled: &on}, {}} {
		got, err := b.svc.UpdateEndpoint(ctx, b.p, created.ID, u, created.Version)
		require.NoError(t, err)
		require.Equal(t, created.Endpoint, got, "a PATCH that changes nothing answers the endpoint as it is")
	}
	cur, err := b.svc.GetEndpoint(ctx, b.p, created.ID)
	require.NoError(t, err)
	require.Equal(t, created.Endpoint, cur, "failed before: version 2, then 3 and 4")
	require.Zero(t, updates(), "nothing changed, nothing to tell")

	desc2 := "Order system v2"
	got, err := b.svc.UpdateEndpoint(ctx, b.p, created.ID, webhooks.EndpointUpdate{URL: &url, Description: &desc2}, created.Version)
	require.NoError(t, err)
	require.Equal(t, created.Version+1, got.Version)
	require.Equal(t, desc2, got.Description)
	require.Equal(t, created.URL, got.URL)
	require.Equal(t, 1, updates())

	// Disabling a disabled endpoint keeps why it was disabled.
	off := false
	got, err = b.svc.UpdateEndpoint(ctx, b.p, created.ID, webhooks.EndpointUpdate{Enabled: &off}, got.Version)
	require.NoError(t, err)
	require.False(t, got.Enabled)
	again, err := b.svc.UpdateEndpoint(ctx, b.p, created.ID, webhooks.EndpointUpdate{Enabled: &off}, got.Version)
	require.NoError(t, err)
	require.Equal(t, got, again)
	require.Equal(t, 2, updates())
}
