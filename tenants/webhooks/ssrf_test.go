package webhooks

import (
	"context"
	"net/netip"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
)

func TestBlockedReason(t *testing.T) {
	t.Parallel()
	for _, a := range []string{"127.0.0.1", "127.9.9.9", "::1", "10.0.0.1", "172.31.255.255", "192.168.0.1", "fc00::1", "fd00:ec2::254",
		"169.254.169.254", "fe80::1", "0.0.0.0", "::", "100.64.0.1", "100.100.100.200", "224.0.0.251", "ff02::1",
		"::ffff:10.0.0.1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "198.18.0.1", "255.255.255.255", "192.0.0.170", "2002:7f00:1::1",
		// What the hand-written list missed (audit, issue 14): the TEST-NETs,
		// the 6to4 relay anycast, IPv4-compatible ::a.b.c.d forms and
		// reserved IPv6 ranges.
		"192.0.2.1", "198.51.100.7", "203.0.113.200", "192.88.99.1", "::127.0.0.1", "::10.0.0.1", "::8.8.8.8",
		"2001:db8::1", "2001:2::1", "2001:10::1", "100::1", "fec0::1", "3fff::1", "64:ff9b:1::1", "2620:4f:8000::1"} {
		require.NotEmpty(t, blockedReason(publicOnly, netip.MustParseAddr(a)), a)
	}
	// Public addresses are parsed, never dialled.
	for _, a := range []string{"8.8.8.8", "1.1.1.1", "2606:4700::1111", "100.128.0.1", "172.32.0.1"} {
		require.Empty(t, blockedReason(publicOnly, netip.MustParseAddr(a)), a)
	}
	// The test-mode guard admits loopback, and nothing else that is not public.
	for _, a := range []string{"127.0.0.1", "127.9.9.9", "::1"} {
		require.Empty(t, blockedReason(publicOrLoopback, netip.MustParseAddr(a)), a)
	}
	for _, a := range []string{"10.0.0.1", "192.168.0.1", "169.254.169.254", "::ffff:127.0.0.1", "::127.0.0.1", "192.0.2.1", "fc00::1"} {
		require.NotEmpty(t, blockedReason(publicOrLoopback, netip.MustParseAddr(a)), a)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	s := &Service{}
	ctx := context.Background()
	for _, u := range []string{"http://8.8.8.8/x", "https://127.0.0.1/", "https://localhost/", "https://[::1]:8443/",
		"https://u:p@8.8.8.8/", "/relative", "https://8.8.8.8/#frag", "https://169.254.169.254/", "https://192.0.2.1/",
		"https://[::127.0.0.1]/", "ftp://8.8.8.8/"} {
		require.NotEmpty(t, s.CheckURL(ctx, u), u)
	}
	require.Empty(t, s.CheckURL(ctx, "https://8.8.8.8/hooks"))
	require.Empty(t, s.CheckURL(ctx, "https://8.8.8.8:8443/hooks"), "any port")
	require.NotEmpty(t, s.CheckURL(ctx, "http://127.0.0.1:9/x"))
	s.AllowHost("127.0.0.1:9")
	require.Empty(t, s.CheckURL(ctx, "http://127.0.0.1:9/x"), "the test allowlist")
	require.NotEmpty(t, s.CheckURL(ctx, "http://127.0.0.1:10/x"), "only the allowed port")
	live := s.dialControl(publicOnly)
	require.NoError(t, live("tcp4", "127.0.0.1:9", nil))
	require.ErrorIs(t, live("tcp4", "127.0.0.1:10", nil), errBlocked)
	require.ErrorIs(t, live("tcp6", "[::ffff:169.254.169.254]:443", nil), errBlocked)
	require.NoError(t, live("tcp4", "8.8.8.8:443", nil))
}

// TestLoopbackInTestModeOnly: with the server setting, a test-mode endpoint
// may be a loopback URL (plain http too); live mode, and test mode without
// the setting, refuse it; private addresses are refused in every mode.
func TestLoopbackInTestModeOnly(t *testing.T) {
	t.Parallel()
	test := pg.WithLivemode(context.Background(), false)
	live := pg.WithLivemode(context.Background(), true)
	off := &Service{}
	on := &Service{Guard: Guard{LoopbackInTestMode: true}}
	for _, u := range []string{"http://127.0.0.1:4242/hooks", "http://localhost:4242/", "https://[::1]:8443/", "http://127.0.0.1/"} {
		require.Empty(t, on.CheckURL(test, u), u)
		require.Contains(t, on.CheckURL(live, u).Render(i18n.English), "loopback", u)
		require.NotEmpty(t, off.CheckURL(test, u), u)
	}
	for _, u := range []string{"http://10.0.0.1/", "https://192.168.1.10/", "http://169.254.169.254/", "https://[fc00::1]/",
		"https://[::ffff:127.0.0.1]/", "https://192.0.2.1/", "http://8.8.8.8/"} {
		require.NotEmpty(t, on.CheckURL(test, u), u)
	}
	require.NoError(t, on.dialControl(publicOrLoopback)("tcp4", "127.0.0.1:4242", nil))
	require.ErrorIs(t, on.dialControl(publicOrLoopback)("tcp4", "10.0.0.1:80", nil), errBlocked)
	require.ErrorIs(t, on.dialControl(publicOnly)("tcp4", "127.0.0.1:4242", nil), errBlocked)
}

func TestSignVerifiesWithTheOfficialLibrary(t *testing.T) {
	t.Parallel()
	secret := newSecret()
	body := []byte(`{"type":"unit.registered","timestamp":"2026-11-30T00:00:00Z","data":{}}`)
	now := time.Now()
	sig, err := Sign(secret, "evt_1", now, body)
	require.NoError(t, err)
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	want, err := wh.Sign("evt_1", now, body)
	require.NoError(t, err)
	require.Equal(t, want, sig)
	_, err = Sign("whsec_!!!", "evt_1", now, body)
	require.Error(t, err)
}

func TestMatches(t *testing.T) {
	t.Parallel()
	require.True(t, Matches([]string{"*"}, "claim.submitted"))
	require.True(t, Matches([]string{"claim.*"}, "claim.submitted"))
	require.True(t, Matches([]string{"claim.*"}, "claim.line.added"))
	require.False(t, Matches([]string{"claim.*"}, "claims.submitted"))
	require.True(t, Matches([]string{"unit.registered"}, "unit.registered"))
	require.False(t, Matches([]string{"unit.registered"}, "unit.registered_again"))
}
