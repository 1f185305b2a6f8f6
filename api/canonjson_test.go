package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// slowRequestHash is requestHash as it was before canonicalJSON: the
// stored records' hashes were taken this way, so the two must agree on
// every body.
func slowRequestHash(method, path string, body []byte) string {
	var v any
	if json.Unmarshal(body, &v) == nil {
		if canon, err := json.Marshal(v); err == nil {
			body = canon
		}
	}
	h := sha256.New()
	h.Write([]byte(method + " " + path + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

var canonicalSeeds = []string{
	``, ` `, `{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1`, `-1.5`, `1e21`, `1e20`, `123456789012345678901234567890`,
	`1e-7`, `0.000001`, `1E400`, `-1e-400`, `1.0`, `100`, `3.14159265358979323846`, `"x"`, `""`,
	`{"b":1,"a":2}`, `{ "a" : [ 1 , 2 , {"z":null,"y":true} ] }`, `{"a":1,"a":2}`, `{"a":1}{}`, `{"a":1} x`, `{"a":1}  `,
	`{"a":"<b>&amp;</b>"}`, `{"<":1,"&":2,">":3,"a":4}`, `{"s":"line\nbreak\ttab\r\b\f"}`, `{"s":"\u0000\u001f\u007f"}`,
	`{"s":"\u2028\u2029"}`, "{\"s\":\"\u2028 raw\"}", `{"s":"\ud83d\ude00"}`, `{"s":"\ud800"}`, `{"s":"\udc00x"}`,
	`{"s":"\ud800\u0041"}`, "{\"s\":\"\xff\"}", "{\"s\xff\":1}", `{"s":"\/\"\\"}`, `{"é":"中文","e":"ascii"}`,
	`{"a":{"c":3,"b":{"e":5,"d":4}},"A":0}`, `[1,[2,[3,[4]]]]`, `{"a":}`, `{"a":1,}`, `[1,]`, `{'a':1}`, `{"a":01}`,
	`{"a":1.}`, `{"a":.5}`, `{"a":+1}`, `{"a":NaN}`, `{"a":tru}`, `"unterminated`, `{"a":"\x"}`, `{"a":"\u12"}`,
	"\t{\"a\":1}\n", `{"channel":"hotline","type":"repair","contact":{"name":"客户","phone":"13700000001"},"address":{"region_code":"370202","line":"人民路 8 号 2 单元 301"},"unit":{"model_id":"mdl_01","serial":"BN1"},"fault":{"symptom":"洗衣机不脱水","codes":["E21"],"customer_request":"上门维修"}}`,
}

func TestCanonicalJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range canonicalSeeds {
		require.Equal(t, slowRequestHash("POST", "/v1/x", []byte(s)), requestHash("POST", "/v1/x", []byte(s)), "body %q", s)
	}
	// The fast path takes the ordinary bodies (the fallback would hide a
	// slow path taken everywhere).
	for _, s := range []string{`{"b":1,"a":[true,null,"<x>"]}`, `{"s":"\u00e9\n"}`, canonicalSeeds[len(canonicalSeeds)-1]} {
		_, ok := canonicalJSON(nil, []byte(s))
		require.True(t, ok, "body %q", s)
	}
}

// TestCanonicalJSONMutations compares the two on many mutations of the
// seeds (a deterministic stand-in for the fuzzer in the ordinary suite).
func TestCanonicalJSONMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "{}[]:,\"\\ \t\nabcu0123456789.eE+-<>&dD8fF\xff\xe2\x80\xa8tnrul"
	for i := range 50000 {
		body := []byte(canonicalSeeds[i%len(canonicalSeeds)])
		for range 1 + r.IntN(4) {
			pos := 0
			if len(body) > 0 {
				pos = r.IntN(len(body) + 1)
			}
			c := alphabet[r.IntN(len(alphabet))]
			switch r.IntN(3) {
			case 0:
				body = append(body[:pos:pos], append([]byte{c}, body[pos:]...)...)
			case 1:
				if pos < len(body) {
					body = append(body[:pos:pos], body[pos+1:]...)
				}
			default:
				if pos < len(body) {
					body = append([]byte(nil), body...)
					body[pos] = c
				}
			}
		}
		require.Equal(t, slowRequestHash("POST", "/p", body), requestHash("POST", "/p", body), "body %q", body)
	}
}

func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range canonicalSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if want, got := slowRequestHash("POST", "/p", body), requestHash("POST", "/p", body); want != got {
			t.Fatalf("body %q: hash %s, want %s", body, got, want)
		}
	})
}

func BenchmarkRequestHash(b *testing.B) {
	body := []byte(canonicalSeeds[len(canonicalSeeds)-1])
	b.Run("canonical", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			requestHash("POST", "/v1/tickets", body)
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			slowRequestHash("POST", "/v1/tickets", body)
		}
	})
}
