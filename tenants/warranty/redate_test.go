package warranty_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// TestPurchaseDateCorrectionRedatesContracts: a unit's corrected purchase
// date moves its plans' windows as the composition root wires it
// (customers.Deps.PurchaseDateMoved): the state follows the new dates
// with its event, coverage never starts before the sale, and a cancelled
// contract keeps its dates. The API test with seed 002's dates is
// api.TestPurchaseDateCorrectionMovesPlanWindows.
func TestPurchaseDateCorrectionRedatesContracts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, "redate-contracts")
	const today = "2026-06-10"
	svc := b.at(today)
	plans, err := svc.SeedDemoPlans(ctx, b.p)
	require.NoError(t, err)
	now, _ := time.Parse(time.DateOnly, today)
	now = now.Add(4 * time.Hour) // noon in Shanghai
	cus := b.customers(func() time.Time { return now })
	correct := func(t *testing.T, unit, purchase string) {
		t.Helper()
		_, err := cus.UpdateUnit(ctx, b.p, unit, customers.UnitUpdate{PurchaseDate: &purchase}, 0)
		require.NoError(t, err)
	}
	get := func(t *testing.T, id string) warranty.Contract {
		t.Helper()
		c, err := svc.GetContract(ctx, b.p, id)
		require.NoError(t, err)
		return c
	}

	t.Run("StateFollowsTheNewDates", func(t *testing.T) {
		// Day 31 of 2026-05-25 is 2026-06-24: pending.
		phone := b.unit(t, "phone", 12, "2026-05-25", "")
		c, err := svc.CreateContract(ctx, b.p, warranty.NewContract{UnitID: phone, PlanID: plans["accidental_damage"], SoldOn: "2026-05-25"})
		require.NoError(t, err)
		require.Equal(t, [3]any{"2026-06-24", "2027-06-23", warranty.StatePending}, [3]any{c.StartsOn, c.EndsOn, c.State})
		// Bought 2026-05-10: day 31 is yesterday, but the plan was sold
		// on 2026-05-25 and covers from then; it is active today.
		correct(t, phone, "2026-05-10")
		c = get(t, c.ID)
		require.Equal(t, [3]any{"2026-06-09", "2027-06-08", warranty.StateActive}, [3]any{c.StartsOn, c.EndsOn, c.State})
		// The window moved (contract.redated), and so the contract became
		// active (contract.activated).
		require.Equal(t, []string{warranty.TypeContractCreated, warranty.TypeContractBackfilled, warranty.TypeContractRedated,
			warranty.TypeContractActivated}, b.eventTypes(t, c.ID))
		redated := func(t *testing.T) map[string]any {
			t.Helper()
			evs := b.events(t, c.ID)
			last := evs[len(evs)-1]
			require.Equal(t, warranty.TypeContractRedated, last.typ)
			return last.data
		}
		// The brand sold it: no storefront_id.
		require.Equal(t, map[string]any{"unit_id": phone, "plan_id": plans["accidental_damage"],
			"from_state": "pending", "to_state": "active", "from_starts_on": "2026-06-24", "from_ends_on": "2027-06-23",
			"starts_on": "2026-06-09", "ends_on": "2027-06-08", "today": today,
			"reason": "purchase date corrected to 2026-05-10: coverage 2026-06-24 to 2027-06-23 moved to 2026-06-09 to 2027-06-08"},
			b.events(t, c.ID)[2].data)
		// Bought 2026-05-12 after all: day 31 is tomorrow, pending again:
		// no event says "pending", contract.redated says it.
		correct(t, phone, "2026-05-12")
		c = get(t, c.ID)
		require.Equal(t, [3]any{"2026-06-11", "2027-06-10", warranty.StatePending}, [3]any{c.StartsOn, c.EndsOn, c.State})
		h, err := svc.ContractHistory(ctx, b.p, c.ID)
		require.NoError(t, err)
		require.Len(t, h, 3)
		require.Equal(t, warranty.StateActive, *h[2].FromState)
		require.Equal(t, warranty.StatePending, h[2].ToState)
		require.Equal(t, "purchase date corrected to 2026-05-12: coverage 2026-06-09 to 2027-06-08 moved to 2026-06-11 to 2027-06-10", h[2].Reason)
		require.Len(t, b.events(t, c.ID), 5)
		require.Equal(t, map[string]any{"unit_id": phone, "plan_id": plans["accidental_damage"],
			"from_state": "active", "to_state": "pending", "from_starts_on": "2026-06-09", "from_ends_on": "2027-06-08",
			"starts_on": "2026-06-11", "ends_on": "2027-06-10", "today": today, "reason": h[2].Reason}, redated(t))
		// Bought 2026-05-13: still pending, a day later; the move is
		// contract.redated alone.
		correct(t, phone, "2026-05-13")
		c = get(t, c.ID)
		require.Equal(t, [3]any{"2026-06-12", "2027-06-11", warranty.StatePending}, [3]any{c.StartsOn, c.EndsOn, c.State})
		require.Equal(t, []string{warranty.TypeContractCreated, warranty.TypeContractBackfilled, warranty.TypeContractRedated,
			warranty.TypeContractActivated, warranty.TypeContractRedated, warranty.TypeContractRedated}, b.eventTypes(t, c.ID))
		require.Equal(t, map[string]any{"unit_id": phone, "plan_id": plans["accidental_damage"],
			"from_state": "pending", "to_state": "pending", "from_starts_on": "2026-06-11", "from_ends_on": "2027-06-10",
			"starts_on": "2026-06-12", "ends_on": "2027-06-11", "today": today,
			"reason": "purchase date corrected to 2026-05-13: coverage 2026-06-11 to 2027-06-10 moved to 2026-06-12 to 2027-06-11"}, redated(t))
		// The same date again moves nothing: no event.
		correct(t, phone, "2026-05-13")
		require.Len(t, b.events(t, c.ID), 6)
	})

	t.Run("NeverBeforeTheSale", func(t *testing.T) {
		// The no-reason plan from the next day, sold on 2026-06-05: it
		// covers from the sale; the year still counts from the purchase.
		washer := b.unit(t, "washer", 12, "2026-06-01", "")
		c, err := svc.CreateContract(ctx, b.p, warranty.NewContract{UnitID: washer, PlanID: plans["no_reason_repair"], SoldOn: "2026-06-05"})
		require.NoError(t, err)
		require.Equal(t, [2]string{"2026-06-05", "2027-06-01"}, [2]string{c.StartsOn, c.EndsOn})
		correct(t, washer, "2026-06-03")
		c = get(t, c.ID)
		require.Equal(t, [2]string{"2026-06-05", "2027-06-03"}, [2]string{c.StartsOn, c.EndsOn})
		require.Equal(t, warranty.StateActive, c.State)
	})

	t.Run("FollowedFromTheReplacedUnitKeepsItsDates", func(t *testing.T) {
		// An extended warranty sold for a TV bought 2025-06-20 followed a
		// statutory exchange to the replacement (bought, for the warranty,
		// on the exchange day): correcting the replacement's date does not
		// move a window that counts from the first sale.
		tv := b.unit(t, "tv", 12, "2025-06-20", "")
		c, err := svc.CreateContract(ctx, b.p, warranty.NewContract{UnitID: tv, PlanID: plans["extended_warranty"]})
		require.NoError(t, err)
		replacement := b.unit(t, "tv", 12, "2026-06-01", "")
		require.NoError(t, pg.InTenantTx(ctx, b.db.App, b.p.TenantID, func(tx pg.TenantTx) error {
			_, err := warranty.FollowReplacementUnit(ctx, tx, tv, replacement, "", "unit exchanged", "test")
			return err
		}))
		correct(t, replacement, "2026-06-02")
		c = get(t, c.ID)
		require.Equal(t, [3]any{replacement, "2026-06-20", "2028-06-19"}, [3]any{c.UnitID, c.StartsOn, c.EndsOn})
	})

	t.Run("CancelledKeepsItsDates", func(t *testing.T) {
		tv := b.unit(t, "tv", 12, "2025-06-20", "")
		c, err := svc.CreateContract(ctx, b.p, warranty.NewContract{UnitID: tv, PlanID: plans["extended_warranty"]})
		require.NoError(t, err)
		require.Equal(t, "2026-06-20", c.StartsOn)
		_, err = svc.CancelContract(ctx, b.p, c.ID, "customer returned the plan", 0)
		require.NoError(t, err)
		correct(t, tv, "2025-06-25")
		c = get(t, c.ID)
		require.Equal(t, [3]any{"2026-06-20", "2028-06-19", warranty.StateCancelled}, [3]any{c.StartsOn, c.EndsOn, c.State})
	})
}
