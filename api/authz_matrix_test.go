package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/tenants"
)

var allRoles = tenants.Roles

// wantMatrix pins, per operation, the roles that may call it. It must agree
// with authz/policy.csv (checked) and with the live API (checked): changing
// who may do what is a deliberate edit here, never a side effect.
var wantMatrix = map[string][]string{
	"deleteTestData":      {"tenant_admin"},
	"getMe":               allRoles,
	"getCurrentTenant":    allRoles,
	"updateCurrentTenant": {"tenant_admin"},
	"createApiKey":        {"tenant_admin"},
	"listApiKeys":         {"auditor", "tenant_admin"},
	"getApiKey":           {"auditor", "tenant_admin"},
	"revokeApiKey":        {"tenant_admin"},
	"listEvents":          {"auditor", "integrator", "storefront", "tenant_admin"},
	"listAuditEntries":    {"auditor", "tenant_admin"},
	"getPrivacyPolicy":    allRoles,
	"updatePrivacyPolicy": {"tenant_admin"},
	"exportCustomer":      {"tenant_admin"},
	"eraseCustomer":       {"tenant_admin"},

	"createNode":            networkWriters,
	"listNodes":             networkReaders,
	"getNode":               networkReaders,
	"updateNode":            networkWriters,
	"moveNode":              networkWriters,
	"changeNodeStatus":      networkWriters,
	"listNodeStatusChanges": networkReaders,
	"listNodeSubtree":       networkReaders,
	"findCoveringNodes":     networkReaders,

	"createTechnician":       networkWriters,
	"listTechnicians":        networkReaders,
	"getTechnician":          networkReaders,
	"updateTechnician":       networkWriters,
	"renewTechnicianLicence": networkWriters,

	"createNetworkImport":     networkImporters,
	"listNetworkImports":      networkImporters,
	"getNetworkImport":        networkImporters,
	"listNetworkImportErrors": networkImporters,
}

var (
	networkReaders = []string{"tenant_admin", "network_manager", "dispatcher", "agent", "node_manager", "technician", "integrator", "auditor"}
	networkWriters = []string{"tenant_admin", "network_manager", "node_manager"}
	// Bulk imports reshape the whole network: no node-scoped role.
	networkImporters = []string{"network_manager", "tenant_admin"}
)

// Public and operator-only operations are not decided by roles.
var wantPublic = []string{"getHealth", "getReadiness"}
var wantOperator = []string{"createTenant", "getTenant", "listTenants"}

// dummyParams name objects that do not exist: allowed roles get 404 or 422,
// denied roles 403 (authorization runs before lookup and body decoding).
var dummyParams = map[string]string{
	"key_id":        "key_00000000000000000000000000",
	"node_id":       "nod_00000000000000000000000000",
	"tenant_id":     "ten_00000000000000000000000000",
	"technician_id": "tec_00000000000000000000000000",
	"import_id":     "imp_00000000000000000000000000",
}

func TestEveryOperationDeclaresAPermission(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	known := map[string]bool{string(authz.Public): true, string(authz.Operator): true}
	for _, p := range authz.Permissions {
		known[string(p)] = true
	}
	for _, op := range operations(t, env.API.OpenAPI()) {
		require.NotEmpty(t, op.Permission, "operation %s (%s %s) declares no permission", op.ID, op.Method, op.Path)
		require.True(t, known[op.Permission], "operation %s declares unknown permission %q", op.ID, op.Permission)
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "matrix")
	keys := map[string]string{}
	for _, role := range allRoles {
		keys[role], _ = env.Key(t, ten.AdminKey, role)
	}
	az, err := authz.New()
	require.NoError(t, err)

	for _, op := range operations(t, env.API.OpenAPI()) {
		t.Run(op.ID, func(t *testing.T) {
			path := fill(t, op.Path, dummyParams)
			var body any
			if op.HasBody {
				body = map[string]any{}
			}
			switch {
			case slices.Contains(wantPublic, op.ID):
				require.Equal(t, string(authz.Public), op.Permission)
				r := env.Do(t, op.Method, path, "", body)
				require.NotContains(t, []int{401, 403}, r.Status, "%s", r.Body)
			case slices.Contains(wantOperator, op.ID):
				require.Equal(t, string(authz.Operator), op.Permission)
				r := env.Do(t, op.Method, path, apitest.OperatorToken, body)
				require.NotContains(t, []int{401, 403}, r.Status, "operator: %s", r.Body)
				for role, key := range keys {
					r := env.Do(t, op.Method, path, key, body)
					require.Equal(t, http.StatusUnauthorized, r.Status, "role %s on an operator operation: %s", role, r.Body)
				}
			default:
				want, pinned := wantMatrix[op.ID]
				require.True(t, pinned, "operation %s is not pinned in wantMatrix", op.ID)
				require.ElementsMatch(t, want, az.RolesWith(authz.Permission(op.Permission)),
					"policy.csv and wantMatrix disagree on %s (%s)", op.ID, op.Permission)
				for _, role := range allRoles {
					r := env.Do(t, op.Method, path, keys[role], body)
					if slices.Contains(want, role) {
						require.NotContains(t, []int{401, 403}, r.Status, "role %s should be allowed %s: %s", role, op.ID, r.Body)
					} else {
						require.Equal(t, http.StatusForbidden, r.Status, "role %s should be denied %s: %s", role, op.ID, r.Body)
						require.Equal(t, "forbidden", r.JSON(t)["code"])
					}
				}
				r := env.Do(t, op.Method, path, apitest.OperatorToken, body)
				require.Equal(t, http.StatusUnauthorized, r.Status, "the operator token is not a tenant credential")
			}
		})
	}
	for id := range wantMatrix {
		found := false
		for _, op := range operations(t, env.API.OpenAPI()) {
			found = found || op.ID == id
		}
		require.True(t, found, "wantMatrix pins %s, which the API does not have", id)
	}
}

func init() {
	wantMatrix["decideEntitlement"] = []string{"agent", "dispatcher", "integrator", "node_manager", "storefront", "technician", "tenant_admin"}
}
