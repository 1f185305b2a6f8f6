package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A maintenance or installation report that prices the service again is
// shown again: an earlier report's showing of the price list does not
// cover parts and a visit added after it (rule 8, Midea's promise 3: 未出示
// 收费标准…本次服务给用户免单), as a diagnosis's does not.
func TestServiceReportShownAgain(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.onSite(t, "maintenance", e.unit(t, 1200, false), -6)
	first, err := e.Tickets.MaintenanceReport(e.Ctx, e.Admin, tk.ID, tickets.ServiceReport{
		Checklist: []tickets.ChecklistItem{{Item: "清洗内筒", Done: true}}, PriceListShown: true}, 0)
	require.NoError(t, err)
	labour := first.Entitlement.Decision.Totals.Customer.Amount
	require.Positive(t, labour, "the maintenance labour is the customer's, shown")

	_, err = e.Tickets.MaintenanceReport(e.Ctx, e.Admin, tk.ID, tickets.ServiceReport{
		Checklist:    []tickets.ChecklistItem{{Item: "清洗内筒", Done: true}},
		Parts:        []catalog.QuotePart{{PartID: e.part(t, drainPumpNo), Quantity: 1}},
		IncludeVisit: true, PriceListShown: false}, 0)
	require.NoError(t, err)
	e.set(e.now().Add(30 * time.Minute))
	tk, err = e.Tickets.Complete(e.Ctx, e.Admin, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
	require.NoError(t, err)
	customer, brand, plan := totals(t, tk)
	require.Zero(t, customer, "the second report's price list was not shown: the service is free")
	require.Equal(t, labour+washerVisit+8500, brand, "the brand bears labour, visit 50.00 and the pump 85.00")
	require.Zero(t, plan)
	require.Contains(t, waiverCodes(tk), "price_list_not_shown")
}
