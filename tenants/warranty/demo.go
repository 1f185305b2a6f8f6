package warranty

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// DemoSwapTabletKey is the SeedDemoPlans key of the tablet swap plan (the
// other swap-for-repair plan, for kitchen and small appliances, is under the
// kind's own name).
const DemoSwapTabletKey = "swap_for_repair_tablet"

// demoPlans are the seed's plans (DESIGN.md rules 4-7), keyed as
// SeedDemoPlans answers them. Amounts are minor units (fen for CNY). The
// accidental-damage and no-reason plans swap for a depreciation fee by the
// engine's default schedules: the seeds name the fee, not its size.
func demoPlans() map[string]NewPlan {
	money := func(a int64) tenants.Money { return tenants.Money{Amount: a} }
	mp := func(a int64) *tenants.Money { m := money(a); return &m }
	return map[string]NewPlan{
		string(KindExtendedWarranty): {Code: "DEMO-EXT-2Y", Name: "两年延保（大家电）", Kind: string(KindExtendedWarranty),
			EligibleCategories: []string{"refrigerator", "washer", "air_conditioner", "tv"}, DurationMonths: 24, Price: money(19900)},
		string(KindAccidentalDamage): {Code: "DEMO-ADP-1Y", Name: "摔碰也管修", Kind: string(KindAccidentalDamage),
			EligibleCategories: []string{"phone", "laptop", "camera"}, StartOffsetDays: intp(30), DurationMonths: 12,
			DiscountPercent: intp(50), DepreciationSchedule: slices.Clone(entitlement.DefaultAccidentalSchedule), Price: money(9900)},
		string(KindSwapForRepair): {Code: "DEMO-SWAP-KITCHEN-1Y", Name: "以换代修（厨房电器/生活电器）", Kind: string(KindSwapForRepair),
			EligibleCategories: []string{"kitchen", "small_appliance"}, StartOffsetDays: intp(30), DurationMonths: 12,
			FlatFee: mp(3000), Price: money(2900)},
		DemoSwapTabletKey: {Code: "DEMO-SWAP-TABLET-1Y", Name: "以换代修（平板电脑）", Kind: string(KindSwapForRepair),
			EligibleCategories: []string{"tablet"}, StartOffsetDays: intp(1), DurationMonths: 12,
			DepreciationCapPercent: intp(MaxTabletDepreciationPercent), Price: money(4900)},
		string(KindNoReasonRepair): {Code: "DEMO-NRR-1Y", Name: "无理由保修（大家电）", Kind: string(KindNoReasonRepair),
			EligibleCategories: []string{"refrigerator", "air_conditioner", "washer", "tv"}, StartOffsetDays: intp(1), DurationMonths: 12,
			DiscountPercent: intp(80), Compensation: mp(10000), PayoutBusinessDays: intp(5),
			DepreciationSchedule: slices.Clone(entitlement.DefaultNoReasonSchedule), Price: money(5900)},
	}
}

// SeedDemoPlans makes sure the tenant has the seed's demo plans, one per
// kind plus a tablet swap plan, and returns their IDs by kind (the tablet
// swap plan under DemoSwapTabletKey). Plans are matched on their DEMO-*
// codes: a second call creates nothing and returns the same IDs, except
// that a demo plan seeded before plans carried depreciation schedules gets
// its schedule (it would be invalid under today's rules). Amounts are in
// the tenant's currency (fen for CNY).
func (s *Service) SeedDemoPlans(ctx context.Context, p tenants.Principal) (map[string]string, error) {
	out := map[string]string{}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		plans := demoPlans()
		for _, key := range slices.Sorted(maps.Keys(plans)) {
			in := plans[key]
			var id string
			err := tx.QueryRow(ctx, `SELECT id FROM coverage_plans WHERE tenant_id = $1 AND code = $2`, tx.TenantID, in.Code).Scan(&id)
			if err == nil {
				out[key] = id
				if len(in.DepreciationSchedule) > 0 {
					if _, err := tx.Exec(ctx, `UPDATE coverage_plans SET depreciation_schedule = $3, version = version + 1, updated_at = now()
						WHERE tenant_id = $1 AND id = $2 AND depreciation_schedule IS NULL`, tx.TenantID, id, in.DepreciationSchedule); err != nil {
						return err
					}
				}
				continue
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			in.Price.Currency = st.Currency
			for _, m := range []*tenants.Money{in.FlatFee, in.Compensation} {
				if m != nil {
					m.Currency = st.Currency
				}
			}
			plan := planFromInput(in, st.Currency)
			v := &tenants.Validation{}
			validatePlan(v, plan, st.Currency)
			if err := v.Err(); err != nil {
				return err
			}
			created, err := insertPlan(ctx, tx, plan, p.Subject())
			if err != nil {
				return err
			}
			out[key] = created.ID
		}
		return nil
	})
	return out, pg.Translate(err)
}
