package tickets_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Seed 001 (一.2(4), 三.2(2)): a unit that cannot be repaired at the
// customer's goes to the node only when the customer, told why, agrees; the
// technician then confirms the unit's configuration and the backup of its
// data with the customer face to face, writes them on the carry-in form
// (尤其是电脑配置和数据需重点标明) and has the customer sign it (若客户同意工程师
// 带机器回公司维修,则当面和用户确认机器配置、硬盘数据备份等,并请用户在维修服务单
// 相应处签字). A carry-in without the customer's agreement is refused at
// customer_agreed and the unit stays on site; a laptop (a unit that holds
// the customer's data) leaves only with its configuration and what was
// agreed about its data on the receipt; a washer needs neither. Before,
// any carry-in took the unit with its visible condition only.
func TestCarryInNeedsTheCustomersAgreementAndADataUnitsBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	e := newWorkshopEnv(t, b, "carry-in-agreed")
	at := e.at(2026, 10, 29, 10, 0)
	onSite := func(t *testing.T, category string) string {
		id, _ := b.ticket(t, e.p.TenantID, tickets.StateOnSite, map[string]any{"node_id": e.node, "category": category})
		return id
	}
	stays := func(t *testing.T, id string) {
		t.Helper()
		tk, err := b.service(at).Get(ctx, e.p, id)
		require.NoError(t, err)
		require.Equal(t, tickets.State("on_site"), tk.State)
		require.Nil(t, tk.CarryIn)
	}

	t.Run("NotAgreedIsRefused", func(t *testing.T) {
		id := onSite(t, "washer")
		_, err := b.service(at).CarryIn(ctx, e.p, id, tickets.CarryInInput{Condition: "外观完好"}, 0)
		require.Equal(t, []string{"customer_agreed"}, domaintest.Fields(t, err), "%v", err)
		stays(t, id)
	})

	t.Run("LaptopWithoutConfigurationOrDataIsRefused", func(t *testing.T) {
		id := onSite(t, "laptop")
		_, err := b.service(at).CarryIn(ctx, e.p, id, tickets.CarryInInput{Condition: "外观完好", CustomerAgreed: true}, 0)
		require.ElementsMatch(t, []string{"configuration", "data_backup"}, domaintest.Fields(t, err), "%v", err)
		stays(t, id)
	})

	t.Run("LaptopWithThemOnTheReceipt", func(t *testing.T) {
		id := onSite(t, "laptop")
		tk, err := b.service(at).CarryIn(ctx, e.p, id, tickets.CarryInInput{Condition: "外观完好", CustomerAgreed: true,
			Configuration: "R7 / 16GB / 1TB SSD", DataBackup: "not_backed_up"}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("carry_in"), tk.State)
		require.True(t, tk.CarryIn.CustomerAgreed)
		require.Equal(t, "R7 / 16GB / 1TB SSD", tk.CarryIn.Configuration)
		require.Equal(t, "not_backed_up", tk.CarryIn.DataBackup)
		tl, err := b.service(at).Timeline(ctx, e.p, id)
		require.NoError(t, err)
		last := tl[len(tl)-1]
		require.Equal(t, string(tickets.ActCarryIn), last.Action)
		require.Equal(t, "not_backed_up", last.Detail["data_backup"])
		require.Equal(t, true, last.Detail["customer_agreed"])
	})

	t.Run("WasherNeedsNoDataStatement", func(t *testing.T) {
		id := onSite(t, "washer")
		tk, err := b.service(at).CarryIn(ctx, e.p, id, tickets.CarryInInput{Condition: "外观完好", CustomerAgreed: true}, 0)
		require.NoError(t, err)
		require.Equal(t, tickets.State("carry_in"), tk.State)
		require.True(t, tk.CarryIn.CustomerAgreed)
		require.Empty(t, tk.CarryIn.DataBackup)
	})
}
