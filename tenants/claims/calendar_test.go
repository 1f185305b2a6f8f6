package claims_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// A servicer's claim under a no-reason repair plan for a repair on Tuesday
// 2026-09-29 (seed 002: 100元/次 服务满意金, paid 五个工作日内): the decision
// the adjudication stores shows the compensation due on the tenant's
// working-day calendar, the one the payout it becomes is due on. Wed 30
// Sep (1); 1-7 Oct 国庆, the tenant's holidays; Thu 8 (2), Fri 9 (3); the
// weekend; Mon 12 (4), Tue 13 (5): due 2026-10-13. Counted on weekends
// alone it was 2026-10-06, a week before the payout.
func TestClaimCompensationIsDueOnTheTenantsWorkingDays(t *testing.T) {
	w := newWasherShop(t)
	u, err := w.Customers.GetUnit(w.Ctx, w.Admin, w.unit)
	require.NoError(t, err)
	purchase := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	today, err := time.Parse(time.DateOnly, domaintest.Today(0))
	require.NoError(t, err)
	daysAgo := int(today.Sub(purchase).Hours() / 24)
	unit := w.Unit(t, u.ModelID, "WSH-NRR-CAL", -daysAgo, "+86 139 0000 0611")
	eighty, five := 80, 5
	plan, err := w.Warranty.CreatePlan(w.Ctx, w.Admin, warranty.NewPlan{Code: "NRR-CAL", Name: "无理由保修", Kind: "no_reason_repair",
		EligibleCategories: []string{"washer"}, DurationMonths: 12, DiscountPercent: &eighty,
		Compensation: new(cny(10000)), PayoutBusinessDays: &five, Price: cny(5900),
		DepreciationSchedule: []entitlement.DepreciationStep{{UpToMonth: 12, Percent: 10}}})
	require.NoError(t, err)
	contract := w.Contract(t, unit, plan.ID, -daysAgo)
	for d := 1; d <= 7; d++ {
		_, _, err := w.Payouts.PutHoliday(w.Ctx, w.Admin, time.Date(2026, 10, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), "国庆节")
		require.NoError(t, err)
	}

	in := w.claim("NRR-CAL-1", "unstable_voltage")
	in.Kind, in.UnitID, in.OccurredOn = claims.KindNoReasonRepair, unit, "2026-09-29"
	c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.NotNil(t, c.Decision, "%v", c.Reasons)
	require.Equal(t, contract, c.Decision.ContractID)
	comp := c.Decision.Compensation
	require.NotNil(t, comp, "rule 7 owes the satisfaction compensation")
	// 100.00 CNY, owed by the plan, to the customer, by 2026-10-13.
	require.Equal(t, cny(10000), comp.Amount)
	require.Equal(t, entitlement.PayerPlan, comp.Payer)
	require.Equal(t, "2026-10-13", comp.Due)
}

// A servicer's claim for a repair done on a unit before an exchange the
// brand owed, filed after it: the extended warranty that covered the repair
// followed the replacement unit (warranty.FollowReplacementUnit), and the
// adjudication still finds it on the old unit for a repair done by the day
// it left. Rule 4: the plan owes labour 100.00 and the board 300.00.
func TestClaimForARepairBeforeAnExchangeFindsThePlanThatMoved(t *testing.T) {
	w := newWasherShop(t)
	u, err := w.Customers.GetUnit(w.Ctx, w.Admin, w.unit)
	require.NoError(t, err)
	replacement := w.Unit(t, u.ModelID, "WSH-REPL-1", 0, "+86 139 0000 0001")
	require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
		moved, err := warranty.FollowReplacementUnit(w.Ctx, tx, w.unit, replacement, "", "statutory exchange (test)", "test")
		require.Equal(t, []string{w.contract}, moved)
		return err
	}))

	in := w.claim("EXT-BEFORE-SWAP", "power_surge")
	in.OccurredOn = domaintest.Today(-1)
	c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
	require.NoError(t, err)
	require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
	c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, claims.StateApproved, c.State, "%v", c.Reasons)
	require.EqualValues(t, "extended_warranty", c.Decision.Basis)
	require.Equal(t, w.contract, c.Decision.ContractID)
	require.Equal(t, &tenants.Money{Amount: 40000, Currency: "CNY"}, c.TotalApproved)
}

// The same claim naming the plan by its id, as the servicer recorded it at
// the repair: the contract covered the unit on the repair's day (it left
// for the replacement unit on or after it), so the claim is accepted and
// decided with it. Rule 4 (an extended warranty covers a power surge, the
// plan repairs free): the plan pays labour 100.00 and the board 300.00 in
// full, the customer nothing. A contract that did not cover the unit that
// day is still refused at contract_id, nothing stored: one that left it
// before the repair (the plan was on the other unit then), one sold on
// another unit, one that left another unit, one of another kind than the
// claim, another tenant's.
func TestClaimNamingThePlanThatMovedAfterTheRepair(t *testing.T) {
	// exchange moves w's contract to a new unit, its history row dated
	// daysAgo days before now: as FollowReplacementUnit writes it (the
	// application role cannot date a row in the past). It returns the
	// replacement unit.
	exchange := func(t *testing.T, w *washerShop, serial string, daysAgo int) string {
		t.Helper()
		u, err := w.Customers.GetUnit(w.Ctx, w.Admin, w.unit)
		require.NoError(t, err)
		replacement := w.Unit(t, u.ModelID, serial, -1, "+86 139 0000 0002")
		if daysAgo == 0 {
			require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
				moved, err := warranty.FollowReplacementUnit(w.Ctx, tx, w.unit, replacement, "", "statutory exchange (test)", "test")
				require.Equal(t, []string{w.contract}, moved)
				return err
			}))
			return replacement
		}
		require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
			_, err := tx.Exec(w.Ctx, `WITH m AS (UPDATE contracts SET unit_id = $3, version = version + 1, updated_at = now()
				  WHERE tenant_id = $1 AND id = $2 RETURNING id, state)
				INSERT INTO contract_state_changes (tenant_id, contract_id, from_state, to_state, reason, actor, from_unit_id, changed_at)
				SELECT $1, id, state, state, 'statutory exchange (test)', 'test', $4, now() - make_interval(days => $5) FROM m`,
				tx.TenantID, w.contract, replacement, w.unit, daysAgo)
			return err
		}))
		return replacement
	}
	// refused files in, naming contract, and expects a refusal at
	// contract_id with nothing stored.
	refused := func(t *testing.T, w *washerShop, in claims.NewClaim, contract string) {
		t.Helper()
		in.ContractID = contract
		_, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
		require.Equal(t, []string{"contract_id"}, domaintest.Fields(t, err))
		require.Zero(t, w.Count(t, `SELECT count(*) FROM claims WHERE tenant_id = $1`))
	}

	t.Run("LeftAfterTheRepairDayPlanPays", func(t *testing.T) {
		w := newWasherShop(t)
		exchange(t, w, "WSH-REPL-1", 0)
		in := w.claim("EXT-NAMED-BEFORE-SWAP", "power_surge")
		in.OccurredOn = domaintest.Today(-1)
		in.ContractID = w.contract
		c, created, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
		require.NoError(t, err)
		require.True(t, created)
		require.Equal(t, &w.contract, c.ContractID)
		require.NoError(t, w.Claims.Adjudicate(w.Ctx, w.Tenant, c.ID, 1))
		c, err = w.Claims.GetClaim(w.Ctx, w.Admin, c.ID)
		require.NoError(t, err)
		require.Equal(t, claims.StateApproved, c.State, "%v", c.Reasons)
		// Who pays: the extended warranty named, the customer nothing.
		require.EqualValues(t, "extended_warranty", c.Decision.Basis)
		require.Equal(t, w.contract, c.Decision.ContractID)
		require.Len(t, c.Lines, 2)
		for i, want := range []int64{10000, 30000} { // labour 100.00, the board 300.00
			require.Equal(t, &tenants.Money{Amount: want, Currency: "CNY"}, c.Lines[i].Calculated, "line %d", i)
			require.Equal(t, &tenants.Money{Amount: want, Currency: "CNY"}, c.Lines[i].Approved, "line %d", i)
			require.Equal(t, "extended_warranty: owed in full", c.Lines[i].Reason, "line %d", i)
		}
		require.Equal(t, &tenants.Money{Amount: 40000, Currency: "CNY"}, c.TotalApproved)
	})

	t.Run("LeftOnTheRepairDay", func(t *testing.T) {
		w := newWasherShop(t)
		exchange(t, w, "WSH-REPL-1", 0)
		in := w.claim("EXT-NAMED-SWAP-DAY", "power_surge")
		in.ContractID = w.contract // the repair today, the exchange today
		c, _, err := w.Claims.SubmitClaim(w.Ctx, w.Admin, in)
		require.NoError(t, err)
		require.Equal(t, &w.contract, c.ContractID)
	})

	t.Run("LeftBeforeTheRepairDayIsRefused", func(t *testing.T) {
		w := newWasherShop(t)
		exchange(t, w, "WSH-REPL-1", 3)
		in := w.claim("EXT-NAMED-AFTER-SWAP", "power_surge")
		in.OccurredOn = domaintest.Today(-1) // the plan was on the replacement then
		refused(t, w, in, w.contract)
	})

	t.Run("SoldOnAnotherUnitIsRefused", func(t *testing.T) {
		w := newWasherShop(t)
		exchange(t, w, "WSH-REPL-1", 0)
		u, err := w.Customers.GetUnit(w.Ctx, w.Admin, w.unit)
		require.NoError(t, err)
		ct, err := w.Warranty.GetContract(w.Ctx, w.Admin, w.contract)
		require.NoError(t, err)
		// Another customer's washer and its plan, never on w's unit.
		other := w.Contract(t, w.Unit(t, u.ModelID, "WSH0003", -400, "+86 139 0000 0004"), ct.PlanID, -390)
		in := w.claim("EXT-NAMED-OTHER", "power_surge")
		in.OccurredOn = domaintest.Today(-1)
		refused(t, w, in, other)
	})

	t.Run("LeftAnotherUnitIsRefused", func(t *testing.T) {
		w := newWasherShop(t)
		u, err := w.Customers.GetUnit(w.Ctx, w.Admin, w.unit)
		require.NoError(t, err)
		ct, err := w.Warranty.GetContract(w.Ctx, w.Admin, w.contract)
		require.NoError(t, err)
		// Another customer's washer and its plan, exchanged today.
		theirs := w.Unit(t, u.ModelID, "WSH0002", -400, "+86 139 0000 0003")
		theirContract := w.Contract(t, theirs, ct.PlanID, -390)
		theirReplacement := w.Unit(t, u.ModelID, "WSH-REPL-2", -1, "+86 139 0000 0003")
		require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
			_, err := warranty.FollowReplacementUnit(w.Ctx, tx, theirs, theirReplacement, "", "statutory exchange (test)", "test")
			return err
		}))
		in := w.claim("EXT-NAMED-THEIRS", "power_surge")
		in.OccurredOn = domaintest.Today(-1)
		refused(t, w, in, theirContract)
	})

	t.Run("OfAnotherKindIsRefused", func(t *testing.T) {
		w := newWasherShop(t)
		exchange(t, w, "WSH-REPL-1", 0)
		in := w.claim("ACC-NAMED-BEFORE-SWAP", "power_surge")
		in.Kind = claims.KindAccidentalDamage
		in.OccurredOn = domaintest.Today(-1)
		refused(t, w, in, w.contract)
	})

	t.Run("AnotherTenantsIsRefused", func(t *testing.T) {
		w := newWasherShop(t)
		exchange(t, w, "WSH-REPL-1", 0)
		// Another tenant's washer plan, with a history row naming w's unit
		// id as the unit it left: the read stays in the claim's tenant.
		b := w.Another(t, "")
		m, err := w.Catalog.CreateProductModel(w.Ctx, b, catalog.NewProductModel{ModelNumber: "XQG100", Category: "washer",
			Name: "Model XQG100", RetailPrice: cny(299900), WarrantyMonths: 12})
		require.NoError(t, err)
		plan, err := w.Warranty.CreatePlan(w.Ctx, b, warranty.NewPlan{Code: "EXT-2Y", Name: "两年延保", Kind: "extended_warranty",
			EligibleCategories: []string{"washer"}, DurationMonths: 24, Price: cny(19900)})
		require.NoError(t, err)
		bu, err := w.Customers.RegisterUnit(w.Ctx, b, customers.NewUnit{ModelID: m.ID, Serial: "WSH0001",
			Customer:     &customers.NewCustomer{Name: "钱七", Phones: []string{"+86 139 0000 0001"}},
			PurchaseDate: domaintest.Today(-400), PurchasePrice: cny(299900), Channel: "brand_store"})
		require.NoError(t, err)
		bc, err := w.Warranty.CreateContract(w.Ctx, b, warranty.NewContract{UnitID: bu.ID, PlanID: plan.ID, SoldOn: domaintest.Today(-390)})
		require.NoError(t, err)
		require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, b.TenantID, func(tx pg.TenantTx) error {
			_, err := tx.Exec(w.Ctx, `INSERT INTO contract_state_changes (tenant_id, contract_id, from_state, to_state, reason, actor, from_unit_id)
				VALUES ($1, $2, 'active', 'active', 'statutory exchange (test)', 'test', $3)`, tx.TenantID, bc.ID, w.unit)
			return err
		}))
		in := w.claim("EXT-NAMED-FOREIGN", "power_surge")
		in.OccurredOn = domaintest.Today(-1)
		refused(t, w, in, bc.ID)
	})
}
