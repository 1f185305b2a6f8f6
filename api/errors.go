package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/logging"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Problem is an RFC 9457 problem detail. Every error the API answers has this
// shape and Content-Type application/problem+json.
type Problem struct {
	Type   string `json:"type" doc:"URI identifying the problem type; equals urn:servicenet:problem:<code>." example:"urn:servicenet:problem:invalid"`
	Title  string `json:"title" doc:"Short summary of the HTTP status, in the response's Content-Language (message problem.title.<status>)." example:"Unprocessable Entity"`
	Status int    `json:"status" doc:"HTTP status code." example:"422"`
	Detail string `json:"detail,omitempty" doc:"Explanation specific to this occurrence, in the response's Content-Language when detail_i18n is present (otherwise English)." example:"validation failed"`
	// DetailMessage is Detail as a catalog code and parameters.
	DetailMessage *i18n.Message  `json:"detail_i18n,omitempty" doc:"Detail as a stable message code and its parameters (see the message catalog in the API description); absent for details not yet in the catalog."`
	Instance      string         `json:"instance,omitempty" doc:"Request path the problem occurred on." example:"/v1/api-keys"`
	Code          tenants.Code   `json:"code" doc:"Stable machine-readable error code; switch on this, not on detail." example:"invalid"`
	RequestID     string         `json:"request_id,omitempty" doc:"The X-Request-Id of the request, for support." example:"01JD3ZQ8W6V7T3Y2K9X4N5M6PA"`
	Errors        []*FieldDetail `json:"errors,omitempty" doc:"Field-level details, one per offending field."`
	// ExistingID names the object that holds a reference you reused.
	ExistingID string `json:"existing_id,omitempty" doc:"On a 409 for a reused reference (a ticket's external_reference, a claim's reference): the ID of the ticket or claim that already holds it." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pq"`

	// cause is the text of a 5xx made without a request context (huma.NewError),
	// for toProblem to log; it is never sent.
	cause string
	// headers go with the problem (Retry-After on a 503).
	headers http.Header
}

// FieldDetail locates one problem in the request.
type FieldDetail struct {
	Location string `json:"location" doc:"Where the problem is: body.<path>, query.<name>, path.<name> or header.<Name>." example:"body.roles[0]"`
	Message  string `json:"message" doc:"What is wrong with the value, in the response's Content-Language when message_i18n is present (otherwise English)." example:"unknown role"`
	Value    any    `json:"value,omitempty" doc:"The offending value, when it is safe to echo."`
	// Msg is Message as a catalog code and parameters.
	Msg *i18n.Message `json:"message_i18n,omitempty" doc:"Message as a stable message code and its parameters; absent for messages not yet in the catalog."`
}

// Localize renders the problem's texts that have catalog codes in lang: the
// title always, the detail and field messages when they carry a message.
func (p *Problem) Localize(lang string) {
	if code := "problem.title." + strconv.Itoa(p.Status); i18n.Has(code) {
		p.Title = i18n.Render(lang, code, nil)
	}
	if p.DetailMessage != nil {
		p.Detail = p.DetailMessage.Render(lang)
	}
	for _, f := range p.Errors {
		if f != nil && f.Msg != nil {
			f.Message = f.Msg.Render(lang)
		}
	}
}

// withMsg sets the problem's detail from the catalog (English until
// Localize renders it in the caller's language).
func (p *Problem) withMsg(code string, kv ...any) *Problem {
	m := i18n.M(code, kv...)
	p.DetailMessage, p.Detail = &m, m.Render(i18n.English)
	return p
}

// fieldMsg is a field detail whose message is from the catalog (English
// until Localize renders it in the caller's language).
func fieldMsg(location, code string, kv ...any) *FieldDetail {
	m := i18n.M(code, kv...)
	return &FieldDetail{Location: location, Message: m.Render(i18n.English), Msg: &m}
}

func (p *Problem) Error() string             { return p.Detail }
func (p *Problem) GetStatus() int            { return p.Status }
func (p *Problem) ContentType(string) string { return "application/problem+json" }

// GetHeaders implements huma.HeadersError: Huma sets them on the response.
func (p *Problem) GetHeaders() http.Header { return p.headers }

// retryAfterUnavailable is the Retry-After of every 503, in seconds: long
// enough not to hammer a database that is restarting, short enough that a
// client is back within a second or two of its recovery.
const retryAfterUnavailable = "2"

// retryAfterBusy is the Retry-After of a 429 from a domain limit (a
// tenant's concurrent uploads), in seconds.
const retryAfterBusy = "5"

// Add implements huma's error-detail collection. Huma's own messages
// (humaMessages) get their catalog code and params, so they are rendered in
// the caller's language like the domain's.
func (p *Problem) Add(err error) {
	var d *huma.ErrorDetail
	if errors.As(err, &d) {
		msg := humaMsg(d.Message)
		if msg == nil && d.Location == "body" { // the body's decoder: its own text, in English, as a param
			m := i18n.M("validation.malformed_body", "Error", d.Message)
			msg = &m
		}
		p.Errors = append(p.Errors, &FieldDetail{Location: d.Location, Message: d.Message, Value: d.Value, Msg: msg})
		return
	}
	p.Errors = append(p.Errors, &FieldDetail{Message: err.Error()})
}

// statusOf is the one table from error code to HTTP status.
var statusOf = map[tenants.Code]int{
	tenants.CodeInvalid:             http.StatusUnprocessableEntity,
	tenants.CodeUnauthenticated:     http.StatusUnauthorized,
	tenants.CodeForbidden:           http.StatusForbidden,
	tenants.CodeNotFound:            http.StatusNotFound,
	tenants.CodeConflict:            http.StatusConflict,
	tenants.CodePreconditionFailed:  http.StatusPreconditionFailed,
	tenants.CodeIdempotencyReused:   http.StatusUnprocessableEntity,
	tenants.CodeIdempotencyBusy:     http.StatusConflict,
	tenants.CodeRateLimited:         http.StatusTooManyRequests,
	tenants.CodeUnavailable:         http.StatusServiceUnavailable,
	tenants.CodeDatabaseUnavailable: http.StatusServiceUnavailable,
	tenants.CodeInternal:            http.StatusInternalServerError,
}

// codeOfStatus names the errors Huma raises itself (parsing, validation,
// limits) so that every problem carries a code.
var codeOfStatus = map[int]tenants.Code{
	http.StatusBadRequest:            "malformed_request",
	http.StatusUnauthorized:          tenants.CodeUnauthenticated,
	http.StatusForbidden:             tenants.CodeForbidden,
	http.StatusNotFound:              tenants.CodeNotFound,
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusNotAcceptable:         "not_acceptable",
	http.StatusRequestTimeout:        "request_timeout",
	http.StatusConflict:              tenants.CodeConflict,
	http.StatusPreconditionFailed:    tenants.CodePreconditionFailed,
	http.StatusPreconditionRequired:  "precondition_required",
	http.StatusRequestEntityTooLarge: "body_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusUnprocessableEntity:   tenants.CodeInvalid,
	http.StatusTooManyRequests:       tenants.CodeRateLimited,
	http.StatusServiceUnavailable:    tenants.CodeUnavailable,
}

func newProblem(status int, code tenants.Code, detail string) *Problem {
	if code == "" {
		code = codeOfStatus[status]
		if code == "" {
			code = tenants.CodeInternal
			if status < 500 {
				code = "bad_request"
			}
		}
	}
	p := &Problem{Type: "urn:servicenet:problem:" + string(code), Title: http.StatusText(status), Status: status, Detail: detail, Code: code}
	if status == http.StatusServiceUnavailable {
		p.headers = http.Header{"Retry-After": {retryAfterUnavailable}}
	}
	return p
}

var installOnce sync.Once

// installErrorModel replaces Huma's error constructors so that every error,
// including Huma's own parse and validation errors, is a *Problem, and no 5xx
// ever carries the underlying error's text.
func installErrorModel(log *slog.Logger) {
	installOnce.Do(func() {
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			if status >= 500 {
				p := newProblem(status, "", "").withMsg("problem.internal")
				p.cause = joinErrs(msg, errs)
				return p
			}
			p := newProblem(status, "", msg)
			p.DetailMessage = humaMsg(msg)
			for _, err := range errs {
				if err != nil {
					p.Add(err)
				}
			}
			return p
		}
		huma.NewErrorWithContext = func(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
			var p *Problem
			if status >= 500 {
				ctx := context.Background()
				op := ""
				if hctx != nil {
					ctx, op = hctx.Context(), hctx.Operation().OperationID
				}
				log.ErrorContext(ctx, "request failed", "error", joinErrs(msg, errs), "operation", op)
				p = newProblem(status, "", "").withMsg("problem.internal")
			} else {
				p = huma.NewError(status, msg, errs...).(*Problem)
			}
			if hctx != nil {
				p.RequestID = logging.Get(hctx.Context(), "request_id")
				p.Instance = hctx.URL().Path
			}
			return p
		}
	})
}

func joinErrs(msg string, errs []error) string {
	parts := []string{msg}
	for _, e := range errs {
		if e != nil {
			parts = append(parts, e.Error())
		}
	}
	return strings.Join(parts, ": ")
}

// toProblem is the one mapper from an error returned by a handler or
// middleware to the problem the client sees. Domain errors keep their code
// and fields; Huma's status errors pass; a database outage that reached here
// untranslated (pg.Unavailable: an authentication lookup, a unit's commit,
// the request's deadline) is a 503 database_unavailable like a translated
// one, with Retry-After, and logged as a warning; anything else is logged
// with the request id and answered as a bare 500.
func toProblem(ctx context.Context, log *slog.Logger, path string, err error) *Problem {
	var p *Problem
	var te *tenants.Error
	var se huma.StatusError
	if !errors.As(err, &p) && !errors.As(err, &te) && pg.Unavailable(err) {
		err = pg.Translate(err)
	}
	switch {
	case errors.As(err, &p):
		if p.cause != "" {
			log.ErrorContext(ctx, "request failed", "error", p.cause)
		}
	case errors.As(err, &te):
		status, ok := statusOf[te.Code]
		if !ok {
			status = http.StatusInternalServerError
		}
		if status == http.StatusServiceUnavailable {
			cause := err.Error()
			if te.Cause != nil {
				cause = te.Cause.Error() // the driver's text names host, port, user and database, never a password
			}
			log.WarnContext(ctx, "request failed: "+string(te.Code), "error", cause)
		} else if status >= 500 {
			log.ErrorContext(ctx, "request failed", "error", err.Error())
			p = newProblem(status, "", "").withMsg("problem.internal")
			break
		}
		p = newProblem(status, te.Code, te.Message)
		p.DetailMessage = te.Msg
		p.ExistingID = te.ExistingID
		if status == http.StatusTooManyRequests { // a domain limit (concurrent uploads): its holders finish in seconds
			p.headers = http.Header{"Retry-After": {retryAfterBusy}}
		}
		for _, f := range te.Fields {
			p.Errors = append(p.Errors, &FieldDetail{Location: f.Location, Message: f.Message, Value: f.Value, Msg: f.Msg})
		}
		if te.Code == tenants.CodePreconditionFailed && len(p.Errors) == 0 { // the domain's If-Match check
			m := i18n.M("problem.if_match_mismatch")
			p.Errors = []*FieldDetail{{Location: "header.If-Match", Message: m.Render(i18n.English), Msg: &m}}
		}
	case errors.As(err, &se):
		p = newProblem(se.GetStatus(), "", "")
		if se.GetStatus() < 500 {
			p.Detail = se.Error()
		}
	case errors.Is(err, context.Canceled):
		p = newProblem(499, "client_closed_request", "").withMsg("api.client_closed")
	default:
		log.ErrorContext(ctx, "request failed", "error", fmt.Sprintf("%+v", err))
		p = newProblem(http.StatusInternalServerError, "", "").withMsg("problem.internal")
	}
	p.RequestID = logging.Get(ctx, "request_id")
	p.Instance = path
	return p
}
