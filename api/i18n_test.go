package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/i18n"
)

// get reads path in the language lang asks for ("" sends no
// Accept-Language) and returns the body and the Content-Language.
func getIn(t *testing.T, env *apitest.Env, key, path, lang string) (map[string]any, string) {
	t.Helper()
	r := env.Do(t, http.MethodGet, path, key, nil, "Accept-Language: "+lang)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.JSON(t), r.Header.Get("Content-Language")
}

// TestLocalizedDispatchReason: the same stored dispatch decision reads in
// English and in Chinese; its codes stay the same. An unsupported language
// falls back to the tenant's default (zh-CN, then en once changed).
func TestLocalizedDispatchReason(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	d := env.DemoBrand(t, "i18n-dispatch")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	id, _ := openReady(t, env, d, agent, "SN-I18N-0001", 30, apitest.WeekdayMorning(time.Now(), 2))
	tk := ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	require.Equal(t, "dispatched", tk["state"], "%v", tk["state_reason"])

	decision := func(lang string) (map[string]any, string) {
		tk, cl := getIn(t, env, agent, "/v1/tickets/"+id, lang)
		return tk["dispatch"].(map[string]any)["decision"].(map[string]any), cl
	}
	en, cl := decision("en-US,en;q=0.9")
	require.Equal(t, "en", cl)
	zh, cl := decision("zh-CN,zh;q=0.9,en;q=0.5")
	require.Equal(t, "zh-CN", cl)
	require.Equal(t, en["reason_i18n"], zh["reason_i18n"], "the codes do not depend on the language")
	codes := en["reason_i18n"].([]any)
	require.Equal(t, "dispatch.best_node", codes[0].(map[string]any)["code"])

	var node, tech map[string]any
	for _, n := range en["nodes"].([]any) {
		if n := n.(map[string]any); n["node_id"] == en["node_id"] {
			node = n
		}
	}
	for _, c := range en["technicians"].([]any) {
		if c := c.(map[string]any); c["technician_id"] == en["technician_id"] {
			tech = c
		}
	}
	require.NotNil(t, node)
	require.NotNil(t, tech)
	require.Equal(t, "repair_point", node["tier"])
	day := en["day"].(string)
	load, capacity := num(node["load_today"]), num(node["daily_capacity"])
	assert.True(t, strings.HasPrefix(en["reason"].(string),
		"Repair point "+node["name"].(string)+" is the best eligible node ("+load+" of "+capacity+" jobs booked on "+day+"); technician "+
			tech["name"].(string)+" is on shift with washer level "+num(tech["level"])+" and "+num(tech["jobs_today"])+" jobs that day"), en["reason"])
	assert.True(t, strings.HasPrefix(zh["reason"].(string),
		"维修网点"+node["name"].(string)+"是最合适的合格网点（"+day+" 已接 "+load+"/"+capacity+" 单）；技师"+
			tech["name"].(string)+"在班，washer技能等级 "+num(tech["level"])+"，当天已有 "+num(tech["jobs_today"])+" 单"), zh["reason"])
	assert.True(t, strings.HasSuffix(en["reason"].(string), "."))
	assert.True(t, strings.HasSuffix(zh["reason"].(string), "。"))

	// No Accept-Language, or only languages ServiceNet does not speak: the
	// tenant's default, zh-CN.
	for _, lang := range []string{"", "fr-FR", "fr, de;q=0.5"} {
		got, cl := decision(lang)
		assert.Equal(t, "zh-CN", cl, "%q", lang)
		assert.Equal(t, zh["reason"], got["reason"], "%q", lang)
	}
	// The tenant switches its default to English: the fallback follows.
	r := env.Do(t, http.MethodPatch, "/v1/tenant", d.AdminKey, map[string]any{"default_language": "en"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	got, cl := decision("fr")
	assert.Equal(t, "en", cl)
	assert.Equal(t, en["reason"], got["reason"])
	got, cl = decision("zh-CN")
	assert.Equal(t, "zh-CN", cl, "Accept-Language still wins over the default")
	assert.Equal(t, zh["reason"], got["reason"])
}

// num writes a JSON number as an integer.
func num(v any) string { return strconv.Itoa(int(v.(float64))) }

// TestLocalizedEntitlementTrace: the same entitlement decision's trace in
// English and in Chinese, with the same codes and parameters.
func TestLocalizedEntitlementTrace(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	s := newPhoneShop(t, env, "i18n-decide")
	unit, _ := s.sell(t, env, s.shopA, "SN-P60-1918", 39)
	body := map[string]any{"unit_id": unit, "fault": map[string]any{"cause": "performance"},
		"work": map[string]any{"service_kind": "repair", "parts": []map[string]any{{"part_id": s.screen, "quantity": 1}}}}
	traceIn := func(lang string) map[string]map[string]any {
		r := env.Do(t, http.MethodPost, "/v1/entitlements/decide", s.shopA, body, "Accept-Language: "+lang)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, lang, r.Header.Get("Content-Language"))
		out := map[string]map[string]any{}
		for _, e := range r.JSON(t)["decision"].(map[string]any)["trace"].([]any) {
			e := e.(map[string]any)
			out[e["rule"].(string)] = e
		}
		return out
	}
	en, zh := traceIn("en"), traceIn("zh-CN")
	w := en["R2.manufacturer_warranty"]
	require.Equal(t, true, w["applied"])
	m := w["reason_i18n"].(map[string]any)
	require.Equal(t, "entitlement.manufacturer_covered", m["code"])
	end := m["params"].(map[string]any)["End"].(string)
	assert.Equal(t, "performance fault within the whole-unit warranty (through "+end+"): free repair", w["reason"])
	assert.Equal(t, "整机保修期内（至 "+end+"）的性能故障：免费维修", zh["R2.manufacturer_warranty"]["reason"])
	assert.Equal(t, m, zh["R2.manufacturer_warranty"]["reason_i18n"])
	assert.Equal(t, "the cause is not human damage or force majeure", en["R1.never_free"]["reason"])
	assert.Equal(t, "故障原因不是人为损坏或不可抗力", zh["R1.never_free"]["reason"])
	assert.Equal(t, "day 40 is after the 15-day exchange window", en["R1.statutory_exchange"]["reason"])
	assert.Equal(t, "第 40 天已超过 15 天换货期", zh["R1.statutory_exchange"]["reason"])

	// The plans' lines (R4-R7): none of the kind, and the accidental-damage
	// plan that does not cover a performance fault.
	assert.Equal(t, "no extended_warranty contract on the unit", en["R4.extended_warranty"]["reason"])
	assert.Equal(t, "该产品没有延长保修合同", zh["R4.extended_warranty"]["reason"])
	assert.Equal(t, "该产品没有无理由维修合同", zh["R7.no_reason_repair"]["reason"])
	r5 := en["R5.accidental_damage"]["reason_i18n"].(map[string]any)
	require.Equal(t, "entitlement.r5.not_cause", r5["code"])
	ctr := r5["params"].(map[string]any)["Contract"].(string)
	assert.Equal(t, "contract "+ctr+" covers accidental damage (drops, crushing, impact), not performance", en["R5.accidental_damage"]["reason"])
	assert.Equal(t, "合同 "+ctr+" 覆盖意外损坏（跌落、挤压、撞击），不覆盖performance", zh["R5.accidental_damage"]["reason"])

	// The same plan swaps an unrepairable phone: the fee's rule is a message
	// inside the line, rendered in the same language.
	body = map[string]any{"unit_id": unit, "fault": map[string]any{"cause": "accidental_damage", "part_categories": []string{"screen"}, "repairable": false}}
	en, zh = traceIn("en"), traceIn("zh-CN")
	require.Equal(t, true, en["R5.accidental_damage"]["applied"])
	assert.Equal(t, en["R5.accidental_damage"]["reason_i18n"], zh["R5.accidental_damage"]["reason_i18n"])
	assert.Equal(t, "accidental damage, unrepairable, within contract "+ctr+": swap for a depreciation fee (20% of the purchase price 499900 in month 2 of ownership (the plan's depreciation schedule): 99980); the replacement is no longer covered by the plan",
		en["R5.accidental_damage"]["reason"])
	assert.Equal(t, "合同 "+ctr+" 内的意外损坏，无法维修：收取折旧费换新（购买价 499900 的 20%，持有第 2 个月（按保障计划的折旧表）：99980）；换新后的产品不再受该计划保障",
		zh["R5.accidental_damage"]["reason"])

	// The remedies' notes too (here R5's swap), with the same codes.
	notes := func(lang string) (texts, codes []any) {
		r := env.Do(t, http.MethodPost, "/v1/entitlements/decide", s.shopA, body, "Accept-Language: "+lang)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		for _, m := range r.JSON(t)["decision"].(map[string]any)["remedies"].([]any) {
			texts, codes = append(texts, m.(map[string]any)["note"]), append(codes, m.(map[string]any)["note_i18n"])
		}
		return texts, codes
	}
	ten, cen := notes("en")
	tzh, czh := notes("zh-CN")
	assert.Equal(t, cen, czh)
	assert.Equal(t, []any{"depreciation swap; the replacement keeps the normal warranty but not this plan"}, ten)
	assert.Equal(t, []any{"折旧换新；新机享受正常保修，但不再受本计划保障"}, tzh)
	assert.Equal(t, []any{map[string]any{"code": "entitlement.note.r5_swap"}}, cen)
}

// TestLocalizedValidationError: the same 422 in English and in Chinese:
// title, detail and field message, with the same codes.
func TestLocalizedValidationError(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "i18n-invalid")
	bad := map[string]any{"default_language": "fr"}
	problem := func(lang string) (map[string]any, string) {
		r := env.Do(t, http.MethodPatch, "/v1/tenant", ten.AdminKey, bad, "Accept-Language: "+lang)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		return r.JSON(t), r.Header.Get("Content-Language")
	}
	en, cl := problem("en")
	require.Equal(t, "en", cl)
	zh, cl := problem("zh-CN")
	require.Equal(t, "zh-CN", cl)
	for _, p := range []map[string]any{en, zh} {
		assert.Equal(t, "invalid", p["code"])
		assert.Equal(t, "problem.validation_failed", p["detail_i18n"].(map[string]any)["code"])
	}
	assert.Equal(t, "Unprocessable Entity", en["title"])
	assert.Equal(t, "无法处理的请求", zh["title"])
	assert.Equal(t, "validation failed", en["detail"])
	assert.Equal(t, "校验失败", zh["detail"])
	fe, fz := en["errors"].([]any)[0].(map[string]any), zh["errors"].([]any)[0].(map[string]any)
	assert.Equal(t, "body.default_language", fe["location"])
	assert.Equal(t, "a supported language: zh-CN, en", fe["message"])
	assert.Equal(t, "请使用支持的语言：zh-CN, en", fz["message"])
	assert.Equal(t, fe["message_i18n"], fz["message_i18n"])
	assert.Equal(t, "problem.unsupported_language", fe["message_i18n"].(map[string]any)["code"])

	// An unknown language: the tenant's default (zh-CN); a 404 too.
	fr, cl := problem("fr")
	assert.Equal(t, "zh-CN", cl)
	assert.Equal(t, zh["detail"], fr["detail"])
	r := env.Do(t, http.MethodGet, "/v1/tickets/tkt_01jd3zq8w6v7t3y2k9x4n5m6pq", ten.AdminKey, nil, "Accept-Language: fr")
	require.Equal(t, http.StatusNotFound, r.Status, "%s", r.Body)
	assert.Equal(t, "zh-CN", r.Header.Get("Content-Language"))
	assert.Equal(t, "未找到工单", r.JSON(t)["detail"])
	assert.Equal(t, "未找到", r.JSON(t)["title"])
	// Before the tenant is known (no credential): Accept-Language, else en.
	r = env.Do(t, http.MethodGet, "/v1/tickets", "", nil, "Accept-Language: zh-CN")
	require.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "缺少凭证：请发送 Authorization: Bearer <API 密钥>", r.JSON(t)["detail"])
	r = env.Do(t, http.MethodGet, "/v1/tickets", "", nil, "Accept-Language: fr")
	assert.Equal(t, "en", r.Header.Get("Content-Language"))
	assert.Equal(t, "missing credential: send Authorization: Bearer <API key>", r.JSON(t)["detail"])
}

// TestMessageCatalogComplete: every message code the published document
// lists (MessageCode) is in the catalog and renders in zh-CN and en, and
// the catalog has no code the document omits. (Per-language files, the
// parameters of each translation and <no value> are checked in
// internal/i18n's TestCatalogComplete.)
func TestMessageCatalogComplete(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	r := env.Do(t, http.MethodGet, "/openapi.json", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `json:"enum"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &doc))
	published := doc.Components.Schemas["MessageCode"].Enum
	codes, err := i18n.Codes()
	require.NoError(t, err)
	require.Equal(t, codes, published)
	for _, code := range codes {
		require.True(t, i18n.Has(code))
		for _, lang := range i18n.Languages {
			assert.NotEqual(t, code, i18n.Render(lang, code, nil), "%s has no %s text", code, lang)
		}
	}
}

// TestLocalizedHumaValidationError: Huma's own validation (before any
// handler): a missing required property and a too-long string, in English
// and in Chinese, with the same codes and params; an unknown language falls
// back to the tenant's default.
func TestLocalizedHumaValidationError(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "i18n-huma")
	bad := map[string]any{"name": strings.Repeat("王", 201)} // no phones
	problem := func(lang string) (map[string]any, map[string]map[string]any, string) {
		r := env.Do(t, http.MethodPost, "/v1/customers", ten.AdminKey, bad, "Accept-Language: "+lang)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		p := r.JSON(t)
		byCode := map[string]map[string]any{}
		for _, e := range p["errors"].([]any) {
			e := e.(map[string]any)
			m, ok := e["message_i18n"].(map[string]any)
			require.True(t, ok, "%v has no message_i18n", e)
			byCode[m["code"].(string)] = e
		}
		return p, byCode, r.Header.Get("Content-Language")
	}
	en, enErr, cl := problem("en-GB")
	require.Equal(t, "en", cl)
	zh, zhErr, cl := problem("zh-CN")
	require.Equal(t, "zh-CN", cl)
	for _, p := range []map[string]any{en, zh} {
		assert.Equal(t, "invalid", p["code"])
		assert.Equal(t, "problem.validation_failed", p["detail_i18n"].(map[string]any)["code"])
	}
	assert.Equal(t, "validation failed", en["detail"])
	assert.Equal(t, "校验失败", zh["detail"])
	assert.Equal(t, "无法处理的请求", zh["title"])

	long, req := enErr["validation.max_length"], enErr["validation.required_property"]
	require.NotNil(t, long, "%v", en["errors"])
	require.NotNil(t, req, "%v", en["errors"])
	assert.Equal(t, "body.name", long["location"])
	assert.Equal(t, map[string]any{"Max": "200"}, long["message_i18n"].(map[string]any)["params"])
	assert.Equal(t, "expected length <= 200", long["message"])
	assert.Equal(t, "长度不能超过 200 个字符", zhErr["validation.max_length"]["message"])
	assert.Equal(t, map[string]any{"Property": "phones"}, req["message_i18n"].(map[string]any)["params"])
	assert.Equal(t, "required property phones is missing", req["message"])
	assert.Equal(t, "缺少必填属性 phones", zhErr["validation.required_property"]["message"])
	for code, e := range enErr {
		assert.Equal(t, e["message_i18n"], zhErr[code]["message_i18n"], "the codes and params do not depend on the language")
		assert.Equal(t, e["location"], zhErr[code]["location"])
	}

	// A query parameter Huma parses: also in the catalog.
	r := env.Do(t, http.MethodGet, "/v1/customers?limit=abc", ten.AdminKey, nil, "Accept-Language: zh-CN")
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
	e := r.JSON(t)["errors"].([]any)[0].(map[string]any)
	assert.Equal(t, "query.limit", e["location"])
	assert.Equal(t, "validation.parameter_integer", e["message_i18n"].(map[string]any)["code"])
	assert.Equal(t, "应为整数", e["message"])

	// An unknown language: the tenant's default.
	r = env.Do(t, http.MethodPatch, "/v1/tenant", ten.AdminKey, map[string]any{"default_language": "zh-CN"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	fr, frErr, cl := problem("fr-FR")
	assert.Equal(t, "zh-CN", cl)
	assert.Equal(t, zh["detail"], fr["detail"])
	assert.Equal(t, "长度不能超过 200 个字符", frErr["validation.max_length"]["message"])
}

// TestIdempotentReplayKeepsItsLanguage: a replay returns the stored first
// response, in the language it was written in (one Content-Language, the
// first's), whatever the retry's Accept-Language.
func TestIdempotentReplayKeepsItsLanguage(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	s := newPhoneShop(t, env, "i18n-replay")
	unit, _ := s.sell(t, env, s.shopA, "SN-P60-1919", 39)
	body := map[string]any{"unit_id": unit, "fault": map[string]any{"cause": "performance"},
		"work": map[string]any{"service_kind": "repair", "parts": []map[string]any{{"part_id": s.screen, "quantity": 1}}}}
	first := env.Do(t, http.MethodPost, "/v1/entitlements/decide", s.shopA, body, "Accept-Language: zh-CN", "Idempotency-Key: replay-lang-1")
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	assert.Equal(t, []string{"zh-CN"}, first.Header.Values("Content-Language"))
	again := env.Do(t, http.MethodPost, "/v1/entitlements/decide", s.shopA, body, "Accept-Language: en", "Idempotency-Key: replay-lang-1")
	require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, []string{"zh-CN"}, again.Header.Values("Content-Language"), "the first response's language")
	assert.JSONEq(t, string(first.Body), string(again.Body))
	var reason string
	for _, e := range again.JSON(t)["decision"].(map[string]any)["trace"].([]any) {
		if e := e.(map[string]any); e["rule"] == "R1.never_free" {
			reason = e["reason"].(string)
		}
	}
	assert.Equal(t, "故障原因不是人为损坏或不可抗力", reason)
}

// TestLocalizedEventSummaries: the event feed tells each event in the
// caller's language (event.<type>), and so does a ticket's timeline.
func TestLocalizedEventSummaries(t *testing.T) {
	t.Parallel()
	env := apitest.New(t) // not Shared: its feed read timed out there (positioning the demo's events), twice under load
	ten := env.CreateTenant(t, "i18n-events")
	env.Key(t, ten.AdminKey, "agent") // api_key.created
	summaries := func(lang string) map[string]string {
		r := env.Do(t, http.MethodGet, "/v1/events?type=api_key.*", ten.AdminKey, nil, "Accept-Language: "+lang)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, lang, r.Header.Get("Content-Language"))
		out := map[string]string{}
		for _, e := range r.JSON(t)["data"].([]any) {
			e := e.(map[string]any)
			require.Equal(t, map[string]any{"code": "event." + e["type"].(string)}, e["summary_i18n"])
			out[e["type"].(string)] = e["summary"].(string)
		}
		return out
	}
	assert.Equal(t, "An API key was issued", summaries("en")["api_key.created"])
	assert.Equal(t, "已签发 API 密钥", summaries("zh-CN")["api_key.created"])

	d := env.DemoBrand(t, "i18n-timeline")
	agent, _ := env.Key(t, d.AdminKey, "agent")
	id, _ := openReady(t, env, d, agent, "SN-I18N-0002", 30, apitest.WeekdayMorning(time.Now(), 2))
	ticketAct(t, env, agent, id, "triage", map[string]any{"mode": "on_site"}, http.StatusOK)
	timeline := func(lang string) map[string]string {
		r := env.Do(t, http.MethodGet, "/v1/tickets/"+id+"/timeline", agent, nil, "Accept-Language: "+lang)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		out := map[string]string{}
		for _, e := range r.JSON(t)["data"].([]any) {
			e := e.(map[string]any)
			if s, ok := e["summary"].(string); ok {
				out[e["action"].(string)] = s
			}
		}
		return out
	}
	en, zh := timeline("en"), timeline("zh-CN")
	assert.Equal(t, "Ticket triaged: remote, on-site or carry-in decided", en["triaged"])
	assert.Equal(t, "工单已分诊：已确定远程、上门或送修", zh["triaged"])
	assert.Equal(t, "工单已受理", zh["opened"])
	assert.Equal(t, "已通知客户", zh["customer_notified"])

	// On the feed, a ticket's event names the ticket by its number.
	feed := func(lang string) (string, map[string]any) {
		r := env.Do(t, http.MethodGet, "/v1/events?type=ticket.triaged", d.AdminKey, nil, "Accept-Language: "+lang)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		data := r.JSON(t)["data"].([]any)
		require.NotEmpty(t, data)
		e := data[len(data)-1].(map[string]any)
		return e["summary"].(string), e["data"].(map[string]any)
	}
	enFeed, payload := feed("en")
	zhFeed, _ := feed("zh-CN")
	number := payload["number"].(string)
	assert.Equal(t, number+": Ticket triaged: remote, on-site or carry-in decided", enFeed)
	assert.Equal(t, number+"：工单已分诊：已确定远程、上门或送修", zhFeed)
}
