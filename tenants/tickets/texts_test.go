package tickets

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/i18n"
)

// TestTextsInCatalog: every code the tickets context builds from data (an
// SLA's name, an escalation level, a reconciliation problem, a timeline
// action) is in the catalog.
func TestTextsInCatalog(t *testing.T) {
	t.Parallel()
	for _, sla := range SLAs {
		require.True(t, i18n.Has("sla.name."+string(sla)), sla)
	}
	for level := 1; level <= MaxEscalationLevel; level++ {
		require.True(t, i18n.Has("escalation.to."+EscalatedTo(level)), level)
	}
	for _, p := range Problems {
		require.True(t, i18n.Has(FindingMessage(p, "SN-1", "2026-11-29", time.Now(), nil).Code), p)
	}
	actions := []Action{ActOpen, ActCustomerNotified, ActEnRoute, actSLABreached, ActChargesWaived}
	for _, tr := range Transitions {
		actions = append(actions, tr.Action)
	}
	for _, a := range actions {
		_, ok := TimelineMessage(string(a), nil, nil)
		require.True(t, ok, "timeline action %s has no event.ticket.%s message", a, a)
	}
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	b := Breach{Number: "SN-20261130-00042", SLA: SLAFirstContact, DueAt: time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC), Level: 2, EscalatedTo: EscalatedTo(2),
		loc: shanghai}
	b.Localize(i18n.Chinese)
	require.Equal(t, "工单 SN-20261130-00042 未在时限 2026-11-30 10:00（北京时间）前完成首次联系客户：已升级至网点经理（第 2 级）", b.Summary)
	b.Localize(i18n.English)
	require.Equal(t, "Ticket SN-20261130-00042 missed its first-contact deadline of 2026-11-30 10:00 (China Standard Time): escalated to the node manager (level 2)", b.Summary)
	m, ok := TimelineMessage(string(actSLABreached), map[string]any{"sla": "arrival", "due_at": "2026-11-30T10:00:00+08:00", "level": float64(1), "escalated_to": "dispatcher"}, shanghai)
	require.True(t, ok)
	require.Equal(t, "未在时限 2026-11-30 10:00（北京时间）前完成上门：已升级至调度员（第 1 级）", m.Render(i18n.Chinese))
	// Without a zone (none known): UTC, named.
	m, _ = TimelineMessage(string(actSLABreached), map[string]any{"sla": "arrival", "due_at": "2026-11-30T10:00:00+08:00", "level": float64(1), "escalated_to": "dispatcher"}, nil)
	require.Equal(t, "Missed the arrival deadline of 2026-11-30 02:00 (Coordinated Universal Time): escalated to the dispatcher (level 1)", m.Render(i18n.English))
}
