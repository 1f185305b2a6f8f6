package config

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestPoolSize: the pool is twice the process's cores plus one by default
// (4 at least), 2 at least when set; fewer is refused at start, naming the
// variable.
func TestPoolSize(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, DefaultDBMaxConns(), c.DBMaxConns)
	prev := runtime.GOMAXPROCS(1)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	require.EqualValues(t, 4, DefaultDBMaxConns())
	runtime.GOMAXPROCS(8)
	require.EqualValues(t, 17, DefaultDBMaxConns())

	c, err = Load(env(map[string]string{"SERVICENET_DB_MAX_CONNS": "2"}))
	require.NoError(t, err)
	require.EqualValues(t, 2, c.DBMaxConns)

	for _, v := range []string{"1", "1.9", "0", "-3", "many"} {
		_, err = Load(env(map[string]string{"SERVICENET_DB_MAX_CONNS": v}))
		require.ErrorContains(t, err, "SERVICENET_DB_MAX_CONNS", v)
	}
}
