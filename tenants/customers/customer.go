package customers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/audit"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/phones"
	"github.com/servicenet/servicenet/tenants/privacy"
)

// MaxPhones and MaxAddresses bound a customer's contact lists.
const (
	MaxPhones    = 5
	MaxAddresses = 10
)

// CustomerAddress is a customer's postal address with its GB/T 2260 region
// code (the code decides which service nodes cover it).
type CustomerAddress struct {
	Label      string `json:"label,omitempty" maxLength:"50" doc:"What the address is to the customer." example:"home"`
	RegionCode string `json:"region_code" pattern:"^[1-9][0-9]{5}$" doc:"GB/T 2260 district (or city) code; must be a known code." example:"370212"`
	Line       string `json:"line" minLength:"1" maxLength:"300" doc:"Street address within the region." example:"崂山区海尔路1号 3单元 502"`
	PostalCode string `json:"postal_code,omitempty" pattern:"^[0-9]{6}$" doc:"Six-digit postal code." example:"266101"`
}

// Customer is a person who owns registered units. Customers are
// deduplicated by phone: a phone belongs to at most one customer in each
// scope. A storefront key sees only the customers it created or sold a unit
// to: a phone known only outside its scope makes a customer of its own
// (its scope's view of the phone), and nothing tells it the phone was known.
type Customer struct {
	ID     string   `json:"id" example:"cus_01jd3zq8w6v7t3y2k9x4n5m6pe"`
	Name   string   `json:"name" example:"王丽"`
	Phones []string `json:"phones" doc:"Phone numbers in E.164 (+ country code and digits), as stored and matched: mainland mobiles and landlines with their area code." example:"[\"+8613800138000\",\"+8653288930000\"]"`
	// PhonesDisplay is filled from Phones when the customer is read.
	PhonesDisplay []string          `json:"phones_display" doc:"The same numbers as people write them: the national form for mainland numbers, international for others; masked like phones." example:"[\"138 0013 8000\",\"0532 8893 0000\"]"`
	Addresses     []CustomerAddress `json:"addresses" doc:"Postal addresses, each with a GB/T 2260 region code."`
	// NotificationsOptOut: see CustomerUpdate.
	NotificationsOptOut bool       `json:"notifications_opt_out" doc:"The customer declined non-essential messages (progress notifications); essential ones (the sign-off code) still go out." example:"false"`
	Masked              bool       `json:"masked" doc:"Whether name, phones and address lines are masked (138****8000, 北京市朝阳区****). The brand's staff and the storefront that registered the customer see them; technicians and node keys see the customer records of their jobs masked, always: what a job needs, the contact and the service address, is on its ticket (shown in the clear while the job is open and the tenant's grace period after), not the customer's other phones and addresses. Always true once the retention masked them at rest (masked_at)." example:"false"`
	MaskedAt            *time.Time `json:"masked_at,omitempty" doc:"When the retention masked the customer's personal data at rest (the privacy policy's retention_days after the brand last served them: no open ticket or complaint, no unit under a manufacturer warranty or contract); the record keeps its id, units and history, its phones no longer find it." example:"2027-12-01T03:00:00+08:00"`
	ErasedAt            *time.Time `json:"erased_at,omitempty" doc:"When the customer's personal data was erased (a data-subject request); the customer keeps its id for the brand's records." example:"2026-12-01T09:30:00+08:00"`
	Version             int        `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt           time.Time  `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt           time.Time  `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// PersonalRelation implements tenants.Personal. No job needs a customer's
// record: a technician or node key reads the contact and service address
// of its job on the ticket (tickets.Ticket's relation), and sees the
// record of a customer its jobs serve masked (PIPL art. 6, the minimum
// necessary: not every phone and address the brand holds).
func (c *Customer) PersonalRelation() tenants.Relation { return tenants.Relation{} }

// PersonalID implements tenants.Personal.
func (c *Customer) PersonalID() string { return c.ID }

// MaskPersonal implements tenants.Personal: name, phones and address lines
// masked; region codes stay (they say which nodes serve the customer).
func (c *Customer) MaskPersonal() {
	c.Masked = true
	c.Name = privacy.MaskName(c.Name)
	phones := make([]string, len(c.Phones))
	for i, ph := range c.Phones {
		phones[i] = privacy.MaskPhone(ph)
	}
	c.Phones = phones
	c.fillDisplay()
	as := make([]CustomerAddress, len(c.Addresses))
	for i, a := range c.Addresses {
		a.Line = privacy.MaskAddressLine(a.Line)
		a.PostalCode = ""
		as[i] = a
	}
	c.Addresses = as
}

// PersonalColumns are the customers table's columns with personal data,
// each masked in the values the audit log recorded of it as MaskPersonal
// masks a customer's.
func PersonalColumns() audit.Columns {
	return audit.Columns{
		"name": func(v any) any {
			return audit.MaskAs(v, func(name *string) { c := Customer{Name: *name}; c.MaskPersonal(); *name = c.Name })
		},
		"phones": func(v any) any {
			return audit.MaskAs(v, func(ps *[]string) { c := Customer{Phones: *ps}; c.MaskPersonal(); *ps = c.Phones })
		},
		"addresses": func(v any) any {
			return audit.MaskAs(v, func(as *[]CustomerAddress) { c := Customer{Addresses: *as}; c.MaskPersonal(); *as = c.Addresses })
		},
	}
}

// NewCustomer is a customer to find or create.
type NewCustomer struct {
	Name      string            `json:"name" minLength:"1" maxLength:"200" doc:"Full name." example:"王丽"`
	Phones    []string          `json:"phones" minItems:"1" maxItems:"5" doc:"Phone numbers in any usual notation (spaces, dashes, parentheses, +86 or 0086); stored normalised. A phone that already belongs to a customer the key sees finds that customer. For a storefront key that is a customer it created or sold a unit to: a phone the brand knows only as another party's customer makes a customer of the storefront's own (the brand sees both under GET /v1/customers?phone=)." example:"[\"+86 138 0013 8000\"]"`
	Addresses []CustomerAddress `json:"addresses,omitempty" maxItems:"10" doc:"Postal addresses with GB/T 2260 region codes."`
}

// CustomerUpdate changes some of a customer's attributes; absent fields
// stay, phones and addresses are replaced whole.
type CustomerUpdate struct {
	Name                *string            `json:"name,omitempty" minLength:"1" maxLength:"200" doc:"New name." example:"王丽"`
	Phones              *[]string          `json:"phones,omitempty" minItems:"1" maxItems:"5" doc:"The customer's phones, replacing the current ones; a phone of another customer the key sees is a conflict." example:"[\"13800138000\",\"0532-8893 0000\"]"`
	Addresses           *[]CustomerAddress `json:"addresses,omitempty" maxItems:"10" doc:"The customer's addresses, replacing the current ones."`
	NotificationsOptOut *bool              `json:"notifications_opt_out,omitempty" doc:"true: send the customer only essential messages (the sign-off code), none of the progress notifications; false: all." example:"true"`
}

// CustomerFilter narrows a customer listing.
type CustomerFilter struct {
	// Phone in any notation; matched normalised: the customer the phone
	// belongs to and the storefronts' own customers recorded with it.
	Phone string
	// NamePrefix matches the start of the name.
	NamePrefix string
	Limit      int
	Cursor     string
}

const customerColumns = `c.id, c.name, c.phones, c.addresses, c.erased_at, c.version, c.created_at, c.updated_at, c.notifications_opt_out, c.masked_at`

func scanCustomer(row pgx.Row) (Customer, error) {
	var c Customer
	err := row.Scan(&c.ID, &c.Name, &c.Phones, &c.Addresses, &c.ErasedAt, &c.Version, &c.CreatedAt, &c.UpdatedAt, &c.NotificationsOptOut, &c.MaskedAt)
	c.Masked = c.MaskedAt != nil // masked at rest
	if c.Addresses == nil {
		c.Addresses = []CustomerAddress{}
	}
	c.fillDisplay()
	return c, err
}

// fillDisplay sets PhonesDisplay from Phones.
func (c *Customer) fillDisplay() {
	c.PhonesDisplay = make([]string, len(c.Phones))
	for i, ph := range c.Phones {
		c.PhonesDisplay[i] = phones.Display(ph)
	}
}

// validateCustomer checks in at prefix ("" for a customer of its own, "customer." inside another input) and
// returns its phones normalised. Region codes are checked against the
// reference table separately (checkAddressRegions).
func validateCustomer(v *tenants.Validation, prefix string, in NewCustomer) []string {
	if n := len([]rune(strings.TrimSpace(in.Name))); n < 1 || len([]rune(in.Name)) > 200 {
		v.AddMsg(prefix+"name", i18n.M("common.length", "Min", 1, "Max", 200), in.Name)
	}
	phones := validatePhones(v, prefix+"phones", in.Phones)
	validateAddresses(v, prefix+"addresses", in.Addresses)
	return phones
}

func validatePhones(v *tenants.Validation, loc string, in []string) []string {
	if len(in) < 1 || len(in) > MaxPhones {
		v.AddMsg(loc, i18n.M("customers.phone_count", "Max", MaxPhones, "Min", 1), in)
	}
	out := make([]string, 0, len(in))
	for i, raw := range in {
		p, ok := phones.Normalize(raw)
		switch {
		case !ok:
			v.AddMsg(fmt.Sprintf("%s[%d]", loc, i), i18n.M("customers.valid_phone"), raw)
		case slices.Contains(out, p):
			v.AddMsg(fmt.Sprintf("%s[%d]", loc, i), i18n.M("customers.phone_repeated"), raw)
		default:
			out = append(out, p)
		}
	}
	return out
}

func validateAddresses(v *tenants.Validation, loc string, as []CustomerAddress) {
	if len(as) > MaxAddresses {
		v.AddMsg(loc, i18n.M("customers.max_addresses", "Max", MaxAddresses), len(as))
	}
	for i, a := range as {
		at := fmt.Sprintf("%s[%d].", loc, i)
		if len([]rune(a.Label)) > 50 {
			v.AddMsg(at+"label", i18n.M("common.max_length", "Max", 50), a.Label)
		}
		if regionLevel(a.RegionCode) == 0 {
			v.AddMsg(at+"region_code", i18n.M("common.region_code_6"), a.RegionCode)
		}
		if n := len([]rune(strings.TrimSpace(a.Line))); n < 1 || len([]rune(a.Line)) > 300 {
			v.AddMsg(at+"line", i18n.M("common.length", "Min", 1, "Max", 300), a.Line)
		}
		if a.PostalCode != "" && (len(a.PostalCode) != 6 || strings.Trim(a.PostalCode, "0123456789") != "") {
			v.AddMsg(at+"postal_code", i18n.M("customers.six_digits"), a.PostalCode)
		}
	}
}

// regionLevel is non-zero for a well-formed 6-digit GB/T 2260 code.
func regionLevel(code string) int {
	if len(code) != 6 || code[0] < '1' || code[0] > '9' || strings.Trim(code, "0123456789") != "" {
		return 0
	}
	switch {
	case code[2:] == "0000":
		return 1
	case code[4:] == "00":
		return 2
	}
	return 3
}

// checkAddressRegions adds a problem for every well-formed region code that
// is not in the GB/T 2260 reference table.
func checkAddressRegions(ctx context.Context, tx pg.TenantTx, v *tenants.Validation, loc string, as []CustomerAddress) error {
	codes := make([]string, 0, len(as))
	for _, a := range as {
		codes = append(codes, a.RegionCode)
	}
	if len(codes) == 0 {
		return nil
	}
	unknown, err := network.UnknownRegionsTx(ctx, tx, codes)
	if err != nil {
		return err
	}
	for i, c := range codes {
		if regionLevel(c) != 0 && slices.Contains(unknown, c) {
			v.AddMsg(fmt.Sprintf("%s[%d].region_code", loc, i), i18n.M("common.unknown_region_code"), c)
		}
	}
	return nil
}

// lockPhones serialises find-or-create and phone changes on the same
// numbers, so two concurrent requests with one phone make one customer.
func lockPhones(ctx context.Context, tx pg.TenantTx, phones []string) error {
	b := &pgx.Batch{}
	queueLockPhones(b, tx.TenantID, phones)
	return tx.SendBatch(ctx, b).Close()
}

// queueLockPhones queues lockPhones' statement on b.
func queueLockPhones(b *pgx.Batch, tenantID string, phones []string) {
	sorted := slices.Clone(phones)
	slices.Sort(sorted)
	b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended('customers.phone:' || $1 || ':' || p, 0))
		FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n`, tenantID, sorted)
}

// queuePhoneOwners queues on b the read, into owners, of the customer each
// phone that belongs to one belongs to, whatever the scope.
func queuePhoneOwners(b *pgx.Batch, tenantID string, phones []string, owners map[string]string) {
	b.Queue(`SELECT phone, customer_id FROM customer_phones WHERE tenant_id = $1 AND phone = ANY($2)`, tenantID, phones).
		Query(func(rows pgx.Rows) error {
			var phone, id string
			_, err := pgx.ForEachRow(rows, []any{&phone, &id}, func() error {
				owners[phone] = id
				return nil
			})
			return err
		})
}

// checkNewCustomer validates in at prefix, including its region codes
// against the reference table, and returns its phones normalised.
func checkNewCustomer(ctx context.Context, tx pg.TenantTx, v *tenants.Validation, prefix string, in NewCustomer) ([]string, error) {
	phones := validateCustomer(v, prefix, in)
	return phones, checkAddressRegions(ctx, tx, v, prefix+"addresses", in.Addresses)
}

// phoneHolders returns, for each phone that belongs to a customer in sc,
// that customer (queuePhoneHolders).
func phoneHolders(ctx context.Context, tx pg.TenantTx, sc Scope, phones []string) (map[string]string, error) {
	holders := map[string]string{}
	b := &pgx.Batch{}
	queuePhoneHolders(b, tx.TenantID, sc, phones, holders)
	return holders, tx.SendBatch(ctx, b).Close()
}

// queuePhoneHolders queues on b the read, into holders, of the customer
// each phone belongs to in sc. For the whole tenant that is the phone's
// owner (customer_phones). For a storefront it is the owner when the owner
// is in the storefront's scope, else the storefront's own customer with the
// phone (customer_storefront_phones): a phone whose owner is outside its
// scope does not exist for it, and a customer it makes with the phone keeps
// the phone without owning it (queueInsertCustomer), so the owner stays
// the brand's.
func queuePhoneHolders(b *pgx.Batch, tenantID string, sc Scope, phones []string, holders map[string]string) {
	if sc.Whole() {
		queuePhoneOwners(b, tenantID, phones, holders)
		return
	}
	b.Queue(`SELECT ph.p, `+phoneHolderSQL("ph.p", "$3")+` FROM unnest($2::text[]) AS ph(p)`, tenantID, phones, sc.arg()).
		Query(func(rows pgx.Rows) error {
			var (
				phone string
				id    *string
			)
			_, err := pgx.ForEachRow(rows, []any{&phone, &id}, func() error {
				if id != nil {
					holders[phone] = *id
				}
				return nil
			})
			return err
		})
}

// phoneHolderSQL is the subquery of the id of the customer a phone (an SQL
// expression) belongs to in a storefront's scope (sf, the parameter bound
// to its Scope.arg(); $1 is the tenant): the phone's owner when the owner
// is in scope, else the storefront's own customer with the phone
// (customer_storefront_phones, 072). Both are read by key, the owner by
// its id as QueueCustomerByPhone reads it.
func phoneHolderSQL(phone, sf string) string {
	return `coalesce((SELECT c.id FROM customers c
			WHERE c.tenant_id = $1 AND c.id = (SELECT cp.customer_id FROM customer_phones cp WHERE cp.tenant_id = $1 AND cp.phone = ` + phone + `)
			  AND ` + customerInScope(sf) + `),
		(SELECT sp.customer_id FROM customer_storefront_phones sp
			WHERE sp.tenant_id = $1 AND sp.phone = ` + phone + ` AND sp.storefront_id = ` + sf + `::text))`
}

// findOrCreateCustomer returns the customer in sc one of phones (in's,
// checked and normalised by checkNewCustomer) belongs to (queuePhoneHolders),
// unchanged, or creates one (created true). Phones belonging to two
// different customers in sc are a conflict at prefix+"phones". A storefront
// never finds a customer outside its scope: a phone known only outside it
// makes a customer of its own, as an unknown phone does, so the answer does
// not tell whether the phone was known. A customer created by a storefront
// key remembers the storefront.
func findOrCreateCustomer(ctx context.Context, tx pg.TenantTx, p tenants.Principal, sc Scope, prefix string, in NewCustomer, phones []string) (Customer, bool, error) {
	// One round trip: the phones' locks, then their holders (a batch runs
	// in order, so the read sees what the lock holders committed).
	b := &pgx.Batch{}
	queueLockPhones(b, tx.TenantID, phones)
	owners := map[string]string{}
	queuePhoneHolders(b, tx.TenantID, sc, phones, owners)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return Customer{}, false, err
	}
	var ids []string
	for _, id := range owners {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	switch len(ids) {
	case 0:
	case 1:
		c, err := getCustomer(ctx, tx, Scope{}, ids[0], "")
		return c, false, err
	default:
		return Customer{}, false, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("customers.phones_of_different_customers")).With(
			tenants.FieldMsg(prefix+"phones", i18n.M("customers.phones_of_n_customers", "Count", len(ids)), nil))
	}
	addresses := in.Addresses
	if addresses == nil {
		addresses = []CustomerAddress{}
	}
	// One round trip: the customer, its phones and customer.created.
	id := tenants.NewID(tenants.PrefixCustomer)
	var c Customer
	b = &pgx.Batch{}
	queueInsertCustomer(b, tx.TenantID, id, strings.TrimSpace(in.Name), phones, addresses, sc, &c)
	if err := events.QueueTx(b, tx, events.New{Type: TypeCustomerCreated, SubjectID: id, Actor: p.Subject(),
		Data: map[string]any{"phones": len(phones), "addresses": len(addresses)}}); err != nil {
		return Customer{}, false, err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return Customer{}, false, err
	}
	return c, true, nil
}

// queueInsertCustomer queues on b the insert of a customer with its
// phones (their locks held, none of them a customer's in sc), made in scope
// sc, into c when it is not nil (RETURNING). A storefront's customer owns
// only the phones no customer owns: one owned outside its scope stays its
// owner's, and the storefront's customer keeps it in its phones and in
// customer_storefront_phones, where queuePhoneHolders finds it for the
// storefront.
func queueInsertCustomer(b *pgx.Batch, tenantID, id, name string, phones []string, addresses []CustomerAddress, sc Scope, c *Customer) {
	// One statement for all tables (issue 11: a statement less per new
	// customer): the phones' foreign key is checked at the statement's
	// end, when the customer row is there.
	insert := `WITH c AS (
			INSERT INTO customers AS c (tenant_id, id, name, phones, addresses, storefront_id) VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING c.*
		), ph AS (
			INSERT INTO customer_phones (tenant_id, phone, customer_id) SELECT $1, p, $2 FROM unnest($4::text[]) AS p`
	if sc.Whole() {
		insert += `)`
	} else {
		insert += ` ON CONFLICT DO NOTHING RETURNING phone
		), sp AS (
			INSERT INTO customer_storefront_phones (tenant_id, phone, storefront_id, customer_id)
			SELECT $1, p, $6, $2 FROM unnest($4::text[]) AS p WHERE p NOT IN (SELECT phone FROM ph)
		)`
	}
	if c == nil {
		b.Queue(insert+` SELECT FROM c`, tenantID, id, name, phones, addresses, sc.arg())
	} else {
		b.Queue(insert+` SELECT `+customerColumns+` FROM c`, tenantID, id, name, phones, addresses, sc.arg()).QueryRow(func(row pgx.Row) error {
			var err error
			*c, err = scanCustomer(row)
			return err
		})
	}
}

// getCustomer reads a customer in scope; lock is "" or "FOR UPDATE OF c".
func getCustomer(ctx context.Context, tx pg.TenantTx, sc Scope, id, lock string) (Customer, error) {
	if !tenants.ValidID(tenants.PrefixCustomer, id) {
		return Customer{}, tenants.NotFound("customer")
	}
	c, err := scanCustomer(tx.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers c
		WHERE c.tenant_id = $1 AND c.id = $2 AND `+customerInScope("$3")+` `+lock, tx.TenantID, id, sc.arg()))
	if errors.Is(err, pgx.ErrNoRows) {
		return Customer{}, tenants.NotFound("customer")
	}
	return c, err
}

// CreateCustomer finds or creates a customer by phone. When one of the
// phones already belongs to a customer in the principal's scope, that
// customer is returned unchanged with created false (update it with
// UpdateCustomer); phones belonging to two different customers are a
// conflict on phones. A storefront key whose phone belongs only to a
// customer outside its scope (one it did not create and sold nothing to)
// creates a customer of its own (findOrCreateCustomer).
func (s *Service) CreateCustomer(ctx context.Context, p tenants.Principal, in NewCustomer) (Customer, bool, error) {
	var (
		out     Customer
		created bool
	)
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc := ScopeOf(p)
		v := &tenants.Validation{}
		phones, err := checkNewCustomer(ctx, tx, v, "", in)
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := CheckCanSell(ctx, tx, p); err != nil {
			return err
		}
		out, created, err = findOrCreateCustomer(ctx, tx, p, sc, "", in, phones)
		return err
	})
	return out, created, pg.Translate(err)
}

// GetCustomer returns a customer in the principal's scope.
func (s *Service) GetCustomer(ctx context.Context, p tenants.Principal, id string) (Customer, error) {
	var out Customer
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		served, err := s.served(ctx, tx, p)
		if err != nil {
			return err
		}
		if out, err = getCustomer(ctx, tx, ScopeOf(p), id, ""); err != nil {
			return err
		}
		if served != nil {
			if _, ok := served.Customers[out.ID]; !ok {
				return tenants.NotFound("customer")
			}
		}
		return nil
	})
	return out, pg.Translate(err)
}

// ListCustomers lists customers in the principal's scope, oldest first.
func (s *Service) ListCustomers(ctx context.Context, p tenants.Principal, f CustomerFilter) ([]Customer, string, error) {
	v := &tenants.Validation{}
	phone := ""
	if f.Phone != "" {
		var ok bool
		if phone, ok = phones.Normalize(f.Phone); !ok {
			v.AddMsg("phone", i18n.M("customers.phone_number"), f.Phone)
		}
	}
	if len([]rune(f.NamePrefix)) > 200 {
		v.AddMsg("name", i18n.M("common.max_length", "Max", 200), f.NamePrefix)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	f.Limit = tenants.PageLimit(f.Limit)
	after, err := tenants.PageAfter("customers", f.Cursor)
	if err != nil {
		return nil, "", err
	}
	var out []Customer
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		served, err := s.served(ctx, tx, p)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+customerColumns+` FROM customers c
			WHERE c.tenant_id = $1 AND c.id > $2 AND `+customerInScope("$3")+`
			  AND ($4 = '' OR c.id = ANY (ARRAY(SELECT cp.customer_id FROM customer_phones cp WHERE cp.tenant_id = $1 AND cp.phone = $4
			                                    UNION ALL
			                                    SELECT sp.customer_id FROM customer_storefront_phones sp
			                                    WHERE sp.tenant_id = $1 AND sp.phone = $4 AND ($3::text IS NULL OR sp.storefront_id = $3::text))))
			  AND ($5 = '' OR c.name LIKE $5 || '%')
			  AND ($7::text[] IS NULL OR c.id = ANY ($7))
			ORDER BY c.id LIMIT $6`,
			tx.TenantID, after, ScopeOf(p).arg(), phone, likeEscaper.Replace(f.NamePrefix), f.Limit+1, served.customerIDs())
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Customer, error) { return scanCustomer(r) })
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := tenants.NextPage("customers", out, f.Limit, func(c Customer) string { return c.ID })
	return out, next, nil
}

// likeEscaper quotes LIKE's metacharacters (backslash is LIKE's default escape).
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// UpdateCustomer applies u to a customer in scope; ifVersion > 0 must match
// its version. A customer the retention masked is a conflict, unchanged. New phones are normalised; one that belongs to another
// customer in scope is a conflict at phones[i] (one owned outside a
// storefront's scope is kept without owning it, as queueInsertCustomer
// does).
func (s *Service) UpdateCustomer(ctx context.Context, p tenants.Principal, id string, u CustomerUpdate, ifVersion int) (Customer, error) {
	var out Customer
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc := ScopeOf(p)
		cur, err := getCustomer(ctx, tx, sc, id, "FOR UPDATE OF c")
		if err != nil {
			return err
		}
		if err := tenants.CheckVersion("customer", ifVersion, cur.Version); err != nil {
			return err
		}
		if cur.MaskedAt != nil {
			// The retention masked it for good (MaskRetainedTx): its
			// masked phones are no phones to keep, and new data would make
			// it a new customer, which its phones now register.
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("customers.masked_at_rest"))
		}
		f := NewCustomer{Name: cur.Name, Phones: cur.Phones, Addresses: cur.Addresses}
		var changed tenants.Changes
		set := changed.Set
		set("name", u.Name != nil && strings.TrimSpace(*u.Name) != cur.Name, func() { f.Name = strings.TrimSpace(*u.Name) })
		if u.Phones != nil {
			f.Phones = *u.Phones
		}
		set("addresses", tenants.Differs(u.Addresses, f.Addresses), func() { f.Addresses = *u.Addresses })
		optOut := cur.NotificationsOptOut
		set("notifications_opt_out", u.NotificationsOptOut != nil && *u.NotificationsOptOut != optOut, func() { optOut = *u.NotificationsOptOut })
		v := &tenants.Validation{}
		phones := validateCustomer(v, "", f)
		if u.Addresses != nil {
			if err := checkAddressRegions(ctx, tx, v, "addresses", f.Addresses); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if u.Phones != nil && !slices.Equal(phones, cur.Phones) {
			changed = append(changed, "phones")
			if err := lockPhones(ctx, tx, phones); err != nil {
				return err
			}
			owners, err := phoneHolders(ctx, tx, sc, phones)
			if err != nil {
				return err
			}
			conflict := tenants.ErrorMsg(tenants.CodeConflict, i18n.M("customers.phone_of_other_customer"))
			for i, ph := range phones {
				if o, ok := owners[ph]; ok && o != cur.ID && !slices.Contains(cur.Phones, ph) {
					conflict.With(tenants.FieldMsg(fmt.Sprintf("phones[%d]", i), i18n.M("customers.phone_belongs_to_other"), (*u.Phones)[i]))
				}
			}
			if len(conflict.Fields) > 0 {
				return conflict
			}
			if _, err := tx.Exec(ctx, `DELETE FROM customer_phones WHERE tenant_id = $1 AND customer_id = $2 AND NOT phone = ANY($3)`,
				tx.TenantID, cur.ID, phones); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO customer_phones (tenant_id, phone, customer_id)
				SELECT $1, p, $2 FROM unnest($3::text[]) AS p ON CONFLICT (tenant_id, livemode, phone) DO NOTHING`,
				tx.TenantID, cur.ID, phones); err != nil {
				return err
			}
			// The storefront's view of the phones owned outside its scope.
			if _, err := tx.Exec(ctx, `DELETE FROM customer_storefront_phones WHERE tenant_id = $1 AND customer_id = $2 AND NOT phone = ANY($3)`,
				tx.TenantID, cur.ID, phones); err != nil {
				return err
			}
			if !sc.Whole() {
				if _, err := tx.Exec(ctx, `INSERT INTO customer_storefront_phones (tenant_id, phone, storefront_id, customer_id)
					SELECT $1, p, $4, $2 FROM unnest($3::text[]) AS p
					WHERE NOT EXISTS (SELECT FROM customer_phones cp WHERE cp.tenant_id = $1 AND cp.phone = p AND cp.customer_id = $2)
					ON CONFLICT DO NOTHING`, tx.TenantID, cur.ID, phones, sc.StorefrontID); err != nil {
					return err
				}
			}
		}
		if len(changed) == 0 {
			out = cur
			return nil
		}
		if f.Addresses == nil {
			f.Addresses = []CustomerAddress{}
		}
		out, err = scanCustomer(tx.QueryRow(ctx, `
			UPDATE customers AS c SET name = $3, phones = $4, addresses = $5, notifications_opt_out = $6,
				version = version + 1, updated_at = now()
			WHERE c.tenant_id = $1 AND c.id = $2
			RETURNING `+customerColumns, tx.TenantID, cur.ID, f.Name, phones, f.Addresses, optOut))
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeCustomerUpdated, SubjectID: out.ID, Actor: p.Subject(),
			Data: map[string]any{"changed": changed, "version": out.Version}})
	})
	return out, pg.Translate(err)
}
