package dispatch_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/dispatch"
)

// requireExplained checks the decision's explanation matches its choice:
// every score is the sum of its breakdown, the chosen node is eligible and
// scores highest of the eligible nodes, the chosen technician is eligible,
// at that node, and scores highest of its eligible technicians.
func requireExplained(t *testing.T, d dispatch.DispatchDecision) {
	t.Helper()
	var chosen *dispatch.NodeCandidate
	for i, n := range d.Nodes {
		b := n.Breakdown
		require.InDelta(t, b.Tier+b.Grade+b.Region+b.Load+b.Distance+b.Loaner, n.Score, 0.001, n.Name)
		if n.NodeID == d.NodeID {
			chosen = &d.Nodes[i]
		}
	}
	require.NotNil(t, chosen, d.Reason)
	require.True(t, chosen.Eligible)
	for _, n := range d.Nodes {
		if n.Eligible {
			require.LessOrEqual(t, n.Score, chosen.Score, "%s outscores the chosen %s", n.Name, chosen.Name)
		}
	}
	if d.TechnicianID == "" {
		return
	}
	tech := techByID(t, d, d.TechnicianID)
	require.True(t, tech.Eligible)
	require.Equal(t, d.NodeID, tech.NodeID)
	for _, c := range d.Technicians {
		b := c.Breakdown
		require.InDelta(t, b.Load+b.Distance+b.Level, c.Score, 0.001, c.Name)
		if c.Eligible && c.NodeID == d.NodeID {
			require.LessOrEqual(t, c.Score, tech.Score, "%s outscores the chosen %s", c.Name, tech.Name)
		}
	}
}

// A dispatcher's installation and maintenance jobs at one address: the
// repair point nearest the customer repairs only, so the installation goes
// to the depot that installs, and the maintenance to the service center
// that services; the better-graded depot that is suspended and the one on
// probation are never chosen, nor the technicians suspended, on leave or
// with a licence that expired the day before the window. The reason says
// which node and technician and why, and the scores order the choice.
func TestInstallationAndMaintenanceGoToNodesOfferingThem(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.node(t, nil, nodeSpec{tier: "manufacturer", coverage: []string{}})
	center := b.node(t, &root, nodeSpec{tier: "service_center", name: "center", coverage: []string{province},
		kinds: []string{"repair", "maintenance"}})
	depot := b.node(t, &center, nodeSpec{tier: "specialist_depot", name: "depot", coverage: []string{city}, grade: ptr("C"),
		kinds: []string{"repair", "install"}})
	suspended := b.node(t, &center, nodeSpec{tier: "specialist_depot", name: "suspended depot", coverage: []string{district},
		grade: ptr("A"), kinds: []string{"install", "maintenance"}, status: "suspended"})
	probation := b.node(t, &center, nodeSpec{tier: "specialist_depot", name: "probation depot", coverage: []string{district},
		grade: ptr("A"), kinds: []string{"install", "maintenance"}, status: "probation"})
	point := b.node(t, &depot, nodeSpec{tier: "repair_point", name: "point", kinds: []string{"repair"}})
	for _, n := range []node{suspended, probation, point} {
		b.tech(t, n, techSpec{level: 5})
	}
	installer := b.tech(t, depot, techSpec{name: "安装师傅"})
	b.tech(t, depot, techSpec{name: "停职", level: 5, status: "suspended"})
	b.tech(t, depot, techSpec{name: "休假", level: 5, status: "on_leave"})
	b.tech(t, depot, techSpec{name: "证过期", level: 5, expiresOn: "2026-11-29"})
	servicer := b.tech(t, center, techSpec{name: "保养师傅"})

	r := washer()
	r.ServiceKind, r.RequiredLevel = "install", 1
	d := b.mustDecide(t, r)
	require.Equal(t, depot.id, d.NodeID, d.Reason)
	require.Equal(t, installer, d.TechnicianID, d.Reason)
	require.Equal(t, "service_kind_not_offered", nodeByID(t, d, point.id).ExcludedBy)
	require.Equal(t, "service_kind_not_offered", nodeByID(t, d, center.id).ExcludedBy)
	require.Equal(t, "not_active", nodeByID(t, d, suspended.id).ExcludedBy)
	require.Equal(t, "not_active", nodeByID(t, d, probation.id).ExcludedBy)
	require.Greater(t, nodeByID(t, d, suspended.id).Score, nodeByID(t, d, depot.id).Score,
		"scored for comparison: grade A and the district outrank the depot")
	for name, rule := range map[string]string{"停职": "not_active", "休假": "not_active", "证过期": "licence_invalid"} {
		for _, c := range d.Technicians {
			if c.Name == name {
				require.Equal(t, rule, c.ExcludedBy, name)
			}
		}
	}
	require.Contains(t, d.Reason, "depot")
	require.Contains(t, d.Reason, "安装师傅")
	requireExplained(t, d)

	r.ServiceKind = "maintenance"
	d = b.mustDecide(t, r)
	require.Equal(t, center.id, d.NodeID, d.Reason)
	require.Equal(t, servicer, d.TechnicianID, d.Reason)
	require.Equal(t, "service_kind_not_offered", nodeByID(t, d, depot.id).ExcludedBy)
	require.Equal(t, "not_active", nodeByID(t, d, suspended.id).ExcludedBy)
	require.Contains(t, d.Reason, "保养师傅")
	requireExplained(t, d)

	// A dispatcher overriding to the suspended depot is refused, naming
	// the field and the rule; to the repair point, for an installation,
	// too.
	r.ServiceKind, r.NodeID = "install", suspended.id
	_, err := b.decide(t, r)
	requireInvalid(t, err, "node_id", "not_active")
	r.NodeID = point.id
	_, err = b.decide(t, r)
	requireInvalid(t, err, "node_id", "service_kind_not_offered")
}
