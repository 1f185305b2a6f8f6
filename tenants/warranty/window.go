package warranty

import (
	"time"

	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// ManufacturerWarrantyEnd is the last day of a unit's whole-unit
// manufacturer warranty: it runs from the purchase date for warrantyMonths.
// With 0 months it is the day before the purchase (no warranty).
func ManufacturerWarrantyEnd(purchase time.Time, warrantyMonths int) time.Time {
	return entitlement.TermEnd(purchase, warrantyMonths)
}

// CoverageWindow is the first and last day a plan covers a unit bought on
// purchase whose model has warrantyMonths of manufacturer warranty: from the
// day after the manufacturer warranty ends (extended warranties) or from
// purchase + start_offset_days (30 for "day 31", 1 for "the next day"), for
// duration_months, both days inclusive.
func CoverageWindow(p Plan, purchase time.Time, warrantyMonths int) (startsOn, endsOn time.Time) {
	offset := 0
	if p.StartOffsetDays != nil {
		offset = *p.StartOffsetDays
	}
	after := p.StartsAfterManufacturerWarranty || p.StartOffsetDays == nil
	return entitlement.PlanWindow(offset, after, p.DurationMonths, purchase, warrantyMonths)
}

// LatestSale is the last day a plan may be sold for a unit bought on
// purchase: purchase + sale_window_days, and for an extended warranty no
// later than the last day of the manufacturer warranty (an extended warranty
// without a sale window may be sold through that day).
func LatestSale(p Plan, purchase time.Time, warrantyMonths int) time.Time {
	var latest time.Time
	if p.SaleWindowDays != nil {
		latest = purchase.AddDate(0, 0, *p.SaleWindowDays)
	}
	if p.StartsAfterManufacturerWarranty {
		if end := ManufacturerWarrantyEnd(purchase, warrantyMonths); p.SaleWindowDays == nil || end.Before(latest) {
			latest = end
		}
	}
	return latest
}

// StateOn is the state a live contract covering startsOn..endsOn has on
// today: pending before it starts, active through its last day, expired
// after.
func StateOn(startsOn, endsOn, today time.Time) ContractState {
	switch {
	case today.Before(startsOn):
		return StatePending
	case today.After(endsOn):
		return StateExpired
	}
	return StateActive
}
