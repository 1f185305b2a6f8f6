package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/api"
	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

func init() {
	readers := []string{"tenant_admin", "dispatcher", "agent", "node_manager", "auditor"}
	for _, op := range []string{"getSLAPolicy", "listSLABreaches", "listReconciliationFindings"} {
		wantMatrix[op] = readers
	}
	for _, op := range []string{"setSLAPolicy", "runReconciliation"} {
		wantMatrix[op] = []string{"tenant_admin"}
	}
}

// slaPolicyBody is the defaults with changes.
func slaPolicyBody(changes map[string]any) map[string]any {
	d := tickets.DefaultSLAPolicy
	m := map[string]any{"route_minutes": d.RouteMinutes, "first_contact_minutes": d.FirstContactMinutes,
		"response_minutes": d.ResponseMinutes, "completion_minutes": d.CompletionMinutes, "callback_minutes": d.CallbackMinutes,
		"guidance_callback_minutes": d.GuidanceCallbackMinutes, "observe_callback_minutes": d.ObserveCallbackMinutes,
		"uncertain_callback_minutes": d.UncertainCallbackMinutes, "escalation_minutes": d.EscalationMinutes,
		"unreachable_close_after": d.UnreachableCloseAfter}
	for k, v := range changes {
		m[k] = v
	}
	return m
}

func TestSLAPolicyAPI(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "sla-policy-api")
	dispatcher, _ := env.Key(t, ten.AdminKey, "dispatcher")

	r := env.Do(t, http.MethodGet, "/v1/sla-policy", dispatcher, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"v0"`, r.Header.Get("ETag"))
	m := r.JSON(t)
	require.Equal(t, float64(0), m["version"])
	require.Equal(t, float64(5), m["route_minutes"])
	require.Equal(t, float64(4320), m["callback_minutes"])
	require.Equal(t, float64(60), m["escalation_minutes"])
	require.Equal(t, float64(60), m["on_site_repair_minutes"], "seed 002: a general fault repaired within an hour of the check-in")

	r = env.Do(t, http.MethodPut, "/v1/sla-policy", dispatcher, slaPolicyBody(nil))
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)

	r = env.Do(t, http.MethodPut, "/v1/sla-policy", ten.AdminKey, slaPolicyBody(map[string]any{"route_minutes": 10}), `If-Match: "v0"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"v1"`, r.Header.Get("ETag"))
	require.Equal(t, float64(10), r.JSON(t)["route_minutes"])

	t.Run("StaleIfMatchIs412", func(t *testing.T) {
		r := env.Do(t, http.MethodPut, "/v1/sla-policy", ten.AdminKey, slaPolicyBody(nil), `If-Match: "v0"`)
		requireProblem(t, r, http.StatusPreconditionFailed, "precondition_failed", "")
		r = env.Do(t, http.MethodPut, "/v1/sla-policy", ten.AdminKey, slaPolicyBody(nil), `If-Match: "v7"`)
		requireProblem(t, r, http.StatusPreconditionFailed, "precondition_failed", "")
	})

	t.Run("IfMatchIsRequired", func(t *testing.T) {
		r := env.Do(t, http.MethodPut, "/v1/sla-policy", ten.AdminKey, slaPolicyBody(nil))
		requireProblem(t, r, http.StatusPreconditionRequired, "precondition_required", "header.If-Match")
	})

	t.Run("OutOfRangeNamesTheField", func(t *testing.T) {
		r := env.Do(t, http.MethodPut, "/v1/sla-policy", ten.AdminKey, slaPolicyBody(map[string]any{"escalation_minutes": 0}), `If-Match: "v1"`)
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.escalation_minutes")
		r = env.Do(t, http.MethodPut, "/v1/sla-policy", ten.AdminKey, slaPolicyBody(map[string]any{"response_minutes": 43201}), `If-Match: "v1"`)
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.response_minutes")
		r = env.Do(t, http.MethodPut, "/v1/sla-policy", ten.AdminKey, slaPolicyBody(map[string]any{"on_site_repair_minutes": 1441}), `If-Match: "v1"`)
		requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.on_site_repair_minutes")
	})

	r = env.Do(t, http.MethodPut, "/v1/sla-policy", ten.AdminKey, slaPolicyBody(map[string]any{"route_minutes": 10, "callback_minutes": 60,
		"on_site_repair_minutes": 90}), `If-Match: "v1"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, `"v2"`, r.Header.Get("ETag"))
	r = env.Do(t, http.MethodGet, "/v1/sla-policy", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m = r.JSON(t)
	require.Equal(t, float64(2), m["version"])
	require.Equal(t, float64(10), m["route_minutes"])
	require.Equal(t, float64(60), m["callback_minutes"])
	require.Equal(t, float64(90), m["on_site_repair_minutes"])
	require.NotEmpty(t, m["updated_at"])
}

// insertTicket writes a ticket row directly (the ticket core's intake is
// not this file's subject).
func insertTicket(t *testing.T, env *apitest.Env, tenantID, state, nodeID string, cols map[string]any) string {
	t.Helper()
	ctx := context.Background()
	id := tenants.NewID(tenants.PrefixTicket)
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, tenantID, func(tx pg.TenantTx) error {
		customer := tenants.NewID(tenants.PrefixCustomer)
		if _, err := tx.Exec(ctx, `INSERT INTO customers (tenant_id, id, name, phones) VALUES ($1, $2, '李四', ARRAY['+8613900000000'])`,
			tx.TenantID, customer); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id, contact, address, fault, created_by, node_id)
			VALUES ($1, $2, 'SN-' || $2, 'hotline', 'repair', $3, $4, '{}', '{}', '{}', 'test', $5)`,
			tx.TenantID, id, state, customer, nodeID); err != nil {
			return err
		}
		for col, v := range cols {
			if _, err := tx.Exec(ctx, `UPDATE tickets SET `+col+` = $3 WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, v); err != nil {
				return err
			}
		}
		return nil
	}))
	return id
}

func TestReconciliationAPI(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "reconcile-api")
	n := env.CreateNetwork(t, ten.AdminKey, "RC")
	sh, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	now := time.Now().In(sh)
	noon := func(days int) time.Time {
		return time.Date(now.Year(), now.Month(), now.Day()+days, 12, 0, 0, 0, sh)
	}
	yesterday, tomorrow := noon(-1).Format(time.DateOnly), noon(1).Format(time.DateOnly)
	atPoint := insertTicket(t, env, ten.ID, "completed", n.Point, map[string]any{"completed_at": noon(-1)})
	atRoot := insertTicket(t, env, ten.ID, "completed", n.Root, map[string]any{"completed_at": noon(-1), "rating": 5,
		"signed_off_at": noon(-1).Add(time.Minute)})
	insertTicket(t, env, ten.ID, "completed", n.Root, map[string]any{"completed_at": noon(-1), "rating": 5,
		"signed_off_at": noon(-1).Add(time.Minute), "signed_by_code": true})

	dispatcher, _ := env.Key(t, ten.AdminKey, "dispatcher")
	r := env.Do(t, http.MethodPost, "/v1/reconciliation/runs", dispatcher, map[string]any{"day": yesterday})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodPost, "/v1/reconciliation/runs", ten.AdminKey, map[string]any{"day": tomorrow})
	requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.day")

	for range 2 {
		r = env.Do(t, http.MethodPost, "/v1/reconciliation/runs", ten.AdminKey, map[string]any{"day": yesterday})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, map[string]any{"day": yesterday, "findings": float64(2)}, r.JSON(t))
	}

	r = env.Do(t, http.MethodGet, "/v1/reconciliation/findings?day="+yesterday, dispatcher, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	got := map[string]string{}
	for _, d := range r.JSON(t)["data"].([]any) {
		f := d.(map[string]any)
		got[f["ticket_id"].(string)] = f["problem"].(string)
		require.Equal(t, "SN-"+f["ticket_id"].(string), f["number"])
	}
	require.Equal(t, map[string]string{atPoint: "no_signoff", atRoot: "rating_not_confirmed"}, got)
	// Each finding told in the caller's language.
	for _, lang := range []string{"en", "zh-CN"} {
		r = env.Do(t, http.MethodGet, "/v1/reconciliation/findings?problem=no_signoff", dispatcher, nil, "Accept-Language: "+lang)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		f := r.JSON(t)["data"].([]any)[0].(map[string]any)
		// The completion time in the tenant's time zone (Asia/Shanghai), named.
		at := noon(-1).In(shanghai).Format("2006-01-02 15:04")
		require.Equal(t, map[string]any{"code": "reconcile.no_signoff", "params": map[string]any{"Number": "SN-" + atPoint, "Day": yesterday,
			"Completed": map[string]any{"code": "sla.time", "params": map[string]any{"Time": at, "Zone": "Asia/Shanghai",
				"ZoneName": map[string]any{"code": "zone.name.china"}}}}}, f["summary_i18n"])
		want := map[string]string{
			"en":    "Ticket SN-" + atPoint + " was completed at " + at + " (China Standard Time), but the customer's sign-off was not in by the end of " + yesterday,
			"zh-CN": "工单 SN-" + atPoint + " 已于 " + at + "（北京时间）完工，但截至 " + yesterday + " 日终仍未收到客户签收",
		}[lang]
		require.Equal(t, want, f["summary"])
	}

	r = env.Do(t, http.MethodGet, "/v1/reconciliation/findings?problem=rating_not_confirmed", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Len(t, r.JSON(t)["data"], 1)
	r = env.Do(t, http.MethodGet, "/v1/reconciliation/findings?node_id="+n.Point, ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Len(t, r.JSON(t)["data"], 1)
	r = env.Do(t, http.MethodGet, "/v1/reconciliation/findings?limit=1", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	next := r.JSON(t)["next_cursor"].(string)
	r = env.Do(t, http.MethodGet, "/v1/reconciliation/findings?limit=1&cursor="+url.QueryEscape(next), ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Len(t, r.JSON(t)["data"], 1)
	require.Nil(t, r.JSON(t)["next_cursor"])

	// A node manager of the center sees its subtree's finding only.
	r = env.Do(t, http.MethodPost, "/v1/api-keys", ten.AdminKey, map[string]any{"name": "center", "roles": []string{"node_manager"}, "node_id": n.Center})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	center := r.JSON(t)["secret"].(string)
	r = env.Do(t, http.MethodGet, "/v1/reconciliation/findings", center, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	data := r.JSON(t)["data"].([]any)
	require.Len(t, data, 1)
	require.Equal(t, atPoint, data[0].(map[string]any)["ticket_id"])

	r = env.Do(t, http.MethodGet, "/v1/reconciliation/findings?day=nope", ten.AdminKey, nil)
	requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "query.day")
}

func TestSLABreachesAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t)
	ten := env.CreateTenant(t, "sla-breaches-api")
	n := env.CreateNetwork(t, ten.AdminKey, "BR")
	due := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	atCenter := insertTicket(t, env, ten.ID, "dispatched", n.Center, map[string]any{"first_contact_due_at": due})
	atRoot := insertTicket(t, env, ten.ID, "dispatched", n.Root, map[string]any{"completion_due_at": due})
	for _, c := range []struct {
		id  string
		sla tickets.SLA
	}{{atCenter, tickets.SLAFirstContact}, {atRoot, tickets.SLACompletion}} {
		breached, err := env.Tickets.CheckTimer(ctx, ten.ID, c.id, c.sla, due, 1)
		require.NoError(t, err)
		require.True(t, breached)
	}

	agent, _ := env.Key(t, ten.AdminKey, "agent")
	r := env.Do(t, http.MethodGet, "/v1/sla-breaches", agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	data := r.JSON(t)["data"].([]any)
	require.Len(t, data, 2)
	b := data[1].(map[string]any)
	require.Equal(t, atCenter, b["ticket_id"])
	require.Equal(t, "first_contact", b["sla"])
	require.Equal(t, float64(1), b["level"])
	require.Equal(t, "dispatcher", b["escalated_to"])
	require.Equal(t, n.Center, b["node_id"])
	// The breach and its escalation told in the caller's language, on the
	// listing and on the ticket's timeline.
	// The deadline in the tenant's time zone (Asia/Shanghai), named.
	dueText := due.In(shanghai).Format("2006-01-02 15:04")
	require.Equal(t, "Ticket SN-"+atCenter+" missed its first-contact deadline of "+dueText+" (China Standard Time): escalated to the dispatcher (level 1)", b["summary"])
	require.Equal(t, "sla.breached", b["summary_i18n"].(map[string]any)["code"])
	r = env.Do(t, http.MethodGet, "/v1/sla-breaches?sla=first_contact", agent, nil, "Accept-Language: zh-CN")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	zb := r.JSON(t)["data"].([]any)[0].(map[string]any)
	require.Equal(t, "工单 SN-"+atCenter+" 未在时限 "+dueText+"（北京时间）前完成首次联系客户：已升级至调度员（第 1 级）", zb["summary"])
	require.Equal(t, b["summary_i18n"], zb["summary_i18n"])
	r = env.Do(t, http.MethodGet, "/v1/tickets/"+atCenter+"/timeline", agent, nil, "Accept-Language: zh-CN")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var onTimeline []string
	for _, e := range r.JSON(t)["data"].([]any) {
		if e := e.(map[string]any); e["action"] == "sla_breached" {
			onTimeline = append(onTimeline, e["summary"].(string))
		}
	}
	require.Equal(t, []string{"未在时限 " + dueText + "（北京时间）前完成首次联系客户：已升级至调度员（第 1 级）"}, onTimeline)

	r = env.Do(t, http.MethodGet, "/v1/sla-breaches?sla=completion", agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Len(t, r.JSON(t)["data"], 1)
	r = env.Do(t, http.MethodGet, "/v1/sla-breaches?level=2", agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Empty(t, r.JSON(t)["data"])
	r = env.Do(t, http.MethodGet, "/v1/sla-breaches?since="+url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), agent, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Empty(t, r.JSON(t)["data"])

	r = env.Do(t, http.MethodPost, "/v1/api-keys", ten.AdminKey, map[string]any{"name": "center", "roles": []string{"node_manager"}, "node_id": n.Center})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodGet, "/v1/sla-breaches", r.JSON(t)["secret"].(string), nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	data = r.JSON(t)["data"].([]any)
	require.Len(t, data, 1)
	require.Equal(t, atCenter, data[0].(map[string]any)["ticket_id"])

	r = env.Do(t, http.MethodGet, "/v1/sla-breaches?sla=lunch", agent, nil)
	requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "query.sla")
}

// TestSLANamesAreTicketsSLAs: the SLA names the documents list are
// tickets.SLAs, in its order: in the published document, the one value set
// Breach.sla, BreachCount.clock and listSLABreaches' sla filter refer to; in
// the serving one, the enum Huma checks the filter against. A new SLA is a
// new value here with no second edit (and the golden test then asks for
// `make openapi`).
func TestSLANamesAreTicketsSLAs(t *testing.T) {
	t.Parallel()
	want := make([]string, len(tickets.SLAs))
	for i, sla := range tickets.SLAs {
		want[i] = string(sla)
	}

	p, err := api.PublishedOpenAPI("test")
	require.NoError(t, err)
	type ref struct {
		Ref string `json:"$ref"`
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum       []string       `json:"enum"`
				Properties map[string]ref `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string `json:"name"`
				Schema ref    `json:"schema"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(p.JSON, &doc))
	schemas := doc.Components.Schemas
	refs := map[string]string{
		"Breach.sla":        schemas["Breach"].Properties["sla"].Ref,
		"BreachCount.clock": schemas["BreachCount"].Properties["clock"].Ref,
	}
	for _, prm := range doc.Paths["/v1/sla-breaches"]["get"].Parameters {
		if prm.Name == "sla" {
			refs["listSLABreaches.sla"] = prm.Schema.Ref
		}
	}
	require.Len(t, refs, 3)
	for where, r := range refs {
		name, ok := strings.CutPrefix(r, "#/components/schemas/")
		require.True(t, ok, "%s is %q, not a value set", where, r)
		require.Equal(t, want, schemas[name].Enum, "%s (%s)", where, name)
	}

	serving := api.New(api.Config{Version: "test"}, api.Deps{}).OpenAPI()
	var filter []any
	for _, prm := range serving.Paths["/v1/sla-breaches"].Get.Parameters {
		if prm.Name == "sla" {
			filter = prm.Schema.Enum
		}
	}
	require.Len(t, filter, len(want))
	for i, v := range filter {
		require.Equal(t, want[i], v)
	}
}
