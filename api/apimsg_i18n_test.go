package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestLocalizedAPIProblems: the problems the API layer writes itself (an
// Idempotency-Key reused with another body, a NUL in a query parameter)
// read in English and in Chinese, with the same codes and params in both.
func TestLocalizedAPIProblems(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	ten := env.CreateTenant(t, "i18n-api")

	// field is the problem's only field detail.
	field := func(t *testing.T, p map[string]any) map[string]any {
		t.Helper()
		errs, _ := p["errors"].([]any)
		require.Len(t, errs, 1, "%v", p)
		return errs[0].(map[string]any)
	}

	t.Run("IdempotencyKeyReused", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/api-keys", ten.AdminKey,
			map[string]any{"name": "i18n a", "roles": []string{"agent"}}, "Idempotency-Key: i18n-reuse")
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		want := map[string][2]string{
			"en": {"this Idempotency-Key was used with a different request; use a new key for a new request",
				"already used for POST /v1/api-keys with a different body"},
			"zh-CN": {"此 Idempotency-Key 已用于另一个请求；新请求请使用新的键",
				"已用于请求体不同的 POST /v1/api-keys 请求"},
		}
		var codes []any
		for _, lang := range []string{"en", "zh-CN"} {
			r := retryWhileBusy(t, env, http.MethodPost, "/v1/api-keys", ten.AdminKey,
				map[string]any{"name": "i18n b", "roles": []string{"agent"}}, "Idempotency-Key: i18n-reuse", "Accept-Language: "+lang)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
			assert.Equal(t, lang, r.Header.Get("Content-Language"))
			p := r.JSON(t)
			assert.Equal(t, "idempotency_key_reused", p["code"])
			assert.Equal(t, want[lang][0], p["detail"])
			f := field(t, p)
			assert.Equal(t, "header.Idempotency-Key", f["location"])
			assert.Equal(t, want[lang][1], f["message"])
			codes = append(codes, []any{p["detail_i18n"], f["message_i18n"]})
		}
		assert.Equal(t, codes[0], codes[1])
		assert.Equal(t, map[string]any{"code": "api.idempotency.reused_field",
			"params": map[string]any{"Method": "POST", "Path": "/v1/api-keys"}}, codes[0].([]any)[1])
	})

	t.Run("TextGuard", func(t *testing.T) {
		want := map[string][2]string{
			"en":    {"validation failed: text that cannot be stored", "must not contain the NUL character (U+0000)"},
			"zh-CN": {"校验失败：包含无法存储的文本", "不得包含 NUL 字符（U+0000）"},
		}
		for _, lang := range []string{"en", "zh-CN"} {
			r := env.Do(t, http.MethodGet, "/v1/customers?name=a%00b", ten.AdminKey, nil, "Accept-Language: "+lang)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
			assert.Equal(t, lang, r.Header.Get("Content-Language"))
			p := r.JSON(t)
			assert.Equal(t, "invalid", p["code"])
			assert.Equal(t, want[lang][0], p["detail"])
			assert.Equal(t, map[string]any{"code": "api.text.unstorable"}, p["detail_i18n"])
			f := field(t, p)
			assert.Equal(t, "query.name", f["location"])
			assert.Equal(t, want[lang][1], f["message"])
			assert.Equal(t, map[string]any{"code": "api.text.nul"}, f["message_i18n"])
			assert.NotContains(t, f, "value", "the value is not echoed")
		}
	})
}
