package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// The authentication cache. While Run is running and its listener is
// connected, Authenticate answers from memory: a key found in the database is
// remembered by its secret hash for at most positiveTTL, a secret that fails
// (unknown, revoked, expired, suspended tenant) for at most negativeTTL.
// Triggers (migration 014) NOTIFY authChannel with the key's or the tenant's
// id on every change that matters to authentication, and every replica's
// listener evicts what the id names. Notifications sent while a listener is
// disconnected are lost, so the cache serves nothing while it is down and
// starts empty on every (re)connect; the TTLs bound what a silently dead
// connection can leave stale until the heartbeat notices it.
const (
	authChannel     = "servicenet_auth"
	positiveTTL     = 30 * time.Second
	negativeTTL     = 5 * time.Second
	maxPositive     = 10000
	maxNegative     = 10000
	heartbeat       = 5 * time.Second
	pingTimeout     = 3 * time.Second
	reconnectDelay  = 500 * time.Millisecond
	flushInterval   = 2 * time.Second
	shutdownTimeout = 5 * time.Second
)

// authEntry is what one lookup of a secret hash found. Everything but
// lastUsed is fixed once the entry is published.
type authEntry struct {
	// bad, when set, is why the key can never authenticate (unknown,
	// revoked); the other fields are then empty.
	bad          string
	p            tenants.Principal
	expiresAt    *time.Time
	tenantActive bool
	// lastUsed is the last_used_at known to be stored or queued (guarded by
	// authCache.mu).
	lastUsed *time.Time
	// key and tenant are the rows the lookup read, what Me answers from
	// (key.LastUsedAt aside: lastUsed is fresher). Triggers (migrations 014
	// and 029) notify every change of either but last_used_at.
	key    APIKey
	tenant Tenant
	// until is when the entry stops being served (monotonic clock).
	until time.Time
}

// result decides at now: expiry is checked at read time, so a cached key
// stops working the moment it expires.
func (e *authEntry) result(now time.Time) (tenants.Principal, error) {
	switch {
	case e.bad != "":
		return tenants.Principal{}, errBadKey(e.bad)
	case e.expiresAt != nil && !now.Before(*e.expiresAt):
		return tenants.Principal{}, errBadKey("auth.key_expired")
	case !e.tenantActive:
		return tenants.Principal{}, errBadKey("auth.tenant_suspended")
	}
	p := e.p
	p.Roles = slices.Clone(p.Roles)
	return p, nil
}

func (e *authEntry) negative(now time.Time) bool {
	_, err := e.result(now)
	return err != nil
}

// authCall is one database lookup that concurrent requests for the same
// secret wait for, so a flood of one secret costs one lookup.
type authCall struct {
	done  chan struct{}
	entry *authEntry
	err   error
}

// usage is a key's pending last_used_at.
type usage struct {
	tenantID string
	live     bool // the key's mode: its row is visible in that mode only
	at       time.Time
}

// authCache is the zero-value-ready cache inside Service.
type authCache struct {
	mu sync.Mutex
	// serving is true while the listener is connected: only then are
	// entries served or stored.
	serving bool
	// gen moves on every eviction. A lookup stores its result only if gen
	// has not moved since it began, so a read that raced an invalidation is
	// never cached.
	gen      uint64
	pos, neg map[string]*authEntry // by secret hash
	byKey    map[string]*authEntry // pos by key id, for Me
	inflight map[string]*authCall
	touched  map[string]usage // by key id, flushed by Run
	// up is closed while serving (a new one is made when serving stops);
	// kick asks a listener waiting to reconnect to try at once. Both are
	// made on first use (signals).
	up   chan struct{}
	kick chan struct{}
}

// signals returns the channel closed while the cache serves (the current
// one: a wait on it ends when serving starts) and the reconnect nudge.
func (c *authCache) signals() (up, kick chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.initSignals()
	return c.up, c.kick
}

// initSignals makes up and kick if they are not made yet (c.mu held).
func (c *authCache) initSignals() {
	if c.up == nil {
		c.up, c.kick = make(chan struct{}), make(chan struct{}, 1)
		if c.serving {
			close(c.up)
		}
	}
}

// begin returns, for hash, a fresh cached entry, or a lookup in progress to
// wait for, or (leader) a newly registered lookup the caller must finish.
// ok is false when the cache is not serving.
func (c *authCache) begin(hash string) (e *authEntry, wait, lead *authCall, gen uint64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.serving {
		return nil, nil, nil, 0, false
	}
	mono := time.Now()
	for _, m := range []map[string]*authEntry{c.pos, c.neg} {
		if e := m[hash]; e != nil {
			if mono.Before(e.until) {
				return e, nil, nil, c.gen, true
			}
			delete(m, hash)
		}
	}
	if call := c.inflight[hash]; call != nil {
		return nil, call, nil, c.gen, true
	}
	if c.inflight == nil {
		c.inflight = map[string]*authCall{}
	}
	lead = &authCall{done: make(chan struct{})}
	c.inflight[hash] = lead
	return nil, nil, lead, c.gen, true
}

// finish publishes a leader's lookup to its waiters and, when nothing was
// evicted meanwhile, to the cache.
func (c *authCache) finish(hash string, call *authCall, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inflight, hash)
	close(call.done)
	if call.err != nil || !c.serving || c.gen != gen {
		return
	}
	e := call.entry
	m, ttl, limit := &c.pos, positiveTTL, maxPositive
	if e.negative(now) {
		m, ttl, limit = &c.neg, negativeTTL, maxNegative
	}
	mono := time.Now()
	e.until = mono.Add(ttl)
	if *m == nil {
		*m = map[string]*authEntry{}
	}
	if len(*m) >= limit {
		for h, old := range *m {
			if !mono.Before(old.until) {
				delete(*m, h)
			}
		}
		for h := range *m { // still full: drop one at random
			if len(*m) < limit {
				break
			}
			delete(*m, h)
		}
	}
	(*m)[hash] = e
	if m == &c.pos {
		if c.byKey == nil || len(c.byKey) > len(c.pos) { // dropped entries linger: rebuild
			c.byKey = make(map[string]*authEntry, len(c.pos))
			for _, pe := range c.pos {
				c.byKey[pe.p.KeyID] = pe
			}
		}
		c.byKey[e.p.KeyID] = e
	}
}

// me returns the cached rows of key id (its tenant's and its own, with
// the last use known), or false when the cache does not hold the key as
// valid now.
func (c *authCache) me(keyID string, now time.Time) (Tenant, APIKey, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byKey[keyID]
	if !c.serving || e == nil || !time.Now().Before(e.until) || e.negative(now) || e.key.ID != keyID {
		return Tenant{}, APIKey{}, false
	}
	k := e.key
	k.Roles = slices.Clone(k.Roles)
	if e.lastUsed != nil && (k.LastUsedAt == nil || e.lastUsed.After(*k.LastUsedAt)) {
		at := *e.lastUsed
		k.LastUsedAt = &at
	}
	return e.tenant, k, true
}

// evict forgets every entry of the key or tenant id names.
func (c *authCache) evict(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, m := range []map[string]*authEntry{c.pos, c.neg} {
		for h, e := range m {
			if e.p.KeyID == id || e.p.TenantID == id {
				delete(m, h)
			}
		}
	}
	for k, e := range c.byKey {
		if e.p.KeyID == id || e.p.TenantID == id {
			delete(c.byKey, k)
		}
	}
}

// reset forgets every entry and starts or stops serving.
func (c *authCache) reset(serving bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.initSignals()
	switch {
	case serving && !c.serving:
		close(c.up)
	case !serving && c.serving:
		c.up = make(chan struct{})
	}
	c.serving = serving
	c.pos, c.neg, c.byKey = nil, nil, nil
}

// AwaitCache waits until the authentication cache serves, that is until
// Run's listener is connected (it nudges a listener waiting to reconnect
// to try at once), or ctx ends (its error). Without Run it waits for ctx:
// readiness asks it only of processes that run the cache.
func (s *Service) AwaitCache(ctx context.Context) error {
	up, kick := s.cache.signals()
	select {
	case <-up:
		return nil
	default:
	}
	select {
	case kick <- struct{}{}:
	default:
	}
	select {
	case <-up:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// touch queues last_used_at = now for e's key, at most once per
// lastUsedGranularity.
func (c *authCache) touch(e *authEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.lastUsed != nil && now.Sub(*e.lastUsed) < lastUsedGranularity {
		return
	}
	e.lastUsed = &now
	if c.touched == nil {
		c.touched = map[string]usage{}
	}
	c.touched[e.p.KeyID] = usage{tenantID: e.p.TenantID, live: e.p.Live, at: now}
}

func (c *authCache) takeTouched() map[string]usage {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.touched
	c.touched = nil
	return t
}

// requeue puts back what a failed flush could not write, unless a later use
// was queued meanwhile.
func (c *authCache) requeue(keys map[string]usage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.touched == nil {
		c.touched = map[string]usage{}
	}
	for id, u := range keys {
		if _, ok := c.touched[id]; !ok {
			c.touched[id] = u
		}
	}
}

// Lookups is how many times Authenticate has asked the database about a
// presented secret since the service started (cache misses, plus every call
// while the cache is not serving).
func (s *Service) Lookups() int64 { return s.lookups.Load() }

// Start runs Run in a goroutine and returns a function that stops it and
// waits until it has flushed: `defer idn.Start(ctx)()`.
func (s *Service) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// Run keeps the authentication cache and the last_used_at writer going until
// ctx ends: it listens for invalidations on a dedicated connection
// (reconnecting after 500 ms, the cache emptied and off while it is down),
// and writes the keys' last use every few seconds, once more on the way out.
// Without Run, Authenticate asks the database every time and writes
// last_used_at itself. Call it once per Service. It returns nil when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { s.flushLoop(ctx) })
	for {
		err := s.listen(ctx)
		if ctx.Err() != nil {
			break
		}
		s.log().WarnContext(ctx, "auth cache listener; reconnecting", "error", err.Error())
		_, kick := s.cache.signals()
		select {
		case <-ctx.Done():
		case <-time.After(reconnectDelay):
		case <-kick: // readiness asks (AwaitCache): try now
		}
	}
	wg.Wait()
	return nil
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// listen holds one LISTEN connection until it fails or ctx ends. It takes
// a pool connection for itself (Hijack: River's notifier does the same), so
// the pool's statement and idle settings apply. A wait that hears nothing
// for a heartbeat is followed by SELECT 1, so a dead TCP path is noticed.
func (s *Service) listen(ctx context.Context) error {
	c, err := s.DB.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := c.Hijack()
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+authChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Anything that changed before LISTEN took effect was not heard: start
	// from nothing.
	s.cache.reset(true)
	defer s.cache.reset(false)
	for {
		wctx, cancel := context.WithTimeout(ctx, heartbeat)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			s.cache.evict(n.Payload)
		case ctx.Err() != nil:
			return nil
		case pgconn.Timeout(err) && !conn.IsClosed():
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			_, err = conn.Exec(pctx, "SELECT 1")
			cancel()
			if err != nil {
				return fmt.Errorf("heartbeat: %w", err)
			}
		default:
			return err
		}
	}
}

func (s *Service) flushLoop(ctx context.Context) {
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := s.flushLastUsed(ctx); err != nil && ctx.Err() == nil {
				s.log().WarnContext(ctx, "write keys' last use", "error", err.Error())
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
			defer cancel()
			if err := s.flushLastUsed(fctx); err != nil {
				s.log().WarnContext(fctx, "write keys' last use at shutdown", "error", err.Error())
			}
			return
		}
	}
}

// flushLastUsed writes the queued last uses: one UPDATE per tenant and
// mode, each in its tenant's transaction in the keys' mode (RLS is forced).
// What fails is queued again.
func (s *Service) flushLastUsed(ctx context.Context) error {
	keys := s.cache.takeTouched()
	type scope struct {
		tenantID string
		live     bool
	}
	byTenant := map[scope][]string{}
	for id, u := range keys {
		byTenant[scope{u.tenantID, u.live}] = append(byTenant[scope{u.tenantID, u.live}], id)
	}
	var errs []error
	for sc, ids := range byTenant {
		at := make([]time.Time, len(ids))
		for i, id := range ids {
			at[i] = keys[id].at
		}
		err := pg.InTenantTx(pg.WithLivemode(ctx, sc.live), s.DB, sc.tenantID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, `
				UPDATE api_keys k SET last_used_at = u.at
				FROM unnest($2::text[], $3::timestamptz[]) AS u(id, at)
				WHERE k.tenant_id = $1 AND k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`,
				tx.TenantID, ids, at)
			return err
		})
		if err != nil {
			errs = append(errs, err)
			failed := map[string]usage{}
			for _, id := range ids {
				failed[id] = keys[id]
			}
			s.cache.requeue(failed)
		}
	}
	return errors.Join(errs...)
}

// Known reports, without touching the database, whether secret is a key
// the cache holds as valid now: what lets a client keep working while its
// address is refused for failed authentications.
func (s *Service) Known(secret string) bool {
	if !strings.HasPrefix(secret, LivePrefix) && !strings.HasPrefix(secret, TestPrefix) {
		return false
	}
	hash := hashSecret(secret)
	c := &s.cache
	c.mu.Lock()
	e := c.pos[hash]
	serving := c.serving
	c.mu.Unlock()
	return serving && e != nil && time.Now().Before(e.until) && !e.negative(s.now())
}
