package i18n_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/i18n"
)

type entry struct {
	Description string `json:"description"`
	Other       string `json:"other"`
}

func catalog(t *testing.T, lang string) map[string]entry {
	t.Helper()
	b, err := os.ReadFile(i18n.Files[lang])
	require.NoError(t, err)
	var c map[string]entry
	require.NoError(t, json.Unmarshal(b, &c), lang)
	return c
}

var placeholder = regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)

func params(s string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestCatalogComplete fails when a message code lacks a translation in a
// language, a translation uses other parameters than the English source,
// the English source has no description for translators, or a rendering
// leaves a parameter unfilled.
func TestCatalogComplete(t *testing.T) {
	t.Parallel()
	require.NoError(t, i18n.Load())
	en := catalog(t, i18n.English)
	require.NotEmpty(t, en)
	for _, lang := range i18n.Languages {
		c := catalog(t, lang)
		for code := range c {
			require.Contains(t, en, code, "%s has %s, the English source does not", lang, code)
		}
		for code, src := range en {
			tr, ok := c[code]
			require.True(t, ok, "message %s has no %s translation", code, lang)
			require.NotEmpty(t, strings.TrimSpace(tr.Other), "message %s is empty in %s", code, lang)
			require.Equal(t, params(src.Other), params(tr.Other), "message %s: %s uses other parameters", code, lang)
			if lang == i18n.English {
				require.NotEmpty(t, src.Description, "message %s has no description", code)
			}
			ps := map[string]any{}
			for _, p := range params(src.Other) {
				ps[p] = "x"
			}
			out := i18n.Render(lang, code, ps)
			require.NotContains(t, out, "<no value>", "%s in %s", code, lang)
			require.NotEqual(t, code, out, "%s in %s did not render", code, lang)
		}
	}
}

// codeInSource finds the message codes the Go code names literally.
var codeInSource = regexp.MustCompile(`"((?:problem|auth|dispatch|entitlement|object|charge|validation|sla|escalation|reconcile|event)(?:\.[a-z0-9_]+)+)"`)

// TestCodesInCatalog fails when the code names a message the catalog lacks.
func TestCodesInCatalog(t *testing.T) {
	t.Parallel()
	en := catalog(t, i18n.English)
	root := filepath.Join("..", "..")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "openapi" || d.Name() == "authz" || strings.HasPrefix(d.Name(), ".")) && path != root { // authz: permissions (sla.read), not messages
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range codeInSource.FindAllStringSubmatch(string(b), -1) {
			code := m[1]
			n++
			require.Contains(t, en, code, "%s names message %s, which the catalog lacks", path, code)
		}
		return nil
	})
	require.NoError(t, err)
	require.NotZero(t, n)
}

func TestNegotiate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ header, tenant, want string }{
		{"zh-CN,zh;q=0.9", "en", "zh-CN"},
		{"zh", "en", "zh-CN"},
		{"en-US,en;q=0.8", "zh-CN", "en"},
		{"fr", "zh-CN", "zh-CN"},
		{"fr", "en", "en"},
		{"", "zh-CN", "zh-CN"},
		{"", "", "en"},
		{"garbage;;q=x", "zh-CN", "zh-CN"},
		{"fr, en;q=0.5", "zh-CN", "en"},
	} {
		require.Equal(t, c.want, i18n.Negotiate(c.header, c.tenant), "%q with tenant %q", c.header, c.tenant)
	}
}

func TestRenderNested(t *testing.T) {
	t.Parallel()
	m := i18n.M("dispatch.manual", "Node", i18n.M("dispatch.node.repair_point", "Name", "崂山4"), "Load", 3, "Capacity", 20, "Day", "2026-12-01")
	require.Equal(t, "Manual dispatch to repair point 崂山4, which is eligible (3 of 20 jobs booked on 2026-12-01)", m.Render("en"))
	// As read back from JSON.
	b, err := json.Marshal(m)
	require.NoError(t, err)
	var back i18n.Message
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, "人工派单至维修网点崂山4，该网点符合条件（2026-12-01 已接 3/20 单）", back.Render("zh-CN"))
	require.Equal(t, " It holds no available washer loaner for the carry-in (preferred, not required): none of the eligible nodes ranked above it does either.",
		i18n.Render("en", "dispatch.loaner_none", map[string]any{"Category": "washer"}))
}

// A list of messages as a param (a technician's shifts) renders item by
// item, joined the language's way, as built or as read back from JSON.
func TestRenderList(t *testing.T) {
	t.Parallel()
	shift := func(day int, start, end string) i18n.Message {
		return i18n.M("problem.shift", "Weekday", i18n.M("problem.weekday."+strconv.Itoa(day)), "Start", start, "End", end)
	}
	m := i18n.M("tickets.outside_shifts", "Name", "李师傅", "Technician", "tec_1",
		"Shifts", []i18n.Message{shift(1, "08:00", "18:00"), shift(6, "09:00", "12:00")})
	b, err := json.Marshal(m)
	require.NoError(t, err)
	var back i18n.Message
	require.NoError(t, json.Unmarshal(b, &back))
	for _, m := range []i18n.Message{m, back} {
		require.Contains(t, m.Render("en"), ": Mon 08:00-18:00, Sat 09:00-12:00;")
		zh := m.Render("zh-CN")
		require.Contains(t, zh, "：周一 08:00-18:00、周六 09:00-12:00；")
		require.NotContains(t, zh, "Mon")
	}
	require.Contains(t, i18n.Render("zh-CN", "tickets.outside_shifts", map[string]any{"Name": "李", "Technician": "t", "Shifts": i18n.M("problem.no_shifts")}), "未登记班次")
}
