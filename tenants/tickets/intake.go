package tickets

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/phones"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// NewTicket is a fault report or service request at intake.
type NewTicket struct {
	Channel           string         `json:"channel" enum:"hotline,web,app,storefront,device_alarm" doc:"Where the request came from. Storefront keys always open storefront tickets." example:"hotline"`
	Type              string         `json:"type" enum:"install,repair,maintenance,consultation,return,exchange" doc:"What is asked for." example:"repair"`
	Priority          string         `json:"priority,omitempty" enum:"low,normal,high,urgent" doc:"Default normal. It changes: the SLA deadlines (route, first contact, response, completion) — the SLA policy's minutes times its urgent_percent (default 50 %), high_percent (75 %) or low_percent (150 %); the dispatch order (GET /v1/tickets?order=priority lists urgent first); and the priority filter of GET /v1/tickets." example:"normal"`
	ExternalReference string         `json:"external_reference,omitempty" maxLength:"64" doc:"Your own reference; unique per storefront (409 on reuse)." example:"TM-20261130-88812"`
	Contact           TicketContact  `json:"contact"`
	Address           ServiceAddress `json:"address"`
	Unit              UnitDetails    `json:"unit"`
	Fault             ReportedFault  `json:"fault"`
	PreferredWindow   *Window        `json:"preferred_window,omitempty"`
	DeliveredAt       *time.Time     `json:"delivered_at,omitempty" doc:"Install tickets only (opened by a storefront or the brand at sale time): when the unit is delivered. The installation is due the SLA policy's install_minutes (default 24 h) after it (送安同步); absent, after the intake." example:"2026-12-01T09:00:00+08:00"`
	TestClockID       string         `json:"test_clock_id,omitempty" maxLength:"64" doc:"Test mode only: the test clock the ticket lives on from its first instant. It is opened at the clock's time and its SLA deadlines are checked on the clock's time, when it advances (see advanceTestClock). With a live key, or a clock the key does not see, 422 on body.test_clock_id." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`
}

// IntakeUpdate completes or corrects an intake: present fields replace the
// ticket's.
type IntakeUpdate struct {
	Contact         *TicketContact  `json:"contact,omitempty"`
	Address         *ServiceAddress `json:"address,omitempty"`
	Unit            *UnitDetails    `json:"unit,omitempty"`
	Fault           *ReportedFault  `json:"fault,omitempty"`
	PreferredWindow *Window         `json:"preferred_window,omitempty"`
	Note            string          `json:"note,omitempty" maxLength:"1000" doc:"What was confirmed with the customer." example:"客户确认型号为 XQG100-HBD14126L"`
}

var unitTypes = map[string]bool{"repair": true, "maintenance": true, "return": true, "exchange": true, "install": true}

// checkWindow refuses a window that is inverted or already over.
func checkWindow(v *tenants.Validation, loc string, w *Window, now time.Time) {
	if w == nil {
		return
	}
	switch {
	case !w.End.After(w.Start):
		v.AddMsg(loc+".end", i18n.M("tickets.after_start"), w.End)
	case !w.End.After(now):
		v.AddMsg(loc+".end", i18n.M("tickets.window_over"), w.End)
	case w.Start.Before(now.Add(-time.Minute)):
		v.AddMsg(loc+".start", i18n.M("tickets.must_not_be_in_past"), w.Start)
	}
}

// windowErr is checkWindow's problem as an error, nil for a good window:
// for an action that judges the window on its ticket's time (change.now,
// a test clock's when the ticket is on one).
func windowErr(loc string, w *Window, now time.Time) error {
	v := &tenants.Validation{}
	checkWindow(v, loc, w, now)
	return v.Err()
}

// checkIntake checks (and normalises) the intake fields a request gives;
// nil ones are absent from an update. A phone that is missing or not a
// phone number is not refused here: the ticket waits in needs_info to have
// it verified (identify).
func checkIntake(v *tenants.Validation, contact *TicketContact, w *Window, unit *UnitDetails, now time.Time) {
	if contact != nil {
		normalizePhone(contact)
	}
	checkWindow(v, "preferred_window", w, now)
	if unit == nil {
		return
	}
	if unit.PurchaseDate != "" {
		if _, err := time.Parse(time.DateOnly, unit.PurchaseDate); err != nil {
			v.AddMsg("unit.purchase_date", i18n.M("common.date_format"), unit.PurchaseDate)
		}
	}
	if unit.UnitID != "" && (unit.ModelID != "" || unit.Serial != "") {
		v.AddMsg("unit", i18n.M("tickets.unit_or_model_serial"), nil)
	}
}

// normalizePhone normalises a contact's phone when it is one; otherwise it
// is left as given, for the verification.
func normalizePhone(c *TicketContact) {
	c.Name = strings.TrimSpace(c.Name)
	c.Phone = strings.TrimSpace(c.Phone)
	if p, display, ok := phones.Parse(c.Phone); ok {
		c.Phone, c.PhoneDisplay = p, display
	}
}

// phoneProblem says what is wrong with a contact's phone, or "". A phone
// normalizePhone found valid is answered from ParsePhone's memory. The
// problem names the field, never the number: the verification is shown
// (and kept on the timeline) unmasked to whoever sees the ticket masked.
func phoneProblem(phone string) string {
	if phone == "" {
		return "no phone number: verify it with the dispatcher or information officer who sent the job, else with the customer"
	}
	if _, ok := phones.Normalize(phone); !ok {
		return "contact.phone is not a valid phone number (a mainland mobile, a landline with its area code, or +country code and number): verify it with the dispatcher or information officer who sent the job, else with the customer"
	}
	return ""
}

// identified is what identify found: what is left to verify with the
// customer, whether the ticket's customer declined non-essential messages
// (nil: the ticket has no customer), and the tenant's settings and
// default language, read with the rest.
type identified struct {
	items    []VerificationItem
	optedOut *bool
	settings pg.TenantSettings
	lang     string
}

// identify resolves the ticket's customer (by phone), unit and region, and
// returns what is left to verify with the customer. Inconsistent or missing
// information is not an error: it is a verification item.
//
// Every read goes in one pipelined round trip: the tenant row (settings
// and language), the region, the model, the customer by phone (after the
// phone's lock), the unit by serial and, when policy is not nil, the SLA
// policy and the new ticket's number. extra, when not nil, queues the
// caller's own reads on the same round trip; customer says whether the
// ticket will have a customer (its phone is valid). The writes (a new customer,
// a new unit) are deferred to the transaction's next round trip.
func identify(ctx context.Context, tx pg.TenantTx, p tenants.Principal, t *Ticket, now time.Time, policy *SLAPolicy,
	extra func(b *pgx.Batch, customer bool)) (identified, error) {
	var out identified
	need := func(field, problem string) {
		out.items = append(out.items, VerificationItem{Field: field, Problem: problem})
	}

	var (
		known, modelFound bool
		m                 catalog.ProductModel
	)
	b := &pgx.Batch{}
	if t.Address.RegionCode != "" {
		network.QueueRegionKnown(b, t.Address.RegionCode, &known)
	}
	phoneBad := phoneProblem(t.Contact.Phone)
	if t.Unit.UnitID == "" && tenants.ValidID(tenants.PrefixProductModel, t.Unit.ModelID) {
		catalog.QueueModel(b, tx.TenantID, t.Unit.ModelID, &m, &modelFound)
	}
	if policy != nil {
		QueueSLAPolicy(b, tx.TenantID, policy)
	}
	var (
		customerID      string
		optedOut        bool
		serialUnit      string
		serialElsewhere bool
		serialOutside   bool
		serialRead      = t.Unit.UnitID == "" && tenants.ValidID(tenants.PrefixProductModel, t.Unit.ModelID) && customers.ValidSerial(t.Unit.Serial)
	)
	pg.QueueSettingsLanguage(b, &out.settings, &out.lang)
	// The customer by phone and the unit by serial are read in the same
	// round trip as everything else the intake needs.
	if phoneBad == "" {
		customers.QueueCustomerByPhone(b, tx.TenantID, p, t.Contact.Phone, &customerID, &optedOut)
	}
	if serialRead {
		customers.QueueUnitBySerial(b, tx.TenantID, p, t.Unit.ModelID, t.Unit.Serial, &serialUnit, &serialElsewhere, &serialOutside)
	}
	// A new ticket (policy asked for: Open) takes its number in the same
	// round trip: the tenant's sequence is lock-free (migration 029), and a
	// refused intake leaves the number unused, as Ticket.Number documents.
	if policy != nil && t.Number == "" {
		b.Queue(`SELECT next_ticket_number($1)`, t.CreatedAt).QueryRow(func(row pgx.Row) error { return row.Scan(&t.Number) })
	}
	if extra != nil {
		extra(b, phoneBad == "")
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return identified{}, err
	}
	today := out.settings.Today(now)
	if t.Unit.PurchasePrice != nil {
		// Refused, not verified: a price in the wrong form is the caller's
		// error, not something to ask the customer.
		v := &tenants.Validation{}
		tenants.CheckMoney(v, "unit.purchase_price", *t.Unit.PurchasePrice, out.settings.Currency)
		if err := v.Err(); err != nil {
			return identified{}, err
		}
	}

	// The seed: an unclear address or a wrong phone is verified first with
	// the information officer or dispatcher who sent the job, else with the
	// customer. Until the phone is verified the ticket has no customer.
	switch {
	case phoneBad != "":
		need("contact.phone", phoneBad)
	case customerID == "":
		// Read after the phone's lock (QueueCustomerByPhone): no one else
		// can give it a customer before this transaction ends.
		var err error
		if customerID, err = customers.CreateForLockedPhoneTx(ctx, tx, p, t.Contact.Name, t.Contact.Phone); err != nil {
			return identified{}, err
		}
	}
	t.CustomerID = customerID
	if customerID != "" {
		out.optedOut = &optedOut
	}

	switch {
	case t.Address.RegionCode == "":
		need("address.region_code", "no district code: confirm the district (GB/T 2260 code) of the address")
	case !known:
		need("address.region_code", "unknown region code "+t.Address.RegionCode+": confirm the district of the address")
	}

	u := t.Unit
	t.UnitID, t.ModelID, t.Category = nil, nil, nil
	switch {
	case u.UnitID != "":
		unit, err := customers.LoadUnit(ctx, tx, p, u.UnitID)
		if tenants.ErrorCode(err) == tenants.CodeNotFound {
			return identified{}, tenants.InvalidMsg("unit.unit_id", i18n.M("common.no_such_unit"), u.UnitID)
		} else if err != nil {
			return identified{}, err
		}
		t.UnitID, t.ModelID, t.Category = &unit.ID, &unit.ModelID, &unit.Category
	case u.ModelID == "":
		if t.Type != "consultation" {
			need("unit.model_id", "no product model: ask for the model number on the rating plate")
		}
	case !modelFound:
		need("unit.model_id", "the model is not in the catalog: confirm the model number on the rating plate")
	default:
		t.ModelID, t.Category = &m.ID, &m.Category
		if u.Serial == "" {
			if unitTypes[t.Type] {
				need("unit.serial", "no serial number: ask for the serial on the rating plate")
			}
			break
		}
		if !customers.ValidSerial(u.Serial) {
			need("unit.serial", "the serial is malformed: letters, digits, '.', '/', '_' or '-'")
			break
		}
		// Read in the first batch: a catalog model and a valid serial are
		// what serialRead requires.
		switch {
		case serialUnit != "":
			t.UnitID = &serialUnit
		case serialOutside:
			// A storefront's intake: the serial is a unit it did not sell,
			// neither its to link nor a new one to register. The brand's
			// staff verify it (provideTicketInfo links the unit).
			need("unit.serial", "the serial is not a unit this storefront sold: the brand confirms the unit, its model and serial")
		case serialElsewhere:
			need("unit.serial", "this serial is registered to another model: confirm the model and the serial")
		case u.PurchaseDate == "":
			need("unit.purchase_date", "the unit is not registered: ask for the purchase date (invoice)")
		case u.PurchaseDate > today:
			need("unit.purchase_date", "the purchase date "+u.PurchaseDate+" is after today ("+today+"): confirm it with the invoice")
		case customerID == "":
			// registered once the phone (and so the owner) is verified
		default:
			st := out.settings
			// The invoice's price when given; else the model's retail price
			// today, marked as assumed: the money that depends on it waits
			// for the brand to set it (customers.CheckPurchasePricePaid).
			nu := customers.NewUnit{ModelID: m.ID, Serial: u.Serial, CustomerID: customerID, PurchaseDate: u.PurchaseDate,
				PurchasePrice: tenants.Money{Amount: m.RetailPrice.Amount, Currency: st.Currency}, PurchasePriceSource: customers.PriceModelRetail}
			if u.PurchasePrice != nil {
				nu.PurchasePrice, nu.PurchasePriceSource = *u.PurchasePrice, customers.PriceInvoice
			}
			// The model, the serial (on no other model: serialRead) and the
			// owner were read in this transaction: no second round of reads.
			unitID, err := customers.RegisterKnownUnitTx(ctx, tx, p, nu, now, customers.KnownUnit{Settings: st,
				ModelID: m.ID, Category: m.Category, Serial: strings.ToUpper(strings.TrimSpace(u.Serial)), CustomerID: customerID})
			if err != nil {
				return identified{}, err
			}
			t.UnitID = &unitID
		}
	}
	if t.Type == "repair" && strings.TrimSpace(t.Fault.Symptom) == "" {
		need("fault.symptom", "no fault symptom: ask what the appliance does wrong")
	}
	return out, nil
}

// startIntakeSLAs starts the clocks of a ticket that became workable: the
// policy's minutes scaled by the ticket's priority (urgent and high sooner,
// low later).
func (c *change) startIntakeSLAs() {
	pol, prio := c.policy, c.T.Priority
	c.startSLA(SLARoute, pol.intakeDeadline(pol.RouteMinutes, prio))
	c.startSLA(SLAFirstContact, pol.intakeDeadline(pol.FirstContactMinutes, prio))
	c.startSLA(SLAResponse, pol.intakeDeadline(pol.ResponseMinutes, prio))
	c.startSLA(SLACompletion, pol.intakeDeadline(pol.CompletionMinutes, prio))
	c.installDeadlines()
}

// Open takes a ticket in. Complete intakes are new and their SLA clocks
// start; missing or inconsistent information sends the ticket to
// needs_info with the verification to do. Malformed input is refused.
//
// In test mode, in.TestClockID puts the ticket on a test clock from the
// start: it is opened at the clock's time and its timers are parked on the
// clock.
func (s *Service) Open(ctx context.Context, p tenants.Principal, in NewTicket) (Ticket, error) {
	if p.StorefrontID != "" {
		in.Channel = "storefront"
	}
	if in.Priority == "" {
		in.Priority = "normal"
	}
	var out Ticket
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		v := &tenants.Validation{}
		now, err := testclocks.AtTx(ctx, tx, p, v, "test_clock_id", in.TestClockID, s.now())
		if err != nil {
			return err
		}
		checkIntake(v, &in.Contact, in.PreferredWindow, &in.Unit, now)
		checkDelivery(v, &in)
		if p.StorefrontID == "" && in.ExternalReference != "" {
			v.AddMsg("external_reference", i18n.M("tickets.own_reference_storefront"), in.ExternalReference)
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := customers.CheckCanSell(ctx, tx, p); err != nil {
			return err
		}
		t := Ticket{ID: tenants.NewID(tenants.PrefixTicket), Channel: in.Channel, Type: in.Type,
			Priority: in.Priority, Contact: in.Contact, Address: in.Address, Unit: in.Unit, Fault: in.Fault,
			PreferredWindow: in.PreferredWindow, CreatedBy: p.Subject(), CreatedAt: now, UpheldPromises: []string{}}
		if p.StorefrontID != "" {
			t.StorefrontID = &p.StorefrontID
		}
		if in.ExternalReference != "" {
			t.ExternalReference = &in.ExternalReference
		}
		if in.DeliveredAt != nil {
			t.Service = &ServiceWork{DeliveredAt: in.DeliveredAt}
		}
		var policy SLAPolicy
		// A ticket with a valid phone has a customer, who is told the
		// ticket was received: that notice's reads share identify's round
		// trip (the ticket is new: no notice of it to look for).
		var notice *notifications.Prefetch
		prefetch := func(b *pgx.Batch, customer bool) {
			if customer {
				notice = notifications.QueueNewSubjectNotice(b, tx.TenantID, notifications.PurposeTicketReceived,
					onceKey(t.ID, notifications.PurposeTicketReceived))
			}
		}
		id, err := identify(ctx, tx, p, &t, now, &policy, prefetch)
		if err != nil {
			return err
		}
		if notice != nil {
			notice.SetLocale(id.lang, id.settings.Location)
		}
		c := &change{tx: tx, p: p, now: now, clock: in.TestClockID, policy: policy, T: &t, action: ActOpen, data: map[string]any{"channel": t.Channel, "type": t.Type},
			optedOut: id.optedOut, notice: notice}
		c.settle(id.items)
		if err := s.commit(ctx, c, true); err != nil {
			return err
		}
		if in.TestClockID != "" {
			if err := AttachClockTx(ctx, tx, p, t.ID, in.TestClockID); err != nil {
				return err
			}
			t.TestClockID = &in.TestClockID
		}
		out = t
		return nil
	})
	if err = pg.Translate(err); err != nil && in.ExternalReference != "" {
		return Ticket{}, s.reusedReference(ctx, p, in.ExternalReference, err)
	}
	return out, err
}

// reusedReference names, in err when it is the conflict of a reference
// the storefront already used, the ticket that holds the reference.
func (s *Service) reusedReference(ctx context.Context, p tenants.Principal, reference string, err error) error {
	var te *tenants.Error
	if !errors.As(err, &te) || te.Code != tenants.CodeConflict || te.Constraint != "tickets_storefront_reference_key" {
		return err
	}
	var id string
	if lerr := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT id FROM tickets WHERE tenant_id = $1 AND storefront_id = $2 AND external_reference = $3`,
			tx.TenantID, p.StorefrontID, reference).Scan(&id)
	}); lerr != nil {
		return err // the holder is gone (test data deleted): the conflict stands as it was
	}
	e := tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.reference_conflict", "Ticket", id)).With(
		tenants.FieldMsg("external_reference", i18n.M("tickets.reference_used", "Ticket", id), reference))
	e.ExistingID = id
	return e
}

// settle moves an intake to new (clocks started) or needs_info.
func (c *change) settle(items []VerificationItem) {
	if items == nil {
		items = []VerificationItem{}
	}
	c.T.Verification = items
	if len(items) > 0 {
		fields := make([]string, len(items))
		for i, it := range items {
			fields[i] = it.Field
		}
		c.moveTo(StateNeedsInfo, "verify: "+strings.Join(fields, ", "), map[string]any{"verification": items})
		if c.T.SLA.VerificationDueAt == nil {
			c.startSLA(SLAVerification, minutes(c.policy.VerificationMinutes))
		}
		return
	}
	c.meetSLA(SLAVerification)
	c.moveTo(StateNew, "", nil)
	if c.T.SLA.RouteDueAt == nil {
		c.startIntakeSLAs()
	}
}

// ProvideInfo completes or corrects a ticket's intake and identifies it
// again: new when nothing is left to verify, else still needs_info. The
// preferred window is judged on the ticket's time (its test clock's, if
// any), and a unit identified on a ticket on a test clock goes on the
// clock with it (customers.FollowClockTx), as at intake.
func (s *Service) ProvideInfo(ctx context.Context, p tenants.Principal, id string, in IntakeUpdate, ifVersion int) (Ticket, error) {
	v := &tenants.Validation{}
	checkIntake(v, in.Contact, nil, in.Unit, time.Time{}) // the window: in the action, on the ticket's time
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	return s.act(ctx, p, id, ifVersion, ActProvideInfo, func(c *change) error {
		t := c.T
		if err := windowErr("preferred_window", in.PreferredWindow, c.now); err != nil {
			return err
		}
		if in.Contact != nil {
			t.Contact = *in.Contact
		}
		if in.Address != nil {
			t.Address = *in.Address
		}
		if in.Unit != nil {
			t.Unit = *in.Unit
		}
		if in.Fault != nil {
			t.Fault = *in.Fault
		}
		if in.PreferredWindow != nil {
			t.PreferredWindow = in.PreferredWindow
		}
		id, err := identify(ctx, c.tx, c.p, t, c.now, nil, nil)
		if err != nil {
			return err
		}
		if c.clock != "" && t.UnitID != nil {
			// the unit identified now follows the ticket's clock, as at intake (AttachClockTx)
			if err := customers.FollowClockTx(ctx, c.tx, *t.UnitID, c.clock); err != nil {
				return err
			}
		}
		c.optedOut = id.optedOut
		if in.Note != "" {
			c.data["note"] = in.Note
		}
		c.settle(id.items)
		return nil
	})
}
