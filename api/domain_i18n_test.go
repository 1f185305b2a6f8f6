package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestLocalizedDomainErrors: a domain validation error (a customer's
// phones and address) and a domain conflict (a key revoking itself) read in
// English and in Chinese, field messages and detail alike, with the same
// codes and parameters in both.
func TestLocalizedDomainErrors(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "i18n-domain")

	problem := func(method, path string, body any, status int, lang string) map[string]any {
		t.Helper()
		r := env.Do(t, method, path, ten.AdminKey, body, "Accept-Language: "+lang)
		require.Equal(t, status, r.Status, "%s", r.Body)
		require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
		require.Equal(t, lang, r.Header.Get("Content-Language"))
		return r.JSON(t)
	}
	// messages are a problem's field messages by location, and their
	// message_i18n.
	messages := func(p map[string]any) (map[string]string, map[string]any) {
		texts, codes := map[string]string{}, map[string]any{}
		for _, e := range p["errors"].([]any) {
			e := e.(map[string]any)
			texts[e["location"].(string)] = e["message"].(string)
			codes[e["location"].(string)] = e["message_i18n"]
		}
		return texts, codes
	}

	t.Run("Validation", func(t *testing.T) {
		t.Parallel()
		bad := map[string]any{"name": "王丽", "phones": []string{"+86 138 0013 8000", "+86 138 0013 8000"},
			"addresses": []map[string]any{{"region_code": "379999", "line": "崂山区松岭路 1 号"}}}
		en := problem(http.MethodPost, "/v1/customers", bad, http.StatusUnprocessableEntity, "en")
		zh := problem(http.MethodPost, "/v1/customers", bad, http.StatusUnprocessableEntity, "zh-CN")
		assert.Equal(t, "validation failed", en["detail"])
		assert.Equal(t, "校验失败", zh["detail"])
		te, ce := messages(en)
		tz, cz := messages(zh)
		assert.Equal(t, map[string]string{
			"body.phones[1]":                "the same number as an earlier phone",
			"body.addresses[0].region_code": "unknown GB/T 2260 region code",
		}, te)
		assert.Equal(t, map[string]string{
			"body.phones[1]":                "与前面某个电话号码相同",
			"body.addresses[0].region_code": "未知的 GB/T 2260 行政区划代码",
		}, tz)
		assert.Equal(t, ce, cz, "the codes and params do not depend on the language")
		assert.Equal(t, "customers.phone_repeated", ce["body.phones[1]"].(map[string]any)["code"])

		// A message with a parameter: a scorecard of a day in the future.
		path := "/v1/quality/scorecard?scope=tenant&period=day&date=2099-01-01"
		en = problem(http.MethodGet, path, nil, http.StatusUnprocessableEntity, "en")
		zh = problem(http.MethodGet, path, nil, http.StatusUnprocessableEntity, "zh-CN")
		te, ce = messages(en)
		tz, cz = messages(zh)
		assert.Equal(t, ce, cz)
		m := ce["query.date"].(map[string]any)
		assert.Equal(t, "common.not_in_future_today", m["code"])
		today := m["params"].(map[string]any)["Today"].(string)
		assert.Equal(t, map[string]string{"query.date": "not in the future (today is " + today + " in the tenant's time zone)"}, te)
		assert.Equal(t, map[string]string{"query.date": "不能是将来的日期（租户时区今天是 " + today + "）"}, tz)
	})

	t.Run("Conflict", func(t *testing.T) {
		t.Parallel()
		path := "/v1/api-keys/" + ten.AdminID + "/revoke"
		en := problem(http.MethodPost, path, nil, http.StatusConflict, "en")
		zh := problem(http.MethodPost, path, nil, http.StatusConflict, "zh-CN")
		for _, p := range []map[string]any{en, zh} {
			assert.Equal(t, "conflict", p["code"])
			assert.Equal(t, map[string]any{"code": "identity.key_revokes_itself"}, p["detail_i18n"])
		}
		assert.Equal(t, "Conflict", en["title"])
		assert.Equal(t, "冲突", zh["title"])
		assert.Equal(t, "a key cannot revoke itself; use another admin key", en["detail"])
		assert.Equal(t, "密钥不能吊销自身；请使用另一个管理员密钥", zh["detail"])
	})
}
