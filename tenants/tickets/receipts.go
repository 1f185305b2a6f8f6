package tickets

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/privacy"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// Receipts and invoices (seed 000, 五.收费: 严格按收费标准进行收费,并开具收据,
// 如用户要求开发票,则必须给用户开发票…若现场未带发票,应与用户约定再送发票或寄发票;
// seed 003: 收费后为用户开示记录). Every completion that charges the
// customer issues a receipt, kept on the ticket and never rewritten: a
// refund later (WaiveChargesTx) is its own record, the payout. The
// customer may ask for an invoice on a receipt; one asked for and not yet
// issued is an open obligation (Ticket.invoice_requested_at, listTickets
// invoice_outstanding), due by the day the customer was promised it
// (Invoice.PromisedOn: agreed for delivery later or by mail, the day of the
// request on site); the daily reconciliation finds one not issued by the
// end of that day (ProblemInvoiceOverdue).

// Ticket actions on the invoice.
const (
	// ActInvoiceRequested: the customer asked for an invoice (发票).
	ActInvoiceRequested Action = "invoice_requested"
	// ActInvoiceIssued: the invoice asked for was issued.
	ActInvoiceIssued Action = "invoice_issued"
)

// Invoice titles and deliveries.
const (
	InvoicePersonal = "personal"
	InvoiceCompany  = "company"
	DeliveryOnSite  = "on_site"
	DeliveryLater   = "later"
	DeliveryMail    = "mail"
)

// PaymentReceiptLine is a line of what the customer paid.
type PaymentReceiptLine struct {
	Kind        string        `json:"kind" enum:"labor,part,visit,other,fee" doc:"The charge line's kind." example:"labor"`
	Code        string        `json:"code,omitempty" doc:"Part number for parts." example:"0024000145"`
	Description string        `json:"description" doc:"What the line is for." example:"Repair labour"`
	Amount      tenants.Money `json:"amount" doc:"What the customer paid for the line."`
}

// PaymentReceipt is the record of what a completion charged the customer (收据).
type PaymentReceipt struct {
	Number       string               `json:"number" doc:"The receipt's number, unique in the tenant and its mode: PR-<the ticket's number>-<n>, n counting the ticket's receipts from 1 (a ticket reopened and charged again issues its second); not the carry-in receipt for the unit (RC-…). Derived from the ticket's number, it takes no lock and leaves no gap among a ticket's receipts." example:"PR-SN-20261130-00042-1"`
	TicketID     string               `json:"ticket_id" example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	TicketNumber string               `json:"ticket_number" example:"SN-20261130-00042"`
	UnitID       string               `json:"unit_id,omitempty" doc:"The unit served." example:"unt_01jd3zq8w6v7t3y2k9x4n5m6ph"`
	Lines        []PaymentReceiptLine `json:"lines" doc:"The charge lines the customer paid (above zero), as the completion settled them."`
	Total        tenants.Money        `json:"total" doc:"What the customer paid in all: the completion's customer total."`
	NodeID       *string              `json:"node_id,omitempty" doc:"The node that collected it." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	TechnicianID *string              `json:"technician_id,omitempty" doc:"The technician who collected it." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pr"`
	CollectedBy  string               `json:"collected_by" doc:"The API key that completed the service." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	IssuedAt     time.Time            `json:"issued_at" doc:"When: the completion." example:"2026-12-01T10:30:00+08:00"`
	Invoice      *Invoice             `json:"invoice,omitempty" doc:"The invoice the customer asked for on this receipt; absent when none was asked for."`
}

// Invoice is the invoice (发票) a customer asked for on a receipt.
type Invoice struct {
	TitleType      string          `json:"title_type" enum:"personal,company" doc:"personal: made out to a person (the title is the person's name, personal data, masked as the contact is); company: to a company, with its taxpayer id." example:"company"`
	Title          string          `json:"title" doc:"The invoice's title (抬头): the person's or the company's name." example:"青岛海尔路科技有限公司"`
	TaxpayerID     string          `json:"taxpayer_id,omitempty" doc:"A company's unified social credit code (统一社会信用代码)." example:"91370212MA3C8BDN5D"`
	Delivery       string          `json:"delivery" enum:"on_site,later,mail" doc:"How it reaches the customer: handed over on site, delivered later, or mailed to address." example:"mail"`
	Address        *ServiceAddress `json:"address,omitempty" doc:"mail: where it is mailed (the ticket's service address unless another was given); masked as the service address is."`
	PromisedOn     string          `json:"promised_on" format:"date" doc:"The day (the tenant's calendar) the customer was promised the invoice by: the day agreed for delivery later or mail (约定再送发票或寄发票), the day of the request for on_site. An invoice not recorded as issued by the end of that day is a reconciliation finding (invoice_overdue)." example:"2026-12-03"`
	RequestedAt    time.Time       `json:"requested_at" example:"2026-12-01T10:31:00+08:00"`
	RequestedBy    string          `json:"requested_by" doc:"The API key that recorded the request." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	Number         *string         `json:"number,omitempty" doc:"The invoice's number, once issued; absent while the invoice is outstanding." example:"37021234"`
	IssuedOn       *string         `json:"issued_on,omitempty" format:"date" doc:"The invoice's date, once issued." example:"2026-12-02"`
	IssuedAt       *time.Time      `json:"issued_at,omitempty" doc:"When the issue was recorded." example:"2026-12-02T09:00:00+08:00"`
	IssuedBy       *string         `json:"issued_by,omitempty" doc:"The API key that recorded the issue." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	TrackingNumber *string         `json:"tracking_number,omitempty" doc:"mail: the mailing's tracking number, as recorded with the issue; absent when none was given." example:"SF1234567890123"`
}

// InvoiceRequest is the customer's request for an invoice.
type InvoiceRequest struct {
	TitleType  string          `json:"title_type" enum:"personal,company" doc:"personal (a person's name) or company (with taxpayer_id)." example:"company"`
	Title      string          `json:"title" minLength:"1" maxLength:"200" doc:"The invoice's title (抬头): the person's or the company's name." example:"青岛海尔路科技有限公司"`
	TaxpayerID string          `json:"taxpayer_id,omitempty" maxLength:"18" doc:"Required for a company, refused for a person: the company's unified social credit code (统一社会信用代码), 18 characters: digits and capital letters but I, O, S, V and Z, the last a check character (GB 32100-2015); otherwise 422 at taxpayer_id." example:"91370212MA3C8BDN5D"`
	Delivery   string          `json:"delivery" enum:"on_site,later,mail" doc:"on_site: handed over on site; later: delivered later (现场未带发票,约定再送); mail: mailed to address." example:"mail"`
	Address    *ServiceAddress `json:"address,omitempty" doc:"mail only (422 at address otherwise): where to mail it; absent, the ticket's service address."`
	PromisedOn string          `json:"promised_on,omitempty" format:"date" doc:"later and mail: the day (YYYY-MM-DD, the tenant's calendar) the customer was promised the invoice by, required for them (422 at promised_on when missing) and not before the day of the request (422). on_site takes none (422 at promised_on): its invoice is promised for the day of the request. The daily reconciliation finds an invoice not recorded as issued by the end of its promised day (invoice_overdue)." example:"2026-12-03"`
}

// InvoiceRequestInput asks for an invoice on one of the ticket's receipts.
type InvoiceRequestInput struct {
	InvoiceRequest
	ReceiptNumber string `json:"receipt_number,omitempty" maxLength:"40" doc:"The receipt the invoice is for; absent, the ticket's last receipt. A number not the ticket's is 422 at receipt_number." example:"PR-SN-20261130-00042-1"`
}

// InvoiceIssueInput records that an invoice asked for was issued.
type InvoiceIssueInput struct {
	ReceiptNumber  string `json:"receipt_number,omitempty" maxLength:"40" doc:"The receipt whose invoice was issued; absent, the ticket's oldest receipt with an invoice outstanding." example:"PR-SN-20261130-00042-1"`
	InvoiceNumber  string `json:"invoice_number" minLength:"1" maxLength:"40" doc:"The invoice's number." example:"37021234"`
	IssuedOn       string `json:"issued_on" format:"date" doc:"The invoice's date." example:"2026-12-02"`
	TrackingNumber string `json:"tracking_number,omitempty" maxLength:"40" pattern:"^[0-9A-Za-z-]{4,40}$" doc:"mail only (422 at tracking_number for an invoice handed over on site or delivered later): the tracking number of the mailing, 4 to 40 letters, digits or dashes, shown on the invoice." example:"SF1234567890123"`
}

// trackingNumberFormat is what a tracking number looks like: the couriers'
// numbers are letters and digits (SF1234567890123, 773012345678901).
var trackingNumberFormat = regexp.MustCompile(`^[0-9A-Za-z-]{4,40}$`)

// creditCodeChars are the characters of a unified social credit code, in
// the order of their values (GB 32100-2015: no I, O, S, V, Z).
const creditCodeChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditCodeFormat = regexp.MustCompile(`^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$`)

// ValidCreditCode reports whether s is a unified social credit code
// (统一社会信用代码, GB 32100-2015): 18 characters, the registration
// authority and kind, the six-digit administrative division, the
// organisation code and the check character over the first 17.
func ValidCreditCode(s string) bool {
	if !creditCodeFormat.MatchString(s) {
		return false
	}
	weights := [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	sum := 0
	for i, w := range weights {
		sum += strings.IndexByte(creditCodeChars, s[i]) * w
	}
	return creditCodeChars[(31-sum%31)%31] == s[17]
}

// validate checks an invoice request, the fields named under prefix.
func (in InvoiceRequest) validate(v *tenants.Validation, prefix string) {
	switch in.TitleType {
	case InvoicePersonal:
		if in.TaxpayerID != "" {
			v.AddMsg(prefix+"taxpayer_id", i18n.M("tickets.invoice_taxpayer_id_personal"), in.TaxpayerID)
		}
	case InvoiceCompany:
		if !ValidCreditCode(in.TaxpayerID) {
			v.AddMsg(prefix+"taxpayer_id", i18n.M("tickets.invoice_taxpayer_id"), in.TaxpayerID)
		}
	default:
		v.AddMsg(prefix+"title_type", i18n.M("common.one_of", "Values", "personal, company"), in.TitleType)
	}
	if strings.TrimSpace(in.Title) == "" {
		v.AddMsg(prefix+"title", i18n.M("tickets.invoice_title"), in.Title)
	}
	switch in.Delivery {
	case DeliveryOnSite, DeliveryLater:
		if in.Address != nil {
			v.AddMsg(prefix+"address", i18n.M("tickets.invoice_address_mail_only"), nil)
		}
	case DeliveryMail:
	default:
		v.AddMsg(prefix+"delivery", i18n.M("common.one_of", "Values", "on_site, later, mail"), in.Delivery)
	}
	switch {
	case in.Delivery == DeliveryOnSite && in.PromisedOn != "":
		v.AddMsg(prefix+"promised_on", i18n.M("tickets.invoice_promised_on_on_site"), in.PromisedOn)
	case in.Delivery != DeliveryLater && in.Delivery != DeliveryMail:
	case in.PromisedOn == "":
		v.AddMsg(prefix+"promised_on", i18n.M("tickets.invoice_promised_on_required"), nil)
	default:
		if _, err := time.Parse(time.DateOnly, in.PromisedOn); err != nil {
			v.AddMsg(prefix+"promised_on", i18n.M("common.date_format"), in.PromisedOn)
		}
	}
}

// issueReceipt records the receipt of a completion that charged the
// customer (total above zero): the lines the customer pays, who collected
// it, numbered after the ticket. A completion that charges nothing issues
// none and returns nil.
func (c *change) issueReceipt(lines []entitlement.Charge, total tenants.Money) *PaymentReceipt {
	t := c.T
	if total.Amount <= 0 {
		return nil
	}
	r := PaymentReceipt{Number: receiptNumber(t.Number, len(t.Receipts)+1), TicketID: t.ID, TicketNumber: t.Number,
		UnitID: deref(t.UnitID), Lines: []PaymentReceiptLine{}, Total: total, NodeID: t.NodeID, TechnicianID: t.TechnicianID,
		CollectedBy: c.p.Subject(), IssuedAt: c.now}
	for _, l := range lines {
		if l.CustomerPays.Amount > 0 {
			r.Lines = append(r.Lines, PaymentReceiptLine{Kind: l.Kind, Code: l.Code, Description: l.Description, Amount: l.CustomerPays})
		}
	}
	t.Receipts = append(t.Receipts, r)
	c.data["receipt_number"] = r.Number
	return &t.Receipts[len(t.Receipts)-1]
}

// receiptNumber is the n-th receipt's number of the ticket numbered
// ticket: SN-20261130-00042 → PR-SN-20261130-00042-1 (a payment
// receipt; a carry-in's receipt for the unit is RC-…).
func receiptNumber(ticket string, n int) string {
	return "PR-" + ticket + "-" + strconv.Itoa(n)
}

// requestInvoice records in (validated) on the receipt r (the
// completion's, or one the ticket issued before) for c's ticket, today
// being the day of the request in the tenant's time zone: the mailing
// address defaults to the ticket's service address, the day promised for
// on_site is today, and one agreed before today is invalid at
// prefix+promised_on. A receipt that has an invoice already is a conflict.
func (c *change) requestInvoice(r *PaymentReceipt, in InvoiceRequest, today, prefix string) error {
	if r.Invoice != nil {
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.invoice_already_requested", "Receipt", r.Number))
	}
	promised := in.PromisedOn
	if in.Delivery == DeliveryOnSite {
		promised = today
	} else if promised < today { // both YYYY-MM-DD
		return tenants.InvalidMsg(prefix+"promised_on", i18n.M("tickets.invoice_promised_on_past", "Today", today), promised)
	}
	inv := &Invoice{TitleType: in.TitleType, Title: strings.TrimSpace(in.Title), TaxpayerID: in.TaxpayerID,
		Delivery: in.Delivery, Address: in.Address, PromisedOn: promised, RequestedAt: c.now, RequestedBy: c.p.Subject()}
	if inv.Delivery == DeliveryMail && inv.Address == nil {
		a := c.T.Address
		inv.Address = &a
	}
	r.Invoice = inv
	c.data["receipt_number"], c.data["delivery"], c.data["promised_on"] = r.Number, inv.Delivery, inv.PromisedOn
	return nil
}

// receipt finds the ticket's receipt numbered number, or, number empty,
// its last one; nil when there is none.
func (t *Ticket) receipt(number string) *PaymentReceipt {
	for i := len(t.Receipts) - 1; i >= 0; i-- {
		if r := &t.Receipts[i]; number == "" || r.Number == number {
			return r
		}
	}
	return nil
}

// invoiceRequestedAt is when the oldest invoice asked for and not issued
// on t's receipts was asked for; nil when none is outstanding.
func (t *Ticket) invoiceRequestedAt() *time.Time {
	var at *time.Time
	for _, r := range t.Receipts {
		if r.invoiceOutstanding() && (at == nil || r.Invoice.RequestedAt.Before(*at)) {
			at = &r.Invoice.RequestedAt
		}
	}
	return at
}

// invoiceOutstanding reports whether an invoice was asked for on r and
// not yet issued.
func (r PaymentReceipt) invoiceOutstanding() bool { return r.Invoice != nil && r.Invoice.Number == nil }

// invoiceLastIssuedAt is when the latest issue of an invoice on t's
// receipts was recorded; nil when none was issued. With
// invoice_requested_at it bounds the tickets the reconciliation reads for
// invoice_overdue: an invoice not issued by its promised day's end is
// still outstanding, or was issued after that end.
func (t *Ticket) invoiceLastIssuedAt() *time.Time {
	var at *time.Time
	for _, r := range t.Receipts {
		if inv := r.Invoice; inv != nil && inv.IssuedAt != nil && (at == nil || inv.IssuedAt.After(*at)) {
			at = inv.IssuedAt
		}
	}
	return at
}

// RequestInvoice records the customer's request for an invoice (发票) on
// one of the ticket's receipts (in.ReceiptNumber, else its last), at the
// completion's visit or after it: the title, a company's taxpayer id
// (invalid at taxpayer_id unless a unified social credit code; a person's
// title takes none), how it reaches the customer (mail: to in.Address,
// else the ticket's service address) and the day it is promised by
// (in.PromisedOn: required for later and mail, not before the day of the
// request in the tenant's time zone; on_site takes none, its day is the
// request's). Invalid input changes nothing. A
// ticket with no receipt (its completions charged nothing, or it is not
// completed) is a conflict, as is a receipt that has an invoice already;
// a receipt number not the ticket's is invalid at receipt_number. The
// invoice is outstanding until RecordInvoiceIssued.
func (s *Service) RequestInvoice(ctx context.Context, p tenants.Principal, id string, in InvoiceRequestInput, ifVersion int) (Ticket, error) {
	v := &tenants.Validation{}
	in.validate(v, "")
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	return s.act(ctx, p, id, ifVersion, ActInvoiceRequested, func(c *change) error {
		t := c.T
		if len(t.Receipts) == 0 {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.invoice_nothing_charged"))
		}
		r := t.receipt(in.ReceiptNumber)
		if r == nil {
			return tenants.InvalidMsg("receipt_number", i18n.M("tickets.receipt_unknown"), in.ReceiptNumber)
		}
		_, today, err := c.tx.Today(ctx, c.now)
		if err != nil {
			return err
		}
		if err := c.requestInvoice(r, in.InvoiceRequest, today, ""); err != nil {
			return err
		}
		c.note("", map[string]any{"receipt_number": r.Number, "title_type": r.Invoice.TitleType, "delivery": r.Invoice.Delivery,
			"promised_on": r.Invoice.PromisedOn})
		return nil
	})
}

// RecordInvoiceIssued records that the invoice asked for on one of the
// ticket's receipts (in.ReceiptNumber, else the oldest outstanding) was
// issued: its number and date, and for one mailed the tracking number
// when given. It closes the obligation. A ticket with no invoice
// outstanding, or a receipt whose invoice was not asked for or is issued
// already, is a conflict; a receipt number not the ticket's is invalid at
// receipt_number, a date not YYYY-MM-DD at issued_on, a tracking number
// not 4 to 40 letters, digits or dashes, or given for an invoice not
// mailed, at tracking_number. Invalid input changes nothing.
func (s *Service) RecordInvoiceIssued(ctx context.Context, p tenants.Principal, id string, in InvoiceIssueInput, ifVersion int) (Ticket, error) {
	v := &tenants.Validation{}
	if _, err := time.Parse(time.DateOnly, in.IssuedOn); err != nil {
		v.AddMsg("issued_on", i18n.M("common.date_format"), in.IssuedOn)
	}
	if strings.TrimSpace(in.InvoiceNumber) == "" {
		v.AddMsg("invoice_number", i18n.M("tickets.invoice_number"), in.InvoiceNumber)
	}
	if in.TrackingNumber != "" && !trackingNumberFormat.MatchString(in.TrackingNumber) {
		v.AddMsg("tracking_number", i18n.M("tickets.invoice_tracking_number"), in.TrackingNumber)
	}
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	return s.act(ctx, p, id, ifVersion, ActInvoiceIssued, func(c *change) error {
		t := c.T
		var r *PaymentReceipt
		if in.ReceiptNumber == "" {
			// the oldest outstanding: the obligation waiting longest
			if i := slices.IndexFunc(t.Receipts, PaymentReceipt.invoiceOutstanding); i >= 0 {
				r = &t.Receipts[i]
			}
		} else if r = t.receipt(in.ReceiptNumber); r == nil {
			return tenants.InvalidMsg("receipt_number", i18n.M("tickets.receipt_unknown"), in.ReceiptNumber)
		}
		if r == nil || !r.invoiceOutstanding() {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.invoice_none_outstanding"))
		}
		if in.TrackingNumber != "" && r.Invoice.Delivery != DeliveryMail {
			return tenants.InvalidMsg("tracking_number", i18n.M("tickets.invoice_tracking_number_mail_only"), in.TrackingNumber)
		}
		inv := r.Invoice
		number, on, now, by := strings.TrimSpace(in.InvoiceNumber), in.IssuedOn, c.now, c.p.Subject()
		inv.Number, inv.IssuedOn, inv.IssuedAt, inv.IssuedBy = &number, &on, &now, &by
		note := map[string]any{"receipt_number": r.Number, "invoice_number": number, "issued_on": on,
			"requested_at": inv.RequestedAt, "promised_on": inv.PromisedOn}
		c.data["receipt_number"], c.data["invoice_number"], c.data["issued_on"] = r.Number, number, on
		if in.TrackingNumber != "" {
			tracking := in.TrackingNumber
			inv.TrackingNumber = &tracking
			c.data["tracking_number"], note["tracking_number"] = tracking, tracking
		}
		c.note("", note)
		return nil
	})
}

// maskInvoices masks the personal data of the invoices on t's receipts: a
// person's title as name masks the contact's name, the mailing address as
// line masks the service address's line.
func (t *Ticket) maskInvoices(name func(string) string, line func(string) string) {
	rs := slices.Clone(t.Receipts) // the invoices are copied, never masked in place
	for i := range rs {
		if rs[i].Invoice == nil {
			continue
		}
		inv := *rs[i].Invoice
		if inv.TitleType == InvoicePersonal {
			inv.Title = name(inv.Title)
		}
		if inv.Address != nil {
			a := *inv.Address
			a.Line, a.Latitude, a.Longitude = line(a.Line), nil, nil
			inv.Address = &a
		}
		rs[i].Invoice = &inv
	}
	t.Receipts = rs
}

// maskReceipts masks the invoices' personal data as MaskPersonal masks the
// contact and the service address.
func (t *Ticket) maskReceipts() { t.maskInvoices(privacy.MaskName, privacy.MaskAddressLine) }

// receiptsOf is t's receipts as stored: never NULL.
func receiptsOf(t *Ticket) []PaymentReceipt {
	if t.Receipts == nil {
		return []PaymentReceipt{}
	}
	return t.Receipts
}
