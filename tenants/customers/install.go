package customers

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// SoldAtBrandStoreTx reports whether unit unitID was bought at one of the
// brand's own stores (专卖店): sold through the brand_store channel, or by a
// storefront whose platform is brand_store. Midea's promise 2 makes an
// install visit repeated because the delivery was not in sync free for such
// a sale only (限美的专卖店购买): elsewhere the delivery is the seller's.
func SoldAtBrandStoreTx(ctx context.Context, tx pg.TenantTx, unitID string) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT u.channel = 'brand_store' OR EXISTS (SELECT 1 FROM storefronts s
			WHERE s.tenant_id = u.tenant_id AND s.id = u.storefront_id AND s.platform = 'brand_store')
		FROM units u WHERE u.tenant_id = $1 AND u.id = $2`, tx.TenantID, unitID).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return ok, err
}

// SetInstalledOnTx records, in the caller's tenant transaction, that the
// unit was installed on on (YYYY-MM-DD, the tenant's zone): a completed
// installation. The latest installation counts (rule 3's month of free
// tuning runs from it). A date before the purchase is invalid, naming the
// field installed_on (the units_check constraint refused it, and the
// statement failed the caller's transaction); an unknown unit is
// not_found.
func SetInstalledOnTx(ctx context.Context, tx pg.TenantTx, unitID, on string) error {
	tag, err := tx.Exec(ctx, `UPDATE units SET installed_on = $3::date, version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tx.TenantID, unitID, on)
	if err != nil {
		return installedOnError(err, on)
	}
	if tag.RowsAffected() == 0 {
		return tenants.ErrorMsg(tenants.CodeNotFound, i18n.M("common.no_such_unit"))
	}
	return nil
}

// installedOnError names the field of a units_check violation, the one
// check SetInstalledOnTx's statement can break: installed_on, with the
// constraint's catalog message (the one the API gives it too: the error
// keeps its Constraint, so the HTTP answer is as before). Other errors are
// returned as they are.
func installedOnError(err error, on string) error {
	var te *tenants.Error
	if !errors.As(pg.Translate(err), &te) || te.Constraint != "units_check" {
		return err
	}
	out := *te
	out.Fields = []tenants.FieldError{tenants.FieldMsg("installed_on", i18n.M("constraint.units_check"), on)}
	return &out
}

// MarkReturnedTx marks an active unit returned (a refunded return), in the
// caller's tenant transaction; its history stays. A unit that is not
// active is a conflict; an unknown one not_found.
func MarkReturnedTx(ctx context.Context, tx pg.TenantTx, unitID string) error {
	tag, err := tx.Exec(ctx, `UPDATE units SET status = 'returned', version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND id = $2 AND status = 'active'`, tx.TenantID, unitID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("customers.unit_not_active"))
	}
	return nil
}

// Owner is who to tell about a unit: its customer, the customer's first
// phone (E.164; empty once the customer was erased) and whether the
// customer declined non-essential messages.
type Owner struct {
	CustomerID string
	Phone      string
	OptedOut   bool
}

// UnitOwnerTx returns the owner of a unit of tx's tenant, in the caller's
// transaction: other contexts (claims, payouts) read it to message the
// customer. An unknown unit is not_found.
func UnitOwnerTx(ctx context.Context, tx pg.TenantTx, unitID string) (Owner, error) {
	var o Owner
	var erased bool
	err := tx.QueryRow(ctx, `SELECT c.id, coalesce(c.phones[1], ''), c.notifications_opt_out, c.erased_at IS NOT NULL
		FROM units u JOIN customers c ON c.tenant_id = u.tenant_id AND c.id = u.customer_id
		WHERE u.tenant_id = $1 AND u.id = $2`, tx.TenantID, unitID).Scan(&o.CustomerID, &o.Phone, &o.OptedOut, &erased)
	if errors.Is(err, pgx.ErrNoRows) {
		return Owner{}, tenants.ErrorMsg(tenants.CodeNotFound, i18n.M("common.no_such_unit"))
	}
	if erased || strings.Contains(o.Phone, "*") {
		o.Phone = ""
	}
	return o, err
}
