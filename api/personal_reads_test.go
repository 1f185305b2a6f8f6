package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// readsBy counts the audit log's reads of objectID under operation made by
// the key keyID.
func readsBy(t *testing.T, env *apitest.Env, auditor, objectID, operation, keyID string) int {
	t.Helper()
	n := 0
	for _, e := range auditOf(t, env, auditor, objectID) {
		if e["action"] == "read" && e["operation"] == operation && e["actor"] == keyID {
			n++
		}
	}
	return n
}

// A write whose answer shows personal data unmasked is a read of it, logged
// like a GET's: an agent who "creates" a customer with a phone that is
// already a customer's is answered that customer in full (200), and the
// audit log says so, with an Idempotency-Key (the record commits with the
// request) or without.
func TestWriteAnswerWithPersonalDataIsLogged(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "privacy-write-reads")
	agent, _ := env.Key(t, ten.AdminKey, "agent")
	other, otherID := env.Key(t, ten.AdminKey, "agent")
	auditor, auditorID := env.Key(t, ten.AdminKey, "auditor")
	r := env.Do(t, http.MethodPost, "/v1/customers", agent, map[string]any{"name": "王丽", "phones": []string{"13800138000"}})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	cus := r.JSON(t)["id"].(string)

	// Another agent looks the phone up.
	r = env.Do(t, http.MethodPost, "/v1/customers", other, map[string]any{"name": "张三", "phones": []string{"138 0013 8000"}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, cus, r.JSON(t)["id"])
	assert.Equal(t, "王丽", r.JSON(t)["name"], "the existing customer, in full")
	assert.Equal(t, 1, readsBy(t, env, auditor, cus, "createCustomer", otherID), "a lookup by POST is a read")

	r = env.Do(t, http.MethodPost, "/v1/customers", other, map[string]any{"name": "张三", "phones": []string{"13800138000"}},
		"Idempotency-Key: lookup-1")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "王丽", r.JSON(t)["name"])
	assert.Equal(t, 2, readsBy(t, env, auditor, cus, "createCustomer", otherID), "with an Idempotency-Key too")
	// Its retry replays the answer, the same personal data shown again:
	// read again.
	r = env.Do(t, http.MethodPost, "/v1/customers", other, map[string]any{"name": "张三", "phones": []string{"13800138000"}},
		"Idempotency-Key: lookup-1")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "true", r.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, "王丽", r.JSON(t)["name"])
	assert.Equal(t, 3, readsBy(t, env, auditor, cus, "createCustomer", otherID), "a replay is a read")

	// GETs as before: the agent's read logged, the auditor's masked one not.
	r = env.Do(t, http.MethodGet, "/v1/customers/"+cus, other, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, 1, readsBy(t, env, auditor, cus, "getCustomer", otherID))
	r = env.Do(t, http.MethodGet, "/v1/customers/"+cus, auditor, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, true, r.JSON(t)["masked"])
	assert.Zero(t, readsBy(t, env, auditor, cus, "getCustomer", auditorID))
}
