package warranty_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// A refrigerator with 13 months' manufacturer warranty bought on 31
// January 2024: the warranty's last month, February 2025, has no 31st, so
// it ends on that month's last day, 2025-02-28 (as PostgreSQL's month
// arithmetic, the retention and every customer read it), not on 2 March.
// A one-year extended warranty sold with it starts the day after, 1 March
// 2025, and ends 2026-02-28; the contract stores that window and the
// unit_contract_ends view the retention reads says the same last day. On
// 28 February the brand repairs a performance fault; on 1 March the plan
// repairs dust free. Failed before: the engine ran the warranty through
// 2025-03-02 and the plan 2025-03-03..2026-03-02.
func TestExtendedWarrantyAfterAThirteenMonthWarrantyFromJanuary31(t *testing.T) {
	t.Parallel()
	e := domaintest.New(t)
	ctx := e.Ctx
	model, board := e.Product(t, "BCD-13M", "refrigerator", 13, "control_board", 30000)
	_, err := e.Catalog.CreatePriceList(ctx, e.Admin, catalog.NewPriceList{EffectiveFrom: domaintest.Today(0),
		Labor:     []catalog.LaborRate{{Category: "refrigerator", ServiceKind: "repair", Amount: cny(15000)}},
		VisitFees: []catalog.VisitFee{{Category: "refrigerator", Amount: cny(5000)}}})
	require.NoError(t, err)
	q, err := e.Catalog.CreateQuote(ctx, e.Admin, catalog.NewQuote{ModelID: model, ServiceKind: "repair", IncludeVisit: true,
		Parts: []catalog.QuotePart{{PartID: board, Quantity: 1}}})
	require.NoError(t, err)
	plan, err := e.Warranty.CreatePlan(ctx, e.Admin, warranty.NewPlan{Code: "EXT-1Y", Name: "一年延保", Kind: "extended_warranty",
		EligibleCategories: []string{"refrigerator"}, DurationMonths: 12, Price: cny(19900)})
	require.NoError(t, err)
	u, err := e.Customers.RegisterUnit(ctx, e.Admin, customers.NewUnit{ModelID: model, Serial: "BCD-13M-0001",
		Customer:     &customers.NewCustomer{Name: "孙八", Phones: []string{"+86 138 0000 1301"}},
		PurchaseDate: "2024-01-31", PurchasePrice: cny(299900), Channel: "brand_store"})
	require.NoError(t, err)

	c, err := e.Warranty.CreateContract(ctx, e.Admin, warranty.NewContract{UnitID: u.ID, PlanID: plan.ID, SoldOn: "2024-01-31"})
	require.NoError(t, err)
	require.Equal(t, "2025-03-01", c.StartsOn, "the day after the manufacturer warranty's last day, 28 February")
	require.Equal(t, "2026-02-28", c.EndsOn, "one year")
	var viewEnd time.Time
	require.NoError(t, pg.InTenantTx(ctx, e.Tx, e.Tenant, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT ends_on FROM unit_contract_ends WHERE tenant_id = $1 AND contract_id = $2`, tx.TenantID, c.ID).Scan(&viewEnd)
	}))
	require.Equal(t, "2026-02-28", viewEnd.Format(time.DateOnly))

	decide := func(cause, on string) warranty.Entitlement {
		t.Helper()
		d, err := e.Warranty.Decide(ctx, e.Admin, warranty.DecideRequest{UnitID: u.ID, QuoteID: q.ID, On: on,
			Fault: warranty.FaultReport{Cause: cause, PartCategories: []string{"control_board"}}})
		require.NoError(t, err)
		return d
	}
	d := decide("performance", "2025-02-28")
	require.Equal(t, "2025-02-28", d.ManufacturerEnd)
	require.Equal(t, entitlement.BasisManufacturerWarranty, d.Decision.Basis)
	payers(t, d.Decision, 0, 50000, 0)
	d = decide("environmental_dust", "2025-02-28")
	require.Equal(t, entitlement.BasisNotCovered, d.Decision.Basis, "dust inside the manufacturer warranty, before the plan starts")
	payers(t, d.Decision, 50000, 0, 0)
	d = decide("environmental_dust", "2025-03-01")
	require.Equal(t, entitlement.BasisExtendedWarranty, d.Decision.Basis)
	require.Equal(t, c.ID, d.Decision.ContractID)
	payers(t, d.Decision, 0, 0, 50000)
	d = decide("environmental_dust", "2026-03-01")
	require.Equal(t, entitlement.BasisOutOfWarranty, d.Decision.Basis, "the plan's year ended on 28 February")
	payers(t, d.Decision, 50000, 0, 0)
}
