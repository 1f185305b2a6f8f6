package tickets_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/tickets"
)

// Dispatch picks a node that offers the service kind (DESIGN, Service
// tickets), and the kind is what the ticket's flow does: an installation
// is installed, a maintenance ticket serviced, on site; only a repair is
// carried in to the node (its flow alone has carry-in). Triage sent an
// installation or a maintenance ticket triaged carry_in to nodes that
// take carry-ins, which need not install or service at all: refused now
// at mode (422, nothing changed). The kind is the flow's (triage no longer
// takes one: an installation told "repair" went to repair-only points);
// triaged on site, an installation goes to a node that installs, with the
// kind recorded.
func TestTriageDispatchesForTheKindTheTicketIsServed(t *testing.T) {
	e := newMoneyEnv(t)
	install := e.openKind(t, "install")
	_, err := e.Tickets.Triage(e.Ctx, e.Admin, install.ID, tickets.TriageInput{Mode: "carry_in"}, 0)
	e.requireRefusedUnchanged(t, err, "mode", install, "an installation triaged carry_in")

	maintenance := e.openKind(t, "maintenance")
	_, err = e.Tickets.Triage(e.Ctx, e.Admin, maintenance.ID, tickets.TriageInput{Mode: "carry_in"}, 0)
	e.requireRefusedUnchanged(t, err, "mode", maintenance, "a maintenance ticket triaged carry_in")

	// Triaged on site, each is dispatched for the kind its flow serves.
	tk, err := e.Tickets.Triage(e.Ctx, e.Admin, install.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.Equal(t, "install", tk.Triage.ServiceKind)
	require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
	n, err := e.Network.GetNode(e.Ctx, e.Admin, *tk.NodeID)
	require.NoError(t, err)
	require.Contains(t, n.ServiceKinds, "install", "the chosen node installs: %s", tk.Dispatch.Decision.Reason)
	for _, c := range tk.Dispatch.Decision.Nodes {
		if c.Eligible {
			continue
		}
		if c.ExcludedBy == "service_kind_not_offered" {
			cn, err := e.Network.GetNode(e.Ctx, e.Admin, c.NodeID)
			require.NoError(t, err)
			require.False(t, slices.Contains(cn.ServiceKinds, "install"), "%s", c.Name)
		}
	}
	tk, err = e.Tickets.Triage(e.Ctx, e.Admin, maintenance.ID, tickets.TriageInput{Mode: "on_site"}, 0)
	require.NoError(t, err)
	require.Equal(t, "maintenance", tk.Triage.ServiceKind)
}
