package api

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"
)

type encodingSample struct {
	ID       string            `json:"id"`
	Tags     []string          `json:"tags"`
	Lines    []map[string]any  `json:"lines"`
	Meta     map[string]string `json:"meta"`
	Optional []string          `json:"optional,omitempty"`
	Note     *string           `json:"note"`
	Data     json.RawMessage   `json:"data"`
	At       time.Time         `json:"at"`
	HTML     string            `json:"html"`
}

// TestResponseJSON: responses are encoding/json's output except that nil
// slices and maps are [] and {}, never null.
func TestResponseJSON(t *testing.T) {
	t.Parallel()
	v := encodingSample{ID: "x", Data: json.RawMessage(`{"a":1}`), At: time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC), HTML: "<a&b>"}
	var got bytes.Buffer
	require.NoError(t, jsonFormat.Marshal(&got, v))
	require.JSONEq(t, `{"id":"x","tags":[],"lines":[],"meta":{},"note":null,"data":{"a":1},"at":"2026-11-01T09:30:00Z","html":"<a&b>"}`, got.String())
	require.Contains(t, got.String(), `"<a&b>"`, "HTML is not escaped, as Huma's default")

	v.Tags, v.Meta, v.Lines = []string{"a"}, map[string]string{"k": "v"}, []map[string]any{{"b": 2, "a": "x"}}
	var want bytes.Buffer
	require.NoError(t, huma.DefaultJSONFormat.Marshal(&want, v))
	got.Reset()
	require.NoError(t, jsonFormat.Marshal(&got, v))
	require.Equal(t, want.String(), got.String(), "otherwise byte for byte encoding/json's")
}

func BenchmarkResponseJSON(b *testing.B) {
	v := encodingSample{ID: "tkt_01jd3zq8w6v7t3y2k9x4n5m6pe", Tags: []string{"a", "b", "c"}, Data: json.RawMessage(`{"a":1}`), At: time.Now(),
		Lines: []map[string]any{{"kind": "labor", "amount": 8000}, {"kind": "part", "amount": 120000}}}
	for _, f := range []struct {
		name string
		f    huma.Format
	}{{"encoding_json", huma.DefaultJSONFormat}, {"servicenet", jsonFormat}} {
		b.Run(f.name, func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				_ = f.f.Marshal(&buf, v)
			}
		})
	}
}
