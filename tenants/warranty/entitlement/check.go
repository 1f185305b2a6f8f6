package entitlement

import (
	"strconv"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
)

// check validates what the engine cannot decide without. Locations are the
// Input's fields in snake_case (date, quote.lines[0].amount.currency); a
// caller whose request is shaped
// differently re-maps them.
func check(in *Input) error {
	var v tenants.Validation
	cur := in.Unit.PurchasePrice.Currency
	if in.Unit.PurchaseDate.IsZero() {
		v.AddMsg("unit.purchase_date", i18n.M("common.is_required"), nil)
	}
	if in.Date.IsZero() {
		v.AddMsg("date", i18n.M("common.is_required"), nil)
	} else if !in.Unit.PurchaseDate.IsZero() && civil(in.Date).Before(civil(in.Unit.PurchaseDate)) {
		v.AddMsg("date", i18n.M("common.not_before_purchase_date"), in.Date.Format(time.DateOnly))
	}
	if in.Unit.InstalledOn != nil && civil(*in.Unit.InstalledOn).Before(civil(in.Unit.PurchaseDate)) {
		v.AddMsg("unit.installed_on", i18n.M("common.not_before_purchase_date"), in.Unit.InstalledOn.Format(time.DateOnly))
	}
	if in.Unit.WarrantyMonths < 0 {
		v.AddMsg("unit.warranty_months", i18n.M("common.must_not_be_negative"), in.Unit.WarrantyMonths)
	}
	for cat, m := range in.Unit.KeyPartWarrantyMonths {
		if m < 0 {
			v.AddMsg("unit.key_part_warranty_months."+cat, i18n.M("common.must_not_be_negative"), m)
		}
	}
	if cur == "" {
		v.AddMsg("unit.purchase_price.currency", i18n.M("common.is_required"), cur)
	}
	money(&v, "unit.purchase_price", in.Unit.PurchasePrice, cur)
	if in.Unit.RetailPrice != (tenants.Money{}) {
		money(&v, "unit.retail_price", in.Unit.RetailPrice, cur)
	}
	if !in.Fault.ChangeOfMind && !in.Fault.WrongOrDamagedOnDelivery || in.Fault.Cause != "" {
		if !knownCause(in.Fault.Cause) {
			v.AddMsg("fault.cause", i18n.M("common.fault_cause"), string(in.Fault.Cause))
		}
	}
	switch in.RequestedRemedy {
	case "", RemedyNone, RemedyRepair, RemedyExchange, RemedyReturn, RemedySwap:
	default:
		v.AddMsg("requested_remedy", i18n.M("warranty.outcome"), string(in.RequestedRemedy))
	}
	for i := range in.Quote.Lines {
		l := &in.Quote.Lines[i]
		kindOK := l.Kind == LineLabor || l.Kind == LinePart || l.Kind == LineVisit || l.Kind == LineOther
		if kindOK && moneyOK(l.Amount, cur) && (l.Charged == nil || moneyOK(*l.Charged, cur)) {
			continue // the hot path builds no location strings
		}
		loc := "quote.lines[" + strconv.Itoa(i) + "]"
		if !kindOK {
			v.AddMsg(loc+".kind", i18n.M("common.charge_kind"), l.Kind)
		}
		money(&v, loc+".amount", l.Amount, cur)
		if l.Charged != nil {
			money(&v, loc+".charged", *l.Charged, cur)
		}
	}
	if in.WarrantyCardCharge != nil {
		money(&v, "warranty_card_charge", *in.WarrantyCardCharge, cur)
	}
	if in.Visit.LateMinutes < 0 {
		v.AddMsg("visit.late_minutes", i18n.M("common.must_not_be_negative"), in.Visit.LateMinutes)
	}
	for i := range in.Contracts {
		c := &in.Contracts[i]
		if contractOK(c, cur) {
			continue
		}
		loc := "contracts[" + strconv.Itoa(i) + "]"
		switch c.Kind {
		case KindExtendedWarranty, KindAccidentalDamage, KindSwapForRepair, KindNoReasonRepair:
		default:
			v.AddMsg(loc+".kind", i18n.M("warranty.contract_kind"), c.Kind)
		}
		if c.EndsOn.Before(c.StartsOn) {
			v.AddMsg(loc+".ends_on", i18n.M("warranty.before_starts_on"), c.EndsOn.Format(time.DateOnly))
		}
		t := &c.Terms
		if t.DiscountPercent < 0 || t.DiscountPercent > 100 {
			v.AddMsg(loc+".terms.discount_percent", i18n.M("common.must_be_range", "Min", 0, "Max", 100), t.DiscountPercent)
		}
		if t.DepreciationPercent < 0 || t.DepreciationPercent > 100 {
			v.AddMsg(loc+".terms.depreciation_percent", i18n.M("common.must_be_range", "Min", 0, "Max", 100), t.DepreciationPercent)
		}
		if t.DepreciationCapPercent < 0 || t.DepreciationCapPercent > 100 {
			v.AddMsg(loc+".terms.depreciation_cap_percent", i18n.M("common.must_be_range", "Min", 0, "Max", 100), t.DepreciationCapPercent)
		}
		if t.FlatFee != nil {
			money(&v, loc+".terms.flat_fee", *t.FlatFee, cur)
		}
		if t.Compensation != nil {
			money(&v, loc+".terms.compensation", *t.Compensation, cur)
		}
	}
	return v.Err()
}

func moneyOK(m tenants.Money, cur string) bool {
	return m.Amount >= 0 && m.Amount <= tenants.MaxMoneyAmount && m.Currency == cur
}

func contractOK(c *Contract, cur string) bool {
	t := &c.Terms
	switch c.Kind {
	case KindExtendedWarranty, KindAccidentalDamage, KindSwapForRepair, KindNoReasonRepair:
	default:
		return false
	}
	return !c.EndsOn.Before(c.StartsOn) &&
		t.DiscountPercent >= 0 && t.DiscountPercent <= 100 &&
		t.DepreciationPercent >= 0 && t.DepreciationPercent <= 100 &&
		t.DepreciationCapPercent >= 0 && t.DepreciationCapPercent <= 100 &&
		(t.FlatFee == nil || moneyOK(*t.FlatFee, cur)) &&
		(t.Compensation == nil || moneyOK(*t.Compensation, cur))
}

func money(v *tenants.Validation, loc string, m tenants.Money, cur string) {
	if m.Amount < 0 {
		v.AddMsg(loc+".amount", i18n.M("common.must_not_be_negative"), m.Amount)
	} else if m.Amount > tenants.MaxMoneyAmount {
		v.AddMsg(loc+".amount", i18n.M("common.too_large"), m.Amount)
	}
	if cur != "" && m.Currency != cur {
		v.AddMsg(loc+".currency", i18n.M("common.purchase_currency", "Currency", cur), m.Currency)
	}
}

func knownCause(c Cause) bool {
	for _, k := range Causes {
		if c == k {
			return true
		}
	}
	return false
}
