package pgtest

import (
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Proxy is a TCP proxy in front of the test cluster that a test turns into
// an outage without disturbing the cluster other tests share: Stop behaves
// like a stopped server (new connections refused, open ones cut), Freeze
// like a SIGSTOPped one (connections accepted, not a byte forwarded either
// way), Start and Thaw undo them. Point a pool at URL(...) to go through it.
type Proxy struct {
	t      testing.TB
	target string // host:port of the cluster
	addr   string // host:port the proxy listens on, stable across Stop/Start

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	gate  chan struct{} // closed while bytes flow; open while frozen
}

// NewProxy starts a proxy to the cluster behind rawURL (a postgres:// URL);
// it closes when the test ends.
func NewProxy(t testing.TB, rawURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	open := make(chan struct{})
	close(open)
	p := &Proxy{t: t, target: u.Host, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}, gate: open}
	p.serve(ln)
	t.Cleanup(func() {
		p.Thaw()
		p.Stop()
	})
	return p
}

// URL is rawURL with its host and port replaced by the proxy's.
func (p *Proxy) URL(rawURL string) string {
	u, err := url.Parse(rawURL)
	require.NoError(p.t, err)
	u.Host = p.addr
	return u.String()
}

// Stop closes the listener, so connecting is refused, and cuts every open
// connection, as a server's fast shutdown does.
func (p *Proxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Start listens again, on the same address, after Stop.
func (p *Proxy) Start() {
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(p.t, err)
	p.serve(ln)
}

// Freeze stops forwarding bytes: connections are still accepted (the kernel
// does that for a stopped process) and nothing comes back.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
		p.gate = make(chan struct{})
	default: // already frozen
	}
}

// Thaw forwards again what Freeze held, as SIGCONT does.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
}

func (p *Proxy) handle(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // stopped meanwhile
		p.mu.Unlock()
		_ = client.Close()
		_ = server.Close()
		return
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := func() {
		_ = client.Close()
		_ = server.Close()
		p.mu.Lock()
		delete(p.conns, client)
		delete(p.conns, server)
		p.mu.Unlock()
	}
	go func() { defer done(); p.pipe(server, client) }()
	go func() { defer done(); p.pipe(client, server) }()
}

// pipe copies src to dst, holding each chunk while the proxy is frozen.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			<-gate
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or a closed connection: done closes both ends
		}
	}
}
