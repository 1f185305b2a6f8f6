package swaps_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/swaps"
)

// A node manager sees the swaps served in its subtree; a swap no node
// serves, only a manager of the network's root; a key whose node is gone,
// none.
func TestRolledBackSwapServingScope(t *testing.T) {
	e := domaintest.New(t)
	node := func(code, tier, parent string) string {
		t.Helper()
		n, err := e.Network.CreateNode(e.Ctx, e.Admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: code, Name: code},
			Tier: network.Tier(tier), ParentID: parent, Status: "active"})
		require.NoError(t, err)
		return n.ID
	}
	root := node("ROOT", "manufacturer", "")
	centerA, centerB := node("SC-A", "service_center", root), node("SC-B", "service_center", root)
	pointA := node("RP-A", "repair_point", centerA)
	manager := func(node string) tenants.Principal {
		return e.As(tenants.Principal{NodeID: node}, tenants.RoleNodeManager)
	}
	washer := model(t, e, "W-SCOPE", "washer", 299900)
	unit := func(serial string) string {
		u, err := e.Customers.RegisterUnit(e.Ctx, e.Admin, customers.NewUnit{ModelID: washer, Serial: serial,
			Customer:     &customers.NewCustomer{Name: "孙七", Phones: []string{"+86 139 0000 0002"}},
			PurchaseDate: domaintest.Today(-10), PurchasePrice: domaintest.CNY(299900)})
		require.NoError(t, err)
		return u.ID
	}
	nobody, err := e.Swaps.RequestSwap(e.Ctx, e.Admin, swaps.NewSwap{UnitID: unit("WSC-0001"), Reason: "unrepairable"})
	require.NoError(t, err)
	require.Nil(t, nobody.NodeID, "no ticket, an admin key: no node serves it")
	atA, err := e.Swaps.RequestSwap(e.Ctx, manager(pointA), swaps.NewSwap{UnitID: unit("WSC-0002"), Reason: "unrepairable"})
	require.NoError(t, err)
	require.Equal(t, pointA, *atA.NodeID, "the requesting key's node")

	listed := func(p tenants.Principal) []string {
		t.Helper()
		ws, _, err := e.Swaps.ListSwaps(e.Ctx, p, swaps.Filter{})
		require.NoError(t, err)
		var ids []string
		for _, w := range ws {
			ids = append(ids, w.ID)
		}
		return ids
	}
	for _, c := range []struct {
		name string
		p    tenants.Principal
		sees []string
	}{
		{"Admin", e.Admin, []string{nobody.ID, atA.ID}},
		{"Root", manager(root), []string{nobody.ID, atA.ID}},
		{"CenterA", manager(centerA), []string{atA.ID}},
		{"PointA", manager(pointA), []string{atA.ID}},
		{"CenterB", manager(centerB), nil},
		{"Gone", manager(tenants.NewID(tenants.PrefixNode)), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.ElementsMatch(t, c.sees, listed(c.p))
			for _, w := range []swaps.Swap{nobody, atA} {
				_, err := e.Swaps.GetSwap(e.Ctx, c.p, w.ID)
				if slices.Contains(c.sees, w.ID) {
					require.NoError(t, err)
				} else {
					require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err), "%v", err)
				}
			}
		})
	}
}
