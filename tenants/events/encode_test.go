package events

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type state string

type textState string

func (s textState) MarshalText() ([]byte, error) { return []byte("T:" + string(s)), nil }

type ptrJSON string

func (s *ptrJSON) MarshalJSON() ([]byte, error) { return []byte(`"P"`), nil }

type failing struct{}

func (failing) MarshalJSON() ([]byte, error) { return nil, errors.New("no") }

// TestEncodeDataIsJSONMarshal: event data and the buffered records are
// written byte for byte as json.Marshal writes them.
func TestEncodeDataIsJSONMarshal(t *testing.T) {
	t.Parallel()
	st, pj := state("submitted"), ptrJSON("x")
	var nilState *state
	at := time.Date(2026, 12, 3, 22, 0, 0, 123456000, time.FixedZone("CST", 8*3600))
	for name, v := range map[string]any{
		"simple": map[string]any{"channel": "hotline", "type": "repair"},
		"claim": map[string]any{"claim_id": "clm_1", "kind": state("warranty"), "unit_id": "unt_1", "storefront_id": nilState,
			"node_id": (*string)(nil), "reference": "R-1", "version": 1, "from_state": &st, "to_state": st, "reason": "submitted"},
		"notification": map[string]any{"notification_id": "ntf_1", "params": map[string]any{"number": "T-1", "n": 2.5, "big": 1e21,
			"small": 1e-7, "neg": math.Copysign(0, -1), "list": []string{"a"}, "none": nil}, "expires_at": &at, "at": at, "never": (*time.Time)(nil)},
		"escapes":    map[string]any{"html": "<a href=\"x\">&</a>", "ctl": "a\nb\tc\u0001", "bad": "a\xffb", "sep": "x\u2028y", "fffd": "\ufffd", "中文": "客户"},
		"marshalers": map[string]any{"text": textState("a"), "ptr": &pj, "val": pj, "raw": json.RawMessage(` {"a" : 1} `), "nilraw": json.RawMessage(nil)},
		"numbers":    map[string]any{"i": int64(math.MaxInt64), "i32": int32(-5), "u": uint(7), "f32": float32(1.5), "b": true},
		"nested":     map[string]any{"a": map[string]any{"b": map[string]any{"c": map[string]any{}}}, "nilmap": map[string]any(nil)},
		"struct":     struct{ A string }{"x"},
		"string":     "just a string",
	} {
		want, err := json.Marshal(v)
		require.NoError(t, err, name)
		got, err := encodeData(v)
		require.NoError(t, err, name)
		require.Equal(t, string(want), string(got), name)
	}
	got, err := encodeData(nil)
	require.NoError(t, err)
	require.Equal(t, "{}", string(got))

	_, wantErr := json.Marshal(map[string]any{"f": failing{}})
	_, err = encodeData(map[string]any{"f": failing{}})
	require.Error(t, wantErr)
	require.Error(t, err)

	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	_, err = encodeData(cyclic)
	require.Error(t, err, "a cycle is refused, as json.Marshal refuses it")

	data, err := encodeData(map[string]any{"a": "<b>", "n": 1}) // records hold encodeData's output
	require.NoError(t, err)
	recs := []pendingRec{
		{ID: "evt_1", Type: "ticket.opened", SubjectID: "tkt_1", Actor: "key:k1", Data: data},
		{ID: "evt_2", Type: "notification.requested", SubjectID: "ntf_\"1", Actor: "", Data: json.RawMessage(`{}`)},
	}
	want, err := json.Marshal(recs)
	require.NoError(t, err)
	require.Equal(t, string(want), string(encodeRecs(recs)))
}
