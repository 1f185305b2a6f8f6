package customers

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/privacy"
)

// TypeCustomerErased is the event of a customer's erasure.
const TypeCustomerErased = "customer.erased"

// SubjectTx reads, inside the caller's transaction, a customer and its
// units for a data-subject request; lock is "" or "FOR UPDATE OF c". No
// scope applies: the caller holds the permission for the whole tenant.
func SubjectTx(ctx context.Context, tx pg.TenantTx, id, lock string) (Customer, []Unit, error) {
	c, err := getCustomer(ctx, tx, Scope{}, id, lock)
	if err != nil {
		return c, nil, err
	}
	rows, err := tx.Query(ctx, `SELECT `+unitColumns+unitFrom+` WHERE u.tenant_id = $1 AND u.customer_id = $2 ORDER BY u.id`, tx.TenantID, id)
	if err != nil {
		return c, nil, err
	}
	us, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Unit, error) { return scanUnit(r) })
	if us == nil {
		us = []Unit{}
	}
	return c, us, err
}

// NamesTx returns, inside the caller's transaction, the names of the
// customers ids that are neither masked nor erased, by id (a masked or
// erased customer's name is no name to look for in a text). No scope
// applies.
func NamesTx(ctx context.Context, tx pg.TenantTx, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx, `SELECT id, name FROM customers WHERE tenant_id = $1 AND id = ANY ($2)
		AND masked_at IS NULL AND erased_at IS NULL`, tx.TenantID, ids)
	if err != nil {
		return nil, err
	}
	var id, name string
	_, err = pgx.ForEachRow(rows, []any{&id, &name}, func() error {
		out[id] = name
		return nil
	})
	return out, err
}

// EraseTx replaces, inside the caller's transaction, a customer's personal
// data with tombstones and releases its phones (a new customer may register
// with them). The customer keeps its id, units and history.
func EraseTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) (Customer, error) {
	c, err := scanCustomer(tx.QueryRow(ctx, `UPDATE customers AS c SET name = $3, phones = '{}', addresses = '[]',
			erased_at = coalesce(erased_at, now()), version = version + 1, updated_at = now()
		WHERE c.tenant_id = $1 AND c.id = $2 RETURNING `+customerColumns, tx.TenantID, id, privacy.Erased))
	if err != nil {
		return c, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM customer_phones WHERE tenant_id = $1 AND customer_id = $2`, tx.TenantID, id); err != nil {
		return c, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM customer_storefront_phones WHERE tenant_id = $1 AND customer_id = $2`, tx.TenantID, id); err != nil {
		return c, err
	}
	return c, events.Append(ctx, tx, events.New{Type: TypeCustomerErased, SubjectID: id, Actor: p.Subject(), Data: map[string]any{}})
}
