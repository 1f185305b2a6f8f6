package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// TestLocalWebhookDevelopment: on a server started with the loopback
// setting, a test key registers an http://127.0.0.1 endpoint (the local
// listener of `servicenet webhooks listen`), and a test-mode event reaches
// it signed and verified. A live key may not register it, and a private
// address is refused in either mode; each refusal names body.url.
func TestLocalWebhookDevelopment(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.Options{LoopbackWebhooksInTestMode: true})
	ten := env.CreateTenant(t, "local-hooks")
	testKey, _ := testAdminKey(t, env, ten.AdminKey)
	out := &apitest.SyncBuffer{}
	listener := webhooks.NewListener(out)
	srv := httptest.NewServer(listener) // listens on 127.0.0.1, not on the test allowlist
	t.Cleanup(srv.Close)
	url := srv.URL + "/hooks"
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"))

	for _, c := range []struct{ key, url string }{
		{ten.AdminKey, url}, // loopback in live mode
		{ten.AdminKey, strings.Replace(url, "127.0.0.1", "localhost", 1)},
		{testKey, "http://10.0.0.7/hooks"}, // private, even in test mode
		{testKey, "https://192.168.1.20/hooks"},
		{testKey, "https://169.254.169.254/latest/meta-data"},
		{ten.AdminKey, "https://192.0.2.10/hooks"}, // TEST-NET-1
	} {
		r := env.Do(t, http.MethodPost, "/v1/webhooks", c.key, map[string]any{"url": c.url, "event_types": []string{"unit.*"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", c.url, r.Body)
		require.Contains(t, string(r.Body), `"location":"body.url"`, "%s", r.Body)
	}

	id, secret := createEndpoint(t, env, testKey, map[string]any{"url": url, "event_types": []string{"unit.*"}})
	require.NotEmpty(t, id)
	listener.SetSecrets(secret)
	emitEventIn(testModeCtx(), t, env, ten.ID, "unit.registered", map[string]any{"serial": "LOCAL-1"})
	require.Eventually(t, func() bool { return strings.Contains(out.String(), " verified unit.registered ") },
		20*time.Second, 50*time.Millisecond, "listener output: %s", out.String())
	require.Contains(t, out.String(), "LOCAL-1")
	require.NotContains(t, out.String(), "REJECTED")
	// A live event never reaches the test endpoint.
	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"serial": "LIVE-1"})
	time.Sleep(1500 * time.Millisecond)
	require.NotContains(t, out.String(), "LIVE-1")
}
