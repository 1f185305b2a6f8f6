package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// verifyByHand checks a delivery as an integrator's own code would, with no
// library: the secret's bytes are the base64 after whsec_, the signed
// content is "webhook-id.webhook-timestamp.body", and one of the
// space-separated "v1,<base64>" signatures must be its HMAC-SHA256.
func verifyByHand(t *testing.T, secret string, rq received) bool {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(key), 24, "Standard Webhooks: at least 24 random bytes")
	id, ts := rq.header.Get("webhook-id"), rq.header.Get("webhook-timestamp")
	require.NotEmpty(t, id)
	require.NotContains(t, id, ".")
	sec, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err, "webhook-timestamp is integer Unix seconds: %q", ts)
	require.WithinDuration(t, time.Now(), time.Unix(sec, 0), time.Minute)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(rq.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Split(rq.header.Get("webhook-signature"), " ") {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func eventCount(t *testing.T, env *apitest.Env, key, typ string) int {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/events?limit=200&type="+typ, key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return len(r.JSON(t)["data"].([]any))
}

// TestWebhookIntegratorFlow is what an integrator does with a live and a
// test endpoint: each receives its own mode's events only, each verifies
// with the algorithm computed by hand from its secret, the payload's
// timestamp is when the event occurred, and a replay sends the same
// message again without a new event in the feed.
func TestWebhookIntegratorFlow(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "whk-integrator")
	testKey, _ := testAdminKey(t, env, ten.AdminKey)
	live, test := newReceiver(t, env, 0), newReceiver(t, env, 0)
	liveID, liveSecret := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": live.url(), "event_types": []string{"unit.*"}})
	testID, testSecret := createEndpoint(t, env, testKey, map[string]any{"url": test.url(), "event_types": []string{"unit.*"}})
	require.NotContains(t, listIDs(t, env, ten.AdminKey, "/v1/webhooks"), testID)

	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"serial": "LIVE-1"})
	emitEventIn(testModeCtx(), t, env, ten.ID, "unit.registered", map[string]any{"serial": "TEST-1"})
	gotLive, gotTest := live.waitRequests(t, 1), test.waitRequests(t, 1)
	time.Sleep(1500 * time.Millisecond)
	require.Len(t, live.requests(), 1, "a test-mode event never reaches a live endpoint")
	require.Len(t, test.requests(), 1, "a live event never reaches a test endpoint")
	require.Contains(t, string(gotLive[0].body), "LIVE-1")
	require.Contains(t, string(gotTest[0].body), "TEST-1")
	require.True(t, verifyByHand(t, liveSecret, gotLive[0]), "headers %v body %s", gotLive[0].header, gotLive[0].body)
	require.True(t, verifyByHand(t, testSecret, gotTest[0]))
	require.False(t, verifyByHand(t, testSecret, gotLive[0]), "each endpoint has its own secret")

	var p struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(gotLive[0].body, &p))
	require.Equal(t, "unit.registered", p.Type)
	r := env.Do(t, http.MethodGet, "/v1/events?type=unit.registered", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	evs := r.JSON(t)["data"].([]any)
	require.Len(t, evs, 1)
	ev := evs[0].(map[string]any)
	require.Equal(t, ev["id"], gotLive[0].header.Get("webhook-id"), "webhook-id is the feed's event id")

	// A replay is the same message (id and body) signed afresh, and the
	// feed has no new event.
	var ds []map[string]any
	require.Eventually(t, func() bool {
		ds = deliveries(t, env, ten.AdminKey, liveID)
		return len(ds) == 1 && ds[0]["status"] == "delivered"
	}, 10*time.Second, 50*time.Millisecond)
	before := eventCount(t, env, ten.AdminKey, "*")
	r = env.Do(t, http.MethodPost, "/v1/webhooks/"+liveID+"/deliveries/"+ds[0]["id"].(string)+"/replay", ten.AdminKey, nil)
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	got := live.waitRequests(t, 2)
	require.Equal(t, got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"))
	require.JSONEq(t, string(got[0].body), string(got[1].body))
	require.True(t, verifyByHand(t, liveSecret, got[1]))
	require.Equal(t, before, eventCount(t, env, ten.AdminKey, "*"), "a replay appends no event")
	require.Len(t, deliveries(t, env, testKey, testID), 1, "nor a delivery elsewhere")
}

// TestWebhookRetriesStopAfterTheSchedule: an endpoint that always fails
// gets one attempt and one per wait of the schedule, then the delivery is
// failed with no next attempt and nothing more is sent.
func TestWebhookRetriesStopAfterTheSchedule(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Webhooks.SetPolicy(webhooks.Policy{RetrySchedule: []time.Duration{time.Second, time.Second}})
	ten := env.CreateTenant(t, "whk-retry-end")
	rcv := newReceiver(t, env, -1)
	id, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"claim.*"}})
	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	rcv.waitRequests(t, 3)
	require.Eventually(t, func() bool {
		ds := deliveries(t, env, ten.AdminKey, id)
		return len(ds) == 1 && ds[0]["status"] == "failed"
	}, 10*time.Second, 50*time.Millisecond)
	d := deliveries(t, env, ten.AdminKey, id)[0]
	require.Equal(t, float64(3), d["attempts"])
	require.Nil(t, d["next_attempt_at"])
	require.Equal(t, "the receiver answered 500", d["last_error"])
	time.Sleep(3 * time.Second)
	require.Len(t, rcv.requests(), 3, "no attempt after the schedule's end")
}

// TestWebhookRedirectIsAFailure: a 3xx is a failed attempt (Standard
// Webhooks: update the URL instead); the redirect is never followed.
func TestWebhookRedirectIsAFailure(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Webhooks.SetPolicy(webhooks.Policy{RetrySchedule: []time.Duration{time.Hour}})
	ten := env.CreateTenant(t, "whk-redirect")
	rcv := newScriptedReceiver(t, env, func(_ int, w http.ResponseWriter) {
		w.Header().Set("Location", "/elsewhere")
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	id, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rcv.srv.URL + "/hooks", "event_types": []string{"claim.*"}})
	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	d := firstAttempted(t, env, ten.AdminKey, id)
	require.Equal(t, "retrying", d["status"])
	require.Equal(t, float64(307), d["last_status_code"])
	got := rcv.requests()
	require.Len(t, got, 1, "the redirect is not followed")
	require.Equal(t, "/hooks", got[0].path)
}

// TestWebhookGoneDisablesTheEndpoint: a receiver answering 410 Gone says it
// wants no more webhooks (Standard Webhooks: the sender should disable the
// endpoint and stop sending): the endpoint is disabled at once, the
// delivery is failed without retries, and webhook_endpoint.disabled tells
// why.
func TestWebhookGoneDisablesTheEndpoint(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Webhooks.SetPolicy(webhooks.Policy{RetrySchedule: []time.Duration{time.Second, time.Second}})
	ten := env.CreateTenant(t, "whk-gone")
	rcv := newScriptedReceiver(t, env, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusGone) })
	id, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rcv.srv.URL + "/hooks", "event_types": []string{"claim.*"}})
	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	require.Eventually(t, func() bool {
		return env.Do(t, http.MethodGet, "/v1/webhooks/"+id, ten.AdminKey, nil).JSON(t)["enabled"] == false
	}, 20*time.Second, 50*time.Millisecond, "a 410 disables the endpoint")
	m := env.Do(t, http.MethodGet, "/v1/webhooks/"+id, ten.AdminKey, nil).JSON(t)
	require.Equal(t, "the receiver answered 410 Gone", m["disabled_reason"])
	d := deliveries(t, env, ten.AdminKey, id)[0]
	require.Equal(t, "failed", d["status"])
	require.Equal(t, float64(1), d["attempts"])
	require.Equal(t, float64(410), d["last_status_code"])
	require.Nil(t, d["next_attempt_at"])
	require.Equal(t, 1, eventCount(t, env, ten.AdminKey, "webhook_endpoint.disabled"))

	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	time.Sleep(3 * time.Second)
	require.Len(t, rcv.requests(), 1, "nothing more is sent: no retry, no new event")
}

// TestWebhookRetryAfterIsHonoured: a receiver that answers 429 Too Many
// Requests with Retry-After: 120 is left alone for at least those 120 s
// (not the schedule's 5 s): the delivery log's next_attempt_at says when,
// and the delivery's River job is scheduled at that very time.
func TestWebhookRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	ten := env.CreateTenant(t, "whk-retry-after")
	rcv := newScriptedReceiver(t, env, func(_ int, w http.ResponseWriter) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	id, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"claim.*"}})
	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	d := firstAttempted(t, env, ten.AdminKey, id)
	require.Equal(t, "retrying", d["status"])
	require.Equal(t, float64(http.StatusTooManyRequests), d["last_status_code"])
	next, err := time.Parse(time.RFC3339Nano, d["next_attempt_at"].(string))
	require.NoError(t, err)
	asked := rcv.requests()[0].at
	require.GreaterOrEqual(t, next.Sub(asked), 120*time.Second, "no sooner than the receiver asked")
	require.LessOrEqual(t, next.Sub(asked), time.Duration(float64(120*time.Second)*(1+webhooks.RetryJitter))+5*time.Second)

	var state string
	var scheduled time.Time
	require.Eventually(t, func() bool {
		require.NoError(t, env.DB.Owner.QueryRow(context.Background(), `SELECT state, scheduled_at FROM river_job
			WHERE kind = 'webhook_delivery' AND args->>'delivery_id' = $1`, d["id"]).Scan(&state, &scheduled))
		return state == "retryable"
	}, 10*time.Second, 50*time.Millisecond)
	require.WithinDuration(t, next, scheduled, time.Millisecond, "the job runs when the log says")
	require.Len(t, rcv.requests(), 1)
}

// TestWebhookReenabledEndpointGetsNothingFromWhileDisabled: a disabled
// endpoint receives nothing, also not later: events that occur while it is
// disabled are not delivered when it is enabled again (a replay or the
// feed gives them), whether or not the tenant has another endpoint.
func TestWebhookReenabledEndpointGetsNothingFromWhileDisabled(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "whk-reenable")
	rcv := newReceiver(t, env, 0)
	id, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"unit.*"}})
	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"serial": "BEFORE"})
	rcv.waitRequests(t, 1)

	r := env.Do(t, http.MethodPatch, "/v1/webhooks/"+id, ten.AdminKey, map[string]any{"enabled": false})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"serial": "WHILE-DISABLED"})
	time.Sleep(1500 * time.Millisecond)
	r = env.Do(t, http.MethodPatch, "/v1/webhooks/"+id, ten.AdminKey, map[string]any{"enabled": true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"serial": "AFTER"})
	rcv.waitRequests(t, 2)
	time.Sleep(1500 * time.Millisecond)
	require.Equal(t, []string{"BEFORE", "AFTER"}, rcv.serials(t))
}
