package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestContractHistoryCanBeRecorded: issue 12 item 16. A past sale is
// recorded with its state from the dates and a contract.backfilled event;
// a sale never starts coverage before it was made.
func TestContractHistoryCanBeRecorded(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "booking-history")
	admin := ten.AdminKey
	nrr := createdID(t, env, admin, "/v1/coverage-plans", planBodies()["nrr"]) // from the next day, one year

	t.Run("AnExpiredPastSaleIsRecordedAsExpired", func(t *testing.T) {
		purchase := shanghaiToday(-730)
		unit := contractUnit(t, env, ten.ID, "washer", 12, purchase, "")
		soldOn := shanghaiToday(-725)
		r := env.Do(t, http.MethodPost, "/v1/contracts", admin, map[string]any{"unit_id": unit, "plan_id": nrr, "sold_on": soldOn})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		c := r.JSON(t)
		assert.Equal(t, "expired", c["state"])
		assert.Equal(t, soldOn, c["sold_on"])
		assert.Equal(t, soldOn, c["starts_on"], "coverage starts on the sale, not on the day after the purchase")
		assert.Equal(t, shanghaiToday(-730+365), c["ends_on"], "one year from the day after the purchase")
		assert.Contains(t, c["state_reason"], "backfilled")
		evs := eventsOf(t, env, ten.ID, "contract.backfilled", c["id"].(string))
		require.Len(t, evs, 1)
		assert.Len(t, eventsOf(t, env, ten.ID, "contract.created", c["id"].(string)), 1)
		assert.Len(t, eventsOf(t, env, ten.ID, "contract.activated", c["id"].(string)), 0)

		// Sold today, the same plan has nothing left to sell.
		unit2 := contractUnit(t, env, ten.ID, "washer", 12, purchase, "")
		r = env.Do(t, http.MethodPost, "/v1/contracts", admin, map[string]any{"unit_id": unit2, "plan_id": nrr})
		require.Contains(t, problemLocations(t, r, http.StatusUnprocessableEntity), "body.sold_on")
	})

	t.Run("AnActivePastSaleIsActive", func(t *testing.T) {
		unit := contractUnit(t, env, ten.ID, "washer", 12, shanghaiToday(-20), "")
		r := env.Do(t, http.MethodPost, "/v1/contracts", admin, map[string]any{"unit_id": unit, "plan_id": nrr, "sold_on": shanghaiToday(-20)})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		c := r.JSON(t)
		assert.Equal(t, "active", c["state"])
		assert.Equal(t, shanghaiToday(-19), c["starts_on"], "the day after the purchase, after the sale")
		assert.Len(t, eventsOf(t, env, ten.ID, "contract.backfilled", c["id"].(string)), 1)
	})

	t.Run("ANewSaleDoesNotCoverThePast", func(t *testing.T) {
		unit := contractUnit(t, env, ten.ID, "washer", 12, shanghaiToday(-10), "")
		r := env.Do(t, http.MethodPost, "/v1/contracts", admin, map[string]any{"unit_id": unit, "plan_id": nrr})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		c := r.JSON(t)
		assert.Equal(t, "active", c["state"])
		assert.Equal(t, shanghaiToday(0), c["starts_on"], "not retroactive to the day after the purchase")
		assert.Len(t, eventsOf(t, env, ten.ID, "contract.backfilled", c["id"].(string)), 0)
	})
}
