package notifications

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRenderReplacesWhatPlaceholderMatches: render gives what replacing
// each match of placeholder with its parameter gives.
func TestRenderReplacesWhatPlaceholderMatches(t *testing.T) {
	t.Parallel()
	params := map[string]string{"ticket_number": "T-1", "window": "9–12 时", "a": "{a}", "x_y": ""}
	for _, text := range []string{
		"", "plain", "工单 {ticket_number}：将于 {window} 上门。", "{ticket_number}", "{a}{a}{a}", "{{a}}", "{a", "a}", "{}", "{A}",
		"{a b}", "{missing} end", "{x_y}{", "{ticket_number}}", "{{", "}{a}{", "{a1}", "{_}", "中{a}文",
	} {
		want := placeholder.ReplaceAllStringFunc(text, func(m string) string { return params[m[1:len(m)-1]] })
		require.Equal(t, want, render(text, params), "%q", text)
	}
}
