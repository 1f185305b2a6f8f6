package api_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// The API reference works without a connection to anywhere but the server:
// its page and assets come from the binary, and the page may load nothing
// from elsewhere (its Content-Security-Policy).
func TestDocsServedFromTheBinary(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)

	page := env.Do(t, "GET", "/docs", "", nil)
	require.Equal(t, 200, page.Status, string(page.Body))
	require.Equal(t, "text/html; charset=utf-8", page.Header.Get("Content-Type"))
	require.NotContains(t, string(page.Body), "://", "the page names no other origin")
	csp := page.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'"} {
		require.Contains(t, csp, want)
	}
	for path, kind := range map[string]string{
		"/docs/assets/web-components.min.js": "text/javascript; charset=utf-8",
		"/docs/assets/styles.min.css":        "text/css; charset=utf-8",
		"/docs/assets/boot.js":               "text/javascript; charset=utf-8",
	} {
		r := env.Do(t, "GET", path, "", nil)
		require.Equal(t, 200, r.Status, path)
		require.Equal(t, kind, r.Header.Get("Content-Type"), path)
	}
	boot := env.Do(t, "GET", "/docs/assets/boot.js", "", nil)
	require.Contains(t, string(boot.Body), "window.location.origin", "try it targets the address the page came from")
	require.Equal(t, 404, env.Do(t, "GET", "/docs/assets/nothing.js", "", nil).Status)
}

// chromium is Debian's Chromium (.ci/run installs it); without it the
// browser check is skipped locally, and fails in CI (SERVICENET_REQUIRE_BROWSER).
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("SERVICENET_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium is required (SERVICENET_REQUIRE_BROWSER) but not installed: apt-get install chromium")
		}
		t.Skip("chromium is not installed (apt-get install chromium); the docs browser check is skipped")
	}
	return path
}

// The reference renders in headless Chromium with every host but the
// server's own unresolvable, and "try it" sends its request to the server
// the page was loaded from.
func TestDocsRenderOffline(t *testing.T) {
	t.Parallel()
	browser := chromium(t)
	env := apitest.Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(),
		"--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", // the outside is unreachable
		"--virtual-time-budget=20000", "--dump-dom", env.Server.URL+"/docs#/operations/getHealth")
	dom, err := cmd.Output()
	require.NoError(t, err)
	page := string(dom)
	require.Contains(t, page, "Liveness probe", "the operation is rendered")
	require.Contains(t, page, "Send API Request", "try it is there")
	host := strings.TrimPrefix(env.Server.URL, "http://")
	require.Contains(t, page, host+"/healthz", "try it targets the server the page came from")
	require.NotContains(t, page, "localhost:8080", "not the spec's default host")
}
