package customers

import (
	"cmp"
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/events"
)

// Channels are how a unit was sold.
var Channels = []string{"storefront", "brand_store", "retail", "other"}

// ChannelStorefront is the channel of units sold through a storefront; it
// goes with a storefront_id, and only it does.
const ChannelStorefront = "storefront"

var serialPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9./_-]{0,63}$`)

// UnitModel is the product model of a unit, as summarised on the unit.
type UnitModel struct {
	ID          string `json:"id" example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	ModelNumber string `json:"model_number" example:"XQG100-HBD14126L"`
	Category    string `json:"category" example:"washer"`
	Name        string `json:"name" example:"海尔10公斤滚筒洗衣机"`
}

// Unit is a registered appliance: a serial of a product model, owned by a
// customer, bought on a date through a channel.
type Unit struct {
	ID            string        `json:"id" example:"unt_01jd3zq8w6v7t3y2k9x4n5m6ph"`
	Serial        string        `json:"serial" doc:"Serial number, upper case; unique per model." example:"BH0Y3E1D2000123"`
	ModelID       string        `json:"model_id" example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	Category      string        `json:"category" doc:"The model's product category." example:"washer"`
	Model         UnitModel     `json:"model"`
	CustomerID    string        `json:"customer_id" doc:"The owner." example:"cus_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	PurchaseDate  string        `json:"purchase_date" format:"date" example:"2026-10-11"`
	InstalledOn   *string       `json:"installed_on,omitempty" format:"date" doc:"Installation date, when installed." example:"2026-10-13"`
	Channel       string        `json:"channel" enum:"storefront,brand_store,retail,other" example:"storefront"`
	StorefrontID  *string       `json:"storefront_id,omitempty" doc:"The storefront that sold it (channel storefront)." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	InvoiceNumber *string       `json:"invoice_number,omitempty" example:"044031900111-08812345"`
	PurchasePrice tenants.Money `json:"purchase_price" doc:"What the customer paid (the invoice's price): a return refunds it in full, and a plan's swap fee is a share of it. See purchase_price_source."`
	// PurchasePriceSource says whether PurchasePrice is what the customer
	// paid (CheckPurchasePricePaid).
	PurchasePriceSource string  `json:"purchase_price_source" enum:"invoice,model_retail_price" doc:"invoice: purchase_price is what the customer paid, as registered or corrected (updateUnit). model_retail_price: the unit was registered by a ticket's intake without the invoice's price (the ticket's unit.purchase_price), at its model's retail price that day, which is not what the customer paid: a return's refund and a swap under a plan (its fee is a share of the price) are refused (409, naming purchase_price) until the brand sets purchase_price from the invoice with updateUnit, which makes it invoice." example:"invoice"`
	Status              string  `json:"status" enum:"active,replaced,returned" doc:"replaced after a swap (see replaced_by), returned after a return." example:"active"`
	ReplacedBy          *string `json:"replaced_by,omitempty" doc:"The unit that replaced this one in a swap." example:"unt_01jd3zq8w6v7t3y2k9x4n5m6pj"`
	// OriginalPurchaseDate is set by ReplaceUnit only (migration 067).
	OriginalPurchaseDate *string   `json:"original_purchase_date,omitempty" format:"date" doc:"For a unit handed over by a swap: the purchase date of the unit first sold. Its purchase_date is the swap's day (the warranty counts from it); the seven-day no-reason return or exchange counts from the day after this one (rule 9: the seller's promise on its sale; a swap is no new sale). Absent for a unit sold as itself." example:"2026-06-18"`
	Version              int       `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt            time.Time `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt            time.Time `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
	TestClockID          *string   `json:"test_clock_id,omitempty" doc:"Test mode only: the test clock the unit is on: attached (attachTestClock), or taken there by the first ticket of it put on a clock: its care reminders are judged on the clock's today and fall due as the clock is advanced. A replacement keeps its predecessor's clock. Absent on the wall clock." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`
}

// NewUnit is a unit to register. The owner is either customer_id or an
// inline customer found or created by phone.
type NewUnit struct {
	ModelID       string        `json:"model_id" maxLength:"64" doc:"Product model (catalog)." example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	Serial        string        `json:"serial" minLength:"1" maxLength:"64" doc:"Serial number (letters, digits, . / _ -); upper-cased; unique per model (409)." example:"BH0Y3E1D2000123"`
	CustomerID    string        `json:"customer_id,omitempty" maxLength:"64" doc:"The owner, an existing customer; or give customer instead." example:"cus_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	Customer      *NewCustomer  `json:"customer,omitempty"`
	PurchaseDate  string        `json:"purchase_date" format:"date" doc:"Date of purchase, not in the future (tenant's time zone): the warranty and the three guarantees' 7 and 15 days count from it (day 1), and the seven-day no-reason return from the day after it (七日期间自签收次日起算: its seventh day after is the last; a replacement's no-reason days count from its original_purchase_date). For an online sale, the day the order completed, when the customer received the goods (签收), not the day of the order." example:"2026-10-11"`
	InstalledOn   string        `json:"installed_on,omitempty" format:"date" doc:"Installation date: not before purchase_date, not in the future." example:"2026-10-13"`
	Channel       string        `json:"channel,omitempty" enum:"storefront,brand_store,retail,other" doc:"How it was sold; defaults to storefront when a storefront applies, else other." example:"storefront"`
	StorefrontID  string        `json:"storefront_id,omitempty" maxLength:"64" doc:"The selling storefront (channel storefront). A storefront key always registers for its own storefront." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	InvoiceNumber string        `json:"invoice_number,omitempty" maxLength:"64" doc:"Invoice (fapiao) number." example:"044031900111-08812345"`
	PurchasePrice tenants.Money `json:"purchase_price"`
	// PurchasePriceSource is PriceModelRetail for a unit a ticket's intake
	// registers without the invoice's price; "" is PriceInvoice. Set by the
	// domain, never by a request.
	PurchasePriceSource string `json:"-"`
}

// The sources of a unit's purchase price (Unit.PurchasePriceSource).
const (
	// PriceInvoice: what the customer paid, as registered or corrected.
	PriceInvoice = "invoice"
	// PriceModelRetail: the model's retail price, assumed by a ticket's
	// intake that had no invoice price; not what the customer paid.
	PriceModelRetail = "model_retail_price"
)

// CheckPurchasePricePaid refuses (conflict) money that is a unit's purchase
// price or a share of it (what a return refunds, a plan's swap fee) while
// the price is the model's retail price assumed at intake, not the
// invoice's: the brand sets it first (UpdateUnit).
func (u Unit) CheckPurchasePricePaid() error {
	if u.PurchasePriceSource != PriceModelRetail {
		return nil
	}
	return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("customers.purchase_price_assumed", "Unit", u.ID, "Price", u.PurchasePrice.Text()))
}

// UnitUpdate changes some of a unit's attributes; absent fields stay.
type UnitUpdate struct {
	CustomerID    *string        `json:"customer_id,omitempty" maxLength:"64" doc:"A new owner (an existing customer)." example:"cus_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	PurchaseDate  *string        `json:"purchase_date,omitempty" format:"date" doc:"Corrected purchase date; not in the future, not after installed_on. The windows of the unit's pending, active and expired plan contracts move with it (starts_on, ends_on and the state their dates give; never before sold_on; each move is a state change naming both windows and a contract.redated event carrying them, before the contract.activated or contract.expired it causes); cancelled and consumed ones keep theirs, and so do those that followed it from a unit it replaced (they count from the first sale)." example:"2026-10-11"`
	InstalledOn   *string        `json:"installed_on,omitempty" format:"date" doc:"Installation date: not before purchase_date, not in the future." example:"2026-10-13"`
	InvoiceNumber *string        `json:"invoice_number,omitempty" maxLength:"64" doc:"Invoice (fapiao) number; empty clears it." example:"044031900111-08812345"`
	PurchasePrice *tenants.Money `json:"purchase_price,omitempty" doc:"The price the customer paid, from the invoice: {amount, currency}. It makes purchase_price_source invoice (given unchanged, it confirms a price assumed at intake)."`
}

// UnitFilter narrows a unit listing.
type UnitFilter struct {
	CustomerID, Serial, ModelID, StorefrontID string
	Limit                                     int
	Cursor                                    string
}

const unitColumns = `u.id, u.serial, u.model_id, m.category, m.model_number, m.name, u.customer_id,
	to_char(u.purchase_date, 'YYYY-MM-DD'), to_char(u.installed_on, 'YYYY-MM-DD'), u.channel, u.storefront_id,
	u.invoice_number, u.purchase_price, u.currency, u.purchase_price_source, u.status, u.replaced_by, to_char(u.original_purchase_date, 'YYYY-MM-DD'),
	u.version, u.created_at, u.updated_at, u.test_clock_id`

// unitFrom joins each unit to its model's summary, which tenants/catalog
// exports (the model_summaries view, 043): one statement, as before.
const unitFrom = ` FROM units u JOIN model_summaries m ON m.tenant_id = u.tenant_id AND m.id = u.model_id `

func scanUnit(row pgx.Row) (Unit, error) {
	var u Unit
	err := row.Scan(&u.ID, &u.Serial, &u.ModelID, &u.Category, &u.Model.ModelNumber, &u.Model.Name, &u.CustomerID,
		&u.PurchaseDate, &u.InstalledOn, &u.Channel, &u.StorefrontID, &u.InvoiceNumber, &u.PurchasePrice.Amount,
		&u.PurchasePrice.Currency, &u.PurchasePriceSource, &u.Status, &u.ReplacedBy, &u.OriginalPurchaseDate, &u.Version, &u.CreatedAt, &u.UpdatedAt,
		&u.TestClockID)
	u.Model.ID, u.Model.Category = u.ModelID, u.Category
	return u, err
}

// getUnit reads a unit in scope; lock is "" or a locking clause on u
// ("FOR UPDATE OF u").
func getUnit(ctx context.Context, tx pg.TenantTx, sc Scope, id, lock string) (Unit, error) {
	if !tenants.ValidID(tenants.PrefixUnit, id) {
		return Unit{}, tenants.NotFound("unit")
	}
	u, err := scanUnit(tx.QueryRow(ctx, `SELECT `+unitColumns+unitFrom+`
		WHERE u.tenant_id = $1 AND u.id = $2 AND `+unitInScope("$3")+` `+lock, tx.TenantID, id, sc.arg()))
	if errors.Is(err, pgx.ErrNoRows) {
		return Unit{}, tenants.NotFound("unit")
	}
	return u, err
}

// LoadUnit reads a unit inside the caller's tenant transaction, applying the
// principal's scope: a unit of another storefront (or absent, or malformed
// id) is not_found. Other contexts (entitlements, contracts) call it.
func LoadUnit(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) (Unit, error) {
	return getUnit(ctx, tx, ScopeOf(p), id, "")
}

// QueueLoadUnit queues, on b, LoadUnit's read (the principal's scope
// applied) into u, so a caller can read it in the same round trip as what
// it needs beside the unit. The callback answers not_found as LoadUnit does.
func QueueLoadUnit(b *pgx.Batch, tenantID string, p tenants.Principal, id string, u *Unit) {
	queueLoadUnit(b, tenantID, ScopeOf(p), id, u)
}

func queueLoadUnit(b *pgx.Batch, tenantID string, sc Scope, id string, u *Unit) {
	b.Queue(`SELECT `+unitColumns+unitFrom+`
		WHERE u.tenant_id = $1 AND u.id = $2 AND `+unitInScope("$3"), tenantID, id, sc.arg()).
		QueryRow(func(row pgx.Row) error {
			var err error
			if *u, err = scanUnit(row); errors.Is(err, pgx.ErrNoRows) {
				return tenants.NotFound("unit")
			}
			return err
		})
}

// checkDates validates a unit's purchase and installation dates against
// each other and today (tenant's zone), at <field>.
func checkDates(v *tenants.Validation, purchase string, installed *string, today string) {
	okPurchase := isDate(purchase)
	switch {
	case !okPurchase:
		v.AddMsg("purchase_date", i18n.M("common.date_format"), purchase)
	case purchase > today:
		v.AddMsg("purchase_date", i18n.M("common.must_not_be_in_future_today", "Today", today), purchase)
	}
	if installed == nil {
		return
	}
	switch {
	case !isDate(*installed):
		v.AddMsg("installed_on", i18n.M("common.date_format"), *installed)
	case *installed > today:
		v.AddMsg("installed_on", i18n.M("common.must_not_be_in_future_today", "Today", today), *installed)
	case okPurchase && *installed < purchase:
		v.AddMsg("installed_on", i18n.M("customers.before_purchase_date_field", "Date", purchase), *installed)
	}
}

// RegisterUnit registers a unit and appends unit.registered. The owner is
// in.CustomerID (a customer in scope) or in.Customer, found by phone or
// created. Storefront keys register for their own storefront (naming
// another is invalid at storefront_id); a suspended storefront
// registers nothing. The same serial and model twice is a conflict on
// serial, and nothing (not even an inline customer) is written.
func (s *Service) RegisterUnit(ctx context.Context, p tenants.Principal, in NewUnit) (Unit, error) {
	now := s.now()
	var out Unit
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = registerUnit(ctx, tx, p, in, now)
		return err
	})
	return out, pg.Translate(err)
}

func registerUnit(ctx context.Context, tx pg.TenantTx, p tenants.Principal, in NewUnit, now time.Time) (Unit, error) {
	return registerKnownUnit(ctx, tx, p, in, now, nil)
}

// registerKnownUnit is registerUnit; known, when not nil, holds what the
// caller read already in tx (RegisterKnownUnitTx), and spares the round
// trip of the checks' reads when they would read the same: then the unit
// returned has only its id, and its writes are deferred (pg.TenantTx.Defer).
func registerKnownUnit(ctx context.Context, tx pg.TenantTx, p tenants.Principal, in NewUnit, now time.Time, known *KnownUnit) (Unit, error) {
	sc := ScopeOf(p)
	if err := CheckCanSell(ctx, tx, p); err != nil {
		return Unit{}, err
	}
	serial := strings.ToUpper(strings.TrimSpace(in.Serial))
	validSerial := serialPattern.MatchString(serial)
	validModel := tenants.ValidID(tenants.PrefixProductModel, in.ModelID)
	namedCustomer := in.CustomerID != "" && in.Customer == nil && tenants.ValidID(tenants.PrefixCustomer, in.CustomerID)

	// One round trip reads what the checks need: the tenant's settings, the
	// model's category, whether the serial is registered under another
	// model, and the named owner (locked in share mode, as getCustomer).
	var (
		st                   pg.TenantSettings
		model                catalog.ProductModel
		modelFound           bool
		elsewhere, ownerSeen bool
	)
	b := &pgx.Batch{}
	read := known != nil && sc.Whole() && validModel && validSerial && namedCustomer && known.ModelID == in.ModelID &&
		known.Serial == serial && known.CustomerID == in.CustomerID
	if read {
		// The caller read them in tx: the model (and its category), the
		// serial registered to no other model, and the owner, who is in
		// every scope of a tenant-wide key (the foreign key still checks it).
		st, modelFound, ownerSeen = known.Settings, true, true
		model.Category = known.Category
		b = nil
	} else {
		pg.QueueSettings(b, &st)
	}
	if b != nil && validModel {
		catalog.QueueModel(b, tx.TenantID, in.ModelID, &model, &modelFound)
	}
	if b != nil && validSerial {
		// The same serial under another model is almost always the wrong
		// model or a mistyped serial: refuse it rather than register a ghost.
		b.Queue(`SELECT EXISTS (SELECT FROM units WHERE tenant_id = $1 AND serial = $2 AND model_id <> $3)`,
			tx.TenantID, serial, in.ModelID).QueryRow(func(row pgx.Row) error { return row.Scan(&elsewhere) })
	}
	if b != nil && namedCustomer {
		b.Queue(`SELECT c.id FROM customers c WHERE c.tenant_id = $1 AND c.id = $2 AND `+customerInScope("$3")+` FOR SHARE OF c`,
			tx.TenantID, in.CustomerID, sc.arg()).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				ownerSeen = true
			}
			return rows.Err()
		})
	}
	if b != nil {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return Unit{}, err
		}
	}
	today := st.Today(now)

	v := &tenants.Validation{}
	if !validSerial {
		v.AddMsg("serial", i18n.M("customers.serial_format"), in.Serial)
	}
	var installed *string
	if in.InstalledOn != "" {
		installed = &in.InstalledOn
	}
	checkDates(v, in.PurchaseDate, installed, today)
	tenants.CheckMoney(v, "purchase_price", in.PurchasePrice, st.Currency)
	if len(in.InvoiceNumber) > 64 {
		v.AddMsg("invoice_number", i18n.M("common.max_length", "Max", 64), in.InvoiceNumber)
	}
	if !modelFound {
		v.AddMsg("model_id", i18n.M("common.no_such_product_model"), in.ModelID)
	}
	if elsewhere {
		v.AddMsg("serial", i18n.M("customers.serial_of_other_model"), in.Serial)
	}

	// Channel and storefront.
	storefrontID := in.StorefrontID
	if !sc.Whole() {
		if storefrontID != "" && storefrontID != sc.StorefrontID {
			v.AddMsg("storefront_id", i18n.M("customers.storefront_key_own_units"), storefrontID)
		}
		storefrontID = sc.StorefrontID
	}
	channel := in.Channel
	if channel == "" {
		channel = "other"
		if storefrontID != "" {
			channel = ChannelStorefront
		}
	}
	switch {
	case !slices.Contains(Channels, channel):
		v.AddMsg("channel", i18n.M("common.one_of", "Values", strings.Join(Channels, ", ")), channel)
	case channel == ChannelStorefront && storefrontID == "":
		v.AddMsg("storefront_id", i18n.M("customers.required_for_storefront"), nil)
	case channel != ChannelStorefront && storefrontID != "":
		v.AddMsg("channel", i18n.M("customers.storefront_channel"), channel)
	}
	if storefrontID != "" && sc.Whole() {
		if err := checkStorefrontActive(ctx, tx, v, "storefront_id", storefrontID); err != nil {
			return Unit{}, err
		}
	}

	// Owner.
	var phones []string
	switch {
	case in.CustomerID != "" && in.Customer != nil:
		v.AddMsg("customer", i18n.M("customers.customer_id_or_customer"), nil)
	case in.CustomerID == "" && in.Customer == nil:
		v.AddMsg("customer_id", i18n.M("customers.customer_required"), nil)
	case in.Customer != nil:
		var err error
		if phones, err = checkNewCustomer(ctx, tx, v, "customer.", *in.Customer); err != nil {
			return Unit{}, err
		}
	case !ownerSeen: // read (and locked) in the first round trip
		v.AddMsg("customer_id", i18n.M("common.no_such_customer"), in.CustomerID)
	}
	if err := v.Err(); err != nil {
		return Unit{}, err
	}
	customerID := in.CustomerID
	if in.Customer != nil {
		c, _, err := findOrCreateCustomer(ctx, tx, p, sc, "customer.", *in.Customer, phones)
		if err != nil {
			return Unit{}, err
		}
		customerID = c.ID
	}
	// One round trip: the unit, its read back and unit.registered (whose
	// data are the values just written: the date is checked YYYY-MM-DD).
	// When the caller read the checks' rows (known) it needs only the id:
	// then the writes ride the transaction's next round trip.
	id := tenants.NewID(tenants.PrefixUnit)
	b = &pgx.Batch{}
	b.Queue(`
		INSERT INTO units (tenant_id, id, model_id, serial, customer_id, purchase_date, installed_on, channel, storefront_id,
		       invoice_number, purchase_price, currency, purchase_price_source, created_by)
		VALUES ($1, $2, $3, $4, $5, $6::date, $7::date, $8, $9, $10, $11, $12, $13, $14)`,
		tx.TenantID, id, in.ModelID, serial, customerID, in.PurchaseDate, installed, channel, nullable(storefrontID),
		nullable(strings.TrimSpace(in.InvoiceNumber)), in.PurchasePrice.Amount, in.PurchasePrice.Currency,
		cmp.Or(in.PurchasePriceSource, PriceInvoice), p.Subject())
	out := Unit{ID: id}
	if !read {
		b.Queue(`SELECT `+unitColumns+unitFrom+`
			WHERE u.tenant_id = $1 AND u.id = $2 AND `+unitInScope("$3"), tx.TenantID, id, Scope{}.arg()).QueryRow(func(row pgx.Row) error {
			var err error
			out, err = scanUnit(row)
			return err
		})
	}
	if err := events.QueueTx(b, tx, events.New{Type: TypeUnitRegistered, SubjectID: id, Actor: p.Subject(),
		Data: map[string]any{"model_id": in.ModelID, "category": model.Category, "serial": serial,
			"customer_id": customerID, "channel": channel, "storefront_id": nullable(storefrontID),
			"purchase_date": in.PurchaseDate}}); err != nil {
		return Unit{}, err
	}
	if read {
		return out, tx.Defer(ctx, b)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return Unit{}, err
	}
	return out, nil
}

// GetUnit returns a unit in the principal's scope.
func (s *Service) GetUnit(ctx context.Context, p tenants.Principal, id string) (Unit, error) {
	var out Unit
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		served, err := s.served(ctx, tx, p)
		if err != nil {
			return err
		}
		if out, err = LoadUnit(ctx, tx, p, id); err != nil {
			return err
		}
		if served != nil {
			if _, ok := served.Units[out.ID]; !ok {
				return tenants.NotFound("unit")
			}
		}
		return nil
	})
	return out, pg.Translate(err)
}

// ListUnits lists units in the principal's scope, oldest first. A storefront
// key sees only the units it sold, whatever the filters say.
func (s *Service) ListUnits(ctx context.Context, p tenants.Principal, f UnitFilter) ([]Unit, string, error) {
	f.Limit = tenants.PageLimit(f.Limit)
	after, err := tenants.PageAfter("units", f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var out []Unit
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		served, err := s.served(ctx, tx, p)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+unitColumns+unitFrom+`
			WHERE u.tenant_id = $1 AND u.id > $2 AND `+unitInScope("$3")+`
			  AND ($4 = '' OR u.customer_id = $4) AND ($5 = '' OR u.serial = $5)
			  AND ($6 = '' OR u.model_id = $6) AND ($7 = '' OR u.storefront_id = $7)
			  AND ($9::text[] IS NULL OR u.id = ANY ($9))
			ORDER BY u.id LIMIT $8`,
			tx.TenantID, after, ScopeOf(p).arg(), f.CustomerID, strings.ToUpper(strings.TrimSpace(f.Serial)), f.ModelID,
			f.StorefrontID, f.Limit+1, served.unitIDs())
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Unit, error) { return scanUnit(r) })
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := tenants.NextPage("units", out, f.Limit, func(u Unit) string { return u.ID })
	return out, next, nil
}

// UpdateUnit applies u to a unit in scope; ifVersion > 0 must match its
// version. A new owner must be a customer in scope (customer_id).
func (s *Service) UpdateUnit(ctx context.Context, p tenants.Principal, id string, upd UnitUpdate, ifVersion int) (Unit, error) {
	now := s.now()
	var out Unit
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		st, today, err := tx.Today(ctx, now)
		if err != nil {
			return err
		}
		sc := ScopeOf(p)
		cur, err := getUnit(ctx, tx, sc, id, "FOR UPDATE OF u")
		if err != nil {
			return err
		}
		if err := CheckCanSell(ctx, tx, p); err != nil {
			return err
		}
		if err := tenants.CheckVersion("unit", ifVersion, cur.Version); err != nil {
			return err
		}
		next := cur
		var changed tenants.Changes
		set := changed.Set
		set("customer_id", upd.CustomerID != nil && *upd.CustomerID != cur.CustomerID, func() { next.CustomerID = *upd.CustomerID })
		set("purchase_date", upd.PurchaseDate != nil && *upd.PurchaseDate != cur.PurchaseDate, func() { next.PurchaseDate = *upd.PurchaseDate })
		set("installed_on", upd.InstalledOn != nil && deref(cur.InstalledOn) != *upd.InstalledOn, func() { next.InstalledOn = upd.InstalledOn })
		set("invoice_number", upd.InvoiceNumber != nil && deref(cur.InvoiceNumber) != strings.TrimSpace(*upd.InvoiceNumber),
			func() { next.InvoiceNumber = nullable(strings.TrimSpace(*upd.InvoiceNumber)) })
		// The price given is the invoice's: it confirms one assumed at intake.
		set("purchase_price", upd.PurchasePrice != nil && (*upd.PurchasePrice != cur.PurchasePrice || cur.PurchasePriceSource != PriceInvoice),
			func() { next.PurchasePrice, next.PurchasePriceSource = *upd.PurchasePrice, PriceInvoice })
		v := &tenants.Validation{}
		checkDates(v, next.PurchaseDate, next.InstalledOn, today)
		if upd.PurchasePrice != nil {
			tenants.CheckMoney(v, "purchase_price", next.PurchasePrice, st.Currency)
		}
		if len(deref(next.InvoiceNumber)) > 64 {
			v.AddMsg("invoice_number", i18n.M("common.max_length", "Max", 64), deref(next.InvoiceNumber))
		}
		if next.CustomerID != cur.CustomerID {
			if _, err := getCustomer(ctx, tx, sc, next.CustomerID, "FOR SHARE OF c"); tenants.ErrorCode(err) == tenants.CodeNotFound {
				v.AddMsg("customer_id", i18n.M("common.no_such_customer"), next.CustomerID)
			} else if err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			out = cur
			return nil
		}
		if _, err := tx.Exec(ctx, `
			UPDATE units SET customer_id = $3, purchase_date = $4::date, installed_on = $5::date, invoice_number = $6,
			       purchase_price = $7, currency = $8, purchase_price_source = $9, version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, cur.ID, next.CustomerID, next.PurchaseDate, next.InstalledOn, next.InvoiceNumber,
			next.PurchasePrice.Amount, next.PurchasePrice.Currency, next.PurchasePriceSource); err != nil {
			return err
		}
		if next.PurchaseDate != cur.PurchaseDate {
			if err := s.purchaseDateMoved(ctx, tx, cur.ID, now, p.Subject()); err != nil {
				return err
			}
		}
		if out, err = getUnit(ctx, tx, Scope{}, cur.ID, ""); err != nil {
			return err
		}
		data := map[string]any{"changed": changed, "version": out.Version, "storefront_id": out.StorefrontID}
		if out.CustomerID != cur.CustomerID {
			data["from_customer_id"], data["to_customer_id"] = cur.CustomerID, out.CustomerID
		}
		return events.Append(ctx, tx, events.New{Type: TypeUnitUpdated, SubjectID: out.ID, Actor: p.Subject(), Data: data})
	})
	return out, pg.Translate(err)
}
