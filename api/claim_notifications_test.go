package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
)

// TestClaimAndPayoutNotifications: the customer is told, through a local
// HTTPS test gateway and in Chinese (the tenant's default language), that
// a claim on their unit was decided and that their payout was sent, each
// exactly once, retries and reruns included; a customer who opted out of
// non-essential messages is told neither.
//
// Amounts from the seeds: rule 7 (no-reason repair plan) repairs
// environmental faults (unstable voltage) free, so the labor 100 CNY and
// the board 300 CNY are approved in full (¥400.00), and owes the customer
// 100 CNY satisfaction compensation (¥100.00).
func TestClaimAndPayoutNotifications(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	w := newWasherShop(t, env, "claim-notify")
	tenantID := tenantOf(t, env, w.admin)
	gw := newSMSGateway(t, env, 0)
	r := env.Do(t, http.MethodPost, "/v1/notification-gateways", w.admin, map[string]any{"url": gw.srv.URL + "/sms"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	secret := r.JSON(t)["secret"].(string)
	plan := createdID(t, env, w.admin, "/v1/coverage-plans", planBodies()["nrr"])
	createdID(t, env, w.admin, "/v1/contracts", map[string]any{"unit_id": w.newUnit, "plan_id": plan, "sold_on": shanghaiToday(-30)})

	// decided files a claim and waits for adjudication to decide it.
	decided := func(t *testing.T, body map[string]any, state string) string {
		r := env.Do(t, http.MethodPost, "/v1/claims", w.admin, body)
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		id := r.JSON(t)["id"].(string)
		m := eventually(t, func() *apitest.Response { return env.Do(t, http.MethodGet, "/v1/claims/"+id, w.admin, nil) },
			func(m map[string]any) bool { return m["state"] != "submitted" && m["state"] != "under_review" })
		require.Equal(t, state, m["state"], "%v", m)
		return id
	}
	// sms waits for n messages about subject and returns their texts by purpose.
	sms := func(t *testing.T, subject string, n int) map[string][]string {
		var ms []smsOf
		require.Eventually(t, func() bool {
			ms = accepted(t, gw, secret)
			return len(purposesFor(ms, subject)) >= n
		}, 30*time.Second, 50*time.Millisecond, "%d messages about %s", n, subject)
		out := map[string][]string{}
		for _, m := range ms {
			if m.subject == subject {
				out[m.purpose] = append(out[m.purpose], m.text)
			}
		}
		return out
	}

	t.Run("ClaimDecidedAndPayoutSentInChineseOnce", func(t *testing.T) {
		body := w.claim("no_reason_repair", w.newUnit, "NRR-MSG-1", "unstable_voltage", labor(10000), w.boardLine(30000))
		body["occurred_on"] = shanghaiToday(-2)
		claim := decided(t, body, "approved")
		got := sms(t, claim, 1)
		assert.Equal(t, []string{"您的保修申请 NRR-MSG-1 已处理：已批准，核定金额 ¥400.00。"}, got["claim_decided"])

		// Adjudication again (a rerun) sends nothing more.
		require.NoError(t, env.Claims.Adjudicate(context.Background(), tenantID, claim, 1))
		require.Len(t, eventsOfPurpose(t, env, tenantID, claim, "claim_decided"), 1)

		var payout string
		eventually(t, func() *apitest.Response {
			return env.Do(t, http.MethodGet, "/v1/payouts?claim_id="+claim, w.admin, nil)
		},
			func(m map[string]any) bool {
				if data, _ := m["data"].([]any); len(data) == 1 {
					payout = data[0].(map[string]any)["id"].(string)
				}
				return payout != ""
			})
		// A retried request (same Idempotency-Key) is answered from the first; a second payment is a conflict.
		for range 2 {
			r := env.Do(t, http.MethodPost, "/v1/payouts/"+payout+"/mark-paid", w.admin, map[string]any{"reference": "ALIPAY-2026-77"},
				"Idempotency-Key: pay-"+payout)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		}
		r := env.Do(t, http.MethodPost, "/v1/payouts/"+payout+"/mark-paid", w.admin, map[string]any{"reference": "ALIPAY-2026-78"})
		require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
		got = sms(t, payout, 1)
		require.Len(t, got["payout_sent"], 1, "%v", got)
		assert.Contains(t, got["payout_sent"][0], "已向您支付 ¥100.00（")
		assert.Contains(t, got["payout_sent"][0], "付款流水号 ALIPAY-2026-77")
		require.Len(t, eventsOfPurpose(t, env, tenantID, payout, "payout_sent"), 1)
	})

	t.Run("OptedOutCustomerIsNotTold", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/units/"+w.unit, w.admin, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPatch, "/v1/customers/"+r.JSON(t)["customer_id"].(string), w.admin, map[string]any{"notifications_opt_out": true})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		// Rule 4: a power surge under the extended warranty is repaired free: approved.
		claim := decided(t, w.claim("extended_warranty", w.unit, "EXT-MSG-1", "power_surge", labor(10000), w.boardLine(30000)), "approved")
		assert.Empty(t, eventsOfPurpose(t, env, tenantID, claim, "claim_decided"))
	})
}

// eventsOfPurpose returns the data of the notification.requested events
// of purpose about subject (a claim or a payout).
func eventsOfPurpose(t *testing.T, env *apitest.Env, tenantID, subject, purpose string) []map[string]any {
	t.Helper()
	ctx := context.Background()
	var out []map[string]any
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, tenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT data FROM events WHERE tenant_id = $1 AND type = 'notification.requested'
			AND data ->> 'subject_id' = $2 AND data ->> 'purpose' = $3 ORDER BY id`, tx.TenantID, subject, purpose)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m map[string]any
			if err := rows.Scan(&m); err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	}))
	return out
}
