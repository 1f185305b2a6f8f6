package i18n_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/i18n"
)

type shout struct {
	Code string
	Text string
}

func (s *shout) Localize(lang string) { s.Text = s.Code + "@" + lang }

type plain struct {
	Name  string
	Count int
	Tags  []string
}

type tree struct {
	Here     shout
	Children []*tree
	ByName   map[string]shout
	Anything any
}

func TestLocalizeAll(t *testing.T) {
	t.Parallel()
	t.Run("ReachesNestedValues", func(t *testing.T) {
		in := &tree{Here: shout{Code: "a"}, Children: []*tree{{Here: shout{Code: "b"}}},
			ByName: map[string]shout{"c": {Code: "c"}}, Anything: &shout{Code: "d"}}
		require.Same(t, in, i18n.LocalizeAll(in, "en"))
		require.Equal(t, "a@en", in.Here.Text)
		require.Equal(t, "b@en", in.Children[0].Here.Text)
		require.Equal(t, "d@en", in.Anything.(*shout).Text)
	})
	t.Run("CopiesAValue", func(t *testing.T) {
		in := tree{Here: shout{Code: "a"}}
		out := i18n.LocalizeAll(in, "zh-CN").(tree)
		require.Equal(t, "a@zh-CN", out.Here.Text)
		require.Empty(t, in.Here.Text, "the caller's value is not changed")
	})
	t.Run("LeavesTypesThatHoldNone", func(t *testing.T) {
		in := plain{Name: "x", Tags: []string{"y"}}
		require.Equal(t, in, i18n.LocalizeAll(in, "en"))
	})
}
