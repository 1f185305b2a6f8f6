package api_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/servicenet/servicenet/internal/apitest"
)

// TestMain stops the server the tests share (apitest.Shared) after the
// tests, checks the events they left against the event catalog, and drops
// its database; events not as the catalog says fail the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := apitest.StopShared(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the tests on apitest.Shared: %v\n", err)
		code = 1
	}
	os.Exit(code)
}
