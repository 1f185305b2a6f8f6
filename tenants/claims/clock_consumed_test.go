package claims_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// On a test clock a plan consumed, or moved to a replacement, after the
// repair it is claimed for covers that repair, as on the wall clock
// (TestClaimPlanConsumedAfterTheRepairCoversIt): the contract's changes
// are stamped with its clock's time. The clock is 30 days ahead; a washer
// bought 400 days ago (12 months' warranty) has a two-year extended
// warranty on the clock, running since the manufacturer warranty ended.
// On the clock's day 30 the unit is returned for a refund (its plan
// consumed), or exchanged (its plan follows the replacement); a claim on
// the clock for a repair on its day 25, labour 100.00 + board 300.00, is
// the plan's: 400.00 approved under the contract. Before, the contract's
// change was stamped with the wall clock's time (day 0), before the
// repair's day on the clock: the claim was rejected, out of warranty.
func TestClaimPlanConsumedOnItsClockAfterTheRepairCoversIt(t *testing.T) {
	w := &washerShop{Env: domaintest.New(t)}
	w.TestMode()
	at := time.Now().Add(30 * day).Truncate(time.Second)
	clock := w.TestClock(t, at)
	var model string
	model, w.board = w.Product(t, "XQG100", "washer", 12, "control_board", 30000)
	plan, err := w.Warranty.CreatePlan(w.Ctx, w.Admin, warranty.NewPlan{Code: "EXT-2Y", Name: "两年延保", Kind: "extended_warranty",
		EligibleCategories: []string{"washer"}, DurationMonths: 24, Price: cny(19900)})
	require.NoError(t, err)
	// sell registers a unit bought 400 days ago with the plan, sold 10 days
	// after the purchase and recorded on the clock.
	sell := func(t *testing.T, serial, phone string) (unit, contract string) {
		t.Helper()
		unit = w.Unit(t, model, serial, -400, phone)
		c, err := w.Warranty.CreateContract(w.Ctx, w.Admin, warranty.NewContract{UnitID: unit, PlanID: plan.ID,
			SoldOn: domaintest.Today(-390), TestClockID: clock})
		require.NoError(t, err)
		require.Equal(t, warranty.StateActive, c.State, "%s to %s", c.StartsOn, c.EndsOn)
		return unit, c.ID
	}
	// claimOn files a claim on the clock for unit's repair on the clock's
	// day, labour 100.00 + board 300.00, and adjudicates it.
	claimOn := func(t *testing.T, unit, ref string, day int) claims.Claim {
		t.Helper()
		in := w.claim(ref, "performance")
		in.UnitID, in.OccurredOn, in.TestClockID = unit, domaintest.Today(day), clock
		return w.adjudicated(t, in)
	}

	t.Run("ReturnedOnTheClocksDay30", func(t *testing.T) {
		unit, contract := sell(t, "WSH-CLK-0001", "+86 139 0000 0681")
		require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
			ended, err := warranty.EndForReplacedUnit(w.Ctx, tx, unit, "unit returned: refunded", "test")
			require.Equal(t, []string{contract}, ended)
			return err
		}))
		ct, err := w.Warranty.GetContract(w.Ctx, w.Admin, contract)
		require.NoError(t, err)
		require.Equal(t, warranty.StateConsumed, ct.State)
		require.Equal(t, at.UTC(), ct.StateChangedAt.UTC(), "consumed at the clock's time")

		requireApprovedUnder(t, claimOn(t, unit, "CLK-CONSUMED-25", 25), contract)
		c := claimOn(t, unit, "CLK-CONSUMED-30", 30)
		require.Equal(t, claims.StateRejected, c.State, "a repair on the day its benefit was used: %v", c.Reasons)
	})

	t.Run("ExchangedOnTheClocksDay30", func(t *testing.T) {
		unit, contract := sell(t, "WSH-CLK-0002", "+86 139 0000 0682")
		replacement := w.Unit(t, model, "WSH-CLK-0003", 0, "+86 139 0000 0683")
		require.NoError(t, pg.InTenantTx(w.Ctx, w.Tx, w.Tenant, func(tx pg.TenantTx) error {
			moved, err := warranty.FollowReplacementUnit(w.Ctx, tx, unit, replacement, "", "unit exchanged: the plan follows", "test")
			require.Equal(t, []string{contract}, moved)
			return err
		}))
		h, err := w.Warranty.ContractHistory(w.Ctx, w.Admin, contract)
		require.NoError(t, err)
		require.Equal(t, at.UTC(), h[len(h)-1].ChangedAt.UTC(), "moved at the clock's time")

		requireApprovedUnder(t, claimOn(t, unit, "CLK-MOVED-25", 25), contract)
	})
}
