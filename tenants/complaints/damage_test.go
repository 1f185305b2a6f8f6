package complaints_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// conflictAt is the fields a conflict names.
func conflictAt(t *testing.T, err error) []string {
	t.Helper()
	return domaintest.FieldsOf(t, err, tenants.CodeConflict)
}

// TestPropertyDamageCompensatedAtAssessedValue: the Haier visit standard
// (seed 000) has the customer compensated at its value for property the
// service damaged (给用户家损坏东西应照价赔偿; 如果产品搬动复位时将地板、产品碰坏,
// 给用户照价赔偿), and a customer's demand for compensation is not
// promised on the spot but decided by the center (报中心请示后办理). A
// property_damage complaint against the visit's ticket carries the
// customer's claim; the center upholds it with the value it assessed, and
// exactly that is paid to the customer by the brand, once, linked to the
// complaint and the ticket. It is not a service promise: the ticket's
// charges stay as they were. Rejected, nothing is paid.
func TestPropertyDamageCompensatedAtAssessedValue(t *testing.T) {
	e, d := domaintest.NewDemo(t, app.Config{})
	var now time.Time
	e.Tickets.Now = func() time.Time {
		if now.IsZero() {
			return time.Now()
		}
		return now
	}
	agent := e.As(tenants.Principal{}, tenants.RoleAgent)
	start := apitest.WeekdayMorning(time.Now(), 2)
	window := tickets.Window{Start: start, End: start.Add(2 * time.Hour)}

	// opened opens a repair of an out-of-warranty washer (serial) wanted
	// in window: the ticket, its unit registered.
	opened := func(t *testing.T, serial string) tickets.Ticket {
		t.Helper()
		tk, err := e.Tickets.Open(e.Ctx, agent, tickets.NewTicket{Channel: "web", Type: "repair",
			Contact:         tickets.TicketContact{Name: "客户", Phone: "+86 138 5702 0000"},
			Address:         tickets.ServiceAddress{RegionCode: d.Region, Line: "建设路 2 号"},
			Unit:            tickets.UnitDetails{ModelID: d.Washer, Serial: serial, PurchaseDate: domaintest.Today(-1200)},
			Fault:           tickets.ReportedFault{Symptom: "不排水"},
			PreferredWindow: &window})
		require.NoError(t, err)
		require.NotNil(t, tk.UnitID)
		return tk
	}
	// scheduled routes the opened tk on site, its technician accepting it
	// and scheduling the visit in window: the ticket and the technician.
	scheduled := func(t *testing.T, tk tickets.Ticket) (tickets.Ticket, tenants.Principal) {
		t.Helper()
		tk, err := e.Tickets.Triage(e.Ctx, agent, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
		require.NoError(t, err)
		require.NotNil(t, tk.TechnicianID, "%v", tk.StateReason)
		tech := e.As(tenants.Principal{TechnicianID: *tk.TechnicianID}, tenants.RoleTechnician)
		_, err = e.Tickets.Accept(e.Ctx, tech, tk.ID, tickets.AcceptInput{}, 0)
		require.NoError(t, err)
		_, err = e.Tickets.Schedule(e.Ctx, tech, tk.ID, tickets.ScheduleInput{Window: window}, 0)
		require.NoError(t, err)
		return tk, tech
	}
	// repaired completes an out-of-warranty washer repair the customer pays
	// (labour and the visit by the demo price list): the ticket and its unit.
	repaired := func(t *testing.T, serial string) tickets.Ticket {
		t.Helper()
		now = time.Time{}
		tk, tech := scheduled(t, opened(t, serial))
		now = start.Add(-6 * time.Minute)
		_, err := e.Tickets.CheckIn(e.Ctx, tech, tk.ID, tickets.CheckInInput{}, 0)
		require.NoError(t, err)
		_, err = e.Tickets.Diagnose(e.Ctx, tech, tk.ID, tickets.DiagnoseInput{Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true},
			Work: tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}, PriceListShown: true}, 0)
		require.NoError(t, err)
		now = start.Add(time.Hour)
		tk, err = e.Tickets.Complete(e.Ctx, tech, tk.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("completed"), tk.State)
		require.NotNil(t, tk.UnitID)
		require.Equal(t, domaintest.CNY(17000), *tk.CustomerTotal, "out of warranty: labour 120.00 + visit 50.00, the customer's")
		now = time.Time{}
		return tk
	}
	unitPayouts := func(t *testing.T, unit string) []payouts.Payout {
		t.Helper()
		ps, _, err := e.Payouts.ListPayouts(e.Ctx, e.Admin, payouts.Filter{UnitID: unit})
		require.NoError(t, err)
		return ps
	}
	// unchangedCharges: the ticket's charges are what the completion settled.
	unchangedCharges := func(t *testing.T, before tickets.Ticket) {
		t.Helper()
		after, err := e.Tickets.Get(e.Ctx, agent, before.ID)
		require.NoError(t, err)
		require.Equal(t, domaintest.CNY(17000), *after.CustomerTotal, "the customer still pays labour and visit")
		require.Equal(t, before.Completion.Totals, after.Completion.Totals)
		require.Empty(t, after.Completion.Waivers, "property damage waives no charges")
	}
	damage := func(t *testing.T, tk tickets.Ticket, claimed *tenants.Money) complaints.ComplaintDetail {
		t.Helper()
		c, err := e.Complaints.FileComplaint(e.Ctx, agent, complaints.NewComplaint{TicketID: tk.ID, Category: "property_damage",
			Severity: "high", Description: "师傅搬动洗衣机复位时划伤了木地板", ClaimedAmount: claimed})
		require.NoError(t, err)
		return c
	}
	resolvedEvent := func(t *testing.T, id string) map[string]any {
		t.Helper()
		var raw []byte
		require.NoError(t, e.Tx.QueryRow(e.Ctx, `SELECT data FROM events WHERE tenant_id = $1 AND subject_id = $2
			AND type = 'complaint.resolved' ORDER BY seq DESC LIMIT 1`, e.Tenant, id).Scan(&raw))
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		return m
	}

	t.Run("UpheldPaysTheAssessedValueOnce", func(t *testing.T) {
		tk := repaired(t, "DMG-0001")
		claimed := domaintest.CNY(80000)
		c := damage(t, tk, &claimed)
		require.Equal(t, &claimed, c.ClaimedAmount, "the customer claims 800.00")
		require.Empty(t, unitPayouts(t, *tk.UnitID), "filing promises nothing")

		assessed := domaintest.CNY(65000)
		c, err := e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "中心核定地板修复费用 650 元，照价赔偿并致歉",
			Upheld: true, AssessedAmount: &assessed}, 0)
		require.NoError(t, err)
		require.Equal(t, complaints.StateResolved, c.State)
		require.Equal(t, &assessed, c.AssessedAmount)
		require.Equal(t, &claimed, c.ClaimedAmount)
		require.NotNil(t, c.CompensationPayoutID)
		require.Nil(t, c.Waiver, "not a service promise")
		require.Nil(t, c.RefundPayoutID)

		ps := unitPayouts(t, *tk.UnitID)
		require.Len(t, ps, 1, "one payout")
		p := ps[0]
		require.Equal(t, *c.CompensationPayoutID, p.ID)
		require.Equal(t, domaintest.CNY(65000), p.Amount, "the assessed 650.00, not the claimed 800.00")
		require.Equal(t, payouts.PayerBrand, p.Payer)
		require.Equal(t, &tk.ID, p.TicketID, "linked to the ticket")
		require.Nil(t, p.ContractID)
		require.Nil(t, p.ClaimID)
		require.Equal(t, payouts.StateScheduled, p.State)
		require.Contains(t, p.Reason, c.ID, "linked to the complaint")
		unchangedCharges(t, tk)

		ev := resolvedEvent(t, c.ID)
		require.Equal(t, map[string]any{"amount": float64(65000), "currency": "CNY"}, ev["assessed_amount"])
		require.Equal(t, p.ID, ev["compensation_payout_id"])

		// Upholding again is a conflict; reopened by a low rating and
		// upheld again, it pays nothing more, and another value is refused.
		_, err = e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "再次核定", Upheld: true, AssessedAmount: &assessed}, 0)
		require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
		_, err = e.Complaints.Rate(e.Ctx, agent, c.ID, 1, "赔偿太少", 0)
		require.NoError(t, err)
		more := domaintest.CNY(80000)
		_, err = e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "改按 800 元赔偿", Upheld: true, AssessedAmount: &more}, 0)
		require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
		c, err = e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "维持 650 元赔偿，再次致歉", Upheld: true}, 0)
		require.NoError(t, err)
		require.Equal(t, &assessed, c.AssessedAmount)
		require.Equal(t, p.ID, *c.CompensationPayoutID)
		require.Len(t, unitPayouts(t, *tk.UnitID), 1, "still one payout")
		unchangedCharges(t, tk)
	})

	t.Run("UpheldWithoutAssessedAmountIsRefused", func(t *testing.T) {
		tk := repaired(t, "DMG-0002")
		claimed := domaintest.CNY(80000)
		c := damage(t, tk, &claimed)
		for name, tc := range map[string]struct {
			amount *tenants.Money
			field  string
		}{
			"Missing":       {nil, "assessed_amount"},
			"Zero":          {&tenants.Money{Amount: 0, Currency: "CNY"}, "assessed_amount.amount"},
			"Negative":      {&tenants.Money{Amount: -100, Currency: "CNY"}, "assessed_amount.amount"},
			"OtherCurrency": {&tenants.Money{Amount: 65000, Currency: "USD"}, "assessed_amount.currency"},
		} {
			_, err := e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "核实属实", Upheld: true, AssessedAmount: tc.amount}, 0)
			require.Equal(t, []string{tc.field}, domaintest.Fields(t, err), name)
		}
		got, err := e.Complaints.GetComplaint(e.Ctx, agent, c.ID)
		require.NoError(t, err)
		require.Equal(t, complaints.StateOpen, got.State, "nothing changed")
		require.Equal(t, c.Version, got.Version)
		require.Nil(t, got.AssessedAmount)
		require.Nil(t, got.CompensationPayoutID)
		require.Empty(t, unitPayouts(t, *tk.UnitID))
		unchangedCharges(t, tk)
	})

	t.Run("RejectedPaysNothing", func(t *testing.T) {
		tk := repaired(t, "DMG-0003")
		claimed := domaintest.CNY(80000)
		c := damage(t, tk, &claimed)
		assessed := domaintest.CNY(65000)
		_, err := e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "地板划痕系原有", AssessedAmount: &assessed}, 0)
		require.Equal(t, []string{"assessed_amount"}, domaintest.Fields(t, err), "a rejection assesses nothing")
		c, err = e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "经核实地板划痕系原有，与本次服务无关"}, 0)
		require.NoError(t, err)
		require.Equal(t, complaints.StateResolved, c.State)
		require.Nil(t, c.AssessedAmount)
		require.Nil(t, c.CompensationPayoutID)
		require.Empty(t, unitPayouts(t, *tk.UnitID), "nothing paid")
		unchangedCharges(t, tk)
	})

	// A finding that moved money stays upheld: a complaint whose upholding
	// paid a compensation, or made its ticket's service free and refunded
	// the customer, reopened by a low rating and resolved again without
	// upholding it is a conflict. Otherwise it would read rejected (upheld
	// false, the breach gone) while its payout stands and its ticket stays
	// free: finance would see the brand paying for a complaint found
	// unjustified.
	t.Run("AFindingThatPaidCannotBeReversed", func(t *testing.T) {
		tk := repaired(t, "DMG-0005")
		c := damage(t, tk, nil)
		assessed := domaintest.CNY(65000)
		c, err := e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "照价赔偿 650 元", Upheld: true,
			AssessedAmount: &assessed}, 0)
		require.NoError(t, err)
		paid := *c.CompensationPayoutID

		conduct, err := e.Complaints.FileComplaint(e.Ctx, agent, complaints.NewComplaint{TicketID: tk.ID, Category: "conduct",
			Description: "师傅在家中吸烟"})
		require.NoError(t, err)
		conduct, err = e.Complaints.ResolveWith(e.Ctx, agent, conduct.ID, complaints.ResolveInput{Resolution: "核实属实，退还服务费",
			Upheld: true, Breach: "smoking"}, 0)
		require.NoError(t, err)
		require.NotNil(t, conduct.RefundPayoutID)
		refund := *conduct.RefundPayoutID
		ps := unitPayouts(t, *tk.UnitID)
		require.Len(t, ps, 2, "the compensation and the refund")
		for _, p := range ps {
			require.Equal(t, payouts.PayerBrand, p.Payer)
			if p.ID == refund {
				require.Equal(t, domaintest.CNY(17000), p.Amount, "labour 120.00 + visit 50.00 back to the customer")
			} else {
				require.Equal(t, domaintest.CNY(65000), p.Amount)
			}
		}

		for _, id := range []string{c.ID, conduct.ID} {
			_, err = e.Complaints.Rate(e.Ctx, agent, id, 1, "不满意", 0)
			require.NoError(t, err)
			before, err := e.Complaints.GetComplaint(e.Ctx, agent, id)
			require.NoError(t, err)
			_, err = e.Complaints.ResolveWith(e.Ctx, agent, id, complaints.ResolveInput{Resolution: "再次致歉"}, 0)
			require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "%v", err)
			got, err := e.Complaints.GetComplaint(e.Ctx, agent, id)
			require.NoError(t, err)
			require.Equal(t, complaints.StateReopened, got.State, "nothing changed")
			require.Equal(t, before.Version, got.Version)
			require.Equal(t, true, *got.Upheld)
		}
		c, err = e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "维持赔偿，再次致歉", Upheld: true}, 0)
		require.NoError(t, err)
		require.Equal(t, paid, *c.CompensationPayoutID)
		conduct, err = e.Complaints.ResolveWith(e.Ctx, agent, conduct.ID, complaints.ResolveInput{Resolution: "维持认定，再次致歉",
			Upheld: true, Breach: "smoking"}, 0)
		require.NoError(t, err)
		require.Equal(t, "smoking", *conduct.Breach)
		require.Equal(t, refund, *conduct.RefundPayoutID)
		require.Len(t, unitPayouts(t, *tk.UnitID), 2, "nothing paid twice")
	})

	// One damage is paid once (照价赔偿: the value of what was damaged, not
	// of each complaint about it). A second property_damage complaint about
	// the same ticket's visit, upheld as the first, would pay the scratched
	// floor twice: it is refused (409 on damaged_item, naming the earlier
	// complaint and its payout), nothing changed.
	t.Run("ASecondComplaintDoesNotPayTheSameDamageAgain", func(t *testing.T) {
		tk := repaired(t, "DMG-0006")
		claimed := domaintest.CNY(80000)
		first := damage(t, tk, &claimed)
		assessed := domaintest.CNY(65000)
		first, err := e.Complaints.ResolveWith(e.Ctx, agent, first.ID, complaints.ResolveInput{Resolution: "照价赔偿 650 元",
			Upheld: true, AssessedAmount: &assessed}, 0)
		require.NoError(t, err)
		paid := *first.CompensationPayoutID

		again := damage(t, tk, &claimed) // the customer calls again about the floor
		_, err = e.Complaints.ResolveWith(e.Ctx, agent, again.ID, complaints.ResolveInput{Resolution: "照价赔偿 650 元",
			Upheld: true, AssessedAmount: &assessed}, 0)
		require.Equal(t, []string{"damaged_item"}, conflictAt(t, err))
		require.Contains(t, err.Error(), first.ID, "names the earlier complaint")
		require.Contains(t, err.Error(), paid, "and its payout")
		got, err := e.Complaints.GetComplaint(e.Ctx, agent, again.ID)
		require.NoError(t, err)
		require.Equal(t, complaints.StateOpen, got.State, "nothing changed")
		require.Equal(t, again.Version, got.Version)
		require.Nil(t, got.CompensationPayoutID)
		ps := unitPayouts(t, *tk.UnitID)
		require.Len(t, ps, 1, "the floor is paid once")
		require.Equal(t, domaintest.CNY(65000), ps[0].Amount)
		require.Equal(t, payouts.PayerBrand, ps[0].Payer)
		unchangedCharges(t, tk)
	})

	// Other damage of the same visit is paid when the assessment says what
	// it is for: damaged_item, recorded on the complaint, its event and the
	// payout's reason, and different from every earlier compensation's
	// item. The floor named again (other case, extra spaces) is refused; a
	// first compensation that named no item covered the visit's damage.
	t.Run("OtherDamageIsPaidNamingTheItem", func(t *testing.T) {
		tk := repaired(t, "DMG-0007")
		floor := domaintest.CNY(65000)
		first, err := e.Complaints.ResolveWith(e.Ctx, agent, damage(t, tk, nil).ID, complaints.ResolveInput{Resolution: "照价赔偿地板 650 元",
			Upheld: true, AssessedAmount: &floor, DamagedItem: "  实木 地板 "}, 0)
		require.NoError(t, err)
		require.Equal(t, "实木 地板", *first.DamagedItem, "recorded trimmed")
		require.Equal(t, "实木 地板", resolvedEvent(t, first.ID)["damaged_item"])

		again := damage(t, tk, nil)
		_, err = e.Complaints.ResolveWith(e.Ctx, agent, again.ID, complaints.ResolveInput{Resolution: "照价赔偿",
			Upheld: true, AssessedAmount: &floor, DamagedItem: "实木  地板"}, 0)
		require.Equal(t, []string{"damaged_item"}, conflictAt(t, err))
		require.Contains(t, err.Error(), first.ID)
		require.Contains(t, err.Error(), *first.CompensationPayoutID)
		require.Contains(t, err.Error(), "650.00 CNY")
		got, err := e.Complaints.GetComplaint(e.Ctx, agent, again.ID)
		require.NoError(t, err)
		require.Equal(t, again.Version, got.Version, "nothing changed")
		require.Len(t, unitPayouts(t, *tk.UnitID), 1)

		door := domaintest.CNY(30000)
		again, err = e.Complaints.ResolveWith(e.Ctx, agent, again.ID, complaints.ResolveInput{Resolution: "另核定衣柜门修复 300 元",
			Upheld: true, AssessedAmount: &door, DamagedItem: "衣柜门"}, 0)
		require.NoError(t, err)
		require.Equal(t, "衣柜门", *again.DamagedItem)
		require.Equal(t, &door, again.AssessedAmount)
		ps := unitPayouts(t, *tk.UnitID)
		require.Len(t, ps, 2, "the floor and the wardrobe door, once each")
		amounts := map[string]tenants.Money{}
		for _, p := range ps {
			require.Equal(t, payouts.PayerBrand, p.Payer)
			require.Equal(t, &tk.ID, p.TicketID)
			amounts[p.ID] = p.Amount
			if p.ID == *again.CompensationPayoutID {
				require.Contains(t, p.Reason, "衣柜门", "the payout says what it pays for")
			}
		}
		require.Equal(t, domaintest.CNY(65000), amounts[*first.CompensationPayoutID])
		require.Equal(t, domaintest.CNY(30000), amounts[*again.CompensationPayoutID])

		// Reopened, the first complaint's assessment stands: another item
		// is refused, the same one pays nothing more.
		_, err = e.Complaints.Rate(e.Ctx, agent, first.ID, 1, "不满意", 0)
		require.NoError(t, err)
		_, err = e.Complaints.ResolveWith(e.Ctx, agent, first.ID, complaints.ResolveInput{Resolution: "改为赔偿柜门", Upheld: true,
			DamagedItem: "柜门"}, 0)
		require.Equal(t, []string{"damaged_item"}, conflictAt(t, err))
		first, err = e.Complaints.ResolveWith(e.Ctx, agent, first.ID, complaints.ResolveInput{Resolution: "维持赔偿", Upheld: true,
			DamagedItem: "实木 地板"}, 0)
		require.NoError(t, err)
		require.Equal(t, "实木 地板", *first.DamagedItem)
		require.Len(t, unitPayouts(t, *tk.UnitID), 2, "nothing paid twice")

		// A first compensation naming no item covered the visit's damage.
		tk = repaired(t, "DMG-0008")
		unnamed, err := e.Complaints.ResolveWith(e.Ctx, agent, damage(t, tk, nil).ID, complaints.ResolveInput{Resolution: "照价赔偿 650 元",
			Upheld: true, AssessedAmount: &floor}, 0)
		require.NoError(t, err)
		require.Nil(t, unnamed.DamagedItem)
		_, err = e.Complaints.ResolveWith(e.Ctx, agent, damage(t, tk, nil).ID, complaints.ResolveInput{Resolution: "赔偿柜门",
			Upheld: true, AssessedAmount: &door, DamagedItem: "衣柜门"}, 0)
		require.Equal(t, []string{"damaged_item"}, conflictAt(t, err))
		require.Contains(t, err.Error(), unnamed.ID)
		ps = unitPayouts(t, *tk.UnitID)
		require.Len(t, ps, 1)
		require.Equal(t, domaintest.CNY(65000), ps[0].Amount)
	})

	// Seed 000: 给用户家损坏东西应照价赔偿,并表示歉意 — the damage is paid
	// at its value and apologised for. Each compensation asks the ticket's
	// technician for the apology (an apologise_damage task tied to the
	// complaint, with the ticket's timeline entry and event), once per
	// compensation: resolved again it asks nothing more, other damage
	// compensated later is apologised for too. Refused, the node manager
	// visits (若道歉不接受,再由售后经理上门道歉), and the late promise is
	// not touched: a late_arrival complaint upheld after still asks its own
	// apology, whose action stays apology.
	t.Run("CompensatedDamageIsApologisedFor", func(t *testing.T) {
		tk := repaired(t, "DMG-0011")
		tech := e.As(tenants.Principal{TechnicianID: *tk.TechnicianID}, tenants.RoleTechnician)
		tasksOf := func(t *testing.T, kind string) []tickets.Task {
			t.Helper()
			all, err := e.Tickets.Tasks(e.Ctx, agent, tk.ID)
			require.NoError(t, err)
			var out []tickets.Task
			for _, k := range all {
				if k.Kind == kind {
					out = append(out, k)
				}
			}
			return out
		}
		floor := domaintest.CNY(65000)
		first, err := e.Complaints.ResolveWith(e.Ctx, agent, damage(t, tk, nil).ID, complaints.ResolveInput{
			Resolution: "中心核定地板修复费用 650 元，照价赔偿并致歉", Upheld: true, AssessedAmount: &floor, DamagedItem: "木地板"}, 0)
		require.NoError(t, err)

		ps := unitPayouts(t, *tk.UnitID)
		require.Len(t, ps, 1)
		require.Equal(t, domaintest.CNY(65000), ps[0].Amount, "the floor at its assessed value")
		require.Equal(t, payouts.PayerBrand, ps[0].Payer)
		apologies := tasksOf(t, tickets.TaskApologiseDamage)
		require.Len(t, apologies, 1, "the damage is apologised for")
		k := apologies[0]
		require.Equal(t, tickets.TaskOpen, k.State)
		require.Equal(t, "technician", k.Assignee)
		require.Equal(t, tk.TechnicianID, k.TechnicianID)
		require.Equal(t, tk.NodeID, k.NodeID)
		require.Equal(t, &first.ID, k.ComplaintID)
		require.True(t, window.Start.Equal(k.WindowStart), "the visit's window: %s", k.WindowStart)
		require.Equal(t, k.CreatedAt, k.DueAt, "due at once")
		for _, want := range []string{first.ID, "木地板", "650.00 CNY", ps[0].ID, "apologise"} {
			require.Contains(t, k.Reason, want)
		}
		require.Empty(t, tasksOf(t, tickets.TaskApologise), "no late apology: the technician came 6 minutes early")
		require.Equal(t, k.ID, resolvedEvent(t, first.ID)["apology_task_id"])
		timeline, err := e.Tickets.Timeline(e.Ctx, agent, tk.ID)
		require.NoError(t, err)
		var entries int
		for _, en := range timeline {
			if en.Action == string(tickets.ActDamageApologyRequested) {
				entries++
				require.Equal(t, k.ID, en.Detail["task_id"])
				require.Equal(t, first.ID, en.Detail["source"])
			}
		}
		require.Equal(t, 1, entries, "one timeline entry")
		var data []byte
		require.NoError(t, e.Tx.QueryRow(e.Ctx, `SELECT data FROM events WHERE tenant_id = $1 AND subject_id = $2
			AND type = 'ticket.damage_apology_requested'`, e.Tenant, tk.ID).Scan(&data))
		require.Contains(t, string(data), k.ID)
		require.Contains(t, string(data), "木地板")

		// Reopened and upheld again: nothing more paid, nothing more asked.
		_, err = e.Complaints.Rate(e.Ctx, agent, first.ID, 1, "道歉还没来", 0)
		require.NoError(t, err)
		_, err = e.Complaints.ResolveWith(e.Ctx, agent, first.ID, complaints.ResolveInput{Resolution: "维持赔偿", Upheld: true}, 0)
		require.NoError(t, err)
		require.Len(t, unitPayouts(t, *tk.UnitID), 1)
		require.Len(t, tasksOf(t, tickets.TaskApologiseDamage), 1)

		// The wardrobe door, compensated later: its own apology.
		door := domaintest.CNY(30000)
		second, err := e.Complaints.ResolveWith(e.Ctx, agent, damage(t, tk, nil).ID, complaints.ResolveInput{
			Resolution: "另核定衣柜门修复 300 元", Upheld: true, AssessedAmount: &door, DamagedItem: "衣柜门"}, 0)
		require.NoError(t, err)
		ps = unitPayouts(t, *tk.UnitID)
		require.Len(t, ps, 2)
		var total int64
		for _, p := range ps {
			require.Equal(t, payouts.PayerBrand, p.Payer)
			total += p.Amount.Amount
		}
		require.Equal(t, int64(95000), total, "650.00 + 300.00, the brand's")
		apologies = tasksOf(t, tickets.TaskApologiseDamage)
		require.Len(t, apologies, 2, "one apology per compensated damage")
		require.Equal(t, &second.ID, apologies[1].ComplaintID)
		require.Contains(t, apologies[1].Reason, "衣柜门")
		require.Contains(t, apologies[1].Reason, "300.00 CNY")

		// The customer refuses the apology for the floor: the node manager
		// visits for it; the door's apology is still open.
		res, err := e.Tickets.CompleteTask(e.Ctx, tech, tk.ID, k.ID, tickets.CompleteTaskInput{Outcome: tickets.TaskRefused,
			Note: "客户不接受师傅道歉"}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.TaskRefused, res.Task.State)
		visits := tasksOf(t, tickets.TaskManagerVisit)
		require.Len(t, visits, 1)
		require.Equal(t, "node_manager", visits[0].Assignee)
		require.Equal(t, &first.ID, visits[0].ComplaintID)
		require.Equal(t, tickets.TaskOpen, tasksOf(t, tickets.TaskApologiseDamage)[1].State)
		unchangedCharges(t, tk)

		// A late arrival upheld afterwards asks its own apology, whose
		// action stays apology: the refused one was for the damage.
		late, err := e.Complaints.FileComplaint(e.Ctx, agent, complaints.NewComplaint{TicketID: tk.ID, Category: "late_arrival",
			Severity: "high", Description: "约好10点，师傅12点才到"})
		require.NoError(t, err)
		late, err = e.Complaints.ResolveWith(e.Ctx, agent, late.ID, complaints.ResolveInput{Resolution: "核实超时上门，免单",
			Upheld: true}, 0)
		require.NoError(t, err)
		require.Len(t, tasksOf(t, tickets.TaskApologise), 1, "the late arrival's apology")
		require.Len(t, tasksOf(t, tickets.TaskManagerVisit), 1)
		got, err := e.Tickets.Get(e.Ctx, agent, tk.ID)
		require.NoError(t, err)
		require.Len(t, got.Completion.Waivers, 1)
		require.Equal(t, "late_arrival", got.Completion.Waivers[0].Code)
		require.Equal(t, "apology", got.Completion.Waivers[0].Action)
		require.NotNil(t, late.RefundPayoutID)
		ps = unitPayouts(t, *tk.UnitID)
		require.Len(t, ps, 3)
		for _, p := range ps {
			if p.ID == *late.RefundPayoutID {
				require.Equal(t, domaintest.CNY(17000), p.Amount, "the late service is free: labour 120.00 + visit 50.00 back")
				require.Equal(t, payouts.PayerBrand, p.Payer)
			}
		}
	})

	// Damage is often found after the callback closed the ticket: the
	// apology the compensation asks for is still made (done, or refused
	// and the node manager visits) on the closed ticket.
	t.Run("OnAClosedTicketTheApologyIsMade", func(t *testing.T) {
		for _, outcome := range []string{tickets.TaskDone, tickets.TaskRefused} {
			tk := repaired(t, "DMG-0012-"+outcome)
			tk, err := e.Tickets.RecordCallback(e.Ctx, agent, tk.ID, tickets.CallbackInput{Outcome: "satisfied"}, 0)
			require.NoError(t, err)
			require.Equal(t, tickets.State("closed"), tk.State)
			floor := domaintest.CNY(65000)
			c, err := e.Complaints.ResolveWith(e.Ctx, agent, damage(t, tk, nil).ID, complaints.ResolveInput{
				Resolution: "照价赔偿 650 元并致歉", Upheld: true, AssessedAmount: &floor, DamagedItem: "木地板"}, 0)
			require.NoError(t, err)
			ps := unitPayouts(t, *tk.UnitID)
			require.Len(t, ps, 1)
			require.Equal(t, domaintest.CNY(65000), ps[0].Amount)
			require.Equal(t, payouts.PayerBrand, ps[0].Payer)
			all, err := e.Tickets.Tasks(e.Ctx, agent, tk.ID)
			require.NoError(t, err)
			require.Len(t, all, 1)
			require.Equal(t, tickets.TaskApologiseDamage, all[0].Kind)
			require.Equal(t, &c.ID, all[0].ComplaintID)
			tech := e.As(tenants.Principal{TechnicianID: *tk.TechnicianID}, tenants.RoleTechnician)
			res, err := e.Tickets.CompleteTask(e.Ctx, tech, tk.ID, all[0].ID, tickets.CompleteTaskInput{Outcome: outcome,
				Note: "已上门向客户致歉"}, 0)
			require.NoError(t, err, outcome)
			require.Equal(t, outcome, res.Task.State)
			all, err = e.Tickets.Tasks(e.Ctx, agent, tk.ID)
			require.NoError(t, err)
			if outcome == tickets.TaskRefused {
				require.Len(t, all, 2)
				require.Equal(t, tickets.TaskManagerVisit, all[1].Kind)
				require.Equal(t, &c.ID, all[1].ComplaintID)
			} else {
				require.Len(t, all, 1)
			}
			got, err := e.Tickets.Get(e.Ctx, agent, tk.ID)
			require.NoError(t, err)
			require.Equal(t, tickets.State("closed"), got.State, "still closed")
		}
	})

	// Damage by the network presupposes that it was in the home or held
	// the customer's goods: a check-in (the only way on site), a carry-in
	// or a return's pickup (both from on site). A ticket the network never
	// visited cannot have its service damage the customer's property: the
	// technician turned away at the door (entry refused, never checked in)
	// or a ticket never dispatched. Upholding a compensation on it is 409
	// on upheld, nothing paid and nothing changed; rejecting it is fine.
	t.Run("NeverVisitedIsNotPaid", func(t *testing.T) {
		now = time.Time{}
		turnedAway := opened(t, "DMG-0009")
		tk, tech := scheduled(t, turnedAway)
		now = start.Add(-6 * time.Minute)
		shown := true
		_, err := e.Tickets.RecordVisitException(e.Ctx, tech, tk.ID, tickets.VisitExceptionInput{Reason: "entry_refused",
			LicenceShown: &shown}, 0)
		require.NoError(t, err)
		now = time.Time{}
		neverDispatched := opened(t, "DMG-0010")

		for name, tk := range map[string]tickets.Ticket{"EntryRefused": turnedAway, "NeverDispatched": neverDispatched} {
			claimed := domaintest.CNY(80000)
			c := damage(t, tk, &claimed)
			assessed := domaintest.CNY(65000)
			_, err := e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "照价赔偿 650 元",
				Upheld: true, AssessedAmount: &assessed, DamagedItem: "木地板"}, 0)
			require.Equal(t, []string{"upheld"}, conflictAt(t, err), name)
			require.Contains(t, err.Error(), tk.ID, name)
			got, err := e.Complaints.GetComplaint(e.Ctx, agent, c.ID)
			require.NoError(t, err)
			require.Equal(t, complaints.StateOpen, got.State, "%s: nothing changed", name)
			require.Equal(t, c.Version, got.Version, name)
			require.Nil(t, got.CompensationPayoutID, name)
			require.Empty(t, unitPayouts(t, *tk.UnitID), "%s: the brand pays nothing", name)
			got, err = e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "未曾上门，损坏与服务无关"}, 0)
			require.NoError(t, err, name)
			require.Equal(t, complaints.StateResolved, got.State, name)
		}
	})

	t.Run("FilingRules", func(t *testing.T) {
		tk := repaired(t, "DMG-0004")
		claimed := domaintest.CNY(80000)
		_, err := e.Complaints.FileComplaint(e.Ctx, agent, complaints.NewComplaint{TicketID: tk.ID, Category: "late",
			Description: "迟到", ClaimedAmount: &claimed})
		require.Equal(t, []string{"claimed_amount"}, domaintest.Fields(t, err), "only property damage claims an amount")
		_, err = e.Complaints.FileComplaint(e.Ctx, agent, complaints.NewComplaint{NodeID: *tk.NodeID, Category: "property_damage",
			Description: "损坏了柜子"})
		require.Equal(t, []string{"ticket_id"}, domaintest.Fields(t, err), "the damage names the visit's ticket")
		_, err = e.Complaints.FileComplaint(e.Ctx, agent, complaints.NewComplaint{TicketID: tk.ID, Category: "property_damage",
			Description: "损坏了柜子", ClaimedAmount: &tenants.Money{Amount: 80000, Currency: "USD"}})
		require.Equal(t, []string{"claimed_amount.currency"}, domaintest.Fields(t, err))
		c := damage(t, tk, nil)
		require.Nil(t, c.ClaimedAmount, "the claim is optional")
		// An upheld complaint of another category assesses nothing.
		o, err := e.Complaints.FileComplaint(e.Ctx, agent, complaints.NewComplaint{TicketID: tk.ID, Category: "quality", Description: "修后仍异响"})
		require.NoError(t, err)
		assessed := domaintest.CNY(65000)
		_, err = e.Complaints.ResolveWith(e.Ctx, agent, o.ID, complaints.ResolveInput{Resolution: "属实", Upheld: true, AssessedAmount: &assessed}, 0)
		require.Equal(t, []string{"assessed_amount"}, domaintest.Fields(t, err))
		// Nor does it, or a rejection, name an item damaged.
		_, err = e.Complaints.ResolveWith(e.Ctx, agent, o.ID, complaints.ResolveInput{Resolution: "属实", Upheld: true, DamagedItem: "地板"}, 0)
		require.Equal(t, []string{"damaged_item"}, domaintest.Fields(t, err))
		_, err = e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "不属实", DamagedItem: "地板"}, 0)
		require.Equal(t, []string{"damaged_item"}, domaintest.Fields(t, err))
		_, err = e.Complaints.ResolveWith(e.Ctx, agent, c.ID, complaints.ResolveInput{Resolution: "属实", Upheld: true,
			AssessedAmount: &assessed, DamagedItem: "   "}, 0)
		require.Equal(t, []string{"damaged_item"}, domaintest.Fields(t, err), "blank")
		require.Empty(t, unitPayouts(t, *tk.UnitID))
	})
}
