package customers

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// TestWarrantyEndSQLIsTheEnginesTermEnd: the retention's SQL for a
// term's last day (termEndSQL) gives entitlement.TermEnd's day for every purchase
// date of 2027-2028 (a leap year's February included) and every term of 0
// to 40 months.
func TestWarrantyEndSQLIsTheEnginesTermEnd(t *testing.T) {
	t.Parallel()
	tx := pgtest.Tx(t)
	rows, err := tx.Query(context.Background(), `SELECT u.purchase_date, m.warranty_months, `+termEndSQL("u.purchase_date", "m.warranty_months")+`
		FROM (SELECT d::date AS purchase_date FROM generate_series('2027-01-01'::date, '2028-12-31'::date, '1 day') AS d) AS u
		CROSS JOIN generate_series(0, 40) AS m(warranty_months)`)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var bought, end time.Time
		var months int
		require.NoError(t, rows.Scan(&bought, &months, &end))
		require.Equal(t, entitlement.TermEnd(bought, months).Format(time.DateOnly), end.Format(time.DateOnly),
			"%s + %d months", bought.Format(time.DateOnly), months)
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 731*41, n)
}
