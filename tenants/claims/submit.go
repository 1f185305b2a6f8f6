package claims

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// MaxLines bounds a claim's lines.
const MaxLines = 50

// ClaimSubmission is the part of a claim a submitter writes and may rewrite on
// resubmission.
type ClaimSubmission struct {
	Fault           ClaimFault     `json:"fault"`
	OccurredOn      string         `json:"occurred_on" format:"date" doc:"When the fault was repaired (or found), tenant's time zone: not in the future, not before the purchase. The claim is decided on that day; a claim naming a ticket, on the day its customer reported the repair when that is earlier (the day the ticket decided it on, its entitlement.on)." example:"2026-11-20"`
	TicketID        string         `json:"ticket_id,omitempty" maxLength:"64" doc:"The service ticket of the unit the claim is about; for a reimbursement, the ticket of the completed repair, served by the claim's node (another node's ticket is unknown to it; or give service_record_id). The repair its completion recorded in the unit's history is the claim's own: adjudication does not count it as an earlier repair." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	ServiceRecordID string         `json:"service_record_id,omitempty" maxLength:"64" doc:"The repair this claim is for, when the unit's service history records it: a repair of the claim's unit done on its occurred_on (else 422). A reimbursement names it or its ticket_id. A record a ticket's completion made is that ticket's repair: without ticket_id the claim takes the ticket (ticket_id is filled in) and is held to its rules, a reimbursement's at this field (another node's repair is unknown: 422), and with a ticket_id it must be that ticket's (else 422); a reimbursement for a repair no ticket made (recorded by hand) is flagged repair_not_verified for a person. Adjudication does not count it as an earlier repair of the unit (the repeat-repair and third-failure rules weigh the repairs before this one)." example:"svr_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	Note            string         `json:"note,omitempty" maxLength:"2000" doc:"Anything the reviewer should know." example:"附维修照片"`
	Lines           []NewClaimLine `json:"lines" minItems:"1" maxItems:"50" doc:"What is claimed, line by line."`
	Total           *tenants.Money `json:"total,omitempty"`
}

// NewClaim is a claim to file.
type NewClaim struct {
	Kind       Kind   `json:"kind" enum:"warranty,extended_warranty,accidental_damage,swap_for_repair,no_reason_repair,reimbursement" doc:"What the claim is paid under; reimbursement is a repair point asking the brand for in-warranty labor and parts." example:"extended_warranty"`
	UnitID     string `json:"unit_id" maxLength:"64" doc:"The unit; a storefront key may claim only for units its storefront sold." example:"unt_01jd3zq8w6v7t3y2k9x4n5m6ph"`
	ContractID string `json:"contract_id,omitempty" maxLength:"64" doc:"The contract the claim is under, for plan claims: one that covered the unit on occurred_on (on the unit now, or moved to a replacement unit by an exchange on or after that day); default: the one the entitlement engine picks." example:"ctr_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	NodeID     string `json:"node_id,omitempty" maxLength:"64" doc:"Reimbursement filed by the brand for a repair point: the node. A node-scoped key always files for its own node." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	Reference  string `json:"reference" minLength:"1" maxLength:"64" doc:"Your own reference; unique per submitter (storefront, node or the brand). Filing the same body again returns the claim; another body under a used reference is 409." example:"TM-CLM-000123"`
	// TestClockID puts the claim on a test clock (testclock.go).
	TestClockID string `json:"test_clock_id,omitempty" maxLength:"64" doc:"Test mode only: the test clock the claim lives on from its first instant. It is filed at the clock's time (created_at, review_due_at, decision_due_at follow from it), occurred_on is checked against the clock's today (a plan on the clock that starts on day 31 covers a repair on the clock's day 31), its later timestamps are the clock's, and its deadlines are checked when the clock advances (claim.deadline_missed). Without it, a claim naming a ticket or contract on a clock takes that clock. With a live key, a clock the key does not see, or a ticket or contract on another clock, 422 on body.test_clock_id." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	ClaimSubmission
}

// unitReads are the records a submission is checked against.
type unitReads struct {
	settings  pg.TenantSettings
	unit      customers.Unit
	contracts []warranty.Contract
	// movedAway are the contracts that left the unit for a replacement
	// unit (read with contracts, for a named contract only).
	movedAway []warranty.MovedContract
	// catalog are the parts the submission's lines name (queueParts);
	// parts are they matched against the unit's model (matchParts).
	catalog []catalog.Part
	parts   map[string]partRow
	// repair is the repair the service_record_id recorded of the unit
	// (nil: no repair of the unit).
	repair *customers.UnitRepair
	// ticket and ticketFound are the submission's ticket_id read against
	// the unit (sendUnitReads; nothing when it names none), or the ticket
	// whose completion made the repair its service_record_id names when it
	// names no ticket_id (ofRecord: then sendUnitReads fills ticket_id in).
	ticket      Ticket
	ticketFound bool
	ofRecord    bool
}

// partRow is a part named on a line, with whether it fits the unit's model.
type partRow struct {
	id, number, category string
	price                int64
	fits                 bool
}

// matchParts matches the catalog's parts against a unit's model.
func matchParts(parts []catalog.Part, modelID string) map[string]partRow {
	out := make(map[string]partRow, len(parts))
	for _, p := range parts {
		out[p.ID] = partRow{id: p.ID, number: p.PartNumber, category: p.Category, price: p.Price.Amount, fits: p.Fits(modelID)}
	}
	return out
}

// partIDs are the well-formed part IDs a submission's lines name.
func partIDs(in *ClaimSubmission) []string {
	var ids []string
	for _, l := range in.Lines {
		if l.PartID != "" && tenants.ValidID(tenants.PrefixPart, l.PartID) {
			ids = append(ids, l.PartID)
		}
	}
	return ids
}

// queueUnitReads queues, on b, the reads of the unit (the principal's scope
// applied, or none when p is nil: the claim is already the caller's), the
// parts the submission names and the day of the repair its service record
// names (if it is one of the unit's), into r; r.settings too. After b is
// sent, matchParts fills r.parts.
func queueUnitReads(b *pgx.Batch, tenantID string, p *tenants.Principal, unitID string, in *ClaimSubmission, r *unitReads) {
	pg.QueueSettings(b, &r.settings)
	if p != nil {
		customers.QueueLoadUnit(b, tenantID, *p, unitID, &r.unit)
	} else {
		customers.QueueLoadUnitSystem(b, tenantID, unitID, &r.unit)
	}
	catalog.QueueParts(b, tenantID, partIDs(in), &r.catalog)
	if in.ServiceRecordID != "" {
		customers.QueueUnitRepair(b, tenantID, in.ServiceRecordID, unitID, &r.repair)
	}
}

// sendUnitReads sends the reads queued on b (queueUnitReads and the
// caller's own) in one round trip, with the check of the ticket the
// submission names (TicketState, another context's read, into r) riding
// it: a claim with a ticket_id costs no round trip more than one without.
// A submission naming no ticket_id but a service record that a ticket's
// completion made is that ticket's repair: the ticket is read (by its
// number, a round trip more for such a submission only) and in.TicketID
// set to it, so the claim is checked, stored and adjudicated as one naming
// it (checkSubmission places its findings at service_record_id).
// The error is the first of b's callbacks, as SendBatch(b).Close() reports
// it, else the ticket read's.
func (s *Service) sendUnitReads(ctx context.Context, tx pg.TenantTx, b *pgx.Batch, unitID string, in *ClaimSubmission, r *unitReads) error {
	if in.TicketID == "" {
		if err := tx.SendBatch(ctx, b).Close(); err != nil || r.repair == nil || r.repair.TicketNumber == "" || r.repair.On != in.OccurredOn {
			return err
		}
		var err error
		if r.ticket, r.ticketFound, err = s.ticketByNumber(ctx, tx, r.repair.TicketNumber, unitID); err != nil || !r.ticketFound {
			return err
		}
		r.ofRecord, in.TicketID = true, r.ticket.ID
		return nil
	}
	bErr, err := pipelined(ctx, tx, b, func() error {
		var err error
		r.ticket, r.ticketFound, err = s.ticket(ctx, tx, in.TicketID, unitID)
		return err
	})
	if bErr != nil {
		return bErr
	}
	return err
}

// checkSubmission validates a submission against the unit and builds its
// stored lines; node is the claim's node (a reimbursement's). Locations
// are <field>.
func checkSubmission(kind Kind, node *string, in *ClaimSubmission, r unitReads, today string) ([]ClaimLine, error) {
	v := &tenants.Validation{}
	cur := r.settings.Currency
	if !slices.Contains(entitlement.Causes, entitlement.Cause(in.Fault.Cause)) {
		v.AddMsg("fault.cause", i18n.M("common.fault_cause"), in.Fault.Cause)
	}
	if len(in.Fault.Description) > 2000 {
		v.AddMsg("fault.description", i18n.M("common.max_length", "Max", 2000), len(in.Fault.Description))
	}
	switch {
	case !isDate(in.OccurredOn):
		v.AddMsg("occurred_on", i18n.M("common.date_format"), in.OccurredOn)
	case in.OccurredOn > today:
		v.AddMsg("occurred_on", i18n.M("common.must_not_be_in_future_today", "Today", today), in.OccurredOn)
	case in.OccurredOn < r.unit.PurchaseDate:
		v.AddMsg("occurred_on", i18n.M("common.before_purchase_date", "Date", r.unit.PurchaseDate), in.OccurredOn)
	}
	if len(in.Lines) == 0 || len(in.Lines) > MaxLines {
		v.AddMsg("lines", i18n.M("common.line_count", "Max", MaxLines, "Min", 1), len(in.Lines))
	}
	parts := r.parts
	lines := make([]ClaimLine, len(in.Lines))
	var sum int64
	for i, l := range in.Lines {
		at := "lines[" + strconv.Itoa(i) + "]"
		q := l.Quantity
		if q == 0 {
			q = 1
		}
		if q < 1 || q > 100 {
			v.AddMsg(at+".quantity", i18n.M("common.range", "Min", 1, "Max", 100), l.Quantity)
		}
		tenants.CheckMoney(v, at+".requested", l.Requested, cur)
		sum += l.Requested.Amount
		line := ClaimLine{Kind: l.Kind, PartID: l.PartID, Quantity: q, Description: l.Description, Requested: l.Requested, Decision: DecisionPending}
		switch l.Kind {
		case LinePart:
			p, ok := parts[l.PartID]
			switch {
			case l.PartID == "":
				v.AddMsg(at+".part_id", i18n.M("claims.part_line_needs_part"), nil)
			case !ok:
				v.AddMsg(at+".part_id", i18n.M("common.no_such_part"), l.PartID)
			case !p.fits:
				v.AddMsg(at+".part_id", i18n.M("common.part_does_not_fit_model", "Part", p.number, "Model", r.unit.Model.ModelNumber), l.PartID)
			default:
				line.PartNumber = p.number
				if line.Description == "" {
					line.Description = p.number
				}
			}
		case LineLabor, LineVisit, LineOther:
			if l.PartID != "" {
				v.AddMsg(at+".part_id", i18n.M("claims.only_part_lines_name_part"), l.PartID)
			}
		default:
			v.AddMsg(at+".kind", i18n.M("common.charge_kind"), l.Kind)
		}
		lines[i] = line
	}
	if in.Total != nil {
		tenants.CheckMoney(v, "total", *in.Total, cur)
		if in.Total.Amount != sum {
			v.AddMsg("total", i18n.M("claims.total_mismatch", "Sum", sum), in.Total.Amount)
		}
	}
	if sum > tenants.MaxMoneyAmount {
		v.AddMsg("lines", i18n.M("claims.lines_exceed_max"), sum)
	}
	if in.TicketID != "" {
		// The ticket must be one of the tenant's service tickets for the
		// unit (read by sendUnitReads); a reimbursement needs its repair
		// completed, by the node the claim pays: another node's repair is
		// unknown to it, as another unit's ticket is. A ticket the service
		// record's repair names (ofRecord) is held to the same, its
		// findings at service_record_id: another node's is no repair of
		// the unit for it.
		at, unknown, value := "ticket_id", i18n.M("claims.no_such_ticket"), in.TicketID
		if r.ofRecord {
			at, unknown, value = "service_record_id", i18n.M("claims.no_such_repair"), in.ServiceRecordID
		}
		switch state := r.ticket.State; {
		case !r.ticketFound, kind == KindReimbursement && (node == nil || *node != r.ticket.NodeID):
			v.AddMsg(at, unknown, value)
		case kind == KindReimbursement && state != "completed" && state != "closed":
			v.AddMsg(at, i18n.M("claims.repair_not_completed", "State", state), value)
		}
	}
	// The repair a claim is for, when the unit's history records it: a
	// repair of the unit on the claim's day. Adjudication does not count it
	// as an earlier repair (engineInput), so it may not name another one.
	switch {
	case in.ServiceRecordID == "":
		if kind == KindReimbursement && in.TicketID == "" {
			v.AddMsg("ticket_id", i18n.M("claims.reimbursement_needs_ticket"), nil)
		}
	case !tenants.ValidID(tenants.PrefixServiceRecord, in.ServiceRecordID):
		v.AddMsg("service_record_id", i18n.M("claims.not_service_record"), in.ServiceRecordID)
	case r.repair == nil:
		v.AddMsg("service_record_id", i18n.M("claims.no_such_repair"), in.ServiceRecordID)
	case r.repair.On != in.OccurredOn:
		v.AddMsg("service_record_id", i18n.M("claims.repair_of_another_day", "Day", r.repair.On), in.ServiceRecordID)
	case !r.ofRecord && r.ticketFound && r.repair.TicketNumber != "" && r.repair.TicketNumber != r.ticket.Number:
		// Both named: the record is another ticket's repair (adjudication
		// would leave that repair out of the history the rules weigh).
		v.AddMsg("service_record_id", i18n.M("claims.repair_of_another_ticket", "Ticket", r.repair.TicketNumber), in.ServiceRecordID)
	}
	return lines, v.Err()
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// requestHash identifies a submission's body for idempotent re-filing.
func requestHash(in NewClaim) string {
	b, _ := json.Marshal(in)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// SubmitClaim files a claim, submitted: the adjudication sweep takes it
// from there (AwaitingAdjudication, Adjudicate). The submitter is the key's
// storefront, the key's node, or the brand. Filing the same body under a
// reference the submitter already used returns that claim with created
// false (nothing changes); another body under it is a conflict naming
// reference. A storefront key files
// only for units its storefront sold (any other is not found) and no
// reimbursement; a node-scoped key files only reimbursement claims, for its
// own node. Bad input is invalid naming the field: lines that do not add up
// to total (total), parts that do not fit the unit's model
// (lines[i].part_id), a reimbursement without ticket_id or
// service_record_id (ticket_id).
func (s *Service) SubmitClaim(ctx context.Context, p tenants.Principal, in NewClaim) (out Claim, created bool, err error) {
	hash := requestHash(in)
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		cs := customers.ScopeOf(p)
		var storefront, node *string
		var brandNode string // a brand's reimbursement: the node to check
		submitter := "brand"
		switch {
		case !cs.Whole():
			storefront, submitter = &cs.StorefrontID, cs.StorefrontID
		case p.NodeID != "":
			node, submitter = &p.NodeID, p.NodeID
		case in.Kind == KindReimbursement && in.NodeID != "":
			brandNode, node = in.NodeID, &in.NodeID
		}

		// One round trip for every read: a storefront key's storefront
		// (CheckCanSell), a lock on the submitter's reference (a concurrent
		// filing of the same reference waits here for the other transaction
		// and then finds its claim, so the insert below cannot collide) with
		// the transaction's time (the claim's created_at), the claim filed
		// before with that reference (a retry, or a reuse), the node a
		// brand's reimbursement names, the unit with what the checks need,
		// and the ticket the claim names (sendUnitReads). The storefront is
		// answered first, then the reference, as if each were read alone.
		var (
			canSell                  error
			existingID, existingHash string
			nodeFound                bool
			txNow                    time.Time
			r                        unitReads
			pol                      ClaimPolicy
			b                        = &pgx.Batch{}
			unitValid                = tenants.ValidID(tenants.PrefixUnit, in.UnitID)
		)
		customers.QueueCheckCanSell(b, tx.TenantID, p, &canSell)
		b.Queue(`SELECT now() FROM pg_advisory_xact_lock(hashtextextended($1, 0))`,
			"claims.reference:"+tx.TenantID+":"+submitter+":"+in.Reference).QueryRow(func(row pgx.Row) error {
			return row.Scan(&txNow)
		})
		b.Queue(`SELECT id, request_hash FROM claims WHERE tenant_id = $1 AND submitter = $2 AND reference = $3`,
			tx.TenantID, submitter, in.Reference).QueryRow(func(row pgx.Row) error {
			if err := row.Scan(&existingID, &existingHash); err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			return nil
		})
		if brandNode != "" {
			network.QueueNodeExists(b, tx.TenantID, brandNode, &nodeFound)
		}
		queuePolicy(b, tx.TenantID, &pol) // the deadlines' durations
		if unitValid {
			queueUnitReads(b, tx.TenantID, &p, in.UnitID, &in.ClaimSubmission, &r)
			if in.ContractID != "" { // only a named contract is checked (namedContract)
				warranty.QueueUnitContracts(b, tx.TenantID, in.UnitID, &r.contracts)
				warranty.QueueContractsMovedAway(b, tx.TenantID, in.UnitID, &r.movedAway)
			}
		}
		var err error
		if unitValid {
			err = s.sendUnitReads(ctx, tx, b, in.UnitID, &in.ClaimSubmission, &r)
		} else {
			err = tx.SendBatch(ctx, b).Close()
		}
		if canSell != nil {
			return canSell
		}
		switch {
		case existingID == "":
		case existingHash == hash:
			out, err = getClaim(ctx, tx, scope{}, existingID, "")
			return err
		default:
			return reused(existingID, in.Reference)
		}
		if err != nil {
			return err
		}
		v := checkSubmitter(p, in, nodeFound)
		if !unitValid {
			return tenants.NotFound("unit")
		}
		r.parts = matchParts(r.catalog, r.unit.ModelID)
		var contract *string
		if in.ContractID != "" {
			ct, found := namedContract(r, in.ContractID, in.OccurredOn)
			switch {
			case !found:
				v.AddMsg("contract_id", i18n.M("claims.no_such_contract"), in.ContractID)
			case in.Kind != KindWarranty && in.Kind != KindReimbursement && string(ct.Plan.Kind) != string(in.Kind):
				v.AddMsg("contract_id", i18n.M("claims.contract_kind_mismatch", "Contract", string(ct.Plan.Kind), "Kind", string(in.Kind)), in.ContractID)
			default:
				contract = &in.ContractID
			}
		}
		// The claim's time: its test clock's, else the wall clock's (the
		// transaction's, for its filing).
		clock, at, err := s.submissionClock(ctx, tx, p, v, in, contract, r, s.now())
		if err != nil {
			return err
		}
		filed := txNow
		if clock != nil {
			filed = at
		}
		lines, err := checkSubmission(in.Kind, node, &in.ClaimSubmission, r, r.settings.Today(at))
		if err != nil {
			var te *tenants.Error
			if !errors.As(err, &te) {
				return err
			}
			for _, f := range te.Fields {
				v.AddField(f)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}

		// The writes ride the transaction's next round trip (a request's
		// COMMIT): the claim (its reference is locked and free), its
		// version, the history row and the event. Submitted, the claim
		// awaits adjudication (AwaitingAdjudication): no job is written. The
		// claim answered is the one written, not read back: its revision is
		// the first, created_at and updated_at its filing time (the
		// transaction's, or its clock's).
		out = Claim{ID: tenants.NewID(tenants.PrefixClaim), Kind: in.Kind, UnitID: in.UnitID, ContractID: contract,
			StorefrontID: storefront, NodeID: node, Reference: in.Reference, State: StateSubmitted, Version: 1,
			Fault: in.Fault, OccurredOn: in.OccurredOn, TicketID: nullable(in.TicketID),
			ServiceRecordID: nullable(in.ServiceRecordID), Note: nullable(in.Note), Lines: lines,
			Revision: 1, TestClockID: clock, CreatedAt: filed, UpdatedAt: filed}
		out.ReviewDueAt, out.DecisionDueAt = pol.deadlines(filed)
		reason := "submitted"
		out.StateReason = &reason
		out.Fault.PartCategories = partCategories(in.Fault)
		b = &pgx.Batch{}
		queueInsertClaim(b, tx.TenantID, out, submitter, hash, in.ClaimSubmission, r.settings.Currency, p.Subject())
		c := Claim{ID: out.ID, Kind: in.Kind, UnitID: in.UnitID, StorefrontID: storefront, NodeID: node, Reference: in.Reference, Version: 1}
		if err := events.QueueTx(b, tx, transitionEvent(c, StateSubmitted, "submitted", p.Subject(), TypeSubmitted, nil)); err != nil {
			return err
		}
		var total int64
		for _, l := range lines {
			total += l.Requested.Amount
		}
		finish(&out, r.settings.Currency, total)
		if err := tx.Defer(ctx, b); err != nil {
			return err
		}
		created = true
		return nil
	})
	return out, created, pg.Translate(err)
}

// namedContract is the contract id a claim names, when it covered the unit
// on the repair's day (occurredOn): one on the unit now, or one that left it
// for a replacement unit (an exchange the brand owed) on or after that day,
// as the adjudication counts it (engineInput). One that left before the
// repair was on the other unit then; another unit's, or another tenant's,
// is not found. An occurredOn that is not a date is refused at its own
// field, not here.
func namedContract(r unitReads, id, occurredOn string) (warranty.Contract, bool) {
	if i := slices.IndexFunc(r.contracts, func(c warranty.Contract) bool { return c.ID == id }); i >= 0 {
		return r.contracts[i], true
	}
	for _, m := range r.movedAway {
		if m.ID == id && (!isDate(occurredOn) || m.CoveredOn(occurredOn, r.settings.Location)) {
			return m.Contract, true
		}
	}
	return warranty.Contract{}, false
}

// checkSubmitter checks what the submitter may file (kind, node_id) and
// the reference; nodeFound is whether a brand's reimbursement names one of
// the tenant's nodes.
func checkSubmitter(p tenants.Principal, in NewClaim, nodeFound bool) *tenants.Validation {
	v := &tenants.Validation{}
	switch {
	case !customers.ScopeOf(p).Whole():
		if in.Kind == KindReimbursement {
			v.AddMsg("kind", i18n.M("claims.storefront_kinds"), in.Kind)
		}
		if in.NodeID != "" {
			v.AddMsg("node_id", i18n.M("claims.storefront_key_own_storefront"), in.NodeID)
		}
	case p.NodeID != "":
		if in.Kind != KindReimbursement {
			v.AddMsg("kind", i18n.M("claims.node_key_reimbursement_only"), in.Kind)
		}
		if in.NodeID != "" && in.NodeID != p.NodeID {
			v.AddMsg("node_id", i18n.M("claims.node_key_own_node"), in.NodeID)
		}
	case in.Kind == KindReimbursement:
		if in.NodeID == "" {
			v.AddMsg("node_id", i18n.M("claims.brand_reimbursement_needs_node"), nil)
		} else if !nodeFound {
			v.AddMsg("node_id", i18n.M("common.no_such_node"), in.NodeID)
		}
	case in.NodeID != "":
		v.AddMsg("node_id", i18n.M("claims.only_reimbursement_names_node"), in.NodeID)
	}
	if !slices.Contains(Kinds, in.Kind) {
		v.AddMsg("kind", i18n.M("common.one_of", "Values", "warranty, extended_warranty, accidental_damage, swap_for_repair, no_reason_repair, reimbursement"), in.Kind)
	}
	if n := len(strings.TrimSpace(in.Reference)); n < 1 || len(in.Reference) > 64 {
		v.AddMsg("reference", i18n.M("common.length", "Min", 1, "Max", 64), in.Reference)
	}
	return v
}

// queueInsertClaim queues on b, as one statement, the insert of claim c
// with its first version and its history row (submitted), all stamped
// c.CreatedAt (the transaction's time, or its clock's); the database sets
// revision 1. Its event is the caller's to queue.
func queueInsertClaim(b *pgx.Batch, tenantID string, c Claim, submitter, hash string, in ClaimSubmission, currency, actor string) {
	var total int64
	for _, l := range c.Lines {
		total += l.Requested.Amount
	}
	b.Queue(`WITH c AS (
			INSERT INTO claims (tenant_id, id, kind, unit_id, contract_id, storefront_id, node_id, submitter,
				reference, request_hash, state, state_reason, fault_cause, occurred_on, currency, created_by,
				review_due_at, decision_due_at, deadline_check_at, test_clock_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'submitted', 'submitted', $11, $12::date, $13, $14,
				$22, $23, $22, $24, $25, $25)),
		v AS (
			INSERT INTO claim_versions (tenant_id, claim_id, version, fault_cause, fault_part_categories,
				fault_description, occurred_on, ticket_id, service_record_id, lines, total_requested, currency, note, submitted_by,
				submitted_at)
			VALUES ($1, $2, 1, $11, $15, $16, $12::date, $17, $18, $19, $20, $13, $21, $14, $25))
		INSERT INTO claim_state_changes (tenant_id, claim_id, version, from_state, to_state, reason, actor, changed_at)
		VALUES ($1, $2, 1, NULL, 'submitted', 'submitted', $14, $25)`,
		tenantID, c.ID, c.Kind, c.UnitID, c.ContractID, c.StorefrontID, c.NodeID, submitter, c.Reference, hash,
		in.Fault.Cause, in.OccurredOn, currency, actor,
		partCategories(in.Fault), nullable(in.Fault.Description), nullable(in.TicketID), nullable(in.ServiceRecordID),
		c.Lines, total, nullable(in.Note), c.ReviewDueAt, c.DecisionDueAt, c.TestClockID, c.CreatedAt)
}

// reused is the conflict of a reference filed before with another body.
func reused(id, reference string) error {
	e := tenants.ErrorMsg(tenants.CodeConflict, i18n.M("claims.reference_conflict", "Claim", id)).With(
		tenants.FieldMsg("reference", i18n.M("claims.reference_used", "Claim", id), reference))
	e.ExistingID = id
	return e
}

// queueInsertVersion queues on b the insert of version version of claim id,
// submitted at at (nil: the transaction's time).
func queueInsertVersion(b *pgx.Batch, tenantID, id string, version int, in ClaimSubmission, lines []ClaimLine, currency, actor string, at *time.Time) {
	var total int64
	for _, l := range lines {
		total += l.Requested.Amount
	}
	cats := partCategories(in.Fault)
	b.Queue(`INSERT INTO claim_versions (tenant_id, claim_id, version, fault_cause, fault_part_categories,
		fault_description, occurred_on, ticket_id, service_record_id, lines, total_requested, currency, note, submitted_by, submitted_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8, $9, $10, $11, $12, $13, $14, `+nowSQL("$15")+`)`,
		tenantID, id, version, in.Fault.Cause, cats, nullable(in.Fault.Description), in.OccurredOn,
		nullable(in.TicketID), nullable(in.ServiceRecordID), lines, total, currency, nullable(in.Note), actor, at)
}

// partCategories are f's part categories as stored: never null.
func partCategories(f ClaimFault) []string {
	if f.PartCategories == nil {
		return []string{}
	}
	return f.PartCategories
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ResubmitClaim answers a request for information with a new version of
// the claim (version N+1; earlier versions stay readable), submitted again
// for adjudication (AwaitingAdjudication). Only a needs_info claim may be
// resubmitted (conflict naming the state otherwise); the new submission is
// checked as a new claim's is.
//
// Round trips: the claim's lock; the reads (a storefront key's storefront,
// the unit, the parts, the ticket named); the writes and the claim read
// back together.
func (s *Service) ResubmitClaim(ctx context.Context, p tenants.Principal, id string, in ClaimSubmission, ifRevision int) (Claim, error) {
	var out Claim
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		c, err := machine.Lock(ctx, tx, p, id, ifRevision, ActionResubmit)
		if err != nil {
			return err
		}
		if err := onClock(ctx, tx, &c); err != nil {
			return err
		}
		var (
			canSell error
			r       unitReads
			b       = &pgx.Batch{}
		)
		customers.QueueCheckCanSell(b, tx.TenantID, p, &canSell)
		queueUnitReads(b, tx.TenantID, nil, c.UnitID, &in, &r) // the claim is in scope: its unit is read as the system
		err = s.sendUnitReads(ctx, tx, b, c.UnitID, &in, &r)
		if canSell != nil {
			return canSell
		}
		if err != nil {
			return err
		}
		r.parts = matchParts(r.catalog, r.unit.ModelID)
		lines, err := checkSubmission(c.Kind, c.NodeID, &in, r, r.settings.Today(c.timeOr(s.now())))
		if err != nil {
			return err
		}
		next := c.Version + 1
		b = &pgx.Batch{}
		queueInsertVersion(b, tx.TenantID, c.ID, next, in, lines, r.settings.Currency, p.Subject(), c.now)
		b.Queue(`UPDATE claims SET current_version = $3, fault_cause = $4, occurred_on = $5::date,
			flags = '[]', reasons = '{}', decision = NULL WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, c.ID, next, in.Fault.Cause, in.OccurredOn)
		c.Version = next
		if err := queueTransition(b, tx, c, StateSubmitted, "resubmitted as version "+strconv.Itoa(next), p.Subject(), TypeSubmitted, nil); err != nil {
			return err
		}
		queueGetClaim(b, tx.TenantID, scope{}, c.ID, &out)
		return tx.SendBatch(ctx, b).Close()
	})
	return out, pg.Translate(err)
}
