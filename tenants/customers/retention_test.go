package customers_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/privacy"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// TestRetentionMasksCustomersNoLongerServed: the privacy policy's
// retention_days masks at rest a customer the brand last served longer ago
// (name, phones, addresses; in the customer and its audit entries), and
// releases its phones: a lookup by phone, the brand's or a storefront's, no
// longer finds it. A customer with a ticket closed within the period, an
// open ticket, an open complaint, a unit under a key part's warranty or a contract ended
// within the period is kept. Reruns mask nothing more. Failed before:
// nothing masked customers, at any age (the retention masked tickets only).
func TestRetentionMasksCustomersNoLongerServed(t *testing.T) {
	e := domaintest.New(t)
	ctx := e.Ctx
	zone, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	// The job runs three years from now; retention 365 days: whatever the
	// brand last did for a customer before two years from now is past it.
	now := time.Now().AddDate(3, 0, 0)
	bought := time.Now().In(zone).AddDate(0, 0, -30).Format(time.DateOnly)

	m12, err := e.Catalog.CreateProductModel(ctx, e.Admin, catalog.NewProductModel{ModelNumber: "XQG100", Category: "washer",
		Name: "滚筒洗衣机", RetailPrice: domaintest.CNY(329900), WarrantyMonths: 12})
	require.NoError(t, err)
	compressor, err := e.Catalog.CreateProductModel(ctx, e.Admin, catalog.NewProductModel{ModelNumber: "BCD500", Category: "refrigerator",
		Name: "冰箱", RetailPrice: domaintest.CNY(599900), WarrantyMonths: 12,
		KeyParts: []catalog.KeyPartTerm{{PartCategory: "compressor", WarrantyMonths: 120}}})
	require.NoError(t, err)
	plan, err := e.Warranty.CreatePlan(ctx, e.Admin, warranty.NewPlan{Code: "EXT-2Y", Name: "两年延保", Kind: "extended_warranty",
		EligibleCategories: []string{"washer"}, DurationMonths: 24, Price: domaintest.CNY(19900)})
	require.NoError(t, err)

	customer := func(name, phone string) string {
		c, created, err := e.Customers.CreateCustomer(ctx, e.Admin, customers.NewCustomer{Name: name, Phones: []string{phone},
			Addresses: []customers.CustomerAddress{{RegionCode: "370212", Line: "崂山区海尔路1号 3单元 502", PostalCode: "266101"}}})
		require.NoError(t, err)
		require.True(t, created)
		return c.ID
	}
	unit := func(customerID, modelID, serial string) string {
		u, err := e.Customers.RegisterUnit(ctx, e.Admin, customers.NewUnit{ModelID: modelID, Serial: serial, CustomerID: customerID,
			PurchaseDate: bought, Channel: "retail", PurchasePrice: domaintest.CNY(329900)})
		require.NoError(t, err)
		return u.ID
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		require.NoError(t, pg.InTenantTx(ctx, e.Tx, e.Tenant, func(tx pg.TenantTx) error {
			_, err := tx.Exec(ctx, sql, append([]any{tx.TenantID}, args...)...)
			return err
		}))
	}
	ticket := func(customerID, state string, ended time.Time) string {
		id := tenants.NewID(tenants.PrefixTicket)
		exec(`INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id, contact, address, fault, created_by, closed_at, cancelled_at)
			VALUES ($1, $2, $3, 'hotline', 'repair', $4::text, $5, '{"name":"王丽","phone":"+8613800000000"}',
			        '{"region_code":"370212","line":"海尔路1号"}', '{"symptom":"no_power"}', 'test',
			        CASE WHEN $4::text = 'closed' THEN $6::timestamptz END, CASE WHEN $4::text = 'cancelled' THEN $6::timestamptz END)`,
			id, "SN-RET-"+strings.ToUpper(id[len(id)-16:]), state, customerID, ended)
		return id
	}

	gone := customer("王丽", "13800000001")
	goneUnit := unit(gone, m12.ID, "RET-GONE")
	ticket(gone, "closed", now.AddDate(0, 0, -400))
	ticket(gone, "cancelled", now.AddDate(0, 0, -500))
	never := customer("赵六", "13800000002") // never bought or called
	recent := customer("钱七", "13800000003")
	ticket(recent, "closed", now.AddDate(0, 0, -10))
	open := customer("孙八", "13800000004")
	ticket(open, "closed", now.AddDate(0, 0, -400))
	ticket(open, "resolved", time.Time{})
	complained := customer("郑十一", "13800000007")
	exec(`INSERT INTO complaints (tenant_id, id, customer_id, ticket_id, category, severity, description, state, sla_due_at, created_by)
		VALUES ($1, $2, $3, $4, 'attitude', 'medium', '师傅态度差', 'investigating', now(), 'test')`,
		tenants.NewID(tenants.PrefixComplaint), complained, ticket(complained, "closed", now.AddDate(0, 0, -400)))
	keyPart := customer("周九", "13800000005")
	unit(keyPart, compressor.ID, "RET-KEYPART")
	contract := customer("吴十", "13800000006")
	ended := now.In(zone).AddDate(0, 0, -100).Format(time.DateOnly) // the plan covered it until 100 days ago
	exec(`INSERT INTO contracts (tenant_id, id, unit_id, plan_id, sold_on, price, currency, starts_on, ends_on, state, created_by)
		VALUES ($1, $2, $3, $4, $5::date, 19900, 'CNY', $5::date, $6::date, 'active', 'test')`,
		tenants.NewID(tenants.PrefixContract), unit(contract, m12.ID, "RET-CONTRACT"), plan.ID, bought, ended)
	// A storefront's own customer with a phone the brand's open customer
	// owns: its view of the phone (customer_storefront_phones) goes with it.
	sf, err := e.Customers.CreateStorefront(ctx, e.Admin, customers.NewStorefront{Code: "TMALL", Name: "天猫旗舰店", Platform: "tmall"})
	require.NoError(t, err)
	sfKey := e.As(tenants.Principal{StorefrontID: sf.ID}, tenants.RoleStorefront)
	sfOwn, created, err := e.Customers.CreateCustomer(ctx, sfKey, customers.NewCustomer{Name: "孙八", Phones: []string{"13800000004"}})
	require.NoError(t, err)
	require.True(t, created)

	n, err := e.Customers.ApplyRetention(ctx, e.Tenant, now)
	require.NoError(t, err)
	require.Zero(t, n, "no retention_days: data is kept")

	_, err = e.Privacy.Update(ctx, e.Admin, privacy.PolicyUpdate{RetentionDays: ptr(365)}, 0)
	require.NoError(t, err)
	n, err = e.Customers.ApplyRetention(ctx, e.Tenant, now)
	require.NoError(t, err)
	require.Equal(t, 3, n)

	get := func(id string) customers.Customer {
		c, err := e.Customers.GetCustomer(ctx, e.Admin, id)
		require.NoError(t, err)
		return c
	}
	c := get(gone)
	assert.Equal(t, "王*", c.Name)
	assert.Equal(t, []string{"138****0001"}, c.Phones)
	assert.Equal(t, []customers.CustomerAddress{{RegionCode: "370212", Line: "崂山区****"}}, c.Addresses)
	assert.True(t, c.Masked)
	assert.NotNil(t, c.MaskedAt)
	assert.Nil(t, c.ErasedAt, "masked, not erased")
	assert.Equal(t, 2, c.Version)
	assert.Equal(t, "赵*", get(never).Name)
	assert.Equal(t, "孙*", get(sfOwn.ID).Name, "the storefront's own customer, served by nobody")
	for id, name := range map[string]string{recent: "钱七", open: "孙八", complained: "郑十一", keyPart: "周九", contract: "吴十"} {
		c := get(id)
		assert.Equal(t, name, c.Name, "kept")
		assert.Nil(t, c.MaskedAt)
		assert.False(t, c.Masked)
	}

	// The phones find nobody masked; the kept customer still by its own.
	found := func(p tenants.Principal, phone string) []string {
		cs, _, err := e.Customers.ListCustomers(ctx, p, customers.CustomerFilter{Phone: phone})
		require.NoError(t, err)
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		return ids
	}
	assert.Empty(t, found(e.Admin, "13800000001"))
	assert.Empty(t, found(e.Admin, "13800000002"))
	assert.Equal(t, []string{open}, found(e.Admin, "13800000004"), "the brand finds the kept owner only")
	assert.Empty(t, found(sfKey, "13800000004"), "the storefront's view of the phone went with its customer")
	assert.Zero(t, e.Count(t, `SELECT count(*) FROM customer_phones WHERE tenant_id = $1 AND customer_id = ANY ($2)`,
		[]string{gone, never, sfOwn.ID}))
	assert.Zero(t, e.Count(t, `SELECT count(*) FROM customer_storefront_phones WHERE tenant_id = $1 AND customer_id = $2`, sfOwn.ID))
	// The audit log holds no more of the masked customers than they do.
	for _, s := range []string{"8613800000001", "王丽", "海尔路", "266101", "赵六"} {
		assert.Zero(t, e.Count(t, `SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND object_type = 'customers'
			AND object_id = ANY ($2) AND strpos(coalesce(created_row::text, '') || changes::text, $3) > 0`,
			[]string{gone, never}, s), "%q left in the audit log of a masked customer", s)
	}
	assert.Positive(t, e.Count(t, `SELECT count(*) FROM audit_log WHERE tenant_id = $1 AND object_type = 'customers'
		AND object_id = $2 AND strpos(coalesce(created_row::text, '') || changes::text, '8613800000003') > 0`, recent),
		"the kept customer's log is kept")

	n, err = e.Customers.ApplyRetention(ctx, e.Tenant, now)
	require.NoError(t, err)
	require.Zero(t, n, "a masked customer is not masked again")

	// A masked customer is not updated (its masked phones are no phones):
	// 409, unchanged. Its phone registers a new customer, to whom its unit
	// moves.
	name := "王丽"
	_, err = e.Customers.UpdateCustomer(ctx, e.Admin, gone, customers.CustomerUpdate{Name: &name}, 0)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, tenants.CodeConflict, te.Code)
	assert.Equal(t, 2, get(gone).Version)
	again, created, err := e.Customers.CreateCustomer(ctx, e.Admin, customers.NewCustomer{Name: "王丽", Phones: []string{"13800000001"}})
	require.NoError(t, err)
	assert.True(t, created)
	assert.NotEqual(t, gone, again.ID)
	u, err := e.Customers.UpdateUnit(ctx, e.Admin, goneUnit, customers.UnitUpdate{CustomerID: &again.ID}, 0)
	require.NoError(t, err)
	assert.Equal(t, again.ID, u.CustomerID)
}

func ptr[T any](v T) *T { return &v }
