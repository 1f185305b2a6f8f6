package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

var webhookManagers = []string{"integrator", "storefront", "tenant_admin"}

func init() {
	for _, op := range []string{"createWebhookEndpoint", "listWebhookEndpoints", "getWebhookEndpoint", "updateWebhookEndpoint",
		"rotateWebhookSecret", "listWebhookDeliveries", "replayWebhookDelivery"} {
		wantMatrix[op] = webhookManagers
	}
	dummyParams["webhook_id"] = "whk_00000000000000000000000000"
	dummyParams["delivery_id"] = "dlv_00000000000000000000000000"
}

// received is one request a test receiver got.
type received struct {
	header http.Header
	body   []byte
	at     time.Time
	path   string
}

// receiver is a local webhook receiver: it answers each request with
// answer(n) (n counts from 1) and records what it got.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, w http.ResponseWriter)
}

// newReceiver is a receiver that answers 500 to its first fail requests
// (every request when fail < 0) and 204 after.
func newReceiver(t *testing.T, env *apitest.Env, fail int) *receiver {
	t.Helper()
	return newScriptedReceiver(t, env, func(n int, w http.ResponseWriter) {
		if fail < 0 || n <= fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func newScriptedReceiver(t *testing.T, env *apitest.Env, answer func(n int, w http.ResponseWriter)) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body, at: time.Now(), path: req.URL.Path})
		n := len(r.got)
		r.mu.Unlock()
		r.answer(n, w)
	}))
	t.Cleanup(r.srv.Close)
	env.Webhooks.AllowHost(r.srv.Listener.Addr().String())
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/hooks" }

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// serials are the data.serial of the events the receiver got, in order.
func (r *receiver) serials(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, q := range r.requests() {
		var p struct {
			Data map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal(q.body, &p))
		out = append(out, p.Data["serial"].(string))
	}
	return out
}

// waitRequests waits until the receiver got at least n requests.
func (r *receiver) waitRequests(t *testing.T, n int) []received {
	t.Helper()
	require.Eventually(t, func() bool { return len(r.requests()) >= n }, 30*time.Second, 50*time.Millisecond,
		"the receiver got %d requests, want %d", len(r.requests()), n)
	return r.requests()
}

// emitEvent appends an event to the tenant's feed, as any context does.
func emitEvent(t *testing.T, env *apitest.Env, tenantID, typ string, data map[string]any) {
	t.Helper()
	emitEventIn(context.Background(), t, env, tenantID, typ, data)
}

// emitEventIn is emitEvent in ctx's mode (pg.WithLivemode).
func emitEventIn(ctx context.Context, t *testing.T, env *apitest.Env, tenantID, typ string, data map[string]any) {
	t.Helper()
	require.NoError(t, pg.InTenantTx(ctx, env.DB.App, tenantID, func(tx pg.TenantTx) error {
		return events.Append(ctx, tx, events.New{Type: typ, SubjectID: "test", Actor: "test", Data: data})
	}))
}

func createEndpoint(t *testing.T, env *apitest.Env, key string, body map[string]any) (id, secret string) {
	t.Helper()
	r := env.Do(t, http.MethodPost, "/v1/webhooks", key, body)
	require.Equal(t, http.StatusCreated, r.Status, "create endpoint: %s", r.Body)
	m := r.JSON(t)
	require.True(t, strings.HasPrefix(m["secret"].(string), "whsec_"))
	return m["id"].(string), m["secret"].(string)
}

func deliveries(t *testing.T, env *apitest.Env, key, endpointID string) []map[string]any {
	t.Helper()
	r := env.Do(t, http.MethodGet, "/v1/webhooks/"+endpointID+"/deliveries", key, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var out []map[string]any
	for _, d := range r.JSON(t)["data"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

// firstAttempted waits for endpointID's one delivery to have had its first
// attempt, and returns it.
func firstAttempted(t *testing.T, env *apitest.Env, key, endpointID string) map[string]any {
	t.Helper()
	var d map[string]any
	require.Eventually(t, func() bool {
		ds := deliveries(t, env, key, endpointID)
		if len(ds) == 1 && ds[0]["attempts"].(float64) == 1 {
			d = ds[0]
			return true
		}
		return false
	}, 20*time.Second, 50*time.Millisecond)
	return d
}

func verify(t *testing.T, secret string, rq received) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	return wh.Verify(rq.body, rq.header)
}

func TestWebhookDeliverySigned(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	ten := env.CreateTenant(t, "whk-signed")
	rcv := newReceiver(t, env, 0)
	id, secret := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"unit.*"},
		"description": "order system"})

	// The secret is shown once: never by get or list.
	r := env.Do(t, http.MethodGet, "/v1/webhooks/"+id, ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.NotContains(t, string(r.Body), "whsec_")
	require.Equal(t, `"v1"`, r.Header.Get("ETag"))
	r = env.Do(t, http.MethodGet, "/v1/webhooks", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.NotContains(t, string(r.Body), "whsec_")
	require.NotContains(t, env.Logs.String(), secret, "the secret is never logged")

	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"serial": "SN1"})
	emitEvent(t, env, ten.ID, "contract.activated", contractActivatedData()) // not subscribed
	got := rcv.waitRequests(t, 1)
	require.NoError(t, verify(t, secret, got[0]), "the official library verifies the signature")
	var payload struct {
		Type      string         `json:"type"`
		Timestamp time.Time      `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(got[0].body, &payload))
	require.Equal(t, "unit.registered", payload.Type)
	require.Equal(t, "SN1", payload.Data["serial"])
	require.True(t, strings.HasPrefix(got[0].header.Get("webhook-id"), "evt_"))
	require.Equal(t, "application/json", got[0].header.Get("Content-Type"))

	require.Eventually(t, func() bool {
		ds := deliveries(t, env, ten.AdminKey, id)
		return len(ds) == 1 && ds[0]["status"] == "delivered"
	}, 10*time.Second, 50*time.Millisecond)
	d := deliveries(t, env, ten.AdminKey, id)[0]
	require.Equal(t, float64(1), d["attempts"])
	require.Equal(t, float64(204), d["last_status_code"])
	require.Equal(t, "unit.registered", d["event_type"])
	require.Equal(t, got[0].header.Get("webhook-id"), d["event_id"])
	time.Sleep(1500 * time.Millisecond)
	require.Len(t, rcv.requests(), 1, "a delivered delivery is not sent again, and unsubscribed types are not sent")
	requireNoInternals(t, r)
}

func TestWebhookRetriesAndReplay(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Webhooks.SetPolicy(webhooks.Policy{RetrySchedule: []time.Duration{time.Second, time.Second, time.Second}})
	ten := env.CreateTenant(t, "whk-retry")
	rcv := newReceiver(t, env, 2) // 500, 500, then 204
	id, secret := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"*"}})

	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	// The first failure shows in the log as retrying, with the receiver's code and a next attempt.
	require.Eventually(t, func() bool {
		ds := deliveries(t, env, ten.AdminKey, id)
		return len(ds) == 1 && ds[0]["attempts"].(float64) >= 1
	}, 20*time.Second, 50*time.Millisecond)
	d := deliveries(t, env, ten.AdminKey, id)[0]
	if d["status"] == "retrying" {
		require.Equal(t, float64(500), d["last_status_code"])
		require.Equal(t, "the receiver answered 500", d["last_error"])
		require.NotEmpty(t, d["next_attempt_at"])
	}
	got := rcv.waitRequests(t, 3)
	for i := 1; i < 3; i++ {
		require.GreaterOrEqual(t, got[i].at.Sub(got[i-1].at), 900*time.Millisecond, "attempts back off")
		require.Equal(t, got[0].header.Get("webhook-id"), got[i].header.Get("webhook-id"), "a retry is the same message")
	}
	require.NoError(t, verify(t, secret, got[2]))
	require.Eventually(t, func() bool {
		ds := deliveries(t, env, ten.AdminKey, id)
		return ds[0]["status"] == "delivered"
	}, 10*time.Second, 50*time.Millisecond)
	d = deliveries(t, env, ten.AdminKey, id)[0]
	require.Equal(t, float64(3), d["attempts"])
	require.Nil(t, d["last_error"])
	r := env.Do(t, http.MethodGet, "/v1/webhooks/"+id, ten.AdminKey, nil)
	require.Equal(t, float64(0), r.JSON(t)["consecutive_failures"], "a success resets the failure count")

	// Replay sends it again as a new delivery with the same webhook-id.
	r = env.Do(t, http.MethodPost, "/v1/webhooks/"+id+"/deliveries/"+d["id"].(string)+"/replay", ten.AdminKey, nil)
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	replay := r.JSON(t)
	require.Equal(t, d["id"], replay["replay_of"])
	require.Equal(t, "pending", replay["status"])
	got = rcv.waitRequests(t, 4)
	require.Equal(t, got[0].header.Get("webhook-id"), got[3].header.Get("webhook-id"))
	require.NoError(t, verify(t, secret, got[3]))
	require.Eventually(t, func() bool {
		ds := deliveries(t, env, ten.AdminKey, id)
		return len(ds) == 2 && ds[0]["id"] == replay["id"] && ds[0]["status"] == "delivered"
	}, 10*time.Second, 50*time.Millisecond)

	r = env.Do(t, http.MethodPost, "/v1/webhooks/"+id+"/deliveries/dlv_00000000000000000000000000/replay", ten.AdminKey, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	r = env.Do(t, http.MethodGet, "/v1/webhooks/"+id+"/deliveries?status=bogus", ten.AdminKey, nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
}

func TestWebhookSecretRotation(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "whk-rotate")
	rcv := newReceiver(t, env, 0)
	id, oldSecret := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"swap.*"}})

	r := env.Do(t, http.MethodPost, "/v1/webhooks/"+id+"/rotate-secret", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m := r.JSON(t)
	newSecret := m["secret"].(string)
	require.NotEqual(t, oldSecret, newSecret)
	require.True(t, strings.HasPrefix(newSecret, "whsec_"))
	exp, err := time.Parse(time.RFC3339, m["previous_secret_expires_at"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), exp, time.Minute)
	require.Equal(t, float64(2), m["version"])

	emitEvent(t, env, ten.ID, "swap.approved", swapApprovedData())
	got := rcv.waitRequests(t, 1)
	require.Len(t, strings.Split(got[0].header.Get("webhook-signature"), " "), 2, "both secrets sign during the overlap")
	require.NoError(t, verify(t, oldSecret, got[0]), "receivers still on the old secret verify")
	require.NoError(t, verify(t, newSecret, got[0]), "receivers on the new secret verify")
	require.Error(t, verify(t, "whsec_"+strings.Repeat("A", 43)+"=", got[0]))

	// A second rotation retires the oldest secret at once.
	r = env.Do(t, http.MethodPost, "/v1/webhooks/"+id+"/rotate-secret", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status)
	third := r.JSON(t)["secret"].(string)
	emitEvent(t, env, ten.ID, "swap.fulfilled", map[string]any{"unit_id": "unt_x", "state": "fulfilled", "replacement_unit_id": "unt_y"})
	got = rcv.waitRequests(t, 2)
	require.Error(t, verify(t, oldSecret, got[1]))
	require.NoError(t, verify(t, newSecret, got[1]))
	require.NoError(t, verify(t, third, got[1]))

	r = env.Do(t, http.MethodPost, "/v1/webhooks/whk_00000000000000000000000000/rotate-secret", ten.AdminKey, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
}

func TestWebhookAutoDisable(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Webhooks.SetPolicy(webhooks.Policy{RetrySchedule: []time.Duration{time.Hour}, DisableAfter: 2})
	ten := env.CreateTenant(t, "whk-disable")
	rcv := newReceiver(t, env, -1)
	id, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"claim.*"}})
	watcher := newReceiver(t, env, 0)
	createEndpoint(t, env, ten.AdminKey, map[string]any{"url": watcher.url(), "event_types": []string{"webhook_endpoint.disabled"}})

	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	rcv.waitRequests(t, 2)
	require.Eventually(t, func() bool {
		r := env.Do(t, http.MethodGet, "/v1/webhooks/"+id, ten.AdminKey, nil)
		return r.JSON(t)["enabled"] == false
	}, 10*time.Second, 50*time.Millisecond)
	r := env.Do(t, http.MethodGet, "/v1/webhooks/"+id, ten.AdminKey, nil)
	m := r.JSON(t)
	require.Equal(t, "2 consecutive failed attempts", m["disabled_reason"])
	require.Equal(t, float64(2), m["consecutive_failures"])
	r = env.Do(t, http.MethodGet, "/v1/events?type=webhook_endpoint.disabled", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Contains(t, string(r.Body), id)
	// The endpoint watching for it is told, once, with the endpoint's ID
	// and the reason.
	watcher.waitRequests(t, 1)
	require.Len(t, watcher.requests(), 1)
	var told struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(watcher.requests()[0].body, &told))
	require.Equal(t, "webhook_endpoint.disabled", told.Type)
	require.Equal(t, "2 consecutive failed attempts", told.Data["reason"])
	require.Equal(t, id, told.Data["endpoint_id"])

	// A disabled endpoint receives nothing and cannot be replayed to.
	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	ds := deliveries(t, env, ten.AdminKey, id)
	r = env.Do(t, http.MethodPost, "/v1/webhooks/"+id+"/deliveries/"+ds[0]["id"].(string)+"/replay", ten.AdminKey, nil)
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	time.Sleep(1500 * time.Millisecond)
	require.Len(t, rcv.requests(), 2)

	// Re-enabling (If-Match) resets the failure count.
	r = env.Do(t, http.MethodPatch, "/v1/webhooks/"+id, ten.AdminKey, map[string]any{"enabled": true}, `If-Match: "v1"`)
	require.Equal(t, http.StatusPreconditionFailed, r.Status, "the auto-disable changed the version: %s", r.Body)
	g := env.Do(t, http.MethodGet, "/v1/webhooks/"+id, ten.AdminKey, nil)
	r = env.Do(t, http.MethodPatch, "/v1/webhooks/"+id, ten.AdminKey, map[string]any{"enabled": true}, "If-Match: "+g.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m = r.JSON(t)
	require.Equal(t, true, m["enabled"])
	require.Equal(t, float64(0), m["consecutive_failures"])
	require.Nil(t, m["disabled_reason"])
}

func TestWebhookURLRefused(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "whk-ssrf")
	for _, u := range []string{
		"http://hooks.example.com/x",               // not https
		"ftp://hooks.example.com/x",                // not https
		"hooks.example.com/x",                      // not absolute
		"https://user:pw@hooks.example.com/x",      // credentials
		"https://127.0.0.1/x",                      // loopback
		"https://localhost:8443/x",                 // resolves to loopback
		"https://[::1]/x",                          // loopback v6
		"https://10.1.2.3/x",                       // RFC 1918
		"https://172.16.0.9/x",                     // RFC 1918
		"https://192.168.1.1/x",                    // RFC 1918
		"https://[fd00::1]/x",                      // ULA
		"https://169.254.169.254/latest/meta-data", // metadata
		"https://[fe80::1]/x",                      // link-local
		"https://0.0.0.0/x",                        // unspecified
		"https://100.64.0.1/x",                     // CGNAT
		"https://100.100.100.200/x",                // Alibaba metadata
		"https://224.0.0.1/x",                      // multicast
		"https://[::ffff:127.0.0.1]/x",             // mapped loopback
		"https://[64:ff9b::a00:1]/x",               // NAT64 onto 10.0.0.1
	} {
		r := env.Do(t, http.MethodPost, "/v1/webhooks", ten.AdminKey, map[string]any{"url": u, "event_types": []string{"*"}})
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", u, r.Body)
		require.Contains(t, r.Header.Get("Content-Type"), "application/problem+json")
		require.Contains(t, string(r.Body), `"body.url"`, "%s", u)
	}
	rcv := newReceiver(t, env, 0)
	r := env.Do(t, http.MethodPost, "/v1/webhooks", ten.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"bad type!"}})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	require.Contains(t, string(r.Body), `"body.event_types[0]"`)
	require.Empty(t, listIDs(t, env, ten.AdminKey, "/v1/webhooks"), "nothing was created")

	// An update to a refused URL changes nothing.
	id, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"*"}})
	r = env.Do(t, http.MethodPatch, "/v1/webhooks/"+id, ten.AdminKey, map[string]any{"url": "https://169.254.169.254/"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Contains(t, string(r.Body), `"body.url"`)
	r = env.Do(t, http.MethodGet, "/v1/webhooks/"+id, ten.AdminKey, nil)
	require.Equal(t, rcv.url(), r.JSON(t)["url"])
	require.Equal(t, float64(1), r.JSON(t)["version"])
}

// A name allowed at registration that dials a loopback address (as a DNS
// rebinding would) is refused at dial time.
func TestWebhookDialTimeRefusal(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "whk-dial")
	hits := 0
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	host := "localhost:" + strconv.Itoa(port)
	env.Webhooks.AllowHost(host) // the name passes registration; 127.0.0.1:port is not allowed
	id, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": "http://" + host + "/x", "event_types": []string{"*"}})
	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	require.Eventually(t, func() bool {
		ds := deliveries(t, env, ten.AdminKey, id)
		return len(ds) == 1 && ds[0]["attempts"].(float64) >= 1
	}, 20*time.Second, 50*time.Millisecond)
	d := deliveries(t, env, ten.AdminKey, id)[0]
	require.Equal(t, "the endpoint's address is not public: refused", d["last_error"])
	mu.Lock()
	defer mu.Unlock()
	require.Zero(t, hits)
}

func TestWebhookStorefrontScope(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "whk-sfr")
	sfA, sfB := env.Storefront(t, ten.AdminKey, "WHK-A"), env.Storefront(t, ten.AdminKey, "WHK-B")
	keyA, keyB := env.StorefrontKey(t, ten.AdminKey, sfA), env.StorefrontKey(t, ten.AdminKey, sfB)
	rA, rB, rT, rBound := newReceiver(t, env, 0), newReceiver(t, env, 0), newReceiver(t, env, 0), newReceiver(t, env, 0)

	r := env.Do(t, http.MethodPost, "/v1/webhooks", keyA, map[string]any{"url": rA.url(), "event_types": []string{"unit.*"}, "storefront_id": sfB})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "a storefront key binds only its own storefront: %s", r.Body)
	require.Contains(t, string(r.Body), `"body.storefront_id"`)
	epA, _ := createEndpoint(t, env, keyA, map[string]any{"url": rA.url(), "event_types": []string{"unit.*"}})
	epB, _ := createEndpoint(t, env, keyB, map[string]any{"url": rB.url(), "event_types": []string{"unit.*"}})
	epT, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rT.url(), "event_types": []string{"unit.*"}})
	epBound, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rBound.url(), "event_types": []string{"unit.*"}, "storefront_id": sfA})
	r = env.Do(t, http.MethodPost, "/v1/webhooks", ten.AdminKey, map[string]any{"url": rT.url(), "event_types": []string{"*"}, "storefront_id": "sfr_00000000000000000000000000"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Contains(t, string(r.Body), `"body.storefront_id"`)

	r = env.Do(t, http.MethodGet, "/v1/webhooks/"+epA, keyA, nil)
	require.Equal(t, sfA, r.JSON(t)["storefront_id"])
	require.ElementsMatch(t, []string{epA, epBound}, listIDs(t, env, keyA, "/v1/webhooks"), "a storefront key sees its storefront's endpoints")
	require.ElementsMatch(t, []string{epB}, listIDs(t, env, keyB, "/v1/webhooks"))
	require.ElementsMatch(t, []string{epA, epB, epT, epBound}, listIDs(t, env, ten.AdminKey, "/v1/webhooks"))
	for _, req := range [][2]string{
		{http.MethodGet, "/v1/webhooks/" + epB},
		{http.MethodPatch, "/v1/webhooks/" + epB},
		{http.MethodPost, "/v1/webhooks/" + epB + "/rotate-secret"},
		{http.MethodGet, "/v1/webhooks/" + epB + "/deliveries"},
		{http.MethodGet, "/v1/webhooks/" + epT},
	} {
		var body any
		if req[0] == http.MethodPatch {
			body = map[string]any{"description": "mine now"}
		}
		r := env.Do(t, req[0], req[1], keyA, body)
		require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", req[0], req[1], r.Body)
	}

	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"storefront_id": sfB, "serial": "B1"})
	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"storefront_id": sfA, "serial": "A1"})
	emitEvent(t, env, ten.ID, "unit.registered", map[string]any{"serial": "BRAND1"})
	rT.waitRequests(t, 3)
	rA.waitRequests(t, 1)
	rB.waitRequests(t, 1)
	rBound.waitRequests(t, 1)
	time.Sleep(1500 * time.Millisecond)
	require.Equal(t, []string{"A1"}, rA.serials(t), "storefront A receives none of B's events")
	require.Equal(t, []string{"B1"}, rB.serials(t))
	require.Equal(t, []string{"A1"}, rBound.serials(t))
	require.ElementsMatch(t, []string{"B1", "A1", "BRAND1"}, rT.serials(t), "a tenant endpoint receives every matching event")
	ds := deliveries(t, env, keyA, epA)
	require.Len(t, ds, 1)
	r = env.Do(t, http.MethodPost, "/v1/webhooks/"+epB+"/deliveries/"+ds[0]["id"].(string)+"/replay", keyA, nil)
	require.Equal(t, http.StatusNotFound, r.Status)
	r = env.Do(t, http.MethodPost, "/v1/webhooks/"+epA+"/deliveries/"+deliveries(t, env, keyB, epB)[0]["id"].(string)+"/replay", keyA, nil)
	require.Equal(t, http.StatusNotFound, r.Status, "another endpoint's delivery is not found")
}

func TestWebhookCrossTenant(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	a, b := env.CreateTenant(t, "whk-a"), env.CreateTenant(t, "whk-b")
	rcvA := newReceiver(t, env, 0)
	createEndpoint(t, env, a.AdminKey, map[string]any{"url": rcvA.url(), "event_types": []string{"unit.*"}})
	objs := crossTenantWebhooks(t, env, b)
	epB, dlv := objs["webhook_id"], objs["delivery_id"]

	for _, req := range [][2]string{
		{http.MethodGet, "/v1/webhooks/" + epB},
		{http.MethodPatch, "/v1/webhooks/" + epB},
		{http.MethodPost, "/v1/webhooks/" + epB + "/rotate-secret"},
		{http.MethodGet, "/v1/webhooks/" + epB + "/deliveries"},
		{http.MethodPost, "/v1/webhooks/" + epB + "/deliveries/" + dlv + "/replay"},
	} {
		var body any
		if req[0] == http.MethodPatch {
			body = map[string]any{"enabled": false}
		}
		r := env.Do(t, req[0], req[1], a.AdminKey, body)
		require.Equal(t, http.StatusNotFound, r.Status, "%s %s: %s", req[0], req[1], r.Body)
	}
	require.NotContains(t, listIDs(t, env, a.AdminKey, "/v1/webhooks"), epB)
	time.Sleep(1500 * time.Millisecond)
	require.Empty(t, rcvA.requests(), "tenant A's endpoint receives nothing of B's")
	r := env.Do(t, http.MethodGet, "/v1/webhooks/"+epB, b.AdminKey, nil)
	require.Equal(t, true, r.JSON(t)["enabled"], "A changed nothing")
	require.Equal(t, float64(1), r.JSON(t)["version"])
}

// crossTenantWebhooks creates, in tenant b, a webhook endpoint with one
// delivery and returns their IDs by path parameter, for the cross-tenant
// walk (TestCrossTenantIsolation merges them into its bObjects).
func crossTenantWebhooks(t *testing.T, env *apitest.Env, b apitest.Tenant) map[string]string {
	t.Helper()
	return crossTenantWebhooksIn(context.Background(), t, env, b.ID, b.AdminKey)
}

// crossTenantWebhooksIn is crossTenantWebhooks for key, an admin key of
// tenantID in ctx's mode.
func crossTenantWebhooksIn(ctx context.Context, t *testing.T, env *apitest.Env, tenantID, key string) map[string]string {
	t.Helper()
	rcv := newReceiver(t, env, 0)
	ep, _ := createEndpoint(t, env, key, map[string]any{"url": rcv.url(), "event_types": []string{"unit.*"},
		"description": "b-private-webhook"})
	emitEventIn(ctx, t, env, tenantID, "unit.registered", map[string]any{"serial": "B-WHK"})
	var ds []map[string]any
	require.Eventually(t, func() bool { ds = deliveries(t, env, key, ep); return len(ds) == 1 }, 20*time.Second, 50*time.Millisecond)
	return map[string]string{"webhook_id": ep, "delivery_id": ds[0]["id"].(string)}
}

// End to end through a real operation: units registered with storefront
// keys reach their own storefront's endpoint only, signed.
func TestWebhookStorefrontUnits(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "whk-units")
	washer := createModel(t, env, ten.ID, "XQG100-WHK", "washer")
	sfA, sfB := env.Storefront(t, ten.AdminKey, "WU-A"), env.Storefront(t, ten.AdminKey, "WU-B")
	keyA, keyB := env.StorefrontKey(t, ten.AdminKey, sfA), env.StorefrontKey(t, ten.AdminKey, sfB)
	rA, rB := newReceiver(t, env, 0), newReceiver(t, env, 0)
	_, secretA := createEndpoint(t, env, keyA, map[string]any{"url": rA.url(), "event_types": []string{"unit.registered"}})
	_, secretB := createEndpoint(t, env, keyB, map[string]any{"url": rB.url(), "event_types": []string{"unit.*"}})

	registerUnit(t, env, keyB, unitBody(washer, "WHK-B-1", "channel", nil))
	registerUnit(t, env, keyA, unitBody(washer, "WHK-A-1", "channel", nil, "customer",
		map[string]any{"name": "张三", "phones": []string{"+86 186 0000 0002"}}))
	registerUnit(t, env, ten.AdminKey, unitBody(washer, "WHK-BRAND-1", "customer",
		map[string]any{"name": "李四", "phones": []string{"+86 186 0000 0003"}}))
	gotA, gotB := rA.waitRequests(t, 1), rB.waitRequests(t, 1)
	time.Sleep(1500 * time.Millisecond)
	require.Len(t, rA.requests(), 1, "storefront A receives none of B's or the brand's units")
	require.Len(t, rB.requests(), 1)
	require.NoError(t, verify(t, secretA, gotA[0]))
	require.NoError(t, verify(t, secretB, gotB[0]))
	require.Error(t, verify(t, secretB, gotA[0]))
	require.Contains(t, string(gotA[0].body), "WHK-A-1")
	require.Contains(t, string(gotB[0].body), "WHK-B-1")
}

// An idempotent retry of create or rotate answers the stored response
// without the secret (shown once).
func TestWebhookSecretNotReplayed(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "whk-idem")
	rcv := newReceiver(t, env, 0)
	body := map[string]any{"url": rcv.url(), "event_types": []string{"*"}}
	first := env.Do(t, http.MethodPost, "/v1/webhooks", ten.AdminKey, body, "Idempotency-Key: whk-create-1")
	require.Equal(t, http.StatusCreated, first.Status)
	require.Contains(t, string(first.Body), "whsec_")
	again := env.Do(t, http.MethodPost, "/v1/webhooks", ten.AdminKey, body, "Idempotency-Key: whk-create-1")
	require.Equal(t, http.StatusCreated, again.Status)
	require.Equal(t, first.JSON(t)["id"], again.JSON(t)["id"], "the retry created nothing")
	require.Len(t, listIDs(t, env, ten.AdminKey, "/v1/webhooks"), 1)
	require.NotContains(t, string(again.Body), "whsec_", "a replay never shows the secret")
	id := first.JSON(t)["id"].(string)
	rot := env.Do(t, http.MethodPost, "/v1/webhooks/"+id+"/rotate-secret", ten.AdminKey, nil, "Idempotency-Key: whk-rotate-1")
	require.Equal(t, http.StatusOK, rot.Status)
	require.Contains(t, string(rot.Body), "whsec_")
	rot = env.Do(t, http.MethodPost, "/v1/webhooks/"+id+"/rotate-secret", ten.AdminKey, nil, "Idempotency-Key: whk-rotate-1")
	require.Equal(t, http.StatusOK, rot.Status)
	require.NotContains(t, string(rot.Body), "whsec_")
}

// TestWebhookDisablingFailsPendingDeliveries: an endpoint disabled, by its
// owner or by its failures, stops its deliveries at once: those pending or
// retrying show as failed (no next attempt), and re-enabling the endpoint
// does not send them later (a replay does).
func TestWebhookDisablingFailsPendingDeliveries(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Webhooks.SetPolicy(webhooks.Policy{RetrySchedule: []time.Duration{time.Hour}, DisableAfter: 2})
	ten := env.CreateTenant(t, "whk-disable-pending")
	auto := newReceiver(t, env, -1)
	autoID, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": auto.url(), "event_types": []string{"claim.*"}})
	manual := newReceiver(t, env, -1)
	manualID, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": manual.url(), "event_types": []string{"swap.*"}})

	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	emitEvent(t, env, ten.ID, "claim.submitted", claimSubmittedData())
	emitEvent(t, env, ten.ID, "swap.approved", swapApprovedData())
	auto.waitRequests(t, 2)
	manual.waitRequests(t, 1)
	require.Eventually(t, func() bool {
		ds := deliveries(t, env, ten.AdminKey, manualID)
		return len(ds) == 1 && ds[0]["status"] == "retrying"
	}, 10*time.Second, 50*time.Millisecond)
	g := env.Do(t, http.MethodGet, "/v1/webhooks/"+manualID, ten.AdminKey, nil)
	r := env.Do(t, http.MethodPatch, "/v1/webhooks/"+manualID, ten.AdminKey, map[string]any{"enabled": false}, "If-Match: "+g.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Eventually(t, func() bool {
		return env.Do(t, http.MethodGet, "/v1/webhooks/"+autoID, ten.AdminKey, nil).JSON(t)["enabled"] == false
	}, 10*time.Second, 50*time.Millisecond)

	for _, id := range []string{autoID, manualID} {
		ds := deliveries(t, env, ten.AdminKey, id)
		require.NotEmpty(t, ds)
		for _, d := range ds {
			require.Equal(t, "failed", d["status"], "%s: %v", id, d)
			require.Nil(t, d["next_attempt_at"], "%s: %v", id, d)
		}
		r := env.Do(t, http.MethodGet, "/v1/webhooks/"+id+"/deliveries?status=retrying", ten.AdminKey, nil)
		require.Empty(t, r.JSON(t)["data"], "%s", r.Body)
		g := env.Do(t, http.MethodGet, "/v1/webhooks/"+id, ten.AdminKey, nil)
		r = env.Do(t, http.MethodPatch, "/v1/webhooks/"+id, ten.AdminKey, map[string]any{"enabled": true}, "If-Match: "+g.Header.Get("ETag"))
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		for _, d := range deliveries(t, env, ten.AdminKey, id) {
			require.Equal(t, "failed", d["status"], "re-enabling does not revive %v", d)
		}
	}
}

// TestWebhookNoOpPatchKeepsTheETag: a PATCH of a webhook endpoint or of the
// notification gateway with the values they have changes nothing: 200 with
// the resource as it is, the same ETag and updated_at, no *.updated event,
// so another client's If-Match still holds.
func TestWebhookNoOpPatchKeepsTheETag(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "whk-noop-patch")
	rcv := newReceiver(t, env, 0)
	id, _ := createEndpoint(t, env, ten.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"claim.*"},
		"description": "Order system"})
	r := env.Do(t, http.MethodPost, "/v1/notification-gateways", ten.AdminKey, map[string]any{"url": "https://8.8.8.8/sms",
		"description": "短信网关"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	gw := r.JSON(t)["id"].(string)

	updated := func(typ string) int {
		r := env.Do(t, http.MethodGet, "/v1/events?limit=200&type="+typ, ten.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return len(r.JSON(t)["data"].([]any))
	}
	for _, c := range []struct {
		path, event string
		same        map[string]any
		change      map[string]any
	}{
		{"/v1/webhooks/" + id, "webhook_endpoint.updated",
			map[string]any{"url": rcv.url(), "event_types": []string{"claim.*"}, "description": "Order system", "enabled": true},
			map[string]any{"description": "Order system v2"}},
		{"/v1/notification-gateways/" + gw, "notification_gateway.updated",
			map[string]any{"url": "https://8.8.8.8/sms", "description": "短信网关", "enabled": true},
			map[string]any{"description": "备用短信网关"}},
	} {
		t.Run(c.event, func(t *testing.T) {
			g := env.Do(t, http.MethodGet, c.path, ten.AdminKey, nil)
			require.Equal(t, http.StatusOK, g.Status, "%s", g.Body)
			tag := g.Header.Get("ETag")
			require.Equal(t, `"v1"`, tag)
			for range 2 {
				r := env.Do(t, http.MethodPatch, c.path, ten.AdminKey, c.same, "If-Match: "+tag)
				require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
				require.Equal(t, tag, r.Header.Get("ETag"), "%s: nothing changed (failed before: \"v2\")", c.path)
				require.JSONEq(t, string(g.Body), string(r.Body), "%s answers as it is", c.path)
			}
			require.Zero(t, updated(c.event), c.path)
			// Another client that read the same ETag changes it.
			r := env.Do(t, http.MethodPatch, c.path, ten.AdminKey, c.change, "If-Match: "+tag)
			require.Equal(t, http.StatusOK, r.Status, "%s: %s", c.path, r.Body)
			require.Equal(t, `"v2"`, r.Header.Get("ETag"))
			require.Equal(t, 1, updated(c.event), c.path)
		})
	}
}

// The data of the synthetic events the webhook tests emit, as the event
// catalog gives their types (the test environment checks every event
// against it).
func claimSubmittedData() map[string]any {
	return map[string]any{"claim_id": "clm_x", "kind": "extended_warranty", "unit_id": "unt_x", "version": 1, "to_state": "submitted"}
}

func swapApprovedData() map[string]any {
	return map[string]any{"unit_id": "unt_x", "state": "approved"}
}

func contractActivatedData() map[string]any {
	return map[string]any{"unit_id": "unt_x", "plan_id": "pln_x", "state": "active"}
}
