package api_test

import (
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

func init() {
	for _, op := range []string{"createNotificationGateway", "listNotificationGateways", "getNotificationGateway",
		"updateNotificationGateway", "listNotificationTemplates", "setNotificationTemplate"} {
		wantMatrix[op] = []string{"integrator", "tenant_admin"}
	}
	dummyParams["gateway_id"] = "ngw_00000000000000000000000000"
	dummyParams["purpose"] = "ticket_received"
	dummyParams["language"] = "zh-CN"
}

// smsGateway is a local HTTPS test gateway: it records every request and
// answers 503 to the first fail of them, and to every request to /down.
type smsGateway struct {
	srv  *httptest.Server
	fail int
	mu   sync.Mutex
	got  []received
}

func newSMSGateway(t *testing.T, env *apitest.Env, fail int) *smsGateway {
	t.Helper()
	g := &smsGateway{fail: fail}
	g.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		g.mu.Lock()
		g.got = append(g.got, received{header: req.Header.Clone(), body: body, at: time.Now()})
		n := len(g.got)
		g.mu.Unlock()
		if n <= g.fail || strings.HasPrefix(req.URL.Path, "/down") {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(g.srv.Close)
	// Test-only: the loopback test server is allowed and its certificate
	// trusted; production refuses loopback and private addresses.
	env.Notifications.AllowHost(g.srv.Listener.Addr().String())
	pool := x509.NewCertPool()
	pool.AddCert(g.srv.Certificate())
	env.Notifications.TrustRoots(pool)
	env.Notifications.SetRetrySchedule([]time.Duration{200 * time.Millisecond, 200 * time.Millisecond})
	return g
}

func (g *smsGateway) wait(t *testing.T, n int) []received {
	t.Helper()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.got) >= n
	}, 30*time.Second, 50*time.Millisecond, "the gateway got fewer than %d requests", n)
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]received(nil), g.got...)
}

// verifySigned checks a request's Standard Webhooks signature with secret
// and returns its data.
func verifySigned(t *testing.T, secret string, r received) map[string]any {
	t.Helper()
	want, err := webhooks.Sign(secret, r.header.Get("webhook-id"), time.Unix(mustInt(t, r.header.Get("webhook-timestamp")), 0), r.body)
	require.NoError(t, err)
	require.Contains(t, strings.Fields(r.header.Get("webhook-signature")), want, "the signature verifies with the gateway's secret")
	var p struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.body, &p))
	require.Equal(t, "notification.requested", p.Type)
	return p.Data
}

// repairedTicket takes a fresh out-of-warranty washer repair to completed
// and returns its id and the technician's key.
func repairedTicket(t *testing.T, env *apitest.Env, clock *testClock, d apitest.DemoBrand, agent, serial string, start time.Time) (string, string) {
	t.Helper()
	id, _ := openReady(t, env, d, agent, serial, 1200, start)
	tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	tech := visit(t, env, clock, d.AdminKey, id, tk, start)
	ticketAct(t, env, tech, id, "diagnose", map[string]any{"diagnosis": map[string]any{"cause": "performance", "repairable": true},
		"work": map[string]any{"service_kind": "repair"}, "price_list_shown": true}, http.StatusOK)
	ticketAct(t, env, tech, id, "complete", map[string]any{"test_run": map[string]any{"passed": true}}, http.StatusOK)
	return id, tech
}

func TestSignoffCodeReachesCustomer(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	clock := &testClock{}
	env.Tickets.Now = clock.Now
	d := env.DemoBrand(t, "notify-signoff")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	start := apitest.WeekdayMorning(time.Now(), 2)
	gw := newSMSGateway(t, env, 1) // the first attempt fails: the job retries

	t.Run("BadGatewayURLsAreRefused", func(t *testing.T) {
		for _, u := range []string{"http://sms.example.com/send", "https://127.0.0.1/send", "https://10.1.2.3/send",
			"https://169.254.169.254/latest", "https://localhost/send", "ftp://sms.example.com"} {
			r := env.Do(t, http.MethodPost, "/v1/notification-gateways", d.AdminKey, map[string]any{"url": u})
			assert.Equal(t, []string{"body.url"}, problemLocations(t, r, http.StatusUnprocessableEntity), u)
		}
		r := env.Do(t, http.MethodGet, "/v1/notification-gateways", d.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Empty(t, r.JSON(t)["data"], "nothing was registered")
	})

	t.Run("WithoutGatewayTheTenantDeliversFromTheSignedEvent", func(t *testing.T) {
		rcv := newReceiver(t, env, 0)
		_, secret := createEndpoint(t, env, d.AdminKey, map[string]any{"url": rcv.url(), "event_types": []string{"notification.*"}})
		id, tech := repairedTicket(t, env, clock, d, agent, "NTF-0001", start)
		tk := ticketAct(t, env, tech, id, "sign-off/code", nil, http.StatusOK)
		del := tk["signoff"].(map[string]any)["delivery"].(map[string]any)
		assert.Equal(t, "event", del["via"])
		assert.Equal(t, "requested", del["status"])

		// The ticket's earlier messages (received, assigned, completed ...)
		// come first: the code is in the sign-off code's.
		var p struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		var signoff received
		require.Eventually(t, func() bool {
			for _, r := range rcv.requests() {
				require.NoError(t, json.Unmarshal(r.body, &p))
				if p.Data["purpose"] == "signoff_code" {
					signoff = r
					return true
				}
			}
			return false
		}, 30*time.Second, 50*time.Millisecond)
		require.Equal(t, "notification.requested", p.Type)
		sig, err := webhooks.Sign(secret, signoff.header.Get("webhook-id"), time.Unix(mustInt(t, signoff.header.Get("webhook-timestamp")), 0), signoff.body)
		require.NoError(t, err)
		require.Contains(t, signoff.header.Get("webhook-signature"), sig)
		code := p.Data["secret_params"].(map[string]any)["code"].(string)
		assert.Regexp(t, `^\d{6}$`, code)
		assert.Contains(t, p.Data["text"], code)
		assert.NotContains(t, p.Data["to"], "*", "the tenant gets the full number")
		assert.Contains(t, strings.ReplaceAll(p.Data["to"].(string), " ", ""), "138")

		// The feed, readable by integrators and auditors, never carries it.
		r := env.Do(t, http.MethodGet, "/v1/events?limit=200&type=notification.*", d.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		assert.NotContains(t, string(r.Body), code)
		assert.Contains(t, string(r.Body), "notification.requested")
		notLogged(t, env, code)
		assert.Contains(t, env.Logs.String(), "no gateway configured")

		tk = ticketAct(t, env, tech, id, "sign-off", map[string]any{"code": code, "rating": 5}, http.StatusOK)
		assert.Equal(t, true, tk["signoff"].(map[string]any)["confirmed_by_code"])
	})

	t.Run("GatewayDeliversTheCodeSignedAndItConfirmsTheSignOff", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/notification-gateways", d.AdminKey, map[string]any{"url": gw.srv.URL + "/sms", "description": "test gateway"},
			"Idempotency-Key: ngw-1")
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		g := r.JSON(t)
		secret := g["secret"].(string)
		require.True(t, strings.HasPrefix(secret, "whsec_"))
		r = env.Do(t, http.MethodGet, "/v1/notification-gateways/"+g["id"].(string), d.AdminKey, nil)
		require.Equal(t, http.StatusOK, r.Status)
		assert.NotContains(t, string(r.Body), secret, "the secret is shown once")
		r = env.Do(t, http.MethodPost, "/v1/notification-gateways", d.AdminKey, map[string]any{"url": gw.srv.URL + "/sms"})
		require.Equal(t, http.StatusConflict, r.Status, "one gateway per channel: %s", r.Body)

		optedOut(t, env, d.AdminKey, "+86 138 0002 0000") // only the code is sent: this test counts requests
		id, tech := repairedTicket(t, env, clock, d, agent, "NTF-0002", start)
		tk := ticketAct(t, env, tech, id, "sign-off/code", nil, http.StatusOK)
		del := tk["signoff"].(map[string]any)["delivery"].(map[string]any)
		assert.Equal(t, "gateway", del["via"])
		assert.Equal(t, "queued", del["status"])

		got := gw.wait(t, 2)
		data := verifySigned(t, secret, got[1])
		assert.Equal(t, got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"), "a retry has the same id")
		assert.Equal(t, id, data["subject_id"])
		assert.Equal(t, "signoff_code", data["purpose"])
		code := data["params"].(map[string]any)["code"].(string)
		assert.Regexp(t, `^\d{6}$`, code)
		assert.Contains(t, data["text"], code)
		assert.Contains(t, data["text"], tk["number"])

		require.Eventually(t, func() bool {
			r := env.Do(t, http.MethodGet, "/v1/tickets/"+id, tech, nil)
			del = r.JSON(t)["signoff"].(map[string]any)["delivery"].(map[string]any)
			return del["status"] == "sent"
		}, 10*time.Second, 50*time.Millisecond, "delivery status on the ticket: %v", del)
		assert.EqualValues(t, 2, del["attempts"])
		notLogged(t, env, code)
		r = env.Do(t, http.MethodGet, "/v1/events?limit=200&type=notification.*", d.AdminKey, nil)
		assert.NotContains(t, string(r.Body), code)
		assert.Contains(t, string(r.Body), "notification.sent")

		tk = ticketAct(t, env, tech, id, "sign-off", map[string]any{"code": code, "rating": 5}, http.StatusOK)
		assert.Equal(t, true, tk["signoff"].(map[string]any)["confirmed_by_code"], "code-confirmed")
	})

	t.Run("AGatewayThatNeverAnswersFailsTheDelivery", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/notification-gateways", d.AdminKey, nil)
		gid := r.JSON(t)["data"].([]any)[0].(map[string]any)["id"].(string)
		before := len(gw.wait(t, 0))
		r = env.Do(t, http.MethodPatch, "/v1/notification-gateways/"+gid, d.AdminKey, map[string]any{"url": gw.srv.URL + "/down"},
			env.IfMatch(t, "/v1/notification-gateways/"+gid, d.AdminKey)...)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodPatch, "/v1/notification-gateways/"+gid, d.AdminKey, map[string]any{"url": "https://192.168.1.10/x"})
		assert.Equal(t, []string{"body.url"}, problemLocations(t, r, http.StatusUnprocessableEntity))

		optedOut(t, env, d.AdminKey, "+86 138 0003 0000") // only the code is sent: this test counts requests
		id, tech := repairedTicket(t, env, clock, d, agent, "NTF-0003", start)
		ticketAct(t, env, tech, id, "sign-off/code", nil, http.StatusOK)
		var del map[string]any
		require.Eventually(t, func() bool {
			r := env.Do(t, http.MethodGet, "/v1/tickets/"+id, tech, nil)
			del = r.JSON(t)["signoff"].(map[string]any)["delivery"].(map[string]any)
			return del["status"] == "failed"
		}, 20*time.Second, 100*time.Millisecond, "delivery status on the ticket: %v", del)
		assert.EqualValues(t, 3, del["attempts"], "three attempts (two retries)")
		assert.Equal(t, "the gateway answered 503", del["last_error"])
		assert.Len(t, gw.wait(t, before+3), before+3)
	})
}

// notLogged asserts that the six-digit code is nowhere in the server's log
// as a number of its own. The log is full of digits (nanosecond timestamps,
// durations): a plain substring search finds a given six digits inside them
// about once in a few hundred runs, as CI did once.
func notLogged(t *testing.T, env *apitest.Env, code string) {
	t.Helper()
	assert.NotRegexp(t, `(^|\D)`+regexp.QuoteMeta(code)+`(\D|$)`, env.Logs.String(), "the code is never logged")
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, json.Unmarshal([]byte(s), &n))
	return n
}

// optedOut creates a customer with phone who declined non-essential
// messages: the tickets opened with that phone send only the sign-off code.
func optedOut(t *testing.T, env *apitest.Env, key, phone string) {
	t.Helper()
	c := createCustomer(t, env, key, map[string]any{"name": "只收签收码", "phones": []string{phone}}, http.StatusCreated)
	r := env.Do(t, http.MethodPatch, "/v1/customers/"+c["id"].(string), key, map[string]any{"notifications_opt_out": true})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
}
