package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

const permissionKey = "permission"

// register is the only way an operation joins the API. It records the
// operation's permission (checked by the authenticate middleware before the
// body is read, and published as x-permission), documents the errors every
// operation can answer (503 database_unavailable, with Retry-After, for every
// operation that authenticates: an API key is looked up in the database, and
// every such operation reads or writes it), and routes every error the handler returns through
// toProblem. Text PostgreSQL cannot store (NUL, invalid UTF-8) is refused
// before the handler runs: parameters by the textGuard middleware, every
// string of the parsed body here.
func register[I, O any](s *Server, perm authz.Permission, op huma.Operation, h func(context.Context, *I) (*O, error)) {
	if perm == "" || op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
		panic(fmt.Sprintf("api: operation %s %s needs a permission, operationId, summary and tag", op.Method, op.Path))
	}
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[permissionKey] = perm
	if op.Extensions == nil {
		op.Extensions = map[string]any{}
	}
	op.Extensions["x-permission"] = string(perm)

	errs := slices.Clone(op.Errors)
	switch perm {
	case authz.Public:
		op.Security = []map[string][]string{}
	case authz.Operator:
		op.Security = []map[string][]string{{"operatorToken": {}}}
		errs = append(errs, http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests)
		op.Description = strings.TrimSpace(op.Description + "\n\nPlatform operator only: authenticate with the operator token.")
	default:
		op.Security = []map[string][]string{{"apiKey": {}}}
		errs = append(errs, http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests)
		roles := "no role"
		if rs := s.deps.Authz.RolesWith(perm); len(rs) > 0 {
			roles = "`" + strings.Join(rs, "`, `") + "`"
		}
		op.Description = strings.TrimSpace(fmt.Sprintf("%s\n\nPermission `%s`; granted by default to %s.", op.Description, perm, roles))
	}
	if op.Method == http.MethodPost {
		op.Parameters = append(op.Parameters, &huma.Param{
			Name: "Idempotency-Key", In: "header",
			Description: "Makes the request safe to retry: a retry with the same key (and the same body) within 24 hours returns the first response instead of acting again (as stored: its texts and Content-Language are the first request's, whatever the retry's Accept-Language); the same key with a different body is refused (422, idempotency_key_reused). The key is claimed and the response stored in the operation's own transaction, so after a timeout or a crash the retry either replays the committed answer or runs once. A retry sent while the first request is still running waits for it (up to 3 s, then 409 idempotency_key_in_use with Retry-After). Only successful answers are stored: a refused request changed nothing and its retry runs again.",
			Schema:      &huma.Schema{Type: "string", MinLength: ptr(1), MaxLength: ptr(255), Examples: []any{"7f1c9e0a-2b7e-4d0e-9a51-3f0f5c9b2d11"}},
		})
		errs = append(errs, http.StatusConflict, http.StatusUnprocessableEntity)
	}
	if readsHeader(reflect.TypeFor[I](), "If-Match") { // see parseIfMatch
		errs = append(errs, http.StatusBadRequest, http.StatusPreconditionFailed)
	}
	if perm != authz.Public { // public operations declare 503 themselves when they touch the database
		errs = append(errs, http.StatusServiceUnavailable)
	}
	errs = append(errs, http.StatusInternalServerError)
	slices.Sort(errs)
	op.Errors = slices.Compact(errs)

	loc := newLocator(reflect.TypeFor[I](), &op)
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*O, error) {
		ctx, cancel := context.WithTimeout(ctx, handlerBudget(s.cfg.RequestTimeout, &op)) // the body is read: see deadline
		defer cancel()
		if p := bodyText(in); p != nil { // see textguard.go
			return nil, toProblem(ctx, s.log, logging.Get(ctx, "path"), p)
		}
		p, hasPrincipal := tenants.PrincipalFrom(ctx)
		var who pg.Actor
		if hasPrincipal {
			who = actor(ctx, p, op.OperationID)
			ctx = pg.WithActor(ctx, who) // the audit log's "who" for every write below
		}
		err := s.claimKey(ctx)
		var out *O
		if err == nil {
			out, err = h(ctx, in)
		}
		if err != nil && keyClaimFailed(ctx) {
			// The middleware answers (409 or the replay); this is never sent.
			return nil, newProblem(http.StatusConflict, tenants.CodeIdempotencyBusy, "")
		}
		if err != nil {
			return nil, toProblem(ctx, s.log, logging.Get(ctx, "path"), loc.wire(constraintField(err)))
		}
		if hasPrincipal && !p.Operator {
			shown := disclose(p, out) // need-to-know: see personal.go
			if err := s.recordRead(ctx, p.TenantID, who, op.OperationID, shown); err != nil {
				if op.Method == http.MethodGet {
					return nil, toProblem(ctx, s.log, logging.Get(ctx, "path"), err)
				}
				// A write's own transaction committed: it is answered, with
				// nothing shown that could not be logged.
				s.log.WarnContext(ctx, "personal data read not recorded: answered masked", "operation", op.OperationID, "error", err)
				disclose(tenants.Principal{}, out)
			}
		}
		return out, nil
	})
	documentRetryAfter(s.api.OpenAPI(), op.Method, op.Path)
}

// documentRetryAfter adds the Retry-After header to the 429 and 503
// responses of the operation just registered (Huma documents an error
// response's body only).
func documentRetryAfter(doc *huma.OpenAPI, method, path string) {
	pi := doc.Paths[path]
	if pi == nil {
		return
	}
	var o *huma.Operation
	switch method {
	case http.MethodGet:
		o = pi.Get
	case http.MethodPost:
		o = pi.Post
	case http.MethodPut:
		o = pi.Put
	case http.MethodPatch:
		o = pi.Patch
	case http.MethodDelete:
		o = pi.Delete
	}
	if o == nil {
		return
	}
	for code, what := range map[int]string{
		http.StatusTooManyRequests:    "Seconds to wait before retrying: until the credential's budget has a request again.",
		http.StatusServiceUnavailable: "Seconds to wait before retrying (" + retryAfterUnavailable + "): the database is unavailable or the object busy. A POST is safe to retry with the same Idempotency-Key.",
	} {
		r := o.Responses[strconv.Itoa(code)]
		if r == nil {
			continue
		}
		if r.Headers == nil {
			r.Headers = map[string]*huma.Param{}
		}
		r.Headers["Retry-After"] = &huma.Param{Description: what, Schema: &huma.Schema{Type: "integer", Minimum: ptr(1.0), Examples: []any{2}}}
	}
}

// readsHeader reports whether an input struct (embedded structs included)
// has a field bound to the header name.
func readsHeader(t reflect.Type, name string) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for f := range t.Fields() {
		if strings.EqualFold(f.Tag.Get("header"), name) || (f.Anonymous && readsHeader(f.Type, name)) {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }

// handlerTimeoutKey is the operation metadata (a time.Duration) that gives
// an operation's handler more than the request timeout once its body is
// read: storing an upload (the network import parses and stores up to
// 64 MiB in its request) takes longer than an ordinary write.
const handlerTimeoutKey = "handlerTimeout"

// handlerBudget is how long op's handler may run after its body is read.
func handlerBudget(requestTimeout time.Duration, op *huma.Operation) time.Duration {
	if d, ok := op.Metadata[handlerTimeoutKey].(time.Duration); ok && d > requestTimeout {
		return d
	}
	return requestTimeout
}
