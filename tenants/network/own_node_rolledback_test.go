package network_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// A node's grade is the brand's judgement of it (graded from its KPIs,
// with a history and an appeal; seed 003: 对网点进行动态升级及淘汰), and
// dispatch ranks nodes by it: a node-bound key may not set its own node's
// grade, as it may not change its own status or move itself: a repair
// point's key raising its own grade from C to A added 8 to its dispatch
// score over its peers (grade A 20, C 12), with no grade history. Its
// other fields stay its own to keep (the name here).
func TestRolledBackNodeKeyCannotGradeItself(t *testing.T) {
	tr := newTree(t)
	c := "C"
	_, err := tr.Network.UpdateNode(tr.Ctx, tr.Admin, tr.point.ID, network.NodeUpdate{Grade: &c}, 0)
	require.NoError(t, err)

	pointKey := tr.As(tenants.Principal{NodeID: tr.point.ID}, tenants.RoleNodeManager)
	a := "A"
	_, err = tr.Network.UpdateNode(tr.Ctx, pointKey, tr.point.ID, network.NodeUpdate{Grade: &a}, 0)
	requireCode(t, err, tenants.CodeForbidden)
	got, err := tr.Network.GetNode(tr.Ctx, tr.Admin, tr.point.ID)
	require.NoError(t, err)
	require.Equal(t, "C", *got.Grade, "unchanged")

	// The same grade again changes nothing and is not refused; the name is
	// the node's to keep.
	name := "崂山一号网点"
	n, err := tr.Network.UpdateNode(tr.Ctx, pointKey, tr.point.ID, network.NodeUpdate{Grade: &c, Name: &name}, 0)
	require.NoError(t, err)
	require.Equal(t, name, n.Name)
	require.Equal(t, "C", *n.Grade)
}
