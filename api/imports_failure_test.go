package api_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// A failed import's failure is a catalog message (failure_i18n) and its
// text is in the caller's language, on the import and in the list; the
// network_import.finished event carries both. Jobs are queued, never run
// (APIOnly): the test fails the imports as the job does when it gives up.
func TestImportFailureInTheCallersLanguage(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.Options{APIOnly: true})
	ten := env.CreateTenant(t, "import-failure")
	upload := func() string {
		r := postImport(t, env, ten.AdminKey, ctJSONL, jsonl(smallNetwork()...))
		require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
		return r.JSON(t)["id"].(string)
	}
	retries, refused := upload(), upload()
	ctx := context.Background()
	// Every attempt failed on something unexpected: its cause stays out.
	require.NoError(t, env.Network.FailImport(ctx, ten.ID, retries, network.ImportFailure(errors.New("dial tcp 10.1.2.3:5432: refused"))))
	// An attempt stopped by a domain error: its message.
	require.NoError(t, env.Network.FailImport(ctx, ten.ID, refused,
		network.ImportFailure(tenants.ErrorMsg(tenants.CodeInvalid, i18n.M("network.file_no_rows")))))

	for id, want := range map[string]map[string]string{
		retries: {
			"en":    "The import failed on every attempt. The rows counted in processed_rows were imported: upload the file again to complete it, or contact support with the import ID.",
			"zh-CN": "导入多次尝试均失败。processed_rows 所计的行已导入：请重新上传该文件以完成导入，或凭导入 ID 联系技术支持。",
		},
		refused: {
			"en":    i18n.Render(i18n.English, "network.file_no_rows", nil),
			"zh-CN": i18n.Render(i18n.Chinese, "network.file_no_rows", nil),
		},
	} {
		require.NotEqual(t, want["en"], want["zh-CN"])
		code := map[string]string{retries: "import.failed.retries", refused: "network.file_no_rows"}[id]
		for lang, text := range want {
			r := env.Do(t, http.MethodGet, "/v1/network/imports/"+id, ten.AdminKey, nil, "Accept-Language: "+lang)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			require.Equal(t, lang, r.Header.Get("Content-Language"))
			m := r.JSON(t)
			require.Equal(t, "failed", m["state"])
			require.Equal(t, text, m["failure"])
			require.Equal(t, map[string]any{"code": code}, m["failure_i18n"])
			require.NotContains(t, string(r.Body), "10.1.2.3")

			r = env.Do(t, http.MethodGet, "/v1/network/imports", ten.AdminKey, nil, "Accept-Language: "+lang)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			found := false
			for _, im := range asSlice(r.JSON(t)["data"]) {
				if im := im.(map[string]any); im["id"] == id {
					found = true
					require.Equal(t, text, im["failure"])
				}
			}
			require.True(t, found, "import %s listed", id)
		}
	}

	r := env.Do(t, http.MethodGet, "/v1/events?type=network_import.finished", ten.AdminKey, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	evs := asSlice(r.JSON(t)["data"])
	require.Len(t, evs, 2)
	for _, e := range evs {
		data := e.(map[string]any)["data"].(map[string]any)
		require.Equal(t, "failed", data["state"])
		require.NotEmpty(t, data["failure"])
		require.Contains(t, []any{map[string]any{"code": "import.failed.retries"}, map[string]any{"code": "network.file_no_rows"}}, data["failure_i18n"])
	}
}
