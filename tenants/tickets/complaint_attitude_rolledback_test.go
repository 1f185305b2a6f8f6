package tickets_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Midea's promise 3 (seed 003): 服务中出现服务不规范、或服务态度差、或推诿不一票到底的，
// 则本次服务给用户免单 — non-standard service, a bad attitude or buck-passing make
// this service free. Upheld by an attitude complaint after the completion,
// the service's 170.00 (labour 120.00 + visit 50.00, out of warranty, the
// customer's) moves to the brand and is refunded to the customer by the
// brand, once; a rejected complaint changes nothing.
func TestRolledBackUpheldAttitudeComplaintWaivesTheService(t *testing.T) {
	e := newMoneyEnv(t)
	const paid = int64(washerLabour + washerVisit) // 170.00

	completed := func(t *testing.T) tickets.Ticket {
		t.Helper()
		tk := e.repair(t, e.onSite(t, "repair", e.unit(t, 1200, false), -6).ID)
		customer, brand, plan := totals(t, tk)
		require.Equal(t, paid, customer, "1200 days: out of warranty, the price list's labour and visit are the customer's")
		require.Zero(t, brand)
		require.Zero(t, plan)
		require.Empty(t, tk.Completion.Waivers, "on time, price list shown, checklist clean: no promise at completion")
		return tk
	}
	file := func(t *testing.T, tk tickets.Ticket, description string) complaints.ComplaintDetail {
		t.Helper()
		c, err := e.Complaints.FileComplaint(e.Ctx, e.Admin, complaints.NewComplaint{TicketID: tk.ID, Category: "attitude",
			Severity: "high", Description: description})
		require.NoError(t, err)
		return c
	}
	refunds := func(t *testing.T, tk tickets.Ticket) []payouts.Payout {
		t.Helper()
		ps, _, err := e.Payouts.ListPayouts(e.Ctx, e.Admin, payouts.Filter{UnitID: *tk.UnitID, Limit: 10})
		require.NoError(t, err)
		return ps
	}

	t.Run("UpheldAttitudeRefundsTheCustomerOnce", func(t *testing.T) {
		tk := completed(t)
		c := file(t, tk, "师傅态度恶劣，推诿说不归他修")
		c, err := e.Complaints.ResolveWith(e.Ctx, e.Admin, c.ID, complaints.ResolveInput{Resolution: "核实属实，全额退还服务费", Upheld: true}, 0)
		require.NoError(t, err)
		require.NotNil(t, c.Waiver, "an upheld attitude complaint applies promise 3's conduct clause")
		require.Equal(t, "conduct_breach", *c.Waiver)
		require.NotNil(t, c.RefundPayoutID)
		refund, err := e.Payouts.GetPayout(e.Ctx, e.Admin, *c.RefundPayoutID)
		require.NoError(t, err)
		require.Equal(t, paid, refund.Amount.Amount, "the 170.00 the customer paid comes back")
		require.Equal(t, payouts.PayerBrand, refund.Payer, "the brand bears the waived service")
		require.Equal(t, *tk.UnitID, refund.UnitID)
		require.Nil(t, refund.ContractID, "no plan pays a service promise")

		tk, err = e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		customer, brand, plan := totals(t, tk)
		require.Zero(t, customer, "the service is free")
		require.Equal(t, paid, brand, "the brand pays labour 120.00 + visit 50.00")
		require.Zero(t, plan)
		require.Equal(t, []string{"conduct_breach"}, waiverCodes(tk))

		// Once: the customer rates the resolution low (reopened), it is
		// upheld again; a second attitude complaint is upheld too.
		c2, err := e.Complaints.Rate(e.Ctx, e.Admin, c.ID, 1, "还是不满意", 0)
		require.NoError(t, err)
		require.Equal(t, complaints.StateReopened, c2.State)
		c2, err = e.Complaints.ResolveWith(e.Ctx, e.Admin, c.ID, complaints.ResolveInput{Resolution: "网点经理再次致歉", Upheld: true}, 0)
		require.NoError(t, err)
		require.Equal(t, *c.RefundPayoutID, *c2.RefundPayoutID, "the same refund, not a second one")
		other := file(t, tk, "客服推诿，不一票到底")
		other, err = e.Complaints.ResolveWith(e.Ctx, e.Admin, other.ID, complaints.ResolveInput{Resolution: "核实属实", Upheld: true}, 0)
		require.NoError(t, err)
		require.Nil(t, other.RefundPayoutID, "nothing left to refund")
		require.Len(t, refunds(t, tk), 1, "one refund of 170.00 for the service")

		// The ticket reopened and completed again is the same service:
		// still free, nothing more owed or refunded.
		tk, err = e.Tickets.Reopen(e.Ctx, e.Admin, tk.ID, tickets.ReopenInput{Reason: "客户不满意：仍不排水"}, 0)
		require.NoError(t, err)
		e.visit(t, tk.ID, -6, false)
		tk = e.repair(t, tk.ID)
		customer, brand, plan = totals(t, tk)
		require.Zero(t, customer, "the waiver holds for the service served again")
		require.Equal(t, paid, brand)
		require.Zero(t, plan)
		require.Len(t, refunds(t, tk), 1)
	})

	t.Run("RejectedAttitudeChangesNothing", func(t *testing.T) {
		tk := completed(t)
		c := file(t, tk, "师傅说话不客气")
		c, err := e.Complaints.ResolveWith(e.Ctx, e.Admin, c.ID, complaints.ResolveInput{Resolution: "经核实不属实"}, 0)
		require.NoError(t, err)
		require.Nil(t, c.Waiver)
		require.Nil(t, c.RefundPayoutID)
		require.Empty(t, refunds(t, tk))
		tk, err = e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		customer, brand, _ := totals(t, tk)
		require.Equal(t, paid, customer, "the customer's 170.00 stands")
		require.Zero(t, brand)
		require.Empty(t, tk.Completion.Waivers)
	})
}

// The visit checklist and an upheld conduct complaint name the same
// breaches: the checklist takes the complaint's names (accepting_gifts,
// abandoned_service), and still the names it published first
// (accepted_gift, refused_to_finish), stored under the shared names.
func TestRolledBackChecklistBreachNamesMatchComplaints(t *testing.T) {
	e := newMoneyEnv(t)
	require.Equal(t, complaints.Breaches, tickets.ConductBreaches, "one list of conduct breaches")
	for _, c := range []struct {
		name     string
		breaches []string
		stored   []string
	}{
		{"SharedNames", []string{"accepting_gifts", "abandoned_service"}, []string{"accepting_gifts", "abandoned_service"}},
		{"OldNamesAreAliases", []string{"refused_to_finish", "accepted_gift"}, []string{"abandoned_service", "accepting_gifts"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
			in := tickets.VisitChecklist{LicenceShown: true, LicenceMatches: true, ChargesWithinPriceList: true,
				ConductBreaches: c.breaches, ConfirmedBy: "customer"}
			_, err := e.Tickets.RecordChecklist(e.Ctx, e.Admin, tk.ID, in, 0)
			require.NoError(t, err)
			vs, err := e.Tickets.Visits(e.Ctx, e.Admin, tk.ID)
			require.NoError(t, err)
			require.NotEmpty(t, vs)
			cl := vs[len(vs)-1].Checklist
			require.NotNil(t, cl)
			require.Equal(t, c.stored, cl.ConductBreaches)
			tk = e.repair(t, tk.ID)
			customer, brand, _ := totals(t, tk)
			require.Zero(t, customer, "a conduct breach makes the service free")
			require.Equal(t, int64(washerLabour+washerVisit), brand)
			require.Equal(t, []string{"conduct_breach"}, waiverCodes(tk))
		})
	}
	t.Run("AnAliasAndItsNameAreListedTwice", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		_, err := e.Tickets.RecordChecklist(e.Ctx, e.Admin, tk.ID, tickets.VisitChecklist{LicenceShown: true, LicenceMatches: true,
			ChargesWithinPriceList: true, ConductBreaches: []string{"accepted_gift", "accepting_gifts"}, ConfirmedBy: "audit"}, 0)
		require.Error(t, err)
		require.Contains(t, err.Error(), "conduct_breaches[1]")
	})
}
