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

// startOf is the start of day (YYYY-MM-DD) in Asia/Shanghai.
func startOf(t *testing.T, day string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	d, err := time.ParseInLocation(time.DateOnly, day, loc)
	require.NoError(t, err)
	return d
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

// overdue is the invoice_overdue findings of day naming the ticket id.
func (e *moneyEnv) overdue(t *testing.T, day, id string) []tickets.Finding {
	t.Helper()
	fs, _, err := e.Tickets.ListFindings(e.Ctx, e.Admin, tickets.FindingFilter{Day: day, Problem: string(tickets.ProblemInvoiceOverdue), Limit: 100})
	require.NoError(t, err)
	var out []tickets.Finding
	for _, f := range fs {
		if f.TicketID == id {
			out = append(out, f)
		}
	}
	return out
}

// reconcileAt reconciles day with the tickets' clock at at.
func (e *moneyEnv) reconcileAt(t *testing.T, day string, at time.Time) {
	t.Helper()
	e.set(at)
	_, err := e.Tickets.Reconcile(e.Ctx, e.Admin.TenantID, day)
	require.NoError(t, err)
}

// Seed 000 (五.收费): 若现场未带发票,应与用户约定再送发票或寄发票. An invoice
// delivered later or mailed carries the day agreed with the customer; the
// daily reconciliation finds one not issued by the end of that day, once.
func TestRolledBackInvoicePromisedAndOverdue(t *testing.T) {
	e := newMoneyEnv(t)
	later := func(day string) tickets.InvoiceRequestInput {
		return tickets.InvoiceRequestInput{InvoiceRequest: tickets.InvoiceRequest{TitleType: "personal", Title: "钱七",
			Delivery: "later", PromisedOn: day}}
	}
	issue := tickets.InvoiceIssueInput{InvoiceNumber: "37021234", IssuedOn: domaintest.Today(0)}

	t.Run("NotIssuedByThePromisedDayIsOverdueOnce", func(t *testing.T) {
		tk := e.paidRepair(t)
		d := dayOf(e.start.AddDate(0, 0, 1)) // promised for the day after the visit
		tk, err := e.Tickets.RequestInvoice(e.Ctx, e.Admin, tk.ID, later(d), 0)
		require.NoError(t, err)
		require.Equal(t, d, tk.Receipts[0].Invoice.PromisedOn)
		got, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
		require.NoError(t, err)
		require.Equal(t, d, got.Receipts[0].Invoice.PromisedOn, "stored with the invoice")

		end := startOf(t, d).AddDate(0, 0, 1)
		e.reconcileAt(t, d, end.Add(-time.Hour))
		require.Empty(t, e.overdue(t, d, tk.ID), "the day has not ended: it may still be issued")
		e.reconcileAt(t, d, end.Add(time.Hour))
		fs := e.overdue(t, d, tk.ID)
		require.Len(t, fs, 1)
		require.Equal(t, tk.Number, fs[0].Number)
		require.Equal(t, tk.NodeID, fs[0].NodeID)
		fs[0].Localize("en")
		require.Contains(t, fs[0].Summary, tk.Number)
		require.Contains(t, fs[0].Summary, d)
		e.reconcileAt(t, d, end.Add(2*time.Hour))
		require.Len(t, e.overdue(t, d, tk.ID), 1, "reconciled again: still one")
		e.reconcileAt(t, dayOf(e.start), end.Add(2*time.Hour))
		require.Empty(t, e.overdue(t, dayOf(e.start), tk.ID), "not on the day of the request")

		// issued after the day: the finding stays, and a run after it finds no more
		_, err = e.Tickets.RecordInvoiceIssued(e.Ctx, e.Admin, tk.ID, issue, 0)
		require.NoError(t, err)
		e.reconcileAt(t, d, end.Add(3*time.Hour))
		require.Len(t, e.overdue(t, d, tk.ID), 1)
	})

	// promised for the day after e.start's, issued offset from that day's
	// end and reconciled an hour after it: the day's findings of the ticket
	issuedAround := func(t *testing.T, offset time.Duration) []tickets.Finding {
		t.Helper()
		tk := e.paidRepair(t)
		d := dayOf(e.start.AddDate(0, 0, 1))
		_, err := e.Tickets.RequestInvoice(e.Ctx, e.Admin, tk.ID, later(d), 0)
		require.NoError(t, err)
		end := startOf(t, d).AddDate(0, 0, 1)
		e.set(end.Add(offset))
		_, err = e.Tickets.RecordInvoiceIssued(e.Ctx, e.Admin, tk.ID, issue, 0)
		require.NoError(t, err)
		e.reconcileAt(t, d, end.Add(time.Hour))
		return e.overdue(t, d, tk.ID)
	}
	t.Run("IssuedAfterTheDayIsOverdueWhenReconciledLater", func(t *testing.T) {
		require.Len(t, issuedAround(t, 10*time.Minute), 1, "not issued by the end of the day it was promised")
	})
	t.Run("IssuedOnTimeIsNotOverdue", func(t *testing.T) {
		require.Empty(t, issuedAround(t, -time.Minute))
	})

	t.Run("OnSiteIsPromisedForTheDayOfTheRequest", func(t *testing.T) {
		tk := e.paidRepair(t)
		requested := dayOf(e.now())
		tk, err := e.Tickets.RequestInvoice(e.Ctx, e.Admin, tk.ID, tickets.InvoiceRequestInput{InvoiceRequest: tickets.InvoiceRequest{
			TitleType: "personal", Title: "钱七", Delivery: "on_site"}}, 0)
		require.NoError(t, err)
		require.Equal(t, requested, tk.Receipts[0].Invoice.PromisedOn)
		end := startOf(t, requested).AddDate(0, 0, 1)
		e.reconcileAt(t, requested, end.Add(time.Hour))
		require.Len(t, e.overdue(t, requested, tk.ID), 1, "not handed over that day")
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
