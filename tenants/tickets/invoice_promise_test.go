package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// dayOf is at's day in the demo tenant's time zone (Asia/Shanghai).
func dayOf(at time.Time) string {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return at.In(loc).Format(time.DateOnly)
}

// paidRepair is an out-of-warranty washer repair completed on e.start's
// day, its receipt without an invoice.
func (e *moneyEnv) paidRepair(t *testing.T) tickets.Ticket {
	t.Helper()
	tk := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
	tk, err := e.diagnoseAndComplete(t, tk.ID, "performance", tickets.CompleteInput{})
	require.NoError(t, err)
	requirePaidReceipt(t, tk, e.Admin)
	return tk
}

// Seed 000 (五.收费): 若现场未带发票,应与用户约定再送发票或寄发票. An invoice
// delivered later or mailed carries the day agreed with the customer.
func TestRolledBackInvoicePromisedAndOverdue(t *testing.T) {
	e := newMoneyEnv(t)
	later := func(day string) tickets.InvoiceRequestInput {
		return tickets.InvoiceRequestInput{InvoiceRequest: tickets.InvoiceRequest{TitleType: "personal", Title: "钱七",
			Delivery: "later", PromisedOn: day}}
	}

	t.Run("LaterIsPromisedForTheDayAgreed", func(t *testing.T) {
		tk := e.paidRepair(t)
		d := dayOf(e.start.AddDate(0, 0, 1)) // promised for the day after the visit
		tk, err := e.Tickets.RequestInvoice(e.Ctx, e.Admin, tk.ID, later(d), 0)
		require.NoError(t, err)
		require.Equal(t, d, tk.Receipts[0].Invoice.PromisedOn)
		got, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		require.Equal(t, d, got.Receipts[0].Invoice.PromisedOn, "stored with the invoice")
	})

	t.Run("OnSiteIsPromisedForTheDayOfTheRequest", func(t *testing.T) {
		tk := e.paidRepair(t)
		requested := dayOf(e.now())
		tk, err := e.Tickets.RequestInvoice(e.Ctx, e.Admin, tk.ID, tickets.InvoiceRequestInput{InvoiceRequest: tickets.InvoiceRequest{
			TitleType: "personal", Title: "钱七", Delivery: "on_site"}}, 0)
		require.NoError(t, err)
		require.Equal(t, requested, tk.Receipts[0].Invoice.PromisedOn)
	})

	t.Run("BadPromiseChangesNothing", func(t *testing.T) {
		tk := e.paidRepair(t)
		requested := dayOf(e.now())
		for _, c := range []struct {
			name, delivery, promised string
		}{
			{"MissingForMail", "mail", ""},
			{"MissingForLater", "later", ""},
			{"GivenOnSite", "on_site", requested},
			{"BeforeTheRequest", "later", dayOf(e.now().AddDate(0, 0, -1))},
			{"NotADate", "mail", "2026/12/03"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := e.Tickets.RequestInvoice(e.Ctx, e.Admin, tk.ID, tickets.InvoiceRequestInput{InvoiceRequest: tickets.InvoiceRequest{
					TitleType: "personal", Title: "钱七", Delivery: c.delivery, PromisedOn: c.promised}}, 0)
				require.Equal(t, []string{"promised_on"}, domaintest.Fields(t, err))
				got, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
				require.NoError(t, err)
				require.Equal(t, tk.Version, got.Version, "nothing changed")
				require.Nil(t, got.Receipts[0].Invoice)
			})
		}
		// at the completion, the field is the completion's
		tk2 := e.onSite(t, "repair", e.unit(t, 1200, false), -6)
		_, err := e.diagnoseAndComplete(t, tk2.ID, "performance", tickets.CompleteInput{Invoice: &tickets.InvoiceRequest{
			TitleType: "personal", Title: "钱七", Delivery: "mail"}})
		require.Equal(t, []string{"invoice.promised_on"}, domaintest.Fields(t, err))
		_, err = e.Tickets.Complete(e.Ctx, e.Admin, tk2.ID, tickets.CompleteInput{TestRun: tickets.TestRun{Passed: true},
			Invoice: &tickets.InvoiceRequest{TitleType: "personal", Title: "钱七", Delivery: "mail", PromisedOn: dayOf(e.now().AddDate(0, 0, -1))}}, 0)
		require.Equal(t, []string{"invoice.promised_on"}, domaintest.Fields(t, err))
		got, err := e.Tickets.Get(e.Ctx, e.Admin, tk2.ID)
		require.NoError(t, err)
		require.Equal(t, tickets.State("on_site"), got.State, "not completed")
	})
}

// A mailed invoice's issue may carry the mailing's tracking number; an
// invoice handed over or delivered later takes none.
func TestRolledBackInvoiceTrackingNumber(t *testing.T) {
	e := newMoneyEnv(t)
	request := func(t *testing.T, delivery string) tickets.Ticket {
		t.Helper()
		tk := e.paidRepair(t)
		in := tickets.InvoiceRequest{TitleType: "personal", Title: "钱七", Delivery: delivery}
		if delivery != "on_site" {
			in.PromisedOn = dayOf(e.start.AddDate(0, 0, 2))
		}
		tk, err := e.Tickets.RequestInvoice(e.Ctx, e.Admin, tk.ID, tickets.InvoiceRequestInput{InvoiceRequest: in}, 0)
		require.NoError(t, err)
		return tk
	}
	issue := func(tracking string) tickets.InvoiceIssueInput {
		return tickets.InvoiceIssueInput{InvoiceNumber: "37021234", IssuedOn: domaintest.Today(0), TrackingNumber: tracking}
	}

	t.Run("MailedShowsIt", func(t *testing.T) {
		tk := request(t, "mail")
		tk, err := e.Tickets.RecordInvoiceIssued(e.Ctx, e.Admin, tk.ID, issue("SF1234567890123"), 0)
		require.NoError(t, err)
		require.Equal(t, "SF1234567890123", *tk.Receipts[0].Invoice.TrackingNumber)
		got, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		require.Equal(t, "SF1234567890123", *got.Receipts[0].Invoice.TrackingNumber, "stored with the invoice")
		tl := e.timelineOf(t, tk.ID, string(tickets.ActInvoiceIssued))
		require.Len(t, tl, 1)
		require.Equal(t, "SF1234567890123", tl[0].Detail["tracking_number"])
	})
	t.Run("MailedWithoutIt", func(t *testing.T) {
		tk := request(t, "mail")
		tk, err := e.Tickets.RecordInvoiceIssued(e.Ctx, e.Admin, tk.ID, issue(""), 0)
		require.NoError(t, err)
		require.Nil(t, tk.Receipts[0].Invoice.TrackingNumber)
	})
	for _, c := range []struct{ name, delivery, tracking string }{
		{"LaterTakesNone", "later", "SF1234567890123"},
		{"OnSiteTakesNone", "on_site", "SF1234567890123"},
		{"NotATrackingNumber", "mail", "SF 123"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := request(t, c.delivery)
			_, err := e.Tickets.RecordInvoiceIssued(e.Ctx, e.Admin, tk.ID, issue(c.tracking), 0)
			require.Equal(t, []string{"tracking_number"}, domaintest.Fields(t, err))
			got, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
			require.NoError(t, err)
			require.Equal(t, tk.Version, got.Version, "nothing changed")
			require.Nil(t, got.Receipts[0].Invoice.Number, "still outstanding")
		})
	}
}
