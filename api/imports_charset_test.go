package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
)

// TestImportCSVSavedByChineseExcel imports the small network's CSV as
// Chinese Excel saves it, in GBK, declared in Content-Type, declared in the
// query, and not declared at all (detected): each import succeeds and
// stores exactly what the UTF-8 file stores, Chinese names included.
func TestImportCSVSavedByChineseExcel(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(smallNetworkCSV)
	require.NoError(t, err)
	require.NotEqual(t, smallNetworkCSV, gbk, "the file has Chinese text, encoded differently in GBK")

	ref := env.CreateTenant(t, "imp-gbk-ref")
	want := runImport(t, env, ref.AdminKey, ctCSV, []byte(smallNetworkCSV))
	require.Equal(t, "succeeded", want["state"], "%v", want)
	require.Equal(t, "utf-8", want["charset"])

	for _, tc := range []struct {
		name, slug, path, contentType, charset string
	}{
		{"DeclaredInContentType", "imp-gbk-header", "/v1/network/imports", "text/csv; charset=GBK", "gbk"},
		{"DeclaredInTheQuery", "imp-gbk-query", "/v1/network/imports?charset=gb18030", "text/csv", "gb18030"},
		{"Detected", "imp-gbk-detected", "/v1/network/imports", "text/csv", "gb18030"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ten := env.CreateTenant(t, tc.slug)
			r := env.Do(t, http.MethodPost, tc.path, ten.AdminKey, []byte(gbk), "Content-Type: "+tc.contentType)
			require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
			require.Equal(t, tc.charset, r.JSON(t)["charset"])
			im := waitImport(t, env, ten.AdminKey, r.JSON(t)["id"].(string), 2*time.Minute, nil)
			require.Equal(t, "succeeded", im["state"], "%v", im)
			require.Equal(t, tallyOf(t, want, "nodes"), tallyOf(t, im, "nodes"))
			require.Equal(t, tallyOf(t, want, "technicians"), tallyOf(t, im, "technicians"))
			require.Equal(t, portableDump(t, env, ref.ID), portableDump(t, env, ten.ID))

			// The names round-trip: read back through the API as UTF-8.
			rp1 := nodeByCode(t, env, ten.AdminKey, "RP1")
			require.Equal(t, "王建国", rp1["contact"].(map[string]any)["name"])
			require.Equal(t, "海尔路1号", rp1["address"].(map[string]any)["line"])
			var name string
			require.NoError(t, pg.InTenantTx(context.Background(), env.DB.App, ten.ID, func(tx pg.TenantTx) error {
				return tx.QueryRow(context.Background(), `SELECT name FROM technicians WHERE tenant_id = $1 AND external_code = 'T1'`,
					ten.ID).Scan(&name)
			}))
			require.Equal(t, "李师傅 T1", name)
		})
	}

	t.Run("UnsupportedCharsetIsRefusedNamingIt", func(t *testing.T) {
		ten := env.CreateTenant(t, "imp-gbk-bad")
		for _, tc := range []struct{ path, contentType, location, value string }{
			{"/v1/network/imports", "text/csv; charset=big5", "header.Content-Type", "big5"},
			{"/v1/network/imports?charset=latin1", "text/csv", "query.charset", "latin1"},
			{"/v1/network/imports?charset=gbk", "text/csv; charset=utf-8", "query.charset", "gbk"},
		} {
			r := env.Do(t, http.MethodPost, tc.path, ten.AdminKey, []byte(gbk), "Content-Type: "+tc.contentType)
			require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
			require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"))
			p := r.JSON(t)
			errs := asSlice(p["errors"])
			require.Len(t, errs, 1, "%v", p)
			require.Equal(t, tc.location, errs[0].(map[string]any)["location"])
			require.Equal(t, tc.value, errs[0].(map[string]any)["value"])
		}
		require.Equal(t, 0, countRows(t, env, ten.ID, `SELECT count(*) FROM network_imports WHERE tenant_id = $1`), "nothing was stored")
	})

	t.Run("UndeclaredGBKAfterAnASCIIStartNamesTheCharset", func(t *testing.T) {
		// Detection looks at the first 64 KiB; a file that is ASCII there
		// and GBK later is read as UTF-8 and refused, saying what to declare.
		ten := env.CreateTenant(t, "imp-gbk-late")
		file := []byte("type,external_code,name,tier\n")
		for i := 0; len(file) < 70<<10; i++ {
			file = append(file, []byte("node,X"+string(rune('A'+i%26))+",x,repair_point\n")...)
		}
		late, err := simplifiedchinese.GBK.NewEncoder().String("node,MFR,示例家电,manufacturer\n")
		require.NoError(t, err)
		r := postImport(t, env, ten.AdminKey, ctCSV, append(file, late...))
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s", r.Body)
		require.Contains(t, string(r.Body), "charset=gbk")
	})
}
