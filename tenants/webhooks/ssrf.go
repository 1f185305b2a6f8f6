package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
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

// AllowHost lets webhook endpoints use hostport (the host:port of a URL,
// e.g. an httptest server's 127.0.0.1:54321) over plain http, bypassing the
// address checks at registration and at dial time. For tests only: nothing
// outside a test ever calls it.
func (s *Service) AllowHost(hostport string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.allow == nil {
		s.allow = map[string]bool{}
	}
	s.allow[hostport] = true
}

func (s *Service) allowed(hostport string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.allow[hostport]
}

// lookupTimeout bounds the registration-time DNS lookup.
const lookupTimeout = 5 * time.Second

// checkURL is the registration-time check of an endpoint URL: https, no
// credentials, and a host whose every resolved address is public. It
// returns the problem, or "" when the URL may be used.
func (s *Service) checkURL(ctx context.Context, raw string) string {
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
	if s.allowed(u.Host) && (u.Scheme == "http" || u.Scheme == "https") {
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

// dialControl re-checks the address actually dialled (after DNS, so a name
// that re-resolves to a private address is still refused).
func (s *Service) dialControl(network, address string, _ syscall.RawConn) error {
	if s.allowed(address) {
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

// httpClient is the SSRF-safe client deliveries use: no proxy (one would
// dial for us), no redirects (a 3xx is a failed attempt), every dial checked.
func (s *Service) httpClient() *http.Client {
	s.clientOnce.Do(func() {
		d := &net.Dialer{Timeout: 5 * time.Second, Control: s.dialControl}
		s.client = &http.Client{
			Timeout: DeliveryTimeout,
			Transport: &http.Transport{
				Proxy:                 nil,
				DialContext:           d.DialContext,
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
	return s.client
}
