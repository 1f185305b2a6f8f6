package pg

import (
	"context"
	"errors"
	"io"
	"syscall"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/servicenet/servicenet/tenants"
)

// Unavailable reports whether err means the database cannot serve the
// request now, through no fault of the request: nothing listening, the
// connection refused, reset or closed, the server shutting down, starting up
// or out of connection slots, our statement_timeout (57014), or the
// request's deadline reached while waiting for the pool or the server (a
// frozen server). A client that went away (context.Canceled) is not an
// outage. A lock timeout (55P03) is not one either: see Translate.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgerrcode.TooManyConnections, pgerrcode.AdminShutdown, pgerrcode.CrashShutdown,
			pgerrcode.CannotConnectNow, pgerrcode.QueryCanceled:
			return true
		}
		return pgerrcode.IsConnectionException(pgErr.Code) // 08xxx
	}
	var connectErr *pgconn.ConnectError
	return errors.As(err, &connectErr) || pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) // the server closed the connection mid-message
}

// Interfered reports whether err is a transaction the server aborted for
// a concurrent one (a deadlock, or a serialization failure): run again, it
// may well succeed. Translate answers it 409 "a concurrent change
// interfered; retry".
func Interfered(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == pgerrcode.DeadlockDetected || pgErr.Code == pgerrcode.SerializationFailure)
}

// Translate turns a driver error into a *tenants.Error where the cause is the
// client's (no row, unique or foreign-key violation, bad value, RLS refusal:
// a violated constraint's name is kept in Constraint, for the API to name
// the field it guards)
// or the database's (unavailable: see Unavailable; a lock held past
// lock_timeout). Anything else is returned unchanged and will be answered as
// a bare 500. This is the one place driver errors are interpreted.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	var te *tenants.Error
	if errors.As(err, &te) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return tenants.Errorf(tenants.CodeNotFound, "not found")
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == pgerrcode.LockNotAvailable {
		// Another transaction held a row this one needed for longer than
		// lock_timeout: the database is up, the object is busy. (The
		// idempotency claim's own lock timeout is answered before this, as
		// idempotency_key_in_use.)
		return &tenants.Error{Code: tenants.CodeUnavailable, Message: "the object is busy with another change; retry shortly", Cause: err}
	}
	if Unavailable(err) {
		return &tenants.Error{Code: tenants.CodeDatabaseUnavailable, Message: "the database is unavailable; retry later", Cause: err}
	}
	if pgErr == nil {
		return err
	}
	// The input as a whole (location ""), until the API names the field
	// the constraint guards.
	field := func(message string) []tenants.FieldError {
		if message == "" {
			return nil
		}
		return []tenants.FieldError{{Location: "", Message: message}}
	}
	c := pgErr.ConstraintName
	switch pgErr.Code {
	case pgerrcode.UniqueViolation, pgerrcode.ExclusionViolation:
		return &tenants.Error{Code: tenants.CodeConflict, Message: "conflicts with an existing object", Constraint: c}
	case pgerrcode.ForeignKeyViolation:
		return &tenants.Error{Code: tenants.CodeInvalid, Message: "refers to an object that does not exist", Constraint: c, Fields: field("refers to an object that does not exist")}
	case pgerrcode.CheckViolation, pgerrcode.NotNullViolation:
		return &tenants.Error{Code: tenants.CodeInvalid, Message: "validation failed", Constraint: c, Fields: field("value not allowed")}
	case pgerrcode.InvalidTextRepresentation, pgerrcode.NumericValueOutOfRange, pgerrcode.StringDataRightTruncationDataException,
		pgerrcode.InvalidDatetimeFormat, pgerrcode.DatetimeFieldOverflow:
		return &tenants.Error{Code: tenants.CodeInvalid, Message: "validation failed", Fields: field("value out of range or malformed")}
	case pgerrcode.InsufficientPrivilege:
		// Row-level security refused a row: to the caller it does not exist.
		return tenants.Errorf(tenants.CodeNotFound, "not found")
	}
	if Interfered(err) {
		return tenants.Errorf(tenants.CodeConflict, "a concurrent change interfered; retry")
	}
	return err
}
