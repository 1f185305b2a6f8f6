package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestPoolSize: the pool is 20 by default, 2 at least; fewer is refused at
// start, naming the variable.
func TestPoolSize(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.EqualValues(t, 20, c.DBMaxConns)

	c, err = Load(env(map[string]string{"SERVICENET_DB_MAX_CONNS": "2"}))
	require.NoError(t, err)
	require.EqualValues(t, 2, c.DBMaxConns)

	for _, v := range []string{"1", "1.9", "0", "-3", "many"} {
		_, err = Load(env(map[string]string{"SERVICENET_DB_MAX_CONNS": v}))
		require.ErrorContains(t, err, "SERVICENET_DB_MAX_CONNS", v)
	}
}
