package tickets_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// dataUnitOnSite registers a unit of the demo model numbered model and
// opens a repair ticket for it, put on site at a node of the demo (the
// demo's technicians repair washers only: the visit itself is not what is
// tested).
func (e *moneyEnv) dataUnitOnSite(t *testing.T, model string) tickets.Ticket {
	t.Helper()
	ms, _, err := e.Catalog.ListProductModels(e.Ctx, e.Admin, catalog.ProductModelFilter{ModelNumber: model, Limit: 1})
	require.NoError(t, err)
	require.Len(t, ms, 1)
	e.serial++
	u, err := e.Customers.RegisterUnit(e.Ctx, e.Admin, customers.NewUnit{ModelID: ms[0].ID, Serial: fmt.Sprintf("DATA-%04d", e.serial),
		Customer:     &customers.NewCustomer{Name: "钱七", Phones: []string{fmt.Sprintf("+86 139 2000 %04d", e.serial)}},
		PurchaseDate: domaintest.Today(-400), PurchasePrice: domaintest.CNY(499900), Channel: "brand_store"})
	require.NoError(t, err)
	e.set(time.Time{})
	tk, err := e.Tickets.Open(e.Ctx, e.Admin, tickets.NewTicket{Channel: "hotline", Type: "repair",
		Contact: tickets.TicketContact{Name: "钱七", Phone: "+86 139 2000 0000"},
		Address: tickets.ServiceAddress{RegionCode: e.region, Line: "建设路 1 号"},
		Unit:    tickets.UnitDetails{UnitID: u.ID}, Fault: tickets.ReportedFault{Symptom: "无法开机"}})
	require.NoError(t, err)
	require.NoError(t, pg.InTenantTx(e.Ctx, e.Tx, e.Tenant, func(tx pg.TenantTx) error {
		_, err := tx.Exec(e.Ctx, `UPDATE tickets SET state = 'on_site', node_id = (SELECT min(id) FROM nodes WHERE tenant_id = $1)
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, tk.ID)
		return err
	}))
	tk, err = e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tickets.State("on_site"), tk.State)
	return tk
}

// Seed 001 (三.2(1) 注): before working on the hard disk, and above all
// before reinstalling or maintaining the system, the technician tells the
// customer the data may be lost or the system fail, advises a backup and
// has the customer sign (对硬盘进行操作时,一定要告知客户…特别是在重装系统或对系统
// 进行维护操作时,有可能会发生数据丢失或系统崩溃,提醒客户先把重要数据进行备份,并让用户
// 签字). A diagnosis of a unit that holds the customer's data (a laptop, a
// phone) whose work touches its storage or system (software_tuning; the
// part categories storage, mainboard) is refused without the customer's
// acknowledgement, nothing changed; with it, it is kept with the diagnosis
// and in the timeline, for a complaint to find. A washer, and a phone's
// screen, need none. Before, any diagnosis went ahead without a word.
func TestDiagnosisOfADataUnitsStorageNeedsTheCustomersAcknowledgement(t *testing.T) {
	e := newMoneyEnv(t)
	reinstall := tickets.Diagnosis{Cause: "software_tuning", Repairable: true, Notes: "重装系统"}
	work := tickets.WorkInput{ServiceKind: "repair", IncludeVisit: true}
	refused := func(t *testing.T, tk tickets.Ticket, in tickets.DiagnoseInput, fields ...string) {
		t.Helper()
		_, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, in, 0)
		require.ElementsMatch(t, fields, domaintest.Fields(t, err), "%v", err)
		got, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		require.Equal(t, tk.Version, got.Version, "nothing changed")
		require.Nil(t, got.Diagnosis)
		require.Nil(t, got.QuoteID)
	}

	t.Run("LaptopReinstallRefusedWithoutIt", func(t *testing.T) {
		tk := e.dataUnitOnSite(t, "HN-BOOK14-R7")
		refused(t, tk, tickets.DiagnoseInput{Diagnosis: reinstall, Work: work, PriceListShown: true},
			"diagnosis.data_loss.customer_agreed", "diagnosis.data_loss.data_backup")
		notSigned := reinstall
		notSigned.DataLoss = &tickets.DataLossAcknowledgement{DataBackup: "not_backed_up"}
		refused(t, tk, tickets.DiagnoseInput{Diagnosis: notSigned, Work: work, PriceListShown: true},
			"diagnosis.data_loss.customer_agreed")
		badBackup := reinstall
		badBackup.DataLoss = &tickets.DataLossAcknowledgement{CustomerAgreed: true, DataBackup: "maybe"}
		refused(t, tk, tickets.DiagnoseInput{Diagnosis: badBackup, Work: work, PriceListShown: true},
			"diagnosis.data_loss.data_backup")
	})

	t.Run("LaptopMainboardRefusedWithoutIt", func(t *testing.T) {
		tk := e.dataUnitOnSite(t, "HN-BOOK14-R7")
		board := tickets.WorkInput{ServiceKind: "repair", Parts: []catalog.QuotePart{{PartID: e.part(t, "HN-B14-MB"), Quantity: 1}}}
		refused(t, tk, tickets.DiagnoseInput{Diagnosis: tickets.Diagnosis{Cause: "performance", Repairable: true}, Work: board, PriceListShown: true},
			"diagnosis.data_loss.customer_agreed", "diagnosis.data_loss.data_backup")
	})

	t.Run("LaptopReinstallAcceptedWithItAndRecorded", func(t *testing.T) {
		tk := e.dataUnitOnSite(t, "HN-BOOK14-R7")
		at := e.start.Add(20 * time.Minute)
		e.set(at)
		d := reinstall
		d.DataLoss = &tickets.DataLossAcknowledgement{CustomerAgreed: true, DataBackup: "not_backed_up"}
		tk, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{Diagnosis: d, Work: work, PriceListShown: true}, 0)
		require.NoError(t, err)
		ack := tk.Diagnosis.DataLoss
		require.NotNil(t, ack)
		require.True(t, ack.CustomerAgreed)
		require.Equal(t, "not_backed_up", ack.DataBackup)
		require.Equal(t, []string{"software_tuning"}, ack.Work)
		require.NotNil(t, ack.RecordedAt)
		require.True(t, at.Equal(*ack.RecordedAt), "%v", ack.RecordedAt)
		tl, err := e.Tickets.Timeline(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		last := tl[len(tl)-1]
		require.Equal(t, string(tickets.ActDiagnose), last.Action)
		logged, ok := last.Detail["data_loss"].(map[string]any)
		require.True(t, ok, "%v", last.Detail)
		require.Equal(t, true, logged["customer_agreed"])
		require.Equal(t, "not_backed_up", logged["data_backup"])
	})

	t.Run("CarriedInLaptopHasItOnTheReceipt", func(t *testing.T) {
		tk := e.dataUnitOnSite(t, "HN-BOOK14-R7")
		e.set(e.start)
		tk, err := e.Tickets.CarryIn(e.Ctx, e.Admin, tk.ID, tickets.CarryInInput{Condition: "外观完好", CustomerAgreed: true,
			Configuration: "R7 / 16GB / 1TB SSD", DataBackup: "backed_up"}, 0)
		require.NoError(t, err)
		e.set(e.start.Add(24 * time.Hour))
		tk, err = e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{Diagnosis: reinstall, Work: work, PriceListShown: true}, 0)
		require.NoError(t, err)
		ack := tk.Diagnosis.DataLoss
		require.NotNil(t, ack)
		require.Equal(t, "backed_up", ack.DataBackup)
		require.Equal(t, tk.CarryIn.ReceiptNumber, ack.ReceiptNumber)
		require.True(t, e.start.Equal(*ack.RecordedAt), "the receipt's signature: %v", ack.RecordedAt)
	})

	t.Run("WasherNeedsNothing", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 400, false), -6)
		tk, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{Diagnosis: reinstall, Work: work, PriceListShown: true}, 0)
		require.NoError(t, err)
		require.Nil(t, tk.Diagnosis.DataLoss)
	})

	t.Run("PhoneScreenNeedsNothing", func(t *testing.T) {
		tk := e.dataUnitOnSite(t, "HN-P60-256")
		screen := tickets.WorkInput{ServiceKind: "repair", Parts: []catalog.QuotePart{{PartID: e.part(t, "HN-P60-LCD"), Quantity: 1}}}
		tk, err := e.Tickets.Diagnose(e.Ctx, e.Admin, tk.ID, tickets.DiagnoseInput{
			Diagnosis: tickets.Diagnosis{Cause: "accidental_damage", Repairable: true, PartCategories: []string{"screen"}},
			Work:      screen, PriceListShown: true}, 0)
		require.NoError(t, err)
		require.Nil(t, tk.Diagnosis.DataLoss)
	})
}
