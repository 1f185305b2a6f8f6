package customers

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// ServiceKinds are the kinds of service record.
var ServiceKinds = []string{"repair", "claim", "swap", "return", "maintenance", "install"}

// ServiceRecord is one entry of a unit's service history.
type ServiceRecord struct {
	ID             string         `json:"id" example:"svr_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	UnitID         string         `json:"unit_id" example:"unt_01jd3zq8w6v7t3y2k9x4n5m6ph"`
	Kind           string         `json:"kind" enum:"repair,claim,swap,return,maintenance,install" example:"repair"`
	OccurredOn     string         `json:"occurred_on" format:"date" doc:"When the service was done (tenant's time zone)." example:"2026-11-20"`
	Basis          *string        `json:"basis,omitempty" doc:"Who paid, as decided: manufacturer_warranty, statutory, extended_warranty, protection_plan, out_of_warranty, goodwill ..." example:"manufacturer_warranty"`
	FaultCause     *string        `json:"fault_cause,omitempty" doc:"Fault cause code or text." example:"drain_pump_failure"`
	PartCategories []string       `json:"part_categories" doc:"Categories of the parts replaced." example:"[\"drain_pump\"]"`
	Paid           bool           `json:"paid" doc:"Whether the customer paid for it (a paid repair starts the repeat-repair promise)." example:"false"`
	Fixed          bool           `json:"fixed" doc:"Whether the fault was fixed." example:"true"`
	Amount         *tenants.Money `json:"amount,omitempty"`
	Reference      *string        `json:"reference,omitempty" doc:"The ticket, claim or legacy system id the record came from; unique per unit and kind." example:"LEGACY-2024-000812"`
	Note           *string        `json:"note,omitempty" example:"排水泵更换，试机正常"`
	CreatedBy      string         `json:"created_by" doc:"Key ID (or system) that recorded it." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	CreatedAt      time.Time      `json:"created_at" example:"2026-11-20T16:00:00+08:00"`
}

// NewServiceRecord is a service event to record in a unit's history.
type NewServiceRecord struct {
	Kind           string         `json:"kind" enum:"repair,claim,swap,return,maintenance,install" doc:"What was done." example:"repair"`
	OccurredOn     string         `json:"occurred_on" format:"date" doc:"When: not before the purchase date, not in the future." example:"2026-11-20"`
	Basis          string         `json:"basis,omitempty" maxLength:"64" pattern:"^[a-z][a-z0-9_]*$" doc:"Who paid, as decided (snake_case): manufacturer_warranty, statutory, extended_warranty, protection_plan, out_of_warranty, goodwill ..." example:"manufacturer_warranty"`
	FaultCause     string         `json:"fault_cause,omitempty" maxLength:"200" doc:"Fault cause code or text." example:"drain_pump_failure"`
	PartCategories []string       `json:"part_categories,omitempty" maxItems:"20" doc:"Categories of the parts replaced (snake_case)." example:"[\"drain_pump\"]"`
	Paid           bool           `json:"paid,omitempty" doc:"The customer paid for it." example:"false"`
	Fixed          *bool          `json:"fixed,omitempty" doc:"The fault was fixed (default true)." example:"true"`
	Amount         *tenants.Money `json:"amount,omitempty"`
	Reference      string         `json:"reference,omitempty" maxLength:"128" doc:"Ticket, claim or legacy id; recording the same kind and reference twice for a unit is a conflict (409)." example:"LEGACY-2024-000812"`
	Note           string         `json:"note,omitempty" maxLength:"2000" doc:"Free text." example:"排水泵更换，试机正常"`
}

const recordColumns = `id, unit_id, kind, to_char(occurred_on, 'YYYY-MM-DD'), basis, fault_cause, part_categories, paid, fixed,
	amount, currency, reference, note, created_by, created_at`

func scanRecord(row pgx.Row) (ServiceRecord, error) {
	var (
		r        ServiceRecord
		amount   *int64
		currency *string
	)
	err := row.Scan(&r.ID, &r.UnitID, &r.Kind, &r.OccurredOn, &r.Basis, &r.FaultCause, &r.PartCategories, &r.Paid, &r.Fixed,
		&amount, &currency, &r.Reference, &r.Note, &r.CreatedBy, &r.CreatedAt)
	if amount != nil && currency != nil {
		r.Amount = &tenants.Money{Amount: *amount, Currency: *currency}
	}
	if r.PartCategories == nil {
		r.PartCategories = []string{}
	}
	return r, err
}

// RecordService appends a service record to a unit's history inside the
// caller's tenant transaction, with its unit.service_recorded event. It
// applies no scope (the caller has loaded the unit with LoadUnit); an
// unknown unit is not_found. Locations of bad fields are <field>; a
// repeated kind+reference for the unit is a conflict on reference.
// Tickets and claims call it when they finish.
func RecordService(ctx context.Context, tx pg.TenantTx, unitID string, in NewServiceRecord, actor string, now time.Time) (ServiceRecord, error) {
	u, err := getUnit(ctx, tx, Scope{}, unitID, "")
	if err != nil {
		return ServiceRecord{}, err
	}
	return recordService(ctx, tx, u, in, actor, now)
}

// TicketReference is the reference of the service record a ticket's
// completion makes, one per round of a reopened ticket (its visits so far):
// <ticketNumber>/<visit>.
func TicketReference(ticketNumber string, visit int) string {
	return ticketNumber + "/" + strconv.Itoa(visit)
}

// OfTicket is whether r is a record a completion of the ticket numbered
// ticketNumber made (TicketReference).
func (r ServiceRecord) OfTicket(ticketNumber string) bool {
	return ticketNumber != "" && r.Reference != nil && strings.HasPrefix(*r.Reference, ticketNumber+"/")
}

// SettleServiceTx sets, in the caller's transaction, what the customer
// finally paid for the newest service record a ticket's completion made
// (TicketReference: <ticketNumber>/<visit>) of unit unitID: its amount becomes
// paid, and a service the customer no longer pays for is no longer a paid
// one (rule 8: a paid repair starts the repeat-repair promise). A
// completion's charges refunded after it (a promise found later, a
// reopened ticket completed again) settle it. No such record changes
// nothing.
func SettleServiceTx(ctx context.Context, tx pg.TenantTx, unitID, ticketNumber string, paid tenants.Money) error {
	_, err := tx.Exec(ctx, `
		UPDATE service_records SET amount = $4::bigint, currency = $5, paid = $4::bigint > 0
		WHERE tenant_id = $1 AND id = (
			SELECT id FROM service_records
			WHERE tenant_id = $1 AND unit_id = $2 AND left(reference, length($3) + 1) = $3 || '/'
			ORDER BY created_at DESC, id DESC LIMIT 1)`,
		tx.TenantID, unitID, ticketNumber, paid.Amount, paid.Currency)
	return err
}

func recordService(ctx context.Context, tx pg.TenantTx, u Unit, in NewServiceRecord, actor string, now time.Time) (ServiceRecord, error) {
	st, today, err := tx.Today(ctx, now)
	if err != nil {
		return ServiceRecord{}, err
	}
	v := &tenants.Validation{}
	if !slices.Contains(ServiceKinds, in.Kind) {
		v.AddMsg("kind", i18n.M("common.one_of", "Values", strings.Join(ServiceKinds, ", ")), in.Kind)
	}
	switch {
	case !isDate(in.OccurredOn):
		v.AddMsg("occurred_on", i18n.M("common.date_format"), in.OccurredOn)
	case in.OccurredOn > today:
		v.AddMsg("occurred_on", i18n.M("common.must_not_be_in_future_today", "Today", today), in.OccurredOn)
	case in.OccurredOn < u.PurchaseDate:
		v.AddMsg("occurred_on", i18n.M("customers.before_unit_purchase_date", "Date", u.PurchaseDate), in.OccurredOn)
	}
	if in.Basis != "" && !basisPattern.MatchString(in.Basis) {
		v.AddMsg("basis", i18n.M("common.snake_case_64"), in.Basis)
	}
	if len([]rune(in.FaultCause)) > 200 {
		v.AddMsg("fault_cause", i18n.M("common.max_length", "Max", 200), in.FaultCause)
	}
	if len(in.PartCategories) > 20 {
		v.AddMsg("part_categories", i18n.M("common.at_most", "Max", 20), len(in.PartCategories))
	}
	for i, c := range in.PartCategories {
		if !basisPattern.MatchString(c) {
			v.AddMsg(fmt.Sprintf("part_categories[%d]", i), i18n.M("common.snake_case_64"), c)
		}
	}
	if len(in.Reference) > 128 {
		v.AddMsg("reference", i18n.M("common.max_length", "Max", 128), in.Reference)
	}
	if len([]rune(in.Note)) > 2000 {
		v.AddMsg("note", i18n.M("common.max_length", "Max", 2000), len(in.Note))
	}
	var amount *int64
	var currency *string
	if in.Amount != nil {
		tenants.CheckMoney(v, "amount", *in.Amount, st.Currency)
		amount, currency = &in.Amount.Amount, &in.Amount.Currency
	}
	if err := v.Err(); err != nil {
		return ServiceRecord{}, err
	}
	fixed := true
	if in.Fixed != nil {
		fixed = *in.Fixed
	}
	parts := in.PartCategories
	if parts == nil {
		parts = []string{}
	}
	r, err := scanRecord(tx.QueryRow(ctx, `
		INSERT INTO service_records (tenant_id, id, unit_id, kind, occurred_on, basis, fault_cause, part_categories,
		       paid, fixed, amount, currency, reference, note, created_by)
		VALUES ($1, $2, $3, $4, $5::date, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		RETURNING `+recordColumns,
		tx.TenantID, tenants.NewID(tenants.PrefixServiceRecord), u.ID, in.Kind, in.OccurredOn, nullable(in.Basis),
		nullable(strings.TrimSpace(in.FaultCause)), parts, in.Paid, fixed, amount, currency, nullable(in.Reference),
		nullable(in.Note), actor))
	if err != nil {
		return ServiceRecord{}, err
	}
	return r, events.Append(ctx, tx, events.New{Type: TypeServiceRecorded, SubjectID: u.ID, Actor: actor,
		Data: map[string]any{"record_id": r.ID, "kind": r.Kind, "occurred_on": r.OccurredOn, "paid": r.Paid,
			"fixed": r.Fixed, "reference": r.Reference, "storefront_id": u.StorefrontID}})
}

// LoadHistory returns a unit's whole service history, newest first, inside
// the caller's tenant transaction. It applies no scope and does not check
// that the unit exists (an unknown unit has no history).
func LoadHistory(ctx context.Context, tx pg.TenantTx, unitID string) ([]ServiceRecord, error) {
	rows, err := tx.Query(ctx, historySQL, tx.TenantID, unitID)
	if err != nil {
		return nil, err
	}
	return collectHistory(rows)
}

// QueueLoadHistory queues LoadHistory's read on b, into out.
func QueueLoadHistory(b *pgx.Batch, tenantID, unitID string, out *[]ServiceRecord) {
	b.Queue(historySQL, tenantID, unitID).Query(func(rows pgx.Rows) error {
		var err error
		*out, err = collectHistory(rows)
		return err
	})
}

const historySQL = `SELECT ` + recordColumns + ` FROM service_records
	WHERE tenant_id = $1 AND unit_id = $2 ORDER BY occurred_on DESC, id DESC`

func collectHistory(rows pgx.Rows) ([]ServiceRecord, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ServiceRecord, error) { return scanRecord(r) })
}

// RecordServiceEvent records a service event for a unit in the principal's
// scope (see RecordService). Suspended storefronts' keys may not.
func (s *Service) RecordServiceEvent(ctx context.Context, p tenants.Principal, unitID string, in NewServiceRecord) (ServiceRecord, error) {
	now := s.now()
	var out ServiceRecord
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		u, err := getUnit(ctx, tx, ScopeOf(p), unitID, "FOR SHARE OF u")
		if err != nil {
			return err
		}
		if err := s.checkServedUnit(ctx, tx, p, u.ID); err != nil {
			return err
		}
		if err := CheckCanSell(ctx, tx, p); err != nil {
			return err
		}
		out, err = recordService(ctx, tx, u, in, p.Subject(), now)
		return err
	})
	return out, pg.Translate(err)
}

// ListHistory pages through the service history of a unit in the
// principal's scope, newest first (by occurred_on, then recording order).
func (s *Service) ListHistory(ctx context.Context, p tenants.Principal, unitID string, limit int, cursor string) ([]ServiceRecord, string, error) {
	limit = tenants.PageLimit(limit)
	var afterDate *string // nil: from the newest
	afterID := ""
	if cursor != "" {
		key, err := tenants.DecodeCursor("history", cursor)
		if err != nil {
			return nil, "", err
		}
		d, id, ok := strings.Cut(key, "|")
		if !ok || !isDate(d) {
			return nil, "", tenants.MalformedCursor(cursor)
		}
		afterDate, afterID = &d, id
	}
	var out []ServiceRecord
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		u, err := getUnit(ctx, tx, ScopeOf(p), unitID, "")
		if err != nil {
			return err
		}
		if err := s.checkServedUnit(ctx, tx, p, u.ID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+recordColumns+` FROM service_records
			WHERE tenant_id = $1 AND unit_id = $2 AND ($3::date IS NULL OR (occurred_on, id) < ($3::date, $4))
			ORDER BY occurred_on DESC, id DESC LIMIT $5`, tx.TenantID, u.ID, afterDate, afterID, limit+1)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ServiceRecord, error) { return scanRecord(r) })
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := tenants.NextPage("history", out, limit, func(r ServiceRecord) string { return r.OccurredOn + "|" + r.ID })
	return out, next, nil
}

// checkServedUnit answers not_found for a unit none of a technician's or
// node key's jobs serve (as GetUnit does); other principals pass.
func (s *Service) checkServedUnit(ctx context.Context, tx pg.TenantTx, p tenants.Principal, unitID string) error {
	served, err := s.served(ctx, tx, p)
	if err != nil {
		return err
	}
	if served != nil {
		if _, ok := served.Units[unitID]; !ok {
			return tenants.NotFound("unit")
		}
	}
	return nil
}
