package tickets_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A company's unified social credit code with its check character (GB
// 32100-2015), and the same code with a wrong one.
const (
	companyCreditCode = "91370212MA3C8BDN5D"
	badCheckCharacter = "91370212MA3C8BDN5P"
)

// requirePaidReceipt asserts tk's one receipt is what an out-of-warranty
// washer repair charges the customer by the demo price list (rule 2:
// labour 120.00 + visit 50.00 = 170.00), collected by the ticket's node
// and technician at the completion.
func requirePaidReceipt(t *testing.T, tk tickets.Ticket, by tenants.Principal) tickets.PaymentReceipt {
	t.Helper()
	require.Len(t, tk.Receipts, 1)
	r := tk.Receipts[0]
	require.Equal(t, "PR-"+tk.Number+"-1", r.Number)
	require.Equal(t, tk.ID, r.TicketID)
	require.Equal(t, tk.Number, r.TicketNumber)
	require.Equal(t, *tk.UnitID, r.UnitID)
	lines := map[string]int64{}
	for _, l := range r.Lines {
		require.Equal(t, "CNY", l.Amount.Currency)
		lines[l.Kind] += l.Amount.Amount
	}
	require.Equal(t, map[string]int64{"labor": washerLabour, "visit": washerVisit}, lines)
	require.Equal(t, domaintest.CNY(washerLabour+washerVisit), r.Total)
	require.Equal(t, tk.NodeID, r.NodeID)
	require.Equal(t, tk.TechnicianID, r.TechnicianID)
	require.Equal(t, by.Subject(), r.CollectedBy)
	require.True(t, r.IssuedAt.Equal(*tk.CompletedAt))
	return r
}

// Seed 000 (五.收费): 严格按收费标准进行收费,并开具收据; seed 003: 收费后为用户开
// 示记录. A paid completion issues a numbered receipt of what the customer
// pays; a free one issues none, and an invoice on it is refused.
func TestRolledBackReceiptAtCompletion(t *testing.T) {
	e := newMoneyEnv(t)
	t.Run("PaidRepairIssuesAReceipt", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk, err := e.diagnoseAndComplete(t, tk.ID, "performance", tickets.CompleteInput{})
		require.NoError(t, err)
		r := requirePaidReceipt(t, tk, e.Admin)
		require.Nil(t, r.Invoice)
		require.Nil(t, tk.InvoiceOutstandingSince)
		got, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		requireSameReceipts(t, tk.Receipts, got.Receipts, "stored with the ticket")
		tl, err := e.Tickets.Timeline(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		i := slices.IndexFunc(tl, func(x tickets.TimelineEntry) bool { return x.Action == string(tickets.ActComplete) })
		require.GreaterOrEqual(t, i, 0)
		require.Equal(t, r.Number, tl[i].Detail["receipt_number"], "the completion's timeline entry names it")
	})
	t.Run("InWarrantyIssuesNone", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 100, false), -6)
		done, err := e.diagnoseAndComplete(t, tk.ID, "performance", tickets.CompleteInput{})
		require.NoError(t, err)
		customer, brand, _ := totals(t, done)
		require.Zero(t, customer)
		require.Equal(t, int64(washerLabour+washerVisit), brand)
		require.Empty(t, done.Receipts, "nothing charged: no receipt")
		_, err = e.Tickets.RequestInvoice(e.Ctx, e.Admin, tk.ID, tickets.InvoiceRequestInput{InvoiceRequest: tickets.InvoiceRequest{
			TitleType: "personal", Title: "钱七", Delivery: "on_site"}}, 0)
		requireConflict(t, err)
	})
	t.Run("InvoiceOnAFreeCompletionIsRefused", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 100, false), -6)
		_, err := e.diagnoseAndComplete(t, tk.ID, "performance", tickets.CompleteInput{Invoice: &tickets.InvoiceRequest{
			TitleType: "personal", Title: "钱七", Delivery: "on_site"}})
		requireConflict(t, err)
		got, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		require.Equal(t, tickets.State("on_site"), got.State, "not completed")
	})
}

// requireSameReceipts asserts want and got are the same receipts, as the
// API shows them (times compared as instants).
func requireSameReceipts(t *testing.T, want, got []tickets.PaymentReceipt, msg string) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(w), string(g), msg)
}

func requireConflict(t *testing.T, err error) {
	t.Helper()
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, tenants.CodeConflict, te.Code, "%v", err)
}

// Seed 000: 如用户要求开发票,则必须给用户开发票…若现场未带发票,应与用户约定再送发票
// 或寄发票. The invoice is asked for at the completion or after it; a
// company's must carry a valid unified social credit code; until it is
// issued it is an open obligation the outstanding list finds.
func TestRolledBackInvoiceRequestedAndIssued(t *testing.T) {
	e := newMoneyEnv(t)
	// the visits are on e.start's day: the day of the requests
	promised := dayOf(e.start.AddDate(0, 0, 3))
	company := tickets.InvoiceRequest{TitleType: "company", Title: "青岛海尔路科技有限公司", TaxpayerID: companyCreditCode, Delivery: "mail",
		PromisedOn: promised}

	t.Run("AtTheCompletion", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk, err := e.diagnoseAndComplete(t, tk.ID, "performance", tickets.CompleteInput{Invoice: &company})
		require.NoError(t, err)
		r := requirePaidReceipt(t, tk, e.Admin)
		require.NotNil(t, r.Invoice)
		require.Equal(t, companyCreditCode, r.Invoice.TaxpayerID)
		require.Equal(t, &tk.Address, r.Invoice.Address, "mailed to the ticket's address by default")
		require.Equal(t, promised, r.Invoice.PromisedOn)
		require.Nil(t, r.Invoice.Number)
		require.NotNil(t, tk.InvoiceOutstandingSince)
	})

	t.Run("BadTaxpayerIDChangesNothing", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		done, err := e.diagnoseAndComplete(t, tk.ID, "performance", tickets.CompleteInput{})
		require.NoError(t, err)
		for _, c := range []struct {
			name, titleType, id, field string
		}{
			{"WrongCheckCharacter", "company", badCheckCharacter, "taxpayer_id"},
			{"TooShort", "company", "91370212MA3C8", "taxpayer_id"},
			{"LowerCase", "company", "91370212ma3c8bdn5d", "taxpayer_id"},
			{"Missing", "company", "", "taxpayer_id"},
			{"PersonalTakesNone", "personal", companyCreditCode, "taxpayer_id"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.Tickets.RequestInvoice(e.Ctx, e.Admin, tk.ID, tickets.InvoiceRequestInput{InvoiceRequest: tickets.InvoiceRequest{
					TitleType: c.titleType, Title: "青岛海尔路科技有限公司", TaxpayerID: c.id, Delivery: "later", PromisedOn: promised}}, 0)
				require.Equal(t, []string{c.field}, domaintest.Fields(t, err))
				got, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
				require.NoError(t, err)
				require.Equal(t, done.Version, got.Version, "nothing changed")
				require.Nil(t, got.Receipts[0].Invoice)
			})
		}
		// at the completion, the field is the completion's
		tk2 := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		bad := company
		bad.TaxpayerID = badCheckCharacter
		_, err = e.Tickets.Complete(e.Ctx, e.Admin, tk2.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true}, Invoice: &bad}, 0)
		require.Equal(t, []string{"invoice.taxpayer_id"}, domaintest.Fields(t, err))
	})

	t.Run("AfterTheCompletionThenIssued", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		tk, err := e.diagnoseAndComplete(t, tk.ID, "performance", tickets.CompleteInput{})
		require.NoError(t, err)
		_, err = e.Tickets.RecordInvoiceIssued(e.Ctx, e.Admin, tk.ID, tickets.InvoiceIssueInput{InvoiceNumber: "37021234", IssuedOn: domaintest.Today(0)}, 0)
		requireConflict(t, err) // none asked for

		requested := e.now()
		tk, err = e.Tickets.RequestInvoice(e.Ctx, e.Admin, tk.ID, tickets.InvoiceRequestInput{InvoiceRequest: tickets.InvoiceRequest{
			TitleType: "personal", Title: "钱七", Delivery: "later", PromisedOn: promised}}, 0)
		require.NoError(t, err)
		r := tk.Receipts[0]
		require.Equal(t, "钱七", r.Invoice.Title)
		require.Nil(t, r.Invoice.Address, "delivered later, not mailed")
		require.Equal(t, e.Admin.Subject(), r.Invoice.RequestedBy)
		require.NotNil(t, tk.InvoiceOutstandingSince)
		require.True(t, tk.InvoiceOutstandingSince.Equal(requested))
		_, err = e.Tickets.RequestInvoice(e.Ctx, e.Admin, tk.ID, tickets.InvoiceRequestInput{InvoiceRequest: company}, 0)
		requireConflict(t, err) // one invoice per receipt
		require.Contains(t, err.Error(), r.Number, "the conflict names the receipt")

		out, _, err := e.Tickets.List(e.Ctx, e.Admin, tickets.Filter{InvoiceOutstanding: true, Limit: 100})
		require.NoError(t, err)
		require.Contains(t, ids(out), tk.ID, "the open obligation is found")

		_, err = e.Tickets.RecordInvoiceIssued(e.Ctx, e.Admin, tk.ID, tickets.InvoiceIssueInput{ReceiptNumber: "PR-nope", InvoiceNumber: "37021234", IssuedOn: domaintest.Today(0)}, 0)
		require.Equal(t, []string{"receipt_number"}, domaintest.Fields(t, err))
		tk, err = e.Tickets.RecordInvoiceIssued(e.Ctx, e.Admin, tk.ID, tickets.InvoiceIssueInput{InvoiceNumber: "37021234", IssuedOn: domaintest.Today(0)}, 0)
		require.NoError(t, err)
		inv := tk.Receipts[0].Invoice
		require.Equal(t, "37021234", *inv.Number)
		require.Equal(t, domaintest.Today(0), *inv.IssuedOn)
		require.Nil(t, tk.InvoiceOutstandingSince, "the obligation is closed")
		out, _, err = e.Tickets.List(e.Ctx, e.Admin, tickets.Filter{InvoiceOutstanding: true, Limit: 100})
		require.NoError(t, err)
		require.NotContains(t, ids(out), tk.ID)
		_, err = e.Tickets.RecordInvoiceIssued(e.Ctx, e.Admin, tk.ID, tickets.InvoiceIssueInput{InvoiceNumber: "37021235", IssuedOn: domaintest.Today(0)}, 0)
		requireConflict(t, err)

		tl, err := e.Tickets.Timeline(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		var actions []string
		for _, x := range tl {
			actions = append(actions, x.Action)
		}
		require.Subset(t, actions, []string{string(tickets.ActInvoiceRequested), string(tickets.ActInvoiceIssued)})
	})

	t.Run("AnotherTenantsTicketIsNotFound", func(t *testing.T) {
		tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		_, err := e.diagnoseAndComplete(t, tk.ID, "performance", tickets.CompleteInput{})
		require.NoError(t, err)
		other := e.Another(t, "")
		for _, err := range []error{
			func() error {
				_, err := e.Tickets.RequestInvoice(e.Ctx, other, tk.ID, tickets.InvoiceRequestInput{InvoiceRequest: company}, 0)
				return err
			}(),
			func() error {
				_, err := e.Tickets.RecordInvoiceIssued(e.Ctx, other, tk.ID, tickets.InvoiceIssueInput{InvoiceNumber: "1", IssuedOn: domaintest.Today(0)}, 0)
				return err
			}(),
		} {
			var te *tenants.Error
			require.ErrorAs(t, err, &te)
			require.Equal(t, tenants.CodeNotFound, te.Code)
		}
	})
}

// A refund later does not rewrite the receipt: a complaint upheld after
// the completion (rule 8) moves the 170.00 to the brand and refunds it by
// a payout, its own record; the receipt keeps what was collected.
func TestRolledBackReceiptKeepsWhatWasCollected(t *testing.T) {
	e := newMoneyEnv(t)
	tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
	tk, err := e.diagnoseAndComplete(t, tk.ID, "performance", tickets.CompleteInput{})
	require.NoError(t, err)
	before := requirePaidReceipt(t, tk, e.Admin)
	c := e.upholdLicenceNotShown(t, tk)
	require.NotNil(t, c.RefundPayoutID, "the refund is its own record")
	tk, err = e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
	require.NoError(t, err)
	customer, _, _ := totals(t, tk)
	require.Zero(t, customer)
	requireSameReceipts(t, []tickets.PaymentReceipt{before}, tk.Receipts, "the receipt is not rewritten")
}

func ids(ts []tickets.Ticket) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

// An invoice's personal data follows the ticket's: a person's title is
// masked as the contact's name, the mailing address as the service
// address; a company's title and taxpayer id are not personal.
func TestInvoicePersonalDataMasked(t *testing.T) {
	addr := tickets.ServiceAddress{RegionCode: "370212", Line: "崂山区海尔路1号 3单元 502"}
	tracking := "SF1234567890123"
	tk := tickets.Ticket{Contact: tickets.TicketContact{Name: "王丽"}, Receipts: []tickets.PaymentReceipt{
		{Number: "PR-SN-20261130-00042-1", Invoice: &tickets.Invoice{TitleType: "personal", Title: "王丽", Delivery: "mail", Address: &addr,
			PromisedOn: "2026-12-03", TrackingNumber: &tracking}},
		{Number: "PR-SN-20261130-00042-2", Invoice: &tickets.Invoice{TitleType: "company", Title: "青岛海尔路科技有限公司", TaxpayerID: companyCreditCode, Delivery: "later",
			PromisedOn: "2026-12-04"}},
	}}
	clear := tk.Receipts[0].Invoice
	tk.MaskPersonal()
	require.Equal(t, tk.Contact.Name, tk.Receipts[0].Invoice.Title, "masked as the contact's name")
	require.NotEqual(t, "王丽", tk.Receipts[0].Invoice.Title)
	require.NotEqual(t, addr.Line, tk.Receipts[0].Invoice.Address.Line)
	require.Equal(t, "王丽", clear.Title, "masked in a copy")
	require.Equal(t, "青岛海尔路科技有限公司", tk.Receipts[1].Invoice.Title)
	require.Equal(t, companyCreditCode, tk.Receipts[1].Invoice.TaxpayerID)
	// the day promised and the tracking number are not personal
	require.Equal(t, "2026-12-03", tk.Receipts[0].Invoice.PromisedOn)
	require.Equal(t, &tracking, tk.Receipts[0].Invoice.TrackingNumber)
	require.Equal(t, "2026-12-04", tk.Receipts[1].Invoice.PromisedOn)
}
