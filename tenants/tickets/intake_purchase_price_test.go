package tickets_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// intakeUnit is the model and a new serial of the washer bought daysAgo
// days ago, to register at intake, at price when not nil; retail is the
// model's retail price, which the invoice's price differs from.
func (e *moneyEnv) intakeUnit(t *testing.T, daysAgo int, price *tenants.Money) (unit tickets.UnitDetails, retail tenants.Money) {
	t.Helper()
	m, err := e.Catalog.GetProductModel(e.Ctx, e.Admin, e.washer)
	require.NoError(t, err)
	e.serial++
	return tickets.UnitDetails{ModelID: e.washer, Serial: fmt.Sprintf("INV-%04d", e.serial),
		PurchaseDate: domaintest.Today(-daysAgo), PurchasePrice: price}, m.RetailPrice
}

// requireStatutoryRefund asserts that tk was refunded as a statutory
// return: paid in full, by the brand.
func (e *moneyEnv) requireStatutoryRefund(t *testing.T, tk tickets.Ticket, paid tenants.Money) {
	t.Helper()
	require.Equal(t, "statutory_return", string(tk.Entitlement.Decision.Basis))
	require.Equal(t, paid, *tk.Service.Outcome.Refund, "the price paid, in full")
	p, err := e.Payouts.GetPayout(e.Ctx, e.Admin, *tk.Service.Outcome.PayoutID)
	require.NoError(t, err)
	require.Equal(t, payouts.PayerBrand, p.Payer, "a statutory return: the brand refunds")
	require.Equal(t, paid, p.Amount)
}

// returned picks up and inspects a return ticket (resellable, the fault
// confirmed as the product's when cause is given) and records its refund.
func (e *moneyEnv) returned(t *testing.T, tk tickets.Ticket, cause string) (tickets.Ticket, error) {
	t.Helper()
	_, err := e.Tickets.PickUp(e.Ctx, e.Admin, tk.ID, tickets.PickupInput{}, 0)
	require.NoError(t, err)
	tk, err = e.Tickets.Inspect(e.Ctx, e.Admin, tk.ID, tickets.InspectionInput{Resellable: true, FaultConfirmed: cause != "", Cause: cause}, 0)
	require.NoError(t, err)
	return e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refund"}, 0)
}

// A unit registered by a ticket's intake with the invoice's price (a
// promotion: 400.00 under the model's retail price) is refunded that
// price, not the list price. Rule 1: a performance fault on day 5 is a
// statutory return, refunded by the brand (refundPayer: no storefront's
// promise, no seller's error); rule 9: a storefront's sale returned for a
// change of mind on day 5 is refunded by the storefront that sold it.
func TestIntakePurchasePriceIsRefunded(t *testing.T) {
	t.Run("StatutoryReturnRefundsTheInvoicePriceFromTheBrand", func(t *testing.T) {
		e := newMoneyEnv(t)
		unit, retail := e.intakeUnit(t, 4, nil)
		paid := tenants.Money{Amount: retail.Amount - 40000, Currency: retail.Currency}
		unit.PurchasePrice = &paid
		tk := e.openOnSite(t, e.Admin, "return", unit, -6)
		require.NotNil(t, tk.UnitID)
		u, err := e.Customers.GetUnit(e.Ctx, e.Admin, *tk.UnitID)
		require.NoError(t, err)
		require.Equal(t, paid, u.PurchasePrice, "registered with the invoice's price")

		tk, err = e.returned(t, tk, "performance")
		require.NoError(t, err)
		e.requireStatutoryRefund(t, tk, paid)
	})
	t.Run("NoReasonReturnRefundsTheInvoicePriceFromTheStorefront", func(t *testing.T) {
		e := newMoneyEnv(t)
		unit, retail := e.intakeUnit(t, 4, nil)
		paid := tenants.Money{Amount: retail.Amount - 40000, Currency: retail.Currency}
		unit.PurchasePrice = &paid
		sf := e.As(tenants.Principal{StorefrontID: e.storefront}, tenants.RoleStorefront)
		tk, err := e.returned(t, e.openOnSite(t, sf, "return", unit, -6), "")
		require.NoError(t, err)
		require.Equal(t, "no_reason_return", string(tk.Entitlement.Decision.Basis))
		require.Equal(t, paid, *tk.Service.Outcome.Refund)
		require.Equal(t, "buyer", tk.Service.Outcome.Freight.Payer, "a change of mind: the buyer pays the freight")
		p, err := e.Payouts.GetPayout(e.Ctx, e.Admin, *tk.Service.Outcome.PayoutID)
		require.NoError(t, err)
		require.Equal(t, payouts.PayerStorefront, p.Payer, "the seller refunds its no-reason return")
		require.Equal(t, e.storefront, *p.StorefrontID)
		require.Equal(t, paid, p.Amount)
	})
}

// A purchase price that is negative, or in another currency than the
// tenant's, is refused naming unit.purchase_price: no ticket, no unit.
func TestIntakeRefusesABadPurchasePrice(t *testing.T) {
	for name, price := range map[string]tenants.Money{
		"Negative":      domaintest.CNY(-1),
		"OtherCurrency": {Amount: 259900, Currency: "USD"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newMoneyEnv(t)
			unit, _ := e.intakeUnit(t, 4, &price)
			tickets0 := e.Count(t, `SELECT count(*) FROM tickets WHERE tenant_id = $1`)
			_, err := e.Tickets.Open(e.Ctx, e.Admin, tickets.NewTicket{Channel: "hotline", Type: "return",
				Contact: tickets.TicketContact{Name: "钱七", Phone: "+86 139 1000 0000"},
				Address: tickets.ServiceAddress{RegionCode: e.region, Line: "建设路 1 号"}, Unit: unit})
			want := map[string]string{"Negative": "unit.purchase_price.amount", "OtherCurrency": "unit.purchase_price.currency"}[name]
			require.Equal(t, []string{want}, domaintest.Fields(t, err))
			require.Equal(t, tickets0, e.Count(t, `SELECT count(*) FROM tickets WHERE tenant_id = $1`))
			require.Zero(t, e.Count(t, `SELECT count(*) FROM units WHERE tenant_id = $1 AND serial = $2`, unit.Serial))
		})
	}
}

// Without the invoice's price, a unit registered at intake has its
// model's retail price, marked model_retail_price: not what the customer
// paid. Its return's refund (the price paid, rule 1) and a swap under a
// plan (a fee that is a share of the price, seed 002) are refused, naming
// purchase_price, and change nothing, until the brand sets the price from
// the invoice (updateUnit), which the refund then pays in full.
func TestIntakeWithoutPurchasePriceWaitsForTheInvoice(t *testing.T) {
	for name, set := range map[string]func(retail tenants.Money) tenants.Money{
		"TheBrandSetsTheInvoicePrice": func(retail tenants.Money) tenants.Money {
			return tenants.Money{Amount: retail.Amount - 40000, Currency: retail.Currency}
		},
		"TheBrandConfirmsTheRetailPrice": func(retail tenants.Money) tenants.Money { return retail },
	} {
		t.Run(name, func(t *testing.T) {
			e := newMoneyEnv(t)
			unit, retail := e.intakeUnit(t, 4, nil)
			tk := e.openOnSite(t, e.Admin, "return", unit, -6)
			u, err := e.Customers.GetUnit(e.Ctx, e.Admin, *tk.UnitID)
			require.NoError(t, err)
			require.Equal(t, retail, u.PurchasePrice)
			require.Equal(t, customers.PriceModelRetail, u.PurchasePriceSource)

			_, err = e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: u.ID, Reason: "unrepairable"})
			require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "a plan's fee is a share of the price paid: %v", err)
			require.Contains(t, err.Error(), "purchase_price")
			require.Zero(t, e.Count(t, `SELECT count(*) FROM swaps WHERE tenant_id = $1 AND unit_id = $2`, u.ID))

			_, refused := e.returned(t, tk, "performance")
			require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(refused), "%v", refused)
			require.Contains(t, refused.Error(), "purchase_price")
			require.Zero(t, e.Count(t, `SELECT count(*) FROM payouts WHERE tenant_id = $1 AND unit_id = $2`, u.ID), "no refund")

			paid := set(retail)
			u, err = e.Customers.UpdateUnit(e.Ctx, e.Admin, u.ID, customers.UnitUpdate{PurchasePrice: &paid}, 0)
			require.NoError(t, err)
			require.Equal(t, customers.PriceInvoice, u.PurchasePriceSource)
			require.Equal(t, paid, u.PurchasePrice)
			tk, err = e.Tickets.RecordOutcome(e.Ctx, e.Admin, tk.ID, tickets.OutcomeInput{Outcome: "refund"}, 0)
			require.NoError(t, err)
			e.requireStatutoryRefund(t, tk, paid)
		})
	}
}
