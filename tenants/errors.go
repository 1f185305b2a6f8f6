package tenants

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/servicenet/servicenet/internal/i18n"
)

// Code is a stable, machine-readable error code. Codes are part of the API
// contract: clients switch on them. api/errors.go maps each to one HTTP status.
type Code string

const (
	CodeInvalid             Code = "invalid"             // input fails validation; Fields say where
	CodeUnauthenticated     Code = "unauthenticated"     // no or bad credential
	CodeForbidden           Code = "forbidden"           // the credential's roles do not allow the operation
	CodeNotFound            Code = "not_found"           // absent, another tenant's, or outside the caller's scope
	CodeConflict            Code = "conflict"            // unique or state conflict
	CodePreconditionFailed  Code = "precondition_failed" // If-Match did not match
	CodeIdempotencyReused   Code = "idempotency_key_reused"
	CodeIdempotencyBusy     Code = "idempotency_key_in_use"
	CodeRateLimited         Code = "rate_limited"
	CodeUnavailable         Code = "unavailable"          // busy for now (a lock held too long, not ready); retry after Retry-After
	CodeDatabaseUnavailable Code = "database_unavailable" // the database cannot serve requests now; retry after Retry-After
	CodeInternal            Code = "internal"
)

// FieldError names the input field a problem is about, relative to the
// service's input: "roles[1]", "contact.phone", "cursor" ("" is the input
// as a whole). The API places it in the request (body.roles[1],
// query.cursor); locations the API writes itself already say where
// (header.Idempotency-Key).
type FieldError struct {
	Location string
	Message  string
	Value    any
	// Msg, when set, is Message as a catalog code and params: the API
	// renders it in the caller's language. Message stays the English text.
	Msg *i18n.Message
}

// Error is the error type every domain package returns for expected failures.
// Any other error reaching the API is a bug: it is logged and answered as a
// bare 500 without its text.
type Error struct {
	Code    Code
	Message string
	// Msg, when set, is Message as a catalog code and params (the problem's
	// detail in the caller's language); Message stays the English text.
	Msg    *i18n.Message
	Fields []FieldError
	// Constraint, on a unique, exclusion, foreign-key or check violation
	// (pg.Translate), is the violated constraint's name: the API names the
	// request field it guards.
	Constraint string
	// ExistingID, on a conflict over a reused reference, is the ID of the
	// object that already holds it (sent as the problem's existing_id).
	ExistingID string
	// Cause is the failure behind an error the client is not at fault for
	// (database_unavailable), kept for the log; it is never sent, and Error
	// does not show it.
	Cause error
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Message, e.Fields[0].Location, e.Fields[0].Message)
}

// Errorf returns an *Error with the given code.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorMsg returns an *Error with the given code and its detail from the
// catalog: m rendered in English is Message.
func ErrorMsg(code Code, m i18n.Message) *Error {
	return &Error{Code: code, Message: m.Render(i18n.English), Msg: &m}
}

// With appends fields to e and returns e.
func (e *Error) With(fields ...FieldError) *Error {
	e.Fields = append(e.Fields, fields...)
	return e
}

// FieldMsg is a FieldError whose message is from the catalog: m rendered in
// English is Message.
func FieldMsg(location string, m i18n.Message, value any) FieldError {
	return FieldError{Location: location, Message: m.Render(i18n.English), Value: value, Msg: &m}
}

// CheckVersion is an update's If-Match check: when ifVersion > 0 (the client
// sent If-Match) it must equal current, the version just read FOR UPDATE;
// otherwise the error is precondition_failed, naming what changed and its
// version now.
func CheckVersion(what string, ifVersion, current int) error {
	if ifVersion > 0 && current != ifVersion {
		return ErrorMsg(CodePreconditionFailed, i18n.M("problem.version_changed", "What", object(what), "Version", current))
	}
	return nil
}

// Invalid returns a validation error about one field.
func Invalid(location, message string, value any) *Error {
	return &Error{Code: CodeInvalid, Message: "validation failed", Msg: msg("problem.validation_failed"),
		Fields: []FieldError{{Location: location, Message: message, Value: value}}}
}

// InvalidMsg is Invalid with the field's message from the catalog: m

// Values lists the values of an enumeration for a common.one_of message
// ("late, attitude, fee"), in their order.
func Values[T ~string](vs []T) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = string(v)
	}
	return strings.Join(names, ", ")
}

// rendered in English is the field's Message.
func InvalidMsg(location string, m i18n.Message, value any) *Error {
	e := Invalid(location, m.Render(i18n.English), value)
	e.Fields[0].Msg = &m
	return e
}

func msg(code string, kv ...any) *i18n.Message {
	m := i18n.M(code, kv...)
	return &m
}

// object names a kind of object ("api key") by its catalog message
// (object.api_key) when there is one, else as given.
func object(what string) any {
	code := "object." + strings.ReplaceAll(what, " ", "_")
	if i18n.Has(code) {
		return i18n.M(code)
	}
	return what
}

// NotFound returns a not_found error for a kind of object ("api key").
func NotFound(what string) *Error {
	return ErrorMsg(CodeNotFound, i18n.M("problem.not_found", "What", object(what)))
}

// ErrorCode returns the code of err, or "" when err is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Validation collects field errors so a caller learns about every bad field
// at once. The zero value is ready to use.
type Validation struct {
	fields []FieldError
}

// Add records a problem with the field at location.
func (v *Validation) Add(location, message string, value any) {
	v.fields = append(v.fields, FieldError{Location: location, Message: message, Value: value})
}

// AddMsg records a problem with the field at location, its message from the
// catalog.
func (v *Validation) AddMsg(location string, m i18n.Message, value any) {
	v.fields = append(v.fields, FieldMsg(location, m, value))
}

// AddField records a problem as it is (a field of another validation, its
// catalog message kept).
func (v *Validation) AddField(f FieldError) { v.fields = append(v.fields, f) }

// At is f at another location.
func (f FieldError) At(location string) FieldError {
	f.Location = location
	return f
}

// Fields returns the problems recorded so far.
func (v *Validation) Fields() []FieldError { return v.fields }

// Err returns an invalid *Error listing every recorded problem, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: CodeInvalid, Message: "validation failed", Msg: msg("problem.validation_failed"), Fields: v.fields}
}

// Relocate returns err with the field locations that start with from
// starting with to instead, for an input nested in another's
// (Relocate(err, "", "work.") when a service's input is the request's
// work). A location in except, and the input as a whole (""), stay where
// they are. Other errors are returned as they are; a *Error is copied,
// never changed (domain errors may be shared values).
func Relocate(err error, from, to string, except ...string) error {
	var te *Error
	if !errors.As(err, &te) || len(te.Fields) == 0 {
		return err
	}
	out := *te
	out.Fields = make([]FieldError, len(te.Fields))
	for i, f := range te.Fields {
		if rest, ok := strings.CutPrefix(f.Location, from); ok && f.Location != "" && !slices.Contains(except, f.Location) {
			f.Location = to + rest
		}
		out.Fields[i] = f
	}
	return &out
}
