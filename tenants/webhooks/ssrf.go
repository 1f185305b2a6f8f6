package webhooks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"code.dny.dev/ssrf"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
)

// The address guards, from code.dny.dev/ssrf (its deny lists are
// generated from IANA's special-purpose registries: RFC 1918 and the other
// private ranges, loopback, link-local and the 169.254.169.254 metadata
// address, CGNAT, the TEST-NETs, 192.88.99.0/24, benchmarking, multicast
// and reserved space; for IPv6 everything outside 2000::/3, which takes in
// ::1, ::a.b.c.d, ::ffff:a.b.c.d, NAT64, ULA and link-local, and the
// documentation, 6to4, Teredo and other reserved ranges within it). Any
// port may be used.
var (
	// publicOnly admits public addresses only: live mode, always.
	publicOnly = ssrf.New(ssrf.WithAnyPort())
	// publicOrLoopback also admits 127.0.0.0/8 and ::1: test mode, on a
	// server that allows loopback webhooks for local development
	// (Guard.LoopbackInTestMode). Private addresses stay refused.
	publicOrLoopback = ssrf.New(ssrf.WithAnyPort(),
		ssrf.WithAllowedV4Prefixes(netip.MustParsePrefix("127.0.0.0/8")),
		ssrf.WithAllowedV6Prefixes(netip.MustParsePrefix("::1/128")))
)

// Guard keeps outbound requests to URLs a tenant supplied (webhook
// endpoints, notification gateways) on public addresses: CheckURL at
// registration, and Client's dialer re-checks every address it dials (after
// DNS, so a name that re-resolves to a private address is still refused).
// Its zero value is ready to use.
type Guard struct {
	// HTTPSOnly refuses plain http even for a host allowed by AllowHost or
	// a loopback endpoint in test mode (notification gateways).
	HTTPSOnly bool
	// LoopbackInTestMode lets test-mode URLs be loopback URLs
	// (http://127.0.0.1:port, http://localhost:port) for local webhook
	// development (LoopbackSetting). Live mode never reaches loopback;
	// private addresses stay refused in both modes.
	LoopbackInTestMode bool

	mu    sync.RWMutex
	allow map[string]bool
	roots *x509.CertPool

	clientOnce     sync.Once
	client         *http.Client
	loopbackClient *http.Client
}

// guardian is the address guardian for ctx's mode.
func (g *Guard) guardian(ctx context.Context) *ssrf.Guardian {
	if g.LoopbackInTestMode && !pg.Livemode(ctx) {
		return publicOrLoopback
	}
	return publicOnly
}

// blockedReason says why g refuses ip as a webhook target (the kind of
// address), or is the zero Message when it may be one.
func blockedReason(g *ssrf.Guardian, ip netip.Addr) i18n.Message {
	if g.SafeAddr(ip) == nil {
		return i18n.Message{}
	}
	u := ip.Unmap()
	switch {
	case u.IsLoopback():
		return i18n.M("webhooks.address_loopback", "Setting", LoopbackSetting)
	case u.IsPrivate():
		return i18n.M("webhooks.address_private")
	case u.IsLinkLocalUnicast(), u.IsLinkLocalMulticast():
		return i18n.M("webhooks.address_link_local")
	case u.IsUnspecified():
		return i18n.M("webhooks.address_unspecified")
	case u.IsMulticast():
		return i18n.M("webhooks.address_multicast")
	}
	return i18n.M("webhooks.address_reserved")
}

// LoopbackSetting is the server setting that lets test-mode endpoints be
// http://127.0.0.1 or http://localhost URLs.
const LoopbackSetting = "SERVICENET_ALLOW_LOOPBACK_WEBHOOKS_IN_TEST_MODE"

// AllowHost lets URLs use hostport (the host:port of a URL, e.g. an
// httptest server's 127.0.0.1:54321), over plain http too unless
// HTTPSOnly, bypassing the address checks at registration and at dial
// time. For tests only: nothing outside a test ever calls it.
func (g *Guard) AllowHost(hostport string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.allow == nil {
		g.allow = map[string]bool{}
	}
	g.allow[hostport] = true
}

// TrustRoots makes Client trust pool's certificates instead of the
// system's (an httptest TLS server's). For tests only, before the first
// request.
func (g *Guard) TrustRoots(pool *x509.CertPool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.roots = pool
}

func (g *Guard) allowed(hostport string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.allow[hostport]
}

// lookupTimeout bounds the registration-time DNS lookup.
const lookupTimeout = 5 * time.Second

// CheckURL is the registration-time check of a URL: https, no credentials,
// no fragment, and a host whose every resolved address the mode's guardian
// admits (a loopback URL in test mode may be plain http unless HTTPSOnly).
// It returns the problem (a field message), or nil when the URL may be used.
func (g *Guard) CheckURL(ctx context.Context, raw string) *i18n.Message {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return msg("webhooks.url_absolute_https")
	}
	if u.User != nil {
		return msg("webhooks.url_credentials")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return msg("webhooks.url_fragment")
	}
	plainOK := u.Scheme == "https" || (u.Scheme == "http" && !g.HTTPSOnly)
	if g.allowed(u.Host) && plainOK {
		return nil
	}
	if u.Scheme != "https" && (u.Scheme != "http" || g.HTTPSOnly) {
		return msg("webhooks.url_https")
	}
	gd := g.guardian(ctx)
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		defer cancel()
		addrs, err = net.DefaultResolver.LookupNetIP(lctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return msg("webhooks.url_unresolved", "Host", host)
		}
		for i := range addrs {
			// The resolver may answer an A record as ::ffff:a.b.c.d; it is
			// dialled as a.b.c.d.
			addrs[i] = addrs[i].Unmap()
		}
	}
	loopback := true
	for _, ip := range addrs {
		if r := blockedReason(gd, ip); r.Code != "" {
			if host == ip.String() {
				return msg("webhooks.url_address_is", "Host", host, "Reason", r)
			}
			return msg("webhooks.url_resolves_to", "Host", host, "Reason", r)
		}
		loopback = loopback && ip.Unmap().IsLoopback()
	}
	if u.Scheme != "https" && !loopback {
		return msg("webhooks.url_https")
	}
	return nil
}

func msg(code string, kv ...any) *i18n.Message {
	m := i18n.M(code, kv...)
	return &m
}

// errBlocked is a dial refused because the address is not public.
var errBlocked = errors.New("webhook target address refused")

// Blocked reports whether a request failed because a guard refused the
// address it was about to dial.
func Blocked(err error) bool { return errors.Is(err, errBlocked) }

// dialControl re-checks the address actually dialled with gd.
func (g *Guard) dialControl(gd *ssrf.Guardian) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		if g.allowed(address) {
			return nil
		}
		if err := gd.Safe(network, address, c); err != nil {
			return fmt.Errorf("%w: %s", errBlocked, err.Error())
		}
		return nil
	}
}

// DeliveryTimeout bounds one delivery attempt (Standard Webhooks
// recommends 15 to 30 s).
const DeliveryTimeout = 15 * time.Second

// Client is the SSRF-safe client for ctx's mode: no proxy (one would dial
// for us, and the guardian would check the proxy's address), no redirects
// (a 3xx is a failed attempt), every dial checked by the mode's guardian,
// each request bounded by DeliveryTimeout.
func (g *Guard) Client(ctx context.Context) *http.Client {
	g.clientOnce.Do(func() {
		g.client = g.newClient(publicOnly)
		g.loopbackClient = g.newClient(publicOrLoopback)
	})
	if g.guardian(ctx) == publicOrLoopback {
		return g.loopbackClient
	}
	return g.client
}

func (g *Guard) newClient(gd *ssrf.Guardian) *http.Client {
	g.mu.RLock()
	roots := g.roots
	g.mu.RUnlock()
	d := &net.Dialer{Timeout: 5 * time.Second, Control: g.dialControl(gd)}
	return &http.Client{
		Timeout: DeliveryTimeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   10,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: DeliveryTimeout,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
