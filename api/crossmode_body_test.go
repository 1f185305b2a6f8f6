package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// TestCrossModeBodyIDs: an object of the other mode named in a request's
// body (a live ticket naming a test unit, a test claim naming a live
// contract, a webhook endpoint for a storefront of the other mode ...) is
// no object: the request is refused (404, or 422 naming the field), nothing
// is created, and nothing of the other mode's object leaks.
func TestCrossModeBodyIDs(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	for _, victimLive := range []bool{true, false} {
		name := "TestKeyNamesLiveObjects"
		if !victimLive {
			name = "LiveKeyNamesTestObjects"
		}
		t.Run(name, func(t *testing.T) {
			ten := env.CreateTenant(t, "bodymodes-"+pg.ModeName(victimLive))
			testKey, testKeyID := testAdminKey(t, env, ten.AdminKey)
			victimKey, victimID, attackerKey, attackerID := ten.AdminKey, ten.AdminID, testKey, testKeyID
			if !victimLive {
				victimKey, victimID, attackerKey, attackerID = testKey, testKeyID, ten.AdminKey, ten.AdminID
			}
			actx := pg.WithLivemode(context.Background(), !victimLive)
			attackerNet := env.CreateNetwork(t, attackerKey, "anet")
			vctx := pg.WithLivemode(context.Background(), victimLive)
			fx := walkVictim(t, env, vctx, ten.ID, victimKey, victimID, attackerNet.Root)
			v := fx.objects

			// The attacker's own objects, so that only the other mode's ID is wrong.
			plans, err := env.Warranty.SeedDemoPlans(actx, tenants.Principal{TenantID: ten.ID, KeyID: attackerID, Live: !victimLive})
			require.NoError(t, err)
			unit := contractUnitIn(actx, t, env, ten.ID, "washer", 12, shanghaiToday(-3), "")
			sf := env.Storefront(t, attackerKey, "A-SHOP")
			attackerModel := createdID(t, env, attackerKey, "/v1/catalog/models", modelBody("A-MODEL-1", "washer", 100000))

			claim := func(extra map[string]any) map[string]any {
				b := map[string]any{"kind": "warranty", "unit_id": unit, "reference": "A-CLM-" + tenants.NewID("x")[2:12],
					"occurred_on": shanghaiToday(0), "fault": map[string]any{"cause": "performance"},
					"lines": []map[string]any{{"kind": "labor", "requested": money(1000)}}}
				for k, x := range extra {
					b[k] = x
				}
				return b
			}
			for _, c := range []struct {
				name, path, field string
				body              any
			}{
				{"ClaimOnTheirUnit", "/v1/claims", "", claim(map[string]any{"unit_id": v["unit_id"]})},
				{"ClaimUnderTheirContract", "/v1/claims", "contract_id", claim(map[string]any{"contract_id": v["contract_id"]})},
				{"ClaimForTheirTicket", "/v1/claims", "ticket_id", claim(map[string]any{"ticket_id": v["ticket_id"]})},
				{"PayoutOnTheirUnit", "/v1/payouts", "unit_id", map[string]any{"unit_id": v["unit_id"], "amount": money(10000), "reason": "probe"}},
				{"PayoutUnderTheirContract", "/v1/payouts", "contract_id", map[string]any{"unit_id": unit, "contract_id": v["contract_id"], "amount": money(10000), "reason": "probe"}},
				{"PayoutForTheirClaim", "/v1/payouts", "claim_id", map[string]any{"unit_id": unit, "claim_id": v["claim_id"], "amount": money(10000), "reason": "probe"}},
				{"SwapOfTheirUnit", "/v1/swaps", "unit_id", map[string]any{"unit_id": v["unit_id"], "reason": "unrepairable"}},
				{"SwapUnderTheirContract", "/v1/swaps", "contract_id", map[string]any{"unit_id": unit, "contract_id": v["contract_id"], "reason": "unrepairable"}},
				{"ContractOnTheirUnit", "/v1/contracts", "unit_id", map[string]any{"unit_id": v["unit_id"], "plan_id": plans["no_reason_repair"]}},
				{"ContractOfTheirPlan", "/v1/contracts", "plan_id", map[string]any{"unit_id": unit, "plan_id": v["plan_id"]}},
				{"ContractSoldByTheirStorefront", "/v1/contracts", "storefront_id", map[string]any{"unit_id": unit, "plan_id": plans["no_reason_repair"], "storefront_id": v["storefront_id"]}},
				{"ComplaintAboutTheirTicket", "/v1/complaints", "ticket_id", map[string]any{"ticket_id": v["ticket_id"], "category": "attitude", "description": "probe"}},
				{"ComplaintAboutTheirTechnician", "/v1/complaints", "technician_id", map[string]any{"technician_id": v["technician_id"], "category": "attitude", "description": "probe"}},
				{"UnitOfTheirModel", "/v1/units", "model_id", map[string]any{"model_id": v["model_id"], "serial": "A-U-1",
					"customer": map[string]any{"name": "探针", "phones": []string{"+86 139 0000 0102"}}, "purchase_date": shanghaiToday(-3), "purchase_price": cnyBody(100000)}},
				{"UnitOfTheirCustomer", "/v1/units", "customer_id", map[string]any{"model_id": attackerModel, "serial": "A-U-2",
					"customer_id": v["customer_id"], "purchase_date": shanghaiToday(-3), "purchase_price": cnyBody(100000)}},
				{"UnitSoldByTheirStorefront", "/v1/units", "storefront_id", map[string]any{"model_id": attackerModel, "serial": "A-U-3", "storefront_id": v["storefront_id"],
					"customer": map[string]any{"name": "探针", "phones": []string{"+86 139 0000 0103"}}, "purchase_date": shanghaiToday(-3), "purchase_price": cnyBody(100000)}},
				{"WebhookForTheirStorefront", "/v1/webhooks", "storefront_id", map[string]any{"url": "https://8.8.8.8/hook", "event_types": []string{"*"}, "storefront_id": v["storefront_id"]}},
				{"KeyForTheirStorefront", "/v1/api-keys", "storefront_id", map[string]any{"name": "probe", "roles": []string{"storefront"}, "storefront_id": v["storefront_id"]}},
				{"KeyForTheirNode", "/v1/api-keys", "node_id", map[string]any{"name": "probe", "roles": []string{"node_manager"}, "node_id": v["node_id"]}},
				{"KeyForTheirTechnician", "/v1/api-keys", "technician_id", map[string]any{"name": "probe", "roles": []string{"technician"}, "technician_id": v["technician_id"]}},
				{"TechnicianAtTheirNode", "/v1/network/technicians", "node_id", map[string]any{"external_code": "anet-T9", "node_id": v["node_id"], "name": "probe", "phone": "+86 138 0000 0009"}},
				{"NodeUnderTheirNode", "/v1/network/nodes", "parent_id", map[string]any{"external_code": "anet-N9", "name": "probe", "tier": "repair_point", "parent_id": v["node_id"],
					"status": "active", "coverage": []string{"370212"}, "categories": []string{"washer"}, "service_kinds": []string{"repair"}, "daily_capacity": 1}},
				{"LoanerAtTheirNode", "/v1/loaners", "node_id", map[string]any{"node_id": v["node_id"], "category": "washer", "serial": "A-LN-1"}},
				{"QuoteOfTheirModel", "/v1/catalog/quotes", "model_id", map[string]any{"model_id": v["model_id"], "service_kind": "repair"}},
				{"QuoteWithTheirPart", "/v1/catalog/quotes", "parts[0].part_id", map[string]any{"model_id": attackerModel, "service_kind": "repair",
					"parts": []map[string]any{{"part_id": v["part_id"], "quantity": 1}}}},
				{"TicketOfTheirUnit", "/v1/tickets", "unit.unit_id", map[string]any{"channel": "web", "type": "repair",
					"contact": map[string]any{"name": "探针", "phone": "+86 138 0000 0000"},
					"address": map[string]any{"region_code": "370212", "line": "建设路 1 号"},
					"unit":    map[string]any{"unit_id": v["unit_id"]}, "fault": map[string]any{"symptom": "不排水"}}},
			} {
				r := env.Do(t, http.MethodPost, c.path, attackerKey, c.body)
				if c.field == "" {
					require.Equal(t, http.StatusNotFound, r.Status, "%s: %s", c.name, r.Body)
				} else {
					require.Equal(t, []string{"body." + c.field}, problemLocations(t, r, http.StatusUnprocessableEntity), "%s", c.name)
				}
				sent, err := json.Marshal(c.body)
				require.NoError(t, err)
				body := strings.ToLower(withoutRequestID(t, r))
				for _, l := range fx.leaks {
					if !strings.Contains(strings.ToLower(string(sent)), strings.ToLower(l)) { // the request's own value may be echoed
						require.NotContains(t, body, strings.ToLower(l), "%s leaked %q", c.name, l)
					}
				}
			}
			// Nothing was made in either mode.
			for _, ctx := range []context.Context{actx, vctx} {
				require.NoError(t, pg.InTenantTx(ctx, env.DB.App, ten.ID, func(tx pg.TenantTx) error {
					for table, where := range map[string]string{"claims": "reference LIKE 'A-CLM-%'", "payouts": "reason = 'probe'",
						"units": "serial LIKE 'A-U-%'", "technicians": "external_code = 'anet-T9'", "nodes": "external_code = 'anet-N9'",
						"loaners": "serial = 'A-LN-1'", "api_keys": "name = 'probe'", "complaints": "description = 'probe'"} {
						var n int
						require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE tenant_id = $1 AND `+where, ten.ID).Scan(&n))
						require.Zero(t, n, "%s: a row was made", table)
					}
					return nil
				}))
			}
			// The attacker's own objects were fine: the same requests with them succeed.
			r := env.Do(t, http.MethodPost, "/v1/swaps", attackerKey, map[string]any{"unit_id": unit, "reason": "unrepairable"})
			require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
			r = env.Do(t, http.MethodPost, "/v1/webhooks", attackerKey, map[string]any{"url": "https://8.8.8.8/hook", "event_types": []string{"*"}, "storefront_id": sf})
			require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		})
	}
}
