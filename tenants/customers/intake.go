package customers

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// FindOrCreateByPhone returns the customer a normalised phone belongs to, or
// creates one named name with that phone (created true), inside tx. Service
// tickets find their customer this way at intake.
func FindOrCreateByPhone(ctx context.Context, tx pg.TenantTx, p tenants.Principal, name, phone string) (Customer, bool, error) {
	in := NewCustomer{Name: strings.TrimSpace(name), Phones: []string{phone}}
	return findOrCreateCustomer(ctx, tx, p, ScopeOf(p), "body.contact.", in, []string{phone})
}

// FindUnitBySerial returns the registered unit of a model with a serial
// (upper-cased), or nil, inside tx and regardless of scope; whether the
// serial is registered to another model is reported too.
func FindUnitBySerial(ctx context.Context, tx pg.TenantTx, modelID, serial string) (*Unit, bool, error) {
	serial = strings.ToUpper(strings.TrimSpace(serial))
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM units WHERE tenant_id = $1 AND model_id = $2 AND serial = $3`, tx.TenantID, modelID, serial).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		var elsewhere bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM units WHERE tenant_id = $1 AND serial = $2 AND model_id <> $3)`,
			tx.TenantID, serial, modelID).Scan(&elsewhere)
		return nil, elsewhere, err
	}
	if err != nil {
		return nil, false, err
	}
	u, err := getUnit(ctx, tx, Scope{}, id, "")
	return &u, false, err
}

// RegisterUnitTx registers a unit inside tx, with RegisterUnit's checks.
func RegisterUnitTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, in NewUnit, now time.Time) (Unit, error) {
	return registerUnit(ctx, tx, p, in, now)
}

// ValidSerial reports whether s (trimmed, upper-cased) is shaped like a serial.
func ValidSerial(s string) bool {
	return serialPattern.MatchString(strings.ToUpper(strings.TrimSpace(s)))
}
