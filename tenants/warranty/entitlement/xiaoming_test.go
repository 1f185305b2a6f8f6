package entitlement

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSeed002XiaomingCases: seed 002's worked cases. 小明 bought a soymilk
// maker (九阳豆浆机, with the three guarantees and a one-year warranty) online
// on 2012-06-22 and received it on 2012-06-25: the purchase date is the day
// he received it (签收, the unit's purchase_date), so 2012-06-25 is day 1.
// The expected decisions are read from the seed's rules: 三包 (return within
// 7 days, exchange within 15, free repair within the warranty), 七天无理由退换货
// for a resaleable storefront sale, and 运费 谁有错谁负责 (the seller for a
// quality fault, the buyer for his own reasons).
func TestSeed002XiaomingCases(t *testing.T) {
	t.Parallel()
	// Labor 50.00 and the visit 20.00.
	quote := Quote{PriceListVersion: "2012-06", Lines: []QuoteLine{
		{Kind: LineLabor, Description: "Repair labor", Amount: cny(5000)},
		{Kind: LineVisit, Description: "Visit", Amount: cny(2000)},
	}}
	maker := func(c Cause, on string, remedy RemedyKind) Input {
		u := unit(CategoryKitchen, 39900)
		u.PurchaseDate = day("2012-06-25")
		return Input{Unit: u, Fault: fault(c), Date: day(on), Quote: quote, RequestedRemedy: remedy}
	}
	changeOfMind := func(on string, remedy RemedyKind) Input {
		in := maker(CauseNoFault, on, remedy)
		in.Fault.ChangeOfMind, in.Fault.Resaleable = true, true
		return in
	}
	cases := []struct {
		name     string
		in       Input
		basis    Basis
		remedy   RemedyKind
		remedies []RemedyKind
		customer int64
		brand    int64
		freight  string // "": none
	}{
		// 2012-06-30 (day 6) the maker fails and he asks to return it: a
		// statutory return, the seller pays the freight.
		{"FaultOn0630MayBeReturnedSellerPaysFreight", maker(CausePerformance, "2012-06-30", RemedyReturn),
			BasisStatutoryReturn, RemedyReturn, []RemedyKind{RemedyReturn, RemedyExchange, RemedyRepair}, 0, 0, "seller"},
		// Day 7 is 2012-07-01; on 2012-07-02 the return has passed.
		{"FaultOn0701LastDayOfReturn", maker(CausePerformance, "2012-07-01", RemedyReturn),
			BasisStatutoryReturn, RemedyReturn, nil, 0, 0, "seller"},
		{"FaultOn0702ExchangeNotReturn", maker(CausePerformance, "2012-07-02", RemedyReturn),
			BasisStatutoryExchange, RemedyRepair, []RemedyKind{RemedyExchange, RemedyRepair}, 0, 7000, ""},
		// The first use is loud, and he would rather have another: no
		// fault, the seven-day exchange for a resaleable unit, his freight.
		{"LoudOnFirstUseExchangedBuyerPaysFreight", changeOfMind("2012-06-25", RemedyExchange),
			BasisNoReasonReturn, RemedyExchange, []RemedyKind{RemedyReturn, RemedyExchange}, 0, 0, "buyer"},
		// The seven days of 七天无理由 run from the day after receipt
		// (七日期间自消费者签收商品的次日开始起算): 2012-06-26 through
		// 2012-07-02; on 2012-07-03 the return has passed.
		{"ChangeOfMindOn0702LastDay", changeOfMind("2012-07-02", RemedyReturn),
			BasisNoReasonReturn, RemedyReturn, nil, 0, 0, "buyer"},
		{"ChangeOfMindOn0703Refused", changeOfMind("2012-07-03", RemedyReturn),
			BasisNotCovered, RemedyNone, []RemedyKind{}, 0, 0, ""},
		// 2013-07-08 he finds it is not the model he meant to buy: a year
		// after, no return or exchange is owed.
		{"OtherModelOn20130708Refused", changeOfMind("2013-07-08", RemedyExchange),
			BasisNotCovered, RemedyNone, []RemedyKind{}, 0, 0, ""},
		// The warranty of one year counted from the receipt covers
		// 2013-06-24 (the seed's date), free; the next day is charged.
		{"FaultOn20130624InWarrantyFree", maker(CausePerformance, "2013-06-24", RemedyRepair),
			BasisManufacturerWarranty, RemedyRepair, []RemedyKind{RemedyRepair}, 0, 7000, ""},
		{"FaultOn20130625Charged", maker(CausePerformance, "2013-06-25", RemedyRepair),
			BasisOutOfWarranty, RemedyRepair, []RemedyKind{RemedyRepair}, 7000, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d, err := Decide(c.in)
			require.NoError(t, err)
			require.Equal(t, c.basis, d.Basis)
			require.Equal(t, c.remedy, d.Remedy)
			if c.remedies != nil {
				kinds := []RemedyKind{}
				for _, r := range d.Remedies {
					kinds = append(kinds, r.Kind)
				}
				require.Equal(t, c.remedies, kinds)
			}
			require.Equal(t, cny(c.customer), d.Totals.Customer, "the customer pays")
			require.Equal(t, cny(c.brand), d.Totals.Brand, "the brand pays")
			if c.freight == "" {
				require.Nil(t, d.Freight)
			} else {
				require.NotNil(t, d.Freight)
				require.Equal(t, c.freight, d.Freight.Payer)
			}
		})
	}
}
