package customers_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// TestRetentionKeepsTheWarrantyTheEngineComputes: the retention keeps a
// customer through the last day of their unit's manufacturer warranty (the
// model_warranty_terms view: the whole unit's term or a longer key part's)
// exactly as the entitlement engine computes it, and masks them the day
// after. A term from a day its last month does not have (31 January + 1
// month) ends on that month's last day: 28 February, 29 in a leap year.
// Failed before: the query counted PostgreSQL's clamped month and then a
// day back (31 January + 1 month kept the customer through 27 February
// only, and 31 March + 1 month through 29 April), while the engine covered
// the unit through 2 March (and 30 April).
func TestRetentionKeepsTheWarrantyTheEngineComputes(t *testing.T) {
	t.Parallel()
	zone, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err)
		return d
	}
	for _, c := range []struct {
		bought          string
		months, keyPart int
		last            string
	}{
		{"2025-01-31", 1, 0, "2025-02-28"},
		{"2024-01-31", 1, 0, "2024-02-29"},
		{"2024-02-29", 12, 0, "2025-02-28"},
		{"2024-11-30", 3, 0, "2025-02-28"},
		{"2023-11-30", 3, 0, "2024-02-29"},
		{"2025-01-15", 1, 0, "2025-02-14"},
		{"2025-03-31", 1, 0, "2025-04-30"},
		{"2023-03-01", 12, 0, "2024-02-29"},
		{"2024-01-31", 13, 0, "2025-02-28"},
		{"2023-01-31", 25, 0, "2025-02-28"},
		{"2024-01-31", 12, 13, "2025-02-28"},
	} {
		t.Run(fmt.Sprintf("%s+%d+%d", c.bought, c.months, c.keyPart), func(t *testing.T) {
			t.Parallel()
			e := domaintest.New(t)
			ctx := e.Ctx
			months := c.months
			if c.keyPart > months {
				months = c.keyPart
			}
			require.Equal(t, c.last, warranty.ManufacturerWarrantyEnd(day(c.bought), months).Format(time.DateOnly), "the engine's last day")

			nm := catalog.NewProductModel{ModelNumber: "XQG-RET", Category: "washer", Name: "洗衣机",
				RetailPrice: domaintest.CNY(329900), WarrantyMonths: c.months}
			if c.keyPart > 0 {
				nm.KeyParts = []catalog.KeyPartTerm{{PartCategory: "motor", WarrantyMonths: c.keyPart}}
			}
			m, err := e.Catalog.CreateProductModel(ctx, e.Admin, nm)
			require.NoError(t, err)
			agedUnit(t, e, customers.NewUnit{ModelID: m.ID, Serial: "RET-TERM-1",
				Customer:     &customers.NewCustomer{Name: "王丽", Phones: []string{"13800000011"}},
				PurchaseDate: c.bought, Channel: "retail", PurchasePrice: domaintest.CNY(329900)})

			// masked says whether the retention, run at the start of on in
			// the tenant's zone, masks the customer (rolled back).
			rollback := errors.New("rollback")
			masked := func(on time.Time) bool {
				var n int
				err := pg.InTenantTx(ctx, e.Tx, e.Tenant, func(tx pg.TenantTx) error {
					var err error
					n, err = customers.MaskRetainedTx(ctx, tx, time.Date(on.Year(), on.Month(), on.Day(), 0, 0, 0, 0, zone), 10)
					if err != nil {
						return err
					}
					return rollback
				})
				require.ErrorIs(t, err, rollback)
				return n == 1
			}
			last := day(c.last)
			require.False(t, masked(last), "kept through the warranty's last day %s", c.last)
			require.True(t, masked(last.AddDate(0, 0, 1)), "masked the day after the warranty's last day %s", c.last)
		})
	}
}

// TestRetentionKeepsAPromotionsWarranty: a unit bought within a warranty
// promotion's window (seed 003: washers bought 3月1日-5月3日 get 三年免费保修)
// is under the brand's warranty for the promotion's term, as the engine
// decides it (warranty.EngineUnit) and the extended warranty counts it:
// the retention keeps its customer through the promotion's last day and
// masks them the day after; a unit bought outside the window has the
// model's 12 months. Failed before: the retention weighed the model's
// months only (model_warranty_terms) and masked the promotion's customer
// two years early, releasing their phone while the brand still owed the
// washer free repairs.
func TestRetentionKeepsAPromotionsWarranty(t *testing.T) {
	t.Parallel()
	e := domaintest.New(t)
	ctx := e.Ctx
	zone, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	m, err := e.Catalog.CreateProductModel(ctx, e.Admin, catalog.NewProductModel{ModelNumber: "MG100V58WT", Category: "washer",
		Name: "10kg 滚筒洗衣机", RetailPrice: domaintest.CNY(299900), WarrantyMonths: 12,
		WarrantyPromotions: []catalog.WarrantyPromotion{{Name: "非家电下乡洗衣机三年免费保修", PurchasedFrom: "2023-03-01",
			PurchasedThrough: "2023-05-03", WarrantyMonths: 36}}})
	require.NoError(t, err)
	customerOf := func(serial, bought, phone string) string {
		return agedUnit(t, e, customers.NewUnit{ModelID: m.ID, Serial: serial,
			Customer:     &customers.NewCustomer{Name: "孙八", Phones: []string{phone}},
			PurchaseDate: bought, Channel: "retail", PurchasePrice: domaintest.CNY(299900)}).CustomerID
	}
	inWindow := customerOf("MG-PROMO-0001", "2023-05-03", "13800000021")    // the window's last day: 36 months, through 2026-05-02
	afterWindow := customerOf("MG-PROMO-0002", "2023-05-04", "13800000022") // 12 months, through 2024-05-03

	rollback := errors.New("rollback")
	masked := func(on string) []string {
		d, err := time.ParseInLocation(time.DateOnly, on, zone)
		require.NoError(t, err)
		var ids []string
		err = pg.InTenantTx(ctx, e.Tx, e.Tenant, func(tx pg.TenantTx) error {
			if _, err := customers.MaskRetainedTx(ctx, tx, d, 10); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT id FROM customers WHERE tenant_id = $1 AND masked_at IS NOT NULL ORDER BY id`, tx.TenantID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				ids = append(ids, id)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			return rollback
		})
		require.ErrorIs(t, err, rollback)
		return ids
	}
	require.Empty(t, masked("2024-05-03"), "both under warranty")
	require.Equal(t, []string{afterWindow}, masked("2024-05-04"), "the model's 12 months are over; the promotion's are not")
	require.Equal(t, []string{afterWindow}, masked("2026-05-02"), "the promotion's last day")
	require.ElementsMatch(t, []string{inWindow, afterWindow}, masked("2026-05-03"))
}

// agedUnit registers in as e's admin, then dates the unit's registration
// and its customer's last change long before (2020): only the warranty
// keeps the customer from the retention.
func agedUnit(t *testing.T, e *domaintest.Env, in customers.NewUnit) customers.Unit {
	t.Helper()
	u, err := e.Customers.RegisterUnit(e.Ctx, e.Admin, in)
	require.NoError(t, err)
	require.NoError(t, pg.InTenantTx(e.Ctx, e.Tx, e.Tenant, func(tx pg.TenantTx) error {
		if _, err := tx.Exec(e.Ctx, `UPDATE units SET created_at = '2020-01-01' WHERE tenant_id = $1 AND id = $2`, tx.TenantID, u.ID); err != nil {
			return err
		}
		_, err := tx.Exec(e.Ctx, `UPDATE customers SET updated_at = '2020-01-01' WHERE tenant_id = $1 AND id = $2`, tx.TenantID, u.CustomerID)
		return err
	}))
	return u
}
