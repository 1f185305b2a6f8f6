package customers

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// QueueCustomerByPhone queues on b, for an intake's round trip of reads,
// the phone's lock (find-or-create's serialisation, held until tx ends)
// and then the read of the customer the normalised phone belongs to in p's
// scope (as findOrCreateCustomer finds it): its id ("" when none) and
// whether it declined non-essential messages (optedOut: see OptedOutTx).
// For a storefront key, a phone that belongs only to a customer outside its
// scope finds none, as an unknown phone does. The read comes after the
// lock, so it sees what the lock's previous holder committed, and no one
// can give the phone a customer before tx ends: when it finds none,
// CreateForLockedPhoneTx creates the customer without reading again.
func QueueCustomerByPhone(b *pgx.Batch, tenantID string, p tenants.Principal, phone string, id *string, optedOut *bool) {
	queueLockPhones(b, tenantID, []string{phone})
	scan := func(row pgx.Row) error {
		if err := row.Scan(id, optedOut); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return nil
	}
	if sc := ScopeOf(p); !sc.Whole() {
		b.Queue(`SELECT c.id, `+optedOutSQL+` FROM customers c WHERE c.tenant_id = $1 AND c.id = `+phoneHolderSQL("$2::text", "$3"),
			tenantID, phone, sc.arg()).QueryRow(scan)
		return
	}
	// The phone first, then its customer by key: a plan that cannot start
	// from the tenant's customers, whatever a new tenant's statistics say
	// (a join planned on a few rows scanned every customer of the tenant
	// once it had hundreds: 816 buffers per intake instead of 8).
	b.Queue(`SELECT c.id, c.notifications_opt_out FROM customers c
		WHERE c.tenant_id = $1 AND c.id = (SELECT ph.customer_id FROM customer_phones ph WHERE ph.tenant_id = $1 AND ph.phone = $2)`,
		tenantID, phone).QueryRow(scan)
}

// CreateForLockedPhoneTx creates, in tx, the customer of a normalised
// phone that a read after the phone's lock (QueueCustomerByPhone) found no
// customer for, named name, in p's scope, with customer.created; it
// returns the new customer's id. Its writes ride the transaction's next
// round trip (pg.TenantTx.Defer): a write that fails (the phone taken by a
// writer that did not take its lock) fails the transaction. A storefront's
// customer does not own a phone a customer outside its scope owns
// (queueInsertCustomer).
func CreateForLockedPhoneTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, name, phone string) (string, error) {
	id := tenants.NewID(tenants.PrefixCustomer)
	b := &pgx.Batch{}
	queueInsertCustomer(b, tx.TenantID, id, strings.TrimSpace(name), []string{phone}, []CustomerAddress{}, ScopeOf(p), nil)
	if err := events.QueueTx(b, tx, events.New{Type: TypeCustomerCreated, SubjectID: id, Actor: p.Subject(),
		Data: map[string]any{"phones": 1, "addresses": 0}}); err != nil {
		return "", err
	}
	return id, tx.Defer(ctx, b)
}

// QueueUnitBySerial queues on b the read of the id of the registered unit
// of a model with a serial (upper-cased) in p's scope, or "", and whether
// the serial is registered, in p's scope, to another model (elsewhere). For
// a storefront key, outside is whether the serial is registered to a unit it
// did not sell (of this model or another): such a unit is neither its to
// link nor a new one to register, and its id is not read; for a
// tenant-wide key outside is false.
func QueueUnitBySerial(b *pgx.Batch, tenantID string, p tenants.Principal, modelID, serial string, id *string, elsewhere, outside *bool) {
	serial = strings.ToUpper(strings.TrimSpace(serial))
	b.Queue(`SELECT (SELECT u.id FROM units u WHERE u.tenant_id = $1 AND u.model_id = $2 AND u.serial = $3 AND `+unitInScope("$4")+`),
		EXISTS (SELECT FROM units u WHERE u.tenant_id = $1 AND u.serial = $3 AND u.model_id <> $2 AND `+unitInScope("$4")+`),
		$4::text IS NOT NULL AND EXISTS (SELECT FROM units u WHERE u.tenant_id = $1 AND u.serial = $3 AND u.storefront_id IS DISTINCT FROM $4::text)`,
		tenantID, modelID, serial, ScopeOf(p).arg()).QueryRow(func(row pgx.Row) error {
		var found *string
		if err := row.Scan(&found, elsewhere, outside); err != nil {
			return err
		}
		if found != nil {
			*id = *found
		}
		return nil
	})
}

// RegisterUnitTx registers a unit inside tx, with RegisterUnit's checks.
func RegisterUnitTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, in NewUnit, now time.Time) (Unit, error) {
	return registerUnit(ctx, tx, p, in, now)
}

// KnownUnit is what a caller of RegisterKnownUnitTx read already in its
// transaction: the tenant's settings, the model (found, with its
// category), that the serial (trimmed, upper-cased) is registered to no
// other model, and the owner (found or created).
type KnownUnit struct {
	Settings                  pg.TenantSettings
	ModelID, Category, Serial string
	CustomerID                string
}

// RegisterKnownUnitTx is RegisterUnitTx for a caller that read, in tx,
// what the checks read (known), and needs only the unit's id: for a
// tenant-wide key registering that model and serial to that owner, the
// checks use known instead of a round trip of reads, and the unit's
// writes ride the transaction's next round trip (pg.TenantTx.Defer: a
// failed write, such as the serial registered meanwhile, fails the
// transaction); otherwise it is RegisterUnitTx.
func RegisterKnownUnitTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, in NewUnit, now time.Time, known KnownUnit) (string, error) {
	u, err := registerKnownUnit(ctx, tx, p, in, now, &known)
	return u.ID, err
}

// ValidSerial reports whether s (trimmed, upper-cased) is shaped like a serial.
func ValidSerial(s string) bool {
	return serialPattern.MatchString(strings.ToUpper(strings.TrimSpace(s)))
}

// OptedOutTx reports, inside tx, whether the customer declined
// non-essential messages (false for an unknown id): it did, or the owner of
// one of its phones did (a storefront's customer keeps a phone a brand
// customer owns: the person behind the phone declined them).
func OptedOutTx(ctx context.Context, tx pg.TenantTx, customerID string) (bool, error) {
	var out bool
	err := tx.QueryRow(ctx, `SELECT `+optedOutSQL+` FROM customers c WHERE c.tenant_id = $1 AND c.id = $2`,
		tx.TenantID, customerID).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return out, err
}

// optedOutSQL is whether the customer row c declined non-essential
// messages, or the owner of one of its phones did (OptedOutTx).
const optedOutSQL = `(c.notifications_opt_out OR EXISTS (SELECT FROM customer_phones op
	JOIN customers o ON o.tenant_id = op.tenant_id AND o.id = op.customer_id
	WHERE op.tenant_id = c.tenant_id AND op.phone = ANY (c.phones) AND o.id <> c.id AND o.notifications_opt_out))`
