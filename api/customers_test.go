package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

func init() {
	unitReaders := []string{"agent", "auditor", "dispatcher", "integrator", "node_manager", "storefront", "technician", "tenant_admin"}
	unitWriters := []string{"agent", "dispatcher", "integrator", "storefront", "tenant_admin"}
	wantMatrix["createCustomer"] = unitWriters
	wantMatrix["listCustomers"] = unitReaders
	wantMatrix["getCustomer"] = unitReaders
	wantMatrix["updateCustomer"] = unitWriters
	wantMatrix["registerUnit"] = unitWriters
	wantMatrix["listUnits"] = unitReaders
	wantMatrix["getUnit"] = unitReaders
	wantMatrix["updateUnit"] = unitWriters
	wantMatrix["recordServiceEvent"] = unitWriters
	wantMatrix["listUnitServiceHistory"] = unitReaders
	dummyParams["customer_id"] = "cus_00000000000000000000000000"
	dummyParams["unit_id"] = "unt_00000000000000000000000000"
}

// createModel writes a product model straight into the catalog table (the
// catalog API is another context's) and returns its id.
func createModel(t *testing.T, env *apitest.Env, tenant, number, category string) string {
	t.Helper()
	id := tenants.NewID(tenants.PrefixProductModel)
	ctx := context.Background()
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, tenant, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO product_models (tenant_id, id, model_number, category, name, retail_price, currency, warranty_months)
			VALUES ($1, $2, $3, $4, $5, 329900, 'CNY', 36)`, tx.TenantID, id, number, category, "Model "+number)
		return err
	}))
	return id
}

// count counts a tenant's rows of a table (as the owner, under RLS).
func count(t *testing.T, env *apitest.Env, tenant, table string) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, tenant, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE tenant_id = $1`, table), tx.TenantID).Scan(&n)
	}))
	return n
}

// waitEvents reads the event feed with query until it holds n events (the
// feed shows a transaction's events once no older transaction is running).
func waitEvents(t *testing.T, env *apitest.Env, key, query string, n int) []map[string]any {
	t.Helper()
	var out []map[string]any
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		r := env.Do(t, http.MethodGet, "/v1/events?limit=200&"+query, key, nil)
		if !assert.Equal(c, http.StatusOK, r.Status, "%s", r.Body) {
			return
		}
		out = nil
		for _, e := range r.JSON(t)["data"].([]any) {
			out = append(out, e.(map[string]any))
		}
		assert.Len(c, out, n)
	}, 5*time.Second, 50*time.Millisecond)
	return out
}

func createCustomer(t *testing.T, env *apitest.Env, key string, body map[string]any, status int) map[string]any {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/customers", key, body)
	require.Equal(t, status, r.Status, "%s", r.Body)
	c := r.JSON(t)
	require.Equal(t, "/v1/customers/"+c["id"].(string), r.Header.Get("Location"))
	return c
}

func TestCustomers(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "customers")
	admin := ten.AdminKey
	agent, _ := env.Key(t, admin, "agent")

	wang := createCustomer(t, env, agent, map[string]any{"name": "王丽", "phones": []string{"+86 138-0013-8000", "(0532) 8893 0000"},
		"addresses": []map[string]any{{"label": "home", "region_code": "370212", "line": "海尔路1号", "postal_code": "266101"}}}, http.StatusCreated)
	wangID := wang["id"].(string)
	require.Regexp(t, `^cus_[0-9a-z]{26}$`, wangID)
	require.Equal(t, []any{"+8613800138000", "+8653288930000"}, wang["phones"], "stored in E.164")
	require.Equal(t, []any{"138 0013 8000", "0532 8893 0000"}, wang["phones_display"], "national display form")
	li := createCustomer(t, env, agent, map[string]any{"name": "李强", "phones": []string{"13900139000"}}, http.StatusCreated)
	liID := li["id"].(string)
	require.Equal(t, []any{}, li["addresses"])

	t.Run("DeduplicatedByPhone", func(t *testing.T) {
		for _, phone := range []string{"13800138000", "0086 138 0013 8000", "+86 532 8893 0000"} {
			got := createCustomer(t, env, admin, map[string]any{"name": "Wang Li", "phones": []string{"15000000000", phone}}, http.StatusOK)
			require.Equal(t, wang, got, "the existing customer, unchanged (%s)", phone)
		}
		require.Equal(t, 2, count(t, env, ten.ID, "customers"))
		r := env.Do(t, http.MethodPost, "/v1/customers", admin, map[string]any{"name": "两个人", "phones": []string{"13800138000", "13900139000"}})
		require.Equal(t, []string{"body.phones"}, problemLocations(t, r, http.StatusConflict))
	})

	t.Run("IdempotentRetryReplaysTheFirstAnswer", func(t *testing.T) {
		body := map[string]any{"name": "周婷", "phones": []string{"13800138000"}}
		r1 := env.Do(t, http.MethodPost, "/v1/customers", agent, body, "Idempotency-Key: find-wang")
		require.Equal(t, http.StatusOK, r1.Status, "%s", r1.Body)
		r2 := env.Do(t, http.MethodPost, "/v1/customers", agent, body, "Idempotency-Key: find-wang")
		require.Equal(t, http.StatusOK, r2.Status, "%s", r2.Body)
		require.Equal(t, "true", r2.Header.Get("Idempotent-Replayed"))
		require.Equal(t, wangID, r2.JSON(t)["id"])
	})

	t.Run("BadInputNamesTheField", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/customers", admin, map[string]any{"name": "x", "phones": []string{"call me", "13700137000", "137 0013 7000"},
			"addresses": []map[string]any{{"region_code": "379999", "line": "somewhere"}, {"region_code": "370212", "line": "x"}}})
		require.ElementsMatch(t, []string{"body.phones[0]", "body.phones[2]", "body.addresses[0].region_code"},
			problemLocations(t, r, http.StatusUnprocessableEntity))
		// A malformed code is refused by the schema, before anything else is looked at.
		r = env.Do(t, http.MethodPost, "/v1/customers", admin, map[string]any{"name": "x", "phones": []string{"13700137000"},
			"addresses": []map[string]any{{"region_code": "37021", "line": "x"}}})
		require.Equal(t, []string{"body.addresses[0].region_code"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		require.Equal(t, 2, count(t, env, ten.ID, "customers"))
	})

	t.Run("GetAndList", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/customers/"+wangID, agent, nil)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, `"v1"`, r.Header.Get("ETag"))
		require.Equal(t, wang, r.JSON(t))
		require.Equal(t, http.StatusNotFound, env.Do(t, http.MethodGet, "/v1/customers/cus_00000000000000000000000000", agent, nil).Status)
		require.Equal(t, []string{wangID, liID}, listIDs(t, env, agent, "/v1/customers"))
		require.Equal(t, []string{wangID}, listIDs(t, env, agent, "/v1/customers?phone="+url.QueryEscape("+86 138 0013 8000")))
		require.Equal(t, []string{liID}, listIDs(t, env, agent, "/v1/customers?name="+url.QueryEscape("李")))
		require.Empty(t, listIDs(t, env, agent, "/v1/customers?name="+url.QueryEscape("%")))
		r = env.Do(t, http.MethodGet, "/v1/customers?phone=nope", agent, nil)
		require.Equal(t, []string{"query.phone"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		page := env.Do(t, http.MethodGet, "/v1/customers?limit=1", agent, nil).JSON(t)
		require.Equal(t, []string{liID}, listIDs(t, env, agent, "/v1/customers?limit=1&cursor="+page["next_cursor"].(string)))
	})

	t.Run("Update", func(t *testing.T) {
		r := env.Do(t, http.MethodPatch, "/v1/customers/"+liID, agent, map[string]any{"phones": []string{"13900139000", "138 0013 8000"}})
		require.Equal(t, []string{"body.phones[1]"}, problemLocations(t, r, http.StatusConflict))
		r = env.Do(t, http.MethodPatch, "/v1/customers/"+liID, agent, map[string]any{"name": "李四"}, `If-Match: "v7"`)
		require.Equal(t, http.StatusPreconditionFailed, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPatch, "/v1/customers/"+liID, agent, map[string]any{"addresses": []map[string]any{{"region_code": "999999", "line": "x"}}})
		require.Equal(t, []string{"body.addresses[0].region_code"}, problemLocations(t, r, http.StatusUnprocessableEntity))
		r = env.Do(t, http.MethodPatch, "/v1/customers/"+liID, agent, map[string]any{"name": "李四", "phones": []string{"139-0013-9000", "13600136000"},
			"addresses": []map[string]any{{"region_code": "110105", "line": "朝阳路2号"}}}, `If-Match: "v1"`)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, `"v2"`, r.Header.Get("ETag"))
		got := r.JSON(t)
		require.Equal(t, "李四", got["name"])
		require.Equal(t, []any{"+8613900139000", "+8613600136000"}, got["phones"])
		// The new phone now finds 李四; a dropped phone would be free again.
		require.Equal(t, liID, createCustomer(t, env, agent, map[string]any{"name": "x", "phones": []string{"136 0013 6000"}}, http.StatusOK)["id"])
		waitEvents(t, env, admin, "type=customer.*", 3) // two created, one updated
	})

	t.Run("CrossTenant", func(t *testing.T) {
		other := env.CreateTenant(t, "customers-other")
		for _, m := range []string{http.MethodGet, http.MethodPatch} {
			r := env.Do(t, m, "/v1/customers/"+wangID, other.AdminKey, map[string]any{"name": "x"})
			require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
			require.NotContains(t, string(r.Body), "王丽")
		}
		require.Empty(t, listIDs(t, env, other.AdminKey, "/v1/customers?phone=13800138000"))
		// The same phone in another brand is another customer.
		c := createCustomer(t, env, other.AdminKey, map[string]any{"name": "王丽", "phones": []string{"13800138000"}}, http.StatusCreated)
		require.NotEqual(t, wangID, c["id"])
		require.Equal(t, float64(1), env.Do(t, http.MethodGet, "/v1/customers/"+wangID, admin, nil).JSON(t)["version"])
	})
}
