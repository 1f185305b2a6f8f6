package entitlement

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
)

// Seed 002, 七天无理由退换货: a customer who received the goods and then
// changed their mind ("突然不喜欢了", "使用了一次，觉得不好用") may return
// or exchange them within seven days of receipt if they can be resold
// (二次销售); the buyer pays the freight (运费: 谁有错谁负责 — nobody is at
// fault, and the seller pays only for a quality problem). The seven days run
// from the day after receipt (an online sale's purchase date, 2026-03-01, is
// the day of receipt; 七日期间自消费者签收商品的次日开始起算), so 2026-03-08 is
// the last day and 2026-03-09 too late.
func TestSwapsFixChangeOfMindExchangeWithinSevenDays(t *testing.T) {
	changeOfMind := func(on string) Input {
		in := input(CategorySmallAppliance, 50000, "", on)
		in.Fault = Fault{ChangeOfMind: true, Resaleable: true}
		in.Quote = Quote{}
		in.RequestedRemedy = RemedyExchange
		return in
	}
	t.Run("SeventhDayAfterReceiptExchangeAllowedBuyerPaysFreight", func(t *testing.T) {
		d, err := Decide(changeOfMind("2026-03-08"))
		require.NoError(t, err)
		require.Equal(t, RemedyExchange, d.Remedy, "%+v", d.Trace)
		require.Equal(t, BasisNoReasonReturn, d.Basis)
		require.ElementsMatch(t, []RemedyKind{RemedyReturn, RemedyExchange}, kinds(d.Remedies))
		require.NotNil(t, d.Freight)
		require.Equal(t, "buyer", d.Freight.Payer, "a change of mind is nobody's fault: the buyer pays the freight")
		// Nothing is charged for the exchange itself: the unit goes back
		// to the seller fit for resale.
		require.Empty(t, d.Lines)
		require.Equal(t, cny(0), d.Totals.Customer)
		require.Equal(t, cny(0), d.Totals.Brand)
		require.Equal(t, cny(0), d.Totals.Plan)
	})
	t.Run("EighthDayAfterReceiptRefused", func(t *testing.T) {
		d, err := Decide(changeOfMind("2026-03-09"))
		require.NoError(t, err)
		require.Equal(t, RemedyNone, d.Remedy)
		require.Empty(t, d.Remedies)
		require.Nil(t, d.Freight)
	})
	t.Run("NotResaleableRefused", func(t *testing.T) {
		in := changeOfMind("2026-03-03")
		in.Fault.Resaleable = false
		d, err := Decide(in)
		require.NoError(t, err)
		require.Equal(t, RemedyNone, d.Remedy)
	})
}

func kinds(rs []Remedy) []RemedyKind {
	out := make([]RemedyKind, len(rs))
	for i, r := range rs {
		out[i] = r.Kind
	}
	return out
}

func hkd(a int64) tenants.Money { return tenants.Money{Amount: a, Currency: "HKD"} }

// Rule 6's default flat fee is 30 CNY (3000 fen) and rule 7's default
// compensation 100 CNY (10000 fen): amounts in CNY, not numbers to read in
// whatever currency the unit was bought in. A tenant's amounts are all in
// its one currency and the tenant configures no exchange rate, so a
// purchase in another currency gets no default: the plan's own amount, or
// a person decides. A CNY purchase keeps the seed's amounts.
func TestSwapsFixSeedDefaultsAreCNY(t *testing.T) {
	kitchen := func(cur string) Input {
		in := input(CategoryKitchen, 60000, CausePerformance, "2026-06-01")
		in.Fault.Repairable = false
		in.RequestedRemedy = RemedySwap
		in.Contracts = []Contract{swapPlan(CategoryKitchen, PlanTerms{})}
		if cur != "CNY" {
			in.Unit.PurchasePrice, in.Unit.RetailPrice = hkd(60000), hkd(60000)
			in.Quote = Quote{}
		}
		return in
	}
	t.Run("KitchenSwapInCNYPays30CNY", func(t *testing.T) {
		d, err := Decide(kitchen("CNY"))
		require.NoError(t, err)
		require.Equal(t, RemedySwap, d.Remedy)
		require.Equal(t, BasisSwapForRepair, d.Basis)
		require.Equal(t, cny(3000), d.Totals.Customer, "30.00 CNY, paid by the customer")
	})
	t.Run("KitchenSwapInHKDGetsNoCNYDefault", func(t *testing.T) {
		d, err := Decide(kitchen("HKD"))
		require.NoError(t, err)
		for _, r := range d.Remedies {
			require.NotEqual(t, BasisSwapForRepair, r.Basis, "no swap for a fee read as 30.00 HKD: %+v", r)
		}
		tr := traceOf(d, "R6.swap_for_repair")
		require.NotNil(t, tr)
		require.False(t, tr.Applied)
		require.Equal(t, "entitlement.r6.default_fee_currency", tr.ReasonI18n.Code, tr.Reason)
		require.Equal(t, "HKD", d.Totals.Customer.Currency)
		require.Zero(t, d.Totals.Customer.Amount)

		fee, _, ok := SwapFee(KindSwapForRepair, PlanTerms{}, CategoryKitchen, hkd(60000), day(purchase), day("2026-06-01"))
		require.False(t, ok, "the swap approval must not price 30.00 HKD either")
		require.Zero(t, fee)
		fee, _, ok = SwapFee(KindSwapForRepair, PlanTerms{FlatFee: &tenants.Money{Amount: 2500, Currency: "HKD"}}, CategoryKitchen, hkd(60000),
			day(purchase), day("2026-06-01"))
		require.True(t, ok, "the plan's own fee is in the purchase's currency")
		require.Equal(t, int64(2500), fee)
	})

	fridge := func(cur string) Input {
		in := input(CategoryRefrigerator, 500000, CauseDust, "2026-06-01")
		c := noReasonPlan(PlanTerms{})
		c.Terms.Compensation = nil
		c.Terms.FlatFee = nil
		in.Contracts = []Contract{c}
		if cur != "CNY" {
			in.Unit.PurchasePrice, in.Unit.RetailPrice = hkd(500000), hkd(500000)
			for i := range in.Quote.Lines {
				in.Quote.Lines[i].Amount.Currency = "HKD"
			}
		}
		return in
	}
	t.Run("NoReasonCompensationInCNYIs100CNY", func(t *testing.T) {
		d, err := Decide(fridge("CNY"))
		require.NoError(t, err)
		require.Equal(t, BasisNoReasonRepair, d.Basis)
		require.NotNil(t, d.Compensation)
		require.Equal(t, cny(10000), d.Compensation.Amount, "100.00 CNY")
		require.Equal(t, PayerPlan, d.Compensation.Payer)
	})
	t.Run("NoReasonCompensationInHKDNeedsAPerson", func(t *testing.T) {
		d, err := Decide(fridge("HKD"))
		require.NoError(t, err)
		require.Equal(t, BasisNoReasonRepair, d.Basis, "the repair itself is still the plan's")
		require.Equal(t, hkd(23000), d.Totals.Plan, "environmental fault: the plan pays the whole 230.00 quote")
		require.Nil(t, d.Compensation, "no 100.00 HKD read off a CNY default")
		tr := traceOf(d, "R7.compensation")
		require.NotNil(t, tr)
		require.Equal(t, "entitlement.r7.compensation_default_currency", tr.ReasonI18n.Code, tr.Reason)
	})
}

func traceOf(d Decision, rule string) *TraceEntry {
	for i := range d.Trace {
		if d.Trace[i].Rule == rule {
			return &d.Trace[i]
		}
	}
	return nil
}
