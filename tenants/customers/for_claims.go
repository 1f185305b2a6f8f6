package customers

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// QueueSerialElsewhere queues on b whether the serial of unit unitID is
// also registered to a unit of another model, into elsewhere (false for an
// unknown unit).
func QueueSerialElsewhere(b *pgx.Batch, tenantID, unitID string, elsewhere *bool) {
	b.Queue(`SELECT EXISTS (SELECT FROM units u JOIN units o ON o.tenant_id = u.tenant_id AND o.serial = u.serial
		AND o.model_id <> u.model_id WHERE u.tenant_id = $1 AND u.id = $2)`,
		tenantID, unitID).QueryRow(func(row pgx.Row) error { return row.Scan(elsewhere) })
}

// IsUnitRepairTx reports, inside the caller's transaction, whether id is a
// repair recorded in unit unitID's service history (a malformed id is not).
func IsUnitRepairTx(ctx context.Context, tx pg.TenantTx, id, unitID string) (bool, error) {
	if !tenants.ValidID(tenants.PrefixServiceRecord, id) {
		return false, nil
	}
	var ok bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM service_records WHERE tenant_id = $1 AND id = $2
		AND unit_id = $3 AND kind = 'repair')`, tx.TenantID, id, unitID).Scan(&ok)
	return ok, err
}

// QueueCheckCanSell queues on b CheckCanSell's check of p's storefront
// (locked FOR SHARE, as CheckCanSell locks it) into *err: forbidden when
// the storefront is suspended or gone, nil otherwise (and for a principal
// of the whole tenant, for whom nothing is queued). The callback never
// fails the batch, so the caller decides where the refusal ranks.
func QueueCheckCanSell(b *pgx.Batch, tenantID string, p tenants.Principal, err *error) {
	*err = nil
	sc := ScopeOf(p)
	if sc.Whole() {
		return
	}
	if !tenants.ValidID(tenants.PrefixStorefront, sc.StorefrontID) {
		*err = tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("customers.own_storefront_suspended"))
		return
	}
	b.Queue(`SELECT status FROM storefronts WHERE tenant_id = $1 AND id = $2 FOR SHARE`, tenantID, sc.StorefrontID).
		QueryRow(func(row pgx.Row) error {
			var status string
			switch e := row.Scan(&status); {
			case errors.Is(e, pgx.ErrNoRows), e == nil && status != StorefrontActive:
				*err = tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("customers.own_storefront_suspended"))
			case e != nil:
				*err = e
			}
			return nil
		})
}

// UnitRepair is a repair recorded in a unit's service history, as a claim
// names it.
type UnitRepair struct {
	// On is the day of the repair (occurred_on).
	On string
	// TicketNumber is the number of the ticket whose completion recorded
	// it (its reference is TicketReference's), "" when no ticket's
	// completion did (a repair recorded by hand: legacy history).
	TicketNumber string
}

// QueueUnitRepair queues on b the read of the repair the service record id
// recorded of unitID, into out: nil when id is no repair of the unit (or
// no service record id).
func QueueUnitRepair(b *pgx.Batch, tenantID, id, unitID string, out **UnitRepair) {
	*out = nil
	if !tenants.ValidID(tenants.PrefixServiceRecord, id) {
		return
	}
	b.Queue(`SELECT occurred_on::text, coalesce(reference, '') FROM service_records WHERE tenant_id = $1 AND id = $2
		AND unit_id = $3 AND kind = 'repair'`, tenantID, id, unitID).QueryRow(func(row pgx.Row) error {
		var r UnitRepair
		var ref string
		err := row.Scan(&r.On, &ref)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		r.TicketNumber = ticketOfReference(ref)
		*out = &r
		return nil
	})
}

// ticketOfReference is the ticket number of a reference TicketReference
// made (<ticketNumber>/<visit>), "" for any other reference.
func ticketOfReference(ref string) string {
	i := strings.LastIndexByte(ref, '/')
	if i <= 0 {
		return ""
	}
	if _, err := strconv.Atoi(ref[i+1:]); err != nil || ref[i+1:] == "" || strings.ContainsAny(ref[i+1:], "+-") {
		return ""
	}
	return ref[:i]
}

// QueueUnitOwner queues on b UnitOwnerTx's read into o, for a caller that
// messages the customer after the writes it sends in the same round trip.
// An unknown unit is not_found when b is sent.
func QueueUnitOwner(b *pgx.Batch, tenantID, unitID string, o *Owner) {
	b.Queue(`SELECT c.id, coalesce(c.phones[1], ''), c.notifications_opt_out, c.erased_at IS NOT NULL
		FROM units u JOIN customers c ON c.tenant_id = u.tenant_id AND c.id = u.customer_id
		WHERE u.tenant_id = $1 AND u.id = $2`, tenantID, unitID).QueryRow(func(row pgx.Row) error {
		var erased bool
		err := row.Scan(&o.CustomerID, &o.Phone, &o.OptedOut, &erased)
		if errors.Is(err, pgx.ErrNoRows) {
			return tenants.ErrorMsg(tenants.CodeNotFound, i18n.M("common.no_such_unit"))
		}
		if erased || strings.Contains(o.Phone, "*") {
			o.Phone = ""
		}
		return err
	})
}
