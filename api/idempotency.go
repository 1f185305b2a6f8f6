package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/audit"
	"github.com/servicenet/servicenet/tenants/idempotency"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// An idempotent POST runs as one pg.Unit: the key's claim rides the first
// round trip of the operation's transaction, and its stored response the
// last before COMMIT (see tenants/idempotency). The middleware never reads the
// body itself: it hashes the bytes Huma reads, so Huma's body-read deadline
// lands on a connection nothing else is reading, and the response is held
// back until the transaction committed, so a client never sees a 2xx for
// something that rolled back.

type humaCtx huma.Context

// capture holds back what an operation writes until its transaction has
// committed, and tees the request body Huma reads into a buffer to hash.
type capture struct {
	humaCtx
	body    *teeBody
	status  int
	headers http.Header
	out     bytes.Buffer
}

func (c *capture) BodyReader() io.Reader { return c.body }
func (c *capture) SetStatus(code int)    { c.status = code }
func (c *capture) Status() int           { return c.status }
func (c *capture) SetHeader(name, value string) {
	c.headers.Set(name, value)
}
func (c *capture) AppendHeader(name, value string) {
	c.headers.Add(name, value)
}
func (c *capture) BodyWriter() io.Writer { return &c.out }

// flush sends the held-back response.
func (c *capture) flush() {
	putHeaders(c.humaCtx, c.headers)
	status := c.status
	if status == 0 {
		status = http.StatusOK
	}
	c.humaCtx.SetStatus(status)
	_, _ = c.humaCtx.BodyWriter().Write(c.out.Bytes())
}

// putHeaders sets the operation's headers on ctx: each replaces what a
// middleware set before (Content-Language, negotiated for the request, is
// the stored response's on a replay: its body is in that language).
func putHeaders(ctx huma.Context, h http.Header) {
	for name, values := range h {
		for i, v := range values {
			if i == 0 {
				ctx.SetHeader(name, v)
			} else {
				ctx.AppendHeader(name, v)
			}
		}
	}
}

// streamedBodyKey is the operation metadata (true) of an operation whose
// handler streams its body (the network import): the idempotency key's
// request hash is then a running SHA-256 of the body, never a copy of it,
// known once the handler has read the body (or the replay has drained it).
const streamedBodyKey = "streamedBody"

// teeBody keeps the bytes Huma reads from the request body, or, for a
// streamed body, hashes them.
type teeBody struct {
	r      io.Reader
	buf    bytes.Buffer
	stream hash.Hash // set for a streamed body: method, path, then the bytes read
}

func (t *teeBody) Read(p []byte) (int, error) {
	if t.r == nil {
		return 0, io.EOF
	}
	n, err := t.r.Read(p)
	if t.stream != nil {
		t.stream.Write(p[:n])
	} else {
		t.buf.Write(p[:n])
	}
	return n, err
}

// streamedHash is a streamed body's request hash, once it has been read.
func (t *teeBody) streamedHash() string {
	return "streamed:" + hex.EncodeToString(t.stream.Sum(nil))
}

func (t *teeBody) Close() error {
	if c, ok := t.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// requestHash identifies a request's content: method, path and the body,
// canonicalized when it is JSON (so key order and spacing do not matter):
// the SHA-256 of "METHOD path\n" and encoding/json's Marshal of the body's
// Unmarshal, or of the body itself when it is not JSON. canonicalJSON
// writes that form without building the decoded value; encoding/json
// decides whatever it cannot vouch for.
func requestHash(method, path string, body []byte) string {
	bp := hashBufs.Get().(*[]byte)
	defer hashBufs.Put(bp)
	buf := append(append(append(append((*bp)[:0], method...), ' '), path...), '\n')
	if out, ok := canonicalJSON(buf, body); ok {
		buf = out
	} else {
		var v any
		if json.Unmarshal(body, &v) == nil {
			if canon, err := json.Marshal(v); err == nil {
				body = canon
			}
		}
		buf = append(buf, body...)
	}
	sum := sha256.Sum256(buf)
	if cap(buf) <= 1<<20 {
		*bp = buf
	}
	return hex.EncodeToString(sum[:])
}

// hashBufs are requestHash's buffers.
var hashBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// keyed is an idempotent request in flight.
type keyed struct {
	unit  *pg.Unit
	req   idempotency.Request
	body  *teeBody
	claim *idempotency.Claim // set once the handler began (claimKey)
	// disclosed is what the answer shows of personal data (recordRead),
	// stored with it: each replay records the read again.
	disclosed *idempotency.Disclosed
}

// claimFailed reports whether the key's claim stopped the request: the key
// was used before (replay) or is held by another request (409).
func (k *keyed) claimFailed() bool {
	return k.claim != nil && (k.claim.Busy || k.claim.Existing != nil)
}

type keyedKey struct{}

// idempotent implements Idempotency-Key for POST operations: scoped to the
// tenant and credential, kept 24 hours, claimed and completed in the
// operation's own transaction.
func (s *Server) idempotent(ctx huma.Context, next func(huma.Context)) {
	key := ctx.Header("Idempotency-Key")
	p, ok := tenants.PrincipalFrom(ctx.Context())
	if ctx.Method() != http.MethodPost || !ok || (key == "" && !hasHeader(ctx, "Idempotency-Key")) {
		next(ctx)
		return
	}
	// Present but empty is refused, not ignored: the client asked for a
	// retry-safe request and would silently not get one.
	if key == "" || len(key) > 255 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		p := newProblem(http.StatusUnprocessableEntity, tenants.CodeInvalid, "").withMsg("problem.validation_failed")
		p.Errors = []*FieldDetail{fieldMsg("header.Idempotency-Key", "api.idempotency.invalid_key")}
		writeProblem(ctx, p)
		return
	}
	scope := idempotency.Scope{TenantID: p.TenantID, CredentialID: p.KeyID}
	if p.Operator {
		scope.CredentialID = "operator"
	}
	k := &keyed{
		unit: pg.NewUnit(s.deps.DB, scope.TenantID),
		req:  idempotency.Request{Scope: scope, Key: key, Method: ctx.Method(), Path: ctx.URL().Path},
		body: &teeBody{r: ctx.BodyReader()},
	}
	if streamed, _ := ctx.Operation().Metadata[streamedBodyKey].(bool); streamed {
		k.body.stream = sha256.New()
		k.body.stream.Write([]byte(k.req.Method + " " + k.req.Path + "\n"))
	}
	defer k.unit.Rollback()
	c := &capture{humaCtx: ctx, body: k.body, headers: http.Header{}}
	next(huma.WithContext(c, context.WithValue(pg.WithUnit(ctx.Context(), k.unit), keyedKey{}, k)))

	switch {
	case k.claim != nil && k.claim.Busy:
		s.answerBusy(ctx)
		return
	case k.claim != nil && k.claim.Existing != nil:
		k.unit.Rollback()
		s.replay(ctx, k)
		return
	case c.status >= http.StatusBadRequest || !k.unit.Begun():
		// A refusal changed nothing and is not stored; an operation that
		// never reached its handler (Huma's own validation) neither.
		k.unit.Rollback()
		if k.claim != nil && !k.claim.Checked {
			// The handler refused before its first statement, which the
			// claim would have ridden: the key may have been used. Its
			// first outcome answers a retry, never a fresh refusal.
			s.probeKey(ctx.Context(), k)
			switch {
			case k.claim.Busy:
				s.answerBusy(ctx)
				return
			case k.claim.Existing != nil:
				s.replay(ctx, k)
				return
			}
		}
	default:
		if k.body.stream != nil { // the handler has read the body
			k.req.RequestHash = k.body.streamedHash()
		}
		b := &pgx.Batch{}
		err := idempotency.QueueResponse(b, k.req, c.status, c.headers, withoutSecrets(c.out.Bytes()), k.disclosed)
		if err == nil {
			err = k.unit.Commit(ctx.Context(), b)
		}
		if k.claim != nil && k.claim.Busy {
			// The claim rode COMMIT (the handler sent no statement) and
			// another request held the key.
			s.answerBusy(ctx)
			return
		}
		if idempotency.IsUsed(err) {
			// Used after all (the claim's read did not see it, or it rode
			// COMMIT): rolled back, and answered as the key's first
			// request was.
			s.probeKey(ctx.Context(), k)
			switch {
			case k.claim.Existing != nil:
				s.replay(ctx, k)
			default:
				s.answerBusy(ctx)
			}
			return
		}
		if err != nil {
			// The outcome is unknown to us only if the connection broke
			// during COMMIT; either way the retry with this key is safe.
			writeProblem(ctx, toProblem(ctx.Context(), s.log, ctx.URL().Path, err))
			return
		}
	}
	c.flush()
}

// replay answers with the stored outcome of the key's first request, or
// refuses a key reused for another request.
func (s *Server) replay(ctx huma.Context, k *keyed) {
	rec := k.claim.Existing
	if k.body.stream != nil { // hash the body the handler did not read
		if _, err := io.Copy(io.Discard, &limitedBody{r: k.body, n: s.cfg.MaxImportBytes}); err != nil {
			writeProblem(ctx, toProblem(ctx.Context(), s.log, ctx.URL().Path, err))
			return
		}
		k.req.RequestHash = k.body.streamedHash()
	}
	if rec.RequestHash != k.req.RequestHash {
		p := newProblem(http.StatusUnprocessableEntity, tenants.CodeIdempotencyReused, "").withMsg("api.idempotency.reused")
		p.Errors = []*FieldDetail{fieldMsg("header.Idempotency-Key", "api.idempotency.reused_field", "Method", rec.Method, "Path", rec.Path)}
		writeProblem(ctx, p)
		return
	}
	if d := rec.Disclosed; d != nil {
		// The answer shows personal data again: read again, logged as the
		// first answer was (a read that cannot be recorded is not shown).
		if p, ok := tenants.PrincipalFrom(ctx.Context()); ok && !p.Operator {
			r := audit.Read{Operation: d.Operation, Action: "read", ObjectIDs: d.Objects}
			if err := s.deps.Audit.Record(ctx.Context(), p.TenantID, actor(ctx.Context(), p, d.Operation), r); err != nil {
				writeProblem(ctx, toProblem(ctx.Context(), s.log, ctx.URL().Path, err))
				return
			}
		}
	}
	putHeaders(ctx, rec.Headers) // the first's Content-Language, not the retry's
	ctx.SetHeader("Idempotent-Replayed", "true")
	ctx.SetStatus(rec.Status)
	_, _ = ctx.BodyWriter().Write(rec.Body)
}

// claimKey runs at the start of every handler (register): when the request
// carries an Idempotency-Key, it opens the request's transaction with the
// key's claim, now that Huma has read and validated the body. The claim,
// with BEGIN, rides the handler's first round trip (its first statement or
// batch, or COMMIT), at its head: the key's lock is taken before anything
// the handler reads, so the reads see what a request holding the key
// committed. A key in use or used before fails that round trip: the
// handler stops there, nothing it did commits, and the middleware answers
// 409 or replays. What a retry of a completed request runs again is the
// handler's work before its first statement, in memory only (no handler
// acts outside its transaction), and one round trip of its statements,
// rolled back. A handler that refuses before its first statement has not
// checked the key: the middleware checks it then (probeKey), so a retry
// still gets the first outcome. The round trip this saves on every
// idempotent POST is a third of an intake's (3 → 2) and a quarter of a
// claim submission's (4 → 3).
func (s *Server) claimKey(ctx context.Context) error {
	k, _ := ctx.Value(keyedKey{}).(*keyed)
	if k == nil {
		return nil
	}
	k.req.RequestHash = requestHash(k.req.Method, k.req.Path, k.body.buf.Bytes())
	if k.body.stream != nil {
		k.req.RequestHash = "streamed" // until the body is read: see idempotent and replay
	}
	b := &pgx.Batch{}
	k.claim = idempotency.QueueClaim(b, k.req, s.lockTimeout)
	return k.unit.Open(ctx, b)
}

// keyClaimFailed reports whether the handler of ctx's request stopped
// because its key's claim failed: the middleware answers, not the handler's
// error.
func keyClaimFailed(ctx context.Context) bool {
	k, _ := ctx.Value(keyedKey{}).(*keyed)
	return k != nil && k.claimFailed()
}

// probeKey runs k's claim alone, in a transaction of its own that writes
// nothing (one round trip), for a request whose record's insert found the
// key used after all: its answer is then the key's first outcome.
func (s *Server) probeKey(ctx context.Context, k *keyed) {
	u := pg.NewUnit(s.deps.DB, k.req.TenantID)
	defer u.Rollback()
	b := &pgx.Batch{}
	k.claim = idempotency.QueueClaim(b, k.req, s.lockTimeout)
	if err := u.Open(ctx, b); err == nil {
		_ = u.Commit(ctx, nil) // its failure is the claim's outcome, or the request's refusal stands
	}
}

// answerBusy answers a request whose key another request holds.
func (s *Server) answerBusy(ctx huma.Context) {
	ctx.SetHeader("Retry-After", "1")
	p := newProblem(http.StatusConflict, tenants.CodeIdempotencyBusy, "").withMsg("api.idempotency.in_progress")
	p.Errors = []*FieldDetail{fieldMsg("header.Idempotency-Key", "api.idempotency.in_progress_field")}
	writeProblem(ctx, p)
}

// hasHeader reports whether the request carries the header, even empty.
func hasHeader(ctx huma.Context, name string) bool {
	found := false
	ctx.EachHeader(func(n, _ string) {
		if strings.EqualFold(n, name) {
			found = true
		}
	})
	return found
}

// withoutSecrets removes credential secrets ("secret" fields holding an API
// key) from a response before it is stored for replay: a secret is shown
// once and only its hash is ever stored, so a replay of createApiKey or
// createTenant answers the same object without its secret.
func withoutSecrets(body []byte) []byte {
	if !bytes.Contains(body, []byte(identity.LivePrefix)) && !bytes.Contains(body, []byte(identity.TestPrefix)) &&
		!bytes.Contains(body, []byte(webhooks.SecretPrefix)) {
		return body
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return body
	}
	removed := false
	var strip func(any)
	strip = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if s, ok := t["secret"].(string); ok && (strings.HasPrefix(s, identity.LivePrefix) || strings.HasPrefix(s, identity.TestPrefix) ||
				strings.HasPrefix(s, webhooks.SecretPrefix)) {
				delete(t, "secret")
				removed = true
			}
			for _, x := range t {
				strip(x)
			}
		case []any:
			for _, x := range t {
				strip(x)
			}
		}
	}
	strip(v)
	if !removed {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}
