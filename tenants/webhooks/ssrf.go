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
)

// blockedPrefixes are the ranges a webhook may never reach beyond what
// netip's predicates already catch (loopback, RFC 1918 and ULA private,
// link-local including the 169.254.169.254 metadata address, multicast,
// unspecified).
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),         // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),     // CGNAT (also Alibaba's 100.100.100.200 metadata)
	netip.MustParsePrefix("192.0.0.0/24"),      // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),     // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),       // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),      // NAT64: may map onto any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),    // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),     // documentation
	netip.MustParsePrefix("100::/64"),          // discard
	netip.MustParsePrefix("2002::/16"),         // 6to4: embeds an IPv4 address
	netip.MustParsePrefix("2001::/32"),         // Teredo: embeds an IPv4 address
	netip.MustParsePrefix("fec0::/10"),         // deprecated site-local
	netip.MustParsePrefix("::ffff:0:0/96"),     // IPv4-mapped (checked unmapped too)
	netip.MustParsePrefix("fd00:ec2::254/128"), // AWS IPv6 metadata (inside ULA; named for clarity)
}

// blockedReason says why ip may not be a webhook target, or "" when it may.
func blockedReason(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "an invalid address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local or metadata address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return "a reserved, CGNAT or metadata address"
		}
	}
	return ""
}

// Guard keeps outbound requests to URLs a tenant supplied (webhook
// endpoints, notification gateways) on public addresses: CheckURL at
// registration, and Client's dialer re-checks every address it dials (after
// DNS, so a name that re-resolves to a private address is still refused).
// Its zero value is ready to use.
type Guard struct {
	// HTTPSOnly refuses plain http even for a host allowed by AllowHost
	// (a notification gateway: its test server is an httptest TLS server).
	HTTPSOnly bool

	mu    sync.RWMutex
	allow map[string]bool
	roots *x509.CertPool

	clientOnce sync.Once
	client     *http.Client
}

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

// AllowHost lets webhook endpoints use hostport over plain http, bypassing
// the address checks (Guard.AllowHost). For tests only.
func (s *Service) AllowHost(hostport string) { s.guard.AllowHost(hostport) }

// lookupTimeout bounds the registration-time DNS lookup.
const lookupTimeout = 5 * time.Second

func (s *Service) checkURL(ctx context.Context, raw string) string { return s.guard.CheckURL(ctx, raw) }

// CheckURL is the registration-time check of a URL: https, no
// credentials, no fragment, and a host whose every resolved address is
// public. It returns the problem ("an https URL", "a public address: ..."),
// or "" when the URL may be used.
func (g *Guard) CheckURL(ctx context.Context, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !u.IsAbs() {
		return "an absolute https URL"
	}
	if u.User != nil {
		return "a URL without credentials"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "a URL without a fragment"
	}
	if g.allowed(u.Host) && (u.Scheme == "https" || (u.Scheme == "http" && !g.HTTPSOnly)) {
		return ""
	}
	if u.Scheme != "https" {
		return "an https URL"
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if r := blockedReason(ip); r != "" {
			return "a public address: " + host + " is " + r
		}
		return ""
	}
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(lctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return "a host that resolves: " + host + " does not"
	}
	for _, ip := range addrs {
		if r := blockedReason(ip); r != "" {
			return "a public address: " + host + " resolves to " + r
		}
	}
	return ""
}

// errBlocked is a dial refused because the address is not public.
var errBlocked = errors.New("webhook target address refused")

// Blocked reports whether a request failed because the guard refused the
// address it was about to dial.
func Blocked(err error) bool { return errors.Is(err, errBlocked) }

func (s *Service) dialControl(network, address string, c syscall.RawConn) error {
	return s.guard.dialControl(network, address, c)
}

// dialControl re-checks the address actually dialled.
func (g *Guard) dialControl(_, address string, _ syscall.RawConn) error {
	if g.allowed(address) {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errBlocked, address)
	}
	if r := blockedReason(ap.Addr()); r != "" {
		return fmt.Errorf("%w: %s is %s", errBlocked, ap.Addr(), r)
	}
	return nil
}

// DeliveryTimeout bounds one delivery attempt.
const DeliveryTimeout = 10 * time.Second

func (s *Service) httpClient() *http.Client { return s.guard.Client() }

// Client is the SSRF-safe client: no proxy (one would dial for us), no
// redirects (a 3xx is a failed attempt), every dial checked, each request
// bounded by DeliveryTimeout.
func (g *Guard) Client() *http.Client {
	g.clientOnce.Do(func() {
		g.mu.RLock()
		roots := g.roots
		g.mu.RUnlock()
		d := &net.Dialer{Timeout: 5 * time.Second, Control: g.dialControl}
		g.client = &http.Client{
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
	})
	return g.client
}
