package tickets_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// An installation reported on a day whose price list has no installation
// labour for washers is not charged 0.00, and the refusal names no field
// the report does not have (its kind is the ticket's, not the
// technician's to choose): a conflict naming the missing rate, nothing
// written.
func TestInstallationReportWithoutALabourRate(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.onSite(t, "install", e.unit(t, 10, false), -6)
	day := e.start.Format("2006-01-02")
	cur, err := e.Catalog.GetEffectivePriceList(e.Ctx, e.Admin, day)
	require.NoError(t, err)
	next := catalog.NewPriceList{EffectiveFrom: day, DefaultVisitFee: cur.DefaultVisitFee, VisitFees: cur.VisitFees, Parts: cur.Parts}
	for _, l := range cur.Labor {
		if l.Category != "washer" || l.ServiceKind != "install" {
			next.Labor = append(next.Labor, l)
		}
	}
	_, err = e.Catalog.CreatePriceList(e.Ctx, e.Admin, next)
	require.NoError(t, err)

	report := tickets.InstallReport{Position: "阳台左侧", PositionAgreed: true,
		TestRun: tickets.TestRun{Passed: true}, CustomerInstructed: true, PriceListShown: true}
	_, err = e.Tickets.InstallationReport(e.Ctx, e.Admin, tk.ID, report, 0)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, tenants.CodeConflict, te.Code, "%v", err)
	require.Empty(t, te.Fields, "the report has no service_kind: %v", err)
	require.NotNil(t, te.Msg)
	require.Equal(t, "catalog.no_labor_rate", te.Msg.Code)
	got, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tk.Version, got.Version, "nothing written")
	require.Nil(t, got.QuoteID)
}
