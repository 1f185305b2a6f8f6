package api_test

import (
	"os"
	"testing"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestMain stops the server the tests share (apitest.Shared) and drops its
// database after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	apitest.StopShared()
	os.Exit(code)
}
