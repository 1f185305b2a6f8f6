package domaintest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/customers"
)

// The demo brand is there, with one washer technician per node that can
// take a washer repair in Region, and a test's changes are its own.
func TestNewDemo(t *testing.T) {
	for _, name := range []string{"First", "Second"} {
		t.Run(name, func(t *testing.T) { // one NewDemo a (sub)test: each holds the demo's turn to its end
			e, d := domaintest.NewDemo(t)
			require.NotEmpty(t, d.Washer)
			require.NotEmpty(t, d.Storefront)
			require.NotEmpty(t, d.Nodes)
			require.Len(t, d.Technicians, len(d.Nodes))
			require.Positive(t, e.Count(t, `SELECT count(*) FROM nodes WHERE tenant_id = $1`))
			require.Positive(t, e.Count(t, `SELECT count(*) FROM part_stock WHERE tenant_id = $1`))
			require.Positive(t, e.Count(t, `SELECT count(*) FROM contracts WHERE tenant_id = $1`))
			require.Zero(t, e.Jobs(t, "network_import"), "the seed's jobs are not left for tests to count")
			require.Zero(t, e.Count(t, `SELECT count(*) FROM customers WHERE tenant_id = $1 AND name = '隔离测试'`),
				"the first test's customer was rolled back")
			_, _, err := e.Customers.CreateCustomer(e.Ctx, e.Admin, customers.NewCustomer{Name: "隔离测试", Phones: []string{"13700137000"}})
			require.NoError(t, err)
		})
	}
}
