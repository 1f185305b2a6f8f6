package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Issue 12 item 12: priority scales the SLA deadlines by the policy's
// percentages, orders the dispatch queue and filters lists.
func TestRolledBackTicketPriorityChangesSomething(t *testing.T) {
	p := newPaths(t)
	open := func(serial, priority string) tickets.Ticket {
		t.Helper()
		tk, err := p.Tickets.Open(p.Ctx, p.agent, tickets.NewTicket{Channel: "hotline", Type: "repair", Priority: priority,
			Contact: tickets.TicketContact{Name: "客户", Phone: "+86 138 " + serial[len(serial)-4:] + " 0000"},
			Address: tickets.ServiceAddress{RegionCode: p.d.Region, Line: "建设路 1 号"},
			Unit:    tickets.UnitDetails{ModelID: p.d.Washer, Serial: serial, PurchaseDate: domaintest.Today(-30)},
			Fault:   tickets.ReportedFault{Symptom: "不排水"}})
		require.NoError(t, err)
		require.Equal(t, tickets.State("new"), tk.State, "%v", tk.Verification)
		return tk
	}
	due := func(tk tickets.Ticket, at *time.Time) time.Duration {
		require.NotNil(t, at)
		return at.Sub(tk.CreatedAt).Round(time.Second)
	}
	low := open("PRIO-0001", "low")
	normal := open("PRIO-0002", "")
	urgent := open("PRIO-0003", "urgent")
	high := open("PRIO-0004", "high")

	// Defaults: route 5 min, first contact 2 h, response 24 h, completion
	// 72 h; urgent 50 %, high 75 %, low 150 %.
	assert.Equal(t, "normal", normal.Priority)
	assert.Equal(t, 5*time.Minute, due(normal, normal.SLA.RouteDueAt))
	assert.Equal(t, 150*time.Second, due(urgent, urgent.SLA.RouteDueAt))
	assert.Equal(t, 12*time.Hour, due(urgent, urgent.SLA.ResponseDueAt))
	assert.Equal(t, 36*time.Hour, due(urgent, urgent.SLA.CompletionDueAt))
	assert.Equal(t, 90*time.Minute, due(high, high.SLA.FirstContactDueAt))
	assert.Equal(t, 54*time.Hour, due(high, high.SLA.CompletionDueAt))
	assert.Equal(t, 108*time.Hour, due(low, low.SLA.CompletionDueAt))
	assert.Equal(t, 72*time.Hour, due(normal, normal.SLA.CompletionDueAt))

	// The policy sets the percentages.
	pol, err := p.Tickets.GetSLAPolicy(p.Ctx, p.Admin)
	require.NoError(t, err)
	assert.Equal(t, 50, pol.UrgentPercent)
	pol.UrgentPercent = 20
	_, err = p.Tickets.SetSLAPolicy(p.Ctx, p.Admin, pol, &pol.Version)
	require.NoError(t, err)
	u := open("PRIO-0005", "urgent")
	assert.Equal(t, 60*time.Second, due(u, u.SLA.RouteDueAt))
	assert.Equal(t, time.Duration(float64(72*time.Hour)*0.2), due(u, u.SLA.CompletionDueAt))

	// The dispatch queue, urgent first, across pages; and the filter.
	page, next, err := p.Tickets.List(p.Ctx, p.agent, tickets.Filter{Unassigned: true, Order: "priority", Limit: 2})
	require.NoError(t, err)
	require.NotEmpty(t, next)
	rest, _, err := p.Tickets.List(p.Ctx, p.agent, tickets.Filter{Unassigned: true, Order: "priority", Limit: 10, Cursor: next})
	require.NoError(t, err)
	var got []string
	for _, tk := range append(page, rest...) {
		got = append(got, tk.Priority)
	}
	assert.Equal(t, []string{"urgent", "urgent", "high", "normal", "low"}, got)
	hl, _, err := p.Tickets.List(p.Ctx, p.agent, tickets.Filter{Priority: []string{"high", "low"}})
	require.NoError(t, err)
	var ids []string
	for _, tk := range hl {
		ids = append(ids, tk.ID)
	}
	assert.ElementsMatch(t, []string{high.ID, low.ID}, ids)
}
