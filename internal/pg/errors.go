package pg

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/servicenet/servicenet/tenants"
)

// constraintFields maps a constraint name to the input field it guards, so a
// unique or foreign-key violation can name the field. Packages register their
// constraints in init.
var constraintFields sync.Map // name -> tenants.FieldError

// RegisterConstraint says which input field a constraint guards and what to
// tell the client when it is violated.
func RegisterConstraint(name, location, message string) {
	constraintFields.Store(name, tenants.FieldError{Location: location, Message: message})
}

// Translate turns a driver error into a *tenants.Error where the cause is the
// client's (no row, unique or foreign-key violation, bad value, RLS refusal,
// timeout). Anything else is returned unchanged and will be answered as a
// bare 500. This is the one place driver errors are interpreted.
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
	if errors.Is(err, context.DeadlineExceeded) {
		return tenants.Errorf(tenants.CodeUnavailable, "the request took too long; retry later")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	field := func(fallback string) []tenants.FieldError {
		if v, ok := constraintFields.Load(pgErr.ConstraintName); ok {
			return []tenants.FieldError{v.(tenants.FieldError)}
		}
		if fallback == "" {
			return nil
		}
		return []tenants.FieldError{{Location: "body", Message: fallback}}
	}
	switch pgErr.Code {
	case pgerrcode.UniqueViolation, pgerrcode.ExclusionViolation:
		return &tenants.Error{Code: tenants.CodeConflict, Message: "conflicts with an existing object", Fields: field("")}
	case pgerrcode.ForeignKeyViolation:
		return &tenants.Error{Code: tenants.CodeInvalid, Message: "refers to an object that does not exist", Fields: field("refers to an object that does not exist")}
	case pgerrcode.CheckViolation, pgerrcode.NotNullViolation:
		return &tenants.Error{Code: tenants.CodeInvalid, Message: "validation failed", Fields: field("value not allowed")}
	case pgerrcode.InvalidTextRepresentation, pgerrcode.NumericValueOutOfRange, pgerrcode.StringDataRightTruncationDataException,
		pgerrcode.InvalidDatetimeFormat, pgerrcode.DatetimeFieldOverflow:
		return &tenants.Error{Code: tenants.CodeInvalid, Message: "validation failed", Fields: field("value out of range or malformed")}
	case pgerrcode.InsufficientPrivilege:
		// Row-level security refused a row: to the caller it does not exist.
		return tenants.Errorf(tenants.CodeNotFound, "not found")
	case pgerrcode.QueryCanceled, pgerrcode.LockNotAvailable:
		return tenants.Errorf(tenants.CodeUnavailable, "the request took too long; retry later")
	case pgerrcode.SerializationFailure, pgerrcode.DeadlockDetected:
		return tenants.Errorf(tenants.CodeConflict, "a concurrent change interfered; retry")
	}
	return err
}
