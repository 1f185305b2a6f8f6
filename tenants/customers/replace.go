package customers

import (
	"context"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// TypeUnitReplaced is the event of a unit swapped out for another.
const TypeUnitReplaced = "unit.replaced"

// Replacement is the unit a swap hands over.
type Replacement struct {
	ModelID string
	Serial  string
}

// ReplaceUnit registers the replacement for an active unit in the caller's
// transaction and marks the old unit replaced (replaced_by the new one),
// with unit.registered and unit.replaced events. The replacement has the old
// unit's owner, channel, storefront and purchase price, and today (tenant's
// zone) as its purchase date: its normal warranty starts at the exchange.
// Its original_purchase_date is the old unit's (or the old unit's own
// purchase date): the seven-day no-reason return counts from the sale, and
// a swap is no new sale. It keeps the old unit's test clock.
// The old unit outside p's scope is not found; one that is not active is a
// conflict; a bad serial is invalid at serial.
func ReplaceUnit(ctx context.Context, tx pg.TenantTx, p tenants.Principal, oldID string, r Replacement, now time.Time) (Unit, error) {
	old, err := getUnit(ctx, tx, ScopeOf(p), oldID, "FOR UPDATE OF u")
	if err != nil {
		return Unit{}, err
	}
	if old.Status != "active" {
		return Unit{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("customers.unit_not_replaceable", "Status", old.Status))
	}
	_, today, err := tx.Today(ctx, now)
	if err != nil {
		return Unit{}, err
	}
	in := NewUnit{ModelID: r.ModelID, Serial: r.Serial, CustomerID: old.CustomerID, PurchaseDate: today,
		Channel: old.Channel, PurchasePrice: old.PurchasePrice, PurchasePriceSource: old.PurchasePriceSource}
	if old.StorefrontID != nil {
		in.StorefrontID = *old.StorefrontID
	}
	if old.InvoiceNumber != nil {
		in.InvoiceNumber = *old.InvoiceNumber
	}
	nu, err := registerUnit(ctx, tx, p, in, now)
	if err != nil {
		return Unit{}, err
	}
	if _, err := tx.Exec(ctx, `UPDATE units SET status = 'replaced', replaced_by = $3, version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND id = $2`, tx.TenantID, old.ID, nu.ID); err != nil {
		return Unit{}, err
	}
	first := old.PurchaseDate
	if old.OriginalPurchaseDate != nil {
		first = *old.OriginalPurchaseDate
	}
	// The replacement keeps the old unit's test clock: its care runs on.
	if _, err := tx.Exec(ctx, `UPDATE units SET original_purchase_date = $3::date, test_clock_id = $4 WHERE tenant_id = $1 AND id = $2`,
		tx.TenantID, nu.ID, first, old.TestClockID); err != nil {
		return Unit{}, err
	}
	nu.OriginalPurchaseDate, nu.TestClockID = &first, old.TestClockID
	return nu, events.Append(ctx, tx, events.New{Type: TypeUnitReplaced, SubjectID: old.ID, Actor: p.Subject(),
		Data: map[string]any{"replaced_by": nu.ID, "model_id": old.ModelID, "replacement_model_id": nu.ModelID,
			"customer_id": old.CustomerID, "storefront_id": old.StorefrontID}})
}
