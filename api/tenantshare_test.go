package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDefaultTenantConcurrency: half the pool, and never below
// MinTenantConcurrency, so that the pool sized to the cores by default
// (5 on two) does not make a tenant's share 2.
func TestDefaultTenantConcurrency(t *testing.T) {
	require.Equal(t, 10, MinTenantConcurrency)
	require.Equal(t, 10, defaultTenantConcurrency(5))
	require.Equal(t, 10, defaultTenantConcurrency(20))
	require.Equal(t, 15, defaultTenantConcurrency(30))
}
