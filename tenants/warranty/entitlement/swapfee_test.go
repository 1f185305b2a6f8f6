package entitlement

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/i18n"
)

func TestSwapFee(t *testing.T) {
	bought := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	may10 := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC) // month 3 of ownership
	jul15 := time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC) // month 5
	price := cny(300000)
	for _, c := range []struct {
		name     string
		kind     string
		terms    PlanTerms
		category string
		on       time.Time
		fee      int64
		basis    string
		percent  int
		month    int
	}{
		{"AccidentalDefaultScheduleMonth3", KindAccidentalDamage, PlanTerms{}, CategoryPhone, may10, 60000, "entitlement.r4r7.fee_default_schedule", 20, 3},
		{"AccidentalDefaultScheduleMonth5", KindAccidentalDamage, PlanTerms{}, CategoryPhone, jul15, 90000, "entitlement.r4r7.fee_default_schedule", 30, 5},
		{"NoReasonFlatFee", KindNoReasonRepair, PlanTerms{FlatFee: pcny(5000)}, CategoryPhone, may10, 5000, "entitlement.r4r7.fee_flat", 0, 0},
		{"NoReasonDefaultSchedule", KindNoReasonRepair, PlanTerms{}, CategoryPhone, may10, 15000, "entitlement.r4r7.fee_default_schedule", 5, 3},
		{"SwapKitchenDefaultFlat", KindSwapForRepair, PlanTerms{}, CategoryKitchen, may10, SeedSwapFlatFee, "entitlement.r4r7.fee_flat", 0, 0},
		{"SwapTabletDefaultCap", KindSwapForRepair, PlanTerms{}, CategoryTablet, may10, 117000, "entitlement.r4r7.fee_cap", 39, 0},
		{"SwapTabletPercentCapped", KindSwapForRepair, PlanTerms{DepreciationPercent: 50}, CategoryTablet, may10, 117000, "entitlement.r4r7.fee_capped", 39, 0},
		{"SwapPlanSchedule", KindSwapForRepair, PlanTerms{DepreciationSchedule: []DepreciationStep{{UpToMonth: 3, Percent: 10}, {UpToMonth: 12, Percent: 25}}},
			CategoryPhone, jul15, 75000, "entitlement.r4r7.fee_schedule", 25, 5},
		{"SwapPlanPercent", KindSwapForRepair, PlanTerms{DepreciationPercent: 15}, CategoryPhone, may10, 45000, "entitlement.r4r7.fee_percent", 15, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			fee, why, ok := SwapFeeMessage(c.kind, c.terms, c.category, price, bought, c.on)
			require.True(t, ok)
			require.Equal(t, c.fee, fee)
			require.Equal(t, "entitlement.r4r7.swap_fee", why.Code)
			basis, ok := why.Params["Basis"].(i18n.Message)
			require.True(t, ok, "%#v", why.Params)
			require.Equal(t, c.basis, basis.Code)
			if c.percent != 0 {
				require.Equal(t, c.percent, basis.Params["Percent"])
			}
			if c.month != 0 {
				require.Equal(t, c.month, basis.Params["Month"])
			}

			rendered, text, _ := SwapFee(c.kind, c.terms, c.category, price, bought, c.on)
			require.Equal(t, fee, rendered)
			require.Equal(t, why.Render(i18n.English), text)
			require.True(t, strings.HasPrefix(text, basis.Render(i18n.English)+": "), text)
		})
	}

	t.Run("ExtendedWarrantyReplacesForFree", func(t *testing.T) {
		fee, why, _ := SwapFeeMessage(KindExtendedWarranty, PlanTerms{FlatFee: pcny(5000)}, CategoryWasher, price, bought, may10)
		require.Zero(t, fee)
		require.Equal(t, "entitlement.r4r7.free_replacement", why.Code)
		fee, text, _ := SwapFee(KindExtendedWarranty, PlanTerms{}, CategoryWasher, price, bought, may10)
		require.Zero(t, fee)
		require.Equal(t, "free replacement", text)
	})
}

func TestLocalize(t *testing.T) {
	msg := i18n.M("entitlement.freight_change_of_mind")
	en, zh := msg.Render(i18n.English), msg.Render(i18n.Chinese)
	require.Equal(t, "change of mind: the buyer pays the freight", en)
	require.NotEqual(t, en, zh)

	r := Remedy{Note: "old", NoteI18n: &msg}
	r.Localize(i18n.Chinese)
	require.Equal(t, zh, r.Note)
	c := Compensation{Reason: "old", ReasonI18n: &msg}
	c.Localize(i18n.English)
	require.Equal(t, en, c.Reason)
	f := Freight{Reason: "old", ReasonI18n: &msg}
	f.Localize(i18n.Chinese)
	require.Equal(t, zh, f.Reason)
	p := Promise{Note: "old", NoteI18n: &msg}
	p.Localize(i18n.English)
	require.Equal(t, en, p.Note)
	tr := TraceEntry{Reason: "old", ReasonI18n: &msg}
	tr.Localize(i18n.Chinese)
	require.Equal(t, zh, tr.Reason)

	// Lines recorded before the catalog keep their English text.
	old := []interface{ Localize(string) }{&Remedy{Note: "old"}, &Compensation{Reason: "old"}, &Freight{Reason: "old"}, &Promise{Note: "old"}, &TraceEntry{Reason: "old"}}
	for _, o := range old {
		o.Localize(i18n.Chinese)
	}
	require.Equal(t, "old", old[0].(*Remedy).Note)
	require.Equal(t, "old", old[1].(*Compensation).Reason)
	require.Equal(t, "old", old[2].(*Freight).Reason)
	require.Equal(t, "old", old[3].(*Promise).Note)
	require.Equal(t, "old", old[4].(*TraceEntry).Reason)
}
