package claims

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// Adjudicate runs the adjudication of a claim's version, in one
// transaction: submitted → under_review, the entitlement engine on the
// unit, fault and date with the claim's lines as the quote (per-line
// calculated amounts: what the brand or plan owes, and on a claim for a
// ticket's repair what the centre's reductions the ticket's completion
// applied moved to the brand: calculate), the checks (duplicate
// claim for the same unit and fault cause within the policy's window,
// purchase date after the unit's registration, the serial registered to
// another model too, parts that do not fit the
// model, parts above the markup cap), then an automatic decision: approved
// (approved = calculated) when nothing is flagged and the calculated total
// is within the policy's limit; rejected when the customer pays everything;
// else left under_review with the reasons. It is idempotent: a version that
// is no longer current, or a claim no longer submitted, is left alone.
// An unknown claim is not_found.
func (s *Service) Adjudicate(ctx context.Context, tenantID, claimID string, version int) error {
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		c, err := getClaim(ctx, tx, scope{}, claimID, "FOR UPDATE OF c")
		if err != nil {
			return err
		}
		if c.Version != version || c.State != StateSubmitted {
			return nil // already adjudicated, resubmitted since, or withdrawn
		}
		if err := onClock(ctx, tx, &c); err != nil {
			return err
		}
		// One round trip for every read the adjudication rests on, and one
		// for its writes, the move to under_review first (queueAdjudicated).
		a, err := readAdjudication(ctx, tx, &pgx.Batch{}, c, s.ticket)
		if err != nil {
			return err
		}
		return s.adjudicate(ctx, tx, c, a)
	})
	return pg.Translate(err)
}

// adjudication is what adjudicating a claim's version rests on: the unit's
// records, the tenant's policy, the parts the lines name (matched against
// the unit's model) with their price-list prices on the fault's date,
// whether the unit's serial is registered to another model too, and the
// other live claims for the same unit and fault cause within the window.
type adjudication struct {
	records         warranty.UnitRecords
	policy          ClaimPolicy
	parts           map[string]partRow
	listPrices      map[string]int64
	rates           catalog.RepairRates
	serialElsewhere bool
	duplicates      []duplicate
	// ticket is the claim's ticket (zero: none); ticketParts its
	// requisition lines by part (what it fitted and took back), read for a
	// claim with a ticket only.
	ticket      Ticket
	ticketParts map[string]stock.TicketPart
}

// duplicate is another live claim for the same unit and fault cause, or
// for the same repair (sameRepair: it names the claim's ticket or service
// record).
type duplicate struct {
	id, on     string
	sameRepair bool
}

// adjudicate decides c (still submitted) on a and writes the outcome.
func (s *Service) adjudicate(ctx context.Context, tx pg.TenantTx, c Claim, a adjudication) error {
	flags := a.unitFlags(c)
	quote, partFlags := a.quote(c)
	flags = append(flags, partFlags...)
	in := engineInput(a.records, c, a.ticket, quote)
	// A no-reason plan's compensation is due on the tenant's working-day
	// calendar, the one its payout is due on (one read, for such units only).
	if err := warranty.WithWorkingDays(ctx, tx, &in); err != nil {
		return err
	}
	d, err := entitlement.Decide(in)
	if err != nil {
		var te *tenants.Error
		if !errors.As(err, &te) {
			return err
		}
		return settle(ctx, tx, c, flags, []string{"the entitlement engine cannot decide: " + te.Error()}, nil)
	}
	repair := d.Remedy == entitlement.RemedyRepair && len(d.Lines) == len(c.Lines)
	if !repair && d.Remedy != entitlement.RemedyNone {
		flags = append(flags, ClaimFlag{Code: "not_repair",
			Detail: "the engine selects " + string(d.Remedy) + " under " + string(d.Basis) + ", not a repair: a person decides"})
	}
	total := calculate(&c, d, repair, quote, a.ticket.Reduced, a.records.Settings.Currency)
	c.Decision = &ClaimDecision{Basis: d.Basis, ContractID: d.ContractID, Remedy: d.Remedy, Compensation: d.Compensation}
	pol := a.policy
	switch {
	case total == 0 && (repair || d.Remedy == entitlement.RemedyNone):
		return s.autoReject(ctx, tx, c, d, flags)
	case len(flags) == 0 && total <= pol.AutoApproveLimit.Amount:
		return s.autoApprove(ctx, tx, c, a.records.Settings, fmt.Sprintf("auto-approved: %s, nothing flagged, %d within the limit of %d",
			d.Basis, total, pol.AutoApproveLimit.Amount))
	}
	var reasons []string
	if total > pol.AutoApproveLimit.Amount {
		reasons = append(reasons, fmt.Sprintf("the calculated total %d is above the auto-approval limit %d", total, pol.AutoApproveLimit.Amount))
	}
	return settle(ctx, tx, c, flags, reasons, c.Decision)
}

// readAdjudication reads what adjudicating c rests on, after the
// statements on b and in the same round trip: the unit's records, its
// serial's other models, the parts and their prices, the policy, the
// duplicates within the policy's window and, for a claim with a ticket,
// the ticket's number and what the centre's reductions its completion
// applied moved to the brand (ticket, another context's read, riding the
// round trip): the repair its completion recorded is the claim's own.
func readAdjudication(ctx context.Context, tx pg.TenantTx, b *pgx.Batch, c Claim, ticket TicketState) (adjudication, error) {
	var (
		a   adjudication
		ids []string
		cat []catalog.Part
	)
	for _, l := range c.Lines {
		if l.Kind == LinePart && l.PartID != "" {
			ids = append(ids, l.PartID)
		}
	}
	warranty.QueueUnitRecordsSystem(b, tx.TenantID, c.UnitID, &a.records)
	customers.QueueSerialElsewhere(b, tx.TenantID, c.UnitID, &a.serialElsewhere)
	catalog.QueueParts(b, tx.TenantID, ids, &cat)
	catalog.QueuePartListPrices(b, tx.TenantID, c.OccurredOn, ids, &a.listPrices)
	catalog.QueueRepairRates(b, tx.TenantID, c.UnitID, c.OccurredOn, &a.rates)
	queuePolicy(b, tx.TenantID, &a.policy)
	queueDuplicates(b, tx.TenantID, c, &a.duplicates)
	if c.TicketID != nil {
		stock.QueueTicketParts(b, tx.TenantID, *c.TicketID, &a.ticketParts)
	}
	bErr, err := pipelined(ctx, tx, b, func() error {
		if c.TicketID == nil {
			return nil
		}
		var err error
		a.ticket, _, err = ticket(ctx, tx, *c.TicketID, c.UnitID)
		return err
	})
	if bErr != nil {
		return a, bErr
	}
	if err != nil {
		return a, err
	}
	a.parts = matchParts(cat, a.records.Unit.ModelID)
	a.policy = a.policy.withCurrency(a.records.Settings.Currency)
	return a, nil
}

// queueDuplicates queues on b the read of the other live claims (not
// rejected or withdrawn) for c's unit that are for the same repair (their
// current version names c's ticket or service record, whatever the fault
// cause and day), or for the same fault cause occurred within the policy's
// duplicate window of c (the default while the tenant has set none), at
// most five, into out.
func queueDuplicates(b *pgx.Batch, tenantID string, c Claim, out *[]duplicate) {
	*out = nil
	b.Queue(`WITH w AS (SELECT coalesce((SELECT duplicate_window_days FROM claim_policies WHERE tenant_id = $1), $6::int) AS days)
		SELECT c.id, to_char(c.occurred_on, 'YYYY-MM-DD'), (v.ticket_id = $7 OR v.service_record_id = $8) IS TRUE
		FROM claims c JOIN claim_versions v ON v.tenant_id = c.tenant_id AND v.claim_id = c.id AND v.version = c.current_version, w
		WHERE c.tenant_id = $1 AND c.unit_id = $2 AND c.id <> $4 AND c.state NOT IN ('rejected', 'withdrawn')
		  AND ((c.fault_cause = $3 AND c.occurred_on BETWEEN $5::date - w.days AND $5::date + w.days)
		    OR v.ticket_id = $7 OR v.service_record_id = $8)
		ORDER BY c.id LIMIT 5`, tenantID, c.UnitID, c.Fault.Cause, c.ID, c.OccurredOn, DefaultDuplicateWindowDays,
		c.TicketID, c.ServiceRecordID).
		Query(func(rows pgx.Rows) error {
			var err error
			*out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (duplicate, error) {
				var d duplicate
				err := r.Scan(&d.id, &d.on, &d.sameRepair)
				return d, err
			})
			return err
		})
}

// unitFlags are the findings about the claim as a whole: duplicates, a
// reimbursement for a repair no ticket made (repair_not_verified), a
// purchase date after the unit's registration, the serial registered to
// another model too, a repair after the unit was swapped or returned.
func (a adjudication) unitFlags(c Claim) []ClaimFlag {
	var flags []ClaimFlag
	for _, d := range a.duplicates {
		detail := fmt.Sprintf("claim %s for the same unit and fault cause (%s) on %s, within %d days",
			d.id, c.Fault.Cause, d.on, a.policy.DuplicateWindowDays)
		if d.sameRepair {
			detail = fmt.Sprintf("claim %s for the same repair (its ticket or service record) on %s", d.id, d.on)
		}
		flags = append(flags, ClaimFlag{Code: "duplicate", Detail: detail})
	}
	if c.Kind == KindReimbursement && c.TicketID == nil && c.ServiceRecordID != nil {
		// A repair no ticket's completion recorded (legacy history, by
		// hand): the node's repair and its parts cannot be checked.
		flags = append(flags, ClaimFlag{Code: "repair_not_verified", Detail: "service record " + *c.ServiceRecordID +
			" was made by no ticket: nothing shows that the claim's node did the repair or which parts it fitted"})
	}
	u := a.records.Unit
	if registered := u.CreatedAt.In(a.records.Settings.Location).Format(time.DateOnly); u.PurchaseDate > registered {
		flags = append(flags, ClaimFlag{Code: "purchase_after_registration",
			Detail: "the unit's purchase date " + u.PurchaseDate + " is after its registration on " + registered})
	}
	if a.serialElsewhere {
		flags = append(flags, ClaimFlag{Code: "serial_model_mismatch",
			Detail: "serial " + u.Serial + " is also registered to another model than " + a.records.Model.ModelNumber})
	}
	if u.Status != "active" {
		// A unit swapped or returned left the customer on the day its
		// history records it (a return), else on its last change (a swap
		// marks it replaced): a repair after that day is on a unit no
		// longer in service; before it, the claim stands as any other.
		left := u.UpdatedAt.In(a.records.Settings.Location).Format(time.DateOnly)
		for _, h := range a.records.History { // newest first
			if h.Kind == "swap" || h.Kind == "return" {
				left = h.OccurredOn
				break
			}
		}
		if c.OccurredOn > left {
			flags = append(flags, ClaimFlag{Code: "unit_not_in_service",
				Detail: "the unit is " + u.Status + " since " + left + ", before the repair on " + c.OccurredOn})
		}
	}
	return flags
}

// quote prices c's lines for the engine, as requested except that a part
// line asks at most its price-list price (else the part's own) times the
// quantity plus the policy's markup cap, and the labor lines together at
// most the price list's repair labor rate of the model's category on the
// repair's date, the visit lines together at most its visit fee: a claim
// is for one repair, and a job's quote prices one labor and at most one
// visit whatever the lines' quantities (a line past the rate asks what the
// lines before it left, maybe nothing). It flags, by line, parts that no
// longer exist or do not fit the model, parts asked above the cap, labor
// or visit asked above the price list (above_price_list), and a line of
// kind other asking anything (unpriced_line: the price list prices no
// such charge, a person decides whether it is owed). On a claim for a ticket's
// repair, a part line asks only for parts the ticket fitted (its
// requisition's used): those it did not are flagged (part_not_fitted) and
// owed nothing, the line's amount counting the fitted ones only; fitted
// parts whose replaced part the ticket did not take back for the brand
// (defective_returned) are flagged (part_not_returned), for a person to
// decide.
func (a adjudication) quote(c Claim) (entitlement.Quote, []ClaimFlag) {
	var flags []ClaimFlag
	flag := func(code string, line int, detail string) {
		flags = append(flags, ClaimFlag{Code: code, Line: &line, Detail: detail})
	}
	cur, capPct := a.records.Settings.Currency, a.policy.PartsMarkupCapPercent
	q := entitlement.Quote{Lines: make([]entitlement.QuoteLine, len(c.Lines))}
	asked := map[string]int{}  // a part's quantity on the lines so far
	paid := map[string]int64{} // a kind's amount on the lines so far, as capped
	for i, l := range c.Lines {
		amount := l.Requested.Amount
		ql := entitlement.QuoteLine{Kind: l.Kind, Description: l.Description}
		if l.Kind == LinePart {
			p, ok := a.parts[l.PartID]
			switch {
			case !ok:
				flag("part_incompatible", i, "part "+l.PartID+" no longer exists")
			case !p.fits:
				flag("part_incompatible", i, "part "+p.number+" does not fit model "+a.records.Model.ModelNumber)
			}
			ql.Code, ql.PartCategory = p.number, p.category
			list, listed := a.listPrices[l.PartID]
			if !listed {
				list = p.price
			}
			capped := (list*int64(l.Quantity)*int64(100+capPct) + 50) / 100
			if ok && amount > capped {
				flag("markup_above_cap", i, fmt.Sprintf("part %s asks %d for %d, above the price list's %d each plus %d%% (at most %d)",
					p.number, amount, l.Quantity, list, capPct, capped))
				amount = capped
			}
			if c.TicketID != nil && l.Quantity > 0 {
				tp := a.ticketParts[l.PartID]
				before := asked[l.PartID]
				asked[l.PartID] += l.Quantity
				fitted := min(max(tp.Used-before, 0), l.Quantity) // of this line's
				if fitted < l.Quantity {
					flag("part_not_fitted", i, fmt.Sprintf("the claim asks for %d of part %s, ticket %s fitted %d in all",
						asked[l.PartID], p.number, *c.TicketID, tp.Used))
					amount = amount * int64(fitted) / int64(l.Quantity)
				}
				if fitted > 0 && min(asked[l.PartID], tp.Used) > tp.DefectiveReturned {
					flag("part_not_returned", i, fmt.Sprintf("ticket %s took back %d replaced part %s for the brand, the claim asks for %d",
						*c.TicketID, tp.DefectiveReturned, p.number, min(asked[l.PartID], tp.Used)))
				}
			}
		}
		if list, ok := a.listed(l.Kind); ok && amount > list-paid[l.Kind] {
			// One repair's labor and visit, as a job's quote prices them
			// (one labor line, at most one visit): what the claim's lines
			// of the kind ask together, whatever their quantity.
			left := max(list-paid[l.Kind], 0)
			flag("above_price_list", i, fmt.Sprintf("%s asks %d (quantity %d), above the price list's %d for one %s repair on %s (%d left after the claim's lines before)",
				l.Kind, amount, l.Quantity, list, a.records.Model.Category, c.OccurredOn, left))
			amount = left
		}
		if l.Kind == LineOther && amount > 0 {
			flag("unpriced_line", i, fmt.Sprintf("other asks %d: the price list prices no such charge, a person decides", amount))
		}
		paid[l.Kind] += amount
		ql.Amount = tenants.Money{Amount: amount, Currency: cur}
		q.Lines[i] = ql
	}
	return q, flags
}

// listed is the price list's amount for a labor or visit line of the
// unit's model's category (ok false: another kind, or no rate listed).
func (a adjudication) listed(kind string) (amount int64, ok bool) {
	var rate *int64
	switch {
	case !a.rates.Found:
	case kind == LineLabor:
		rate = a.rates.Labor
	case kind == LineVisit:
		rate = a.rates.Visit
	}
	if rate == nil {
		return 0, false
	}
	return *rate, true
}

// calculate sets each line's calculated amount, what the brand and the plan
// owe under d (nothing when d is not a repair of these lines), with its
// reason, and returns the total. To that it adds what the centre's
// reductions a ticket's completion applied moved to the brand (reduced,
// claims.Ticket.Reduced): seed 000's 根据中心批示处理, borne by the brand,
// which the customer never paid the node. Each reduced line goes to the
// claim's lines of its kind (a part line: of its part), in their order,
// each line owed at most what it requests; the line's reason names it.
// A reduction refunded to the customer (approved after the paid
// completion) is not owed, the node having kept the money, nor is a
// service promise's waiver (late arrival, licence not shown …): the
// network's failure, which it bears. Neither is in reduced.
func calculate(c *Claim, d entitlement.Decision, repair bool, q entitlement.Quote, reduced []ReducedLine, cur string) int64 {
	left := make([]int64, len(reduced)) // what each reduced line has still to give
	for j, r := range reduced {
		left[j] = r.Amount.Amount
	}
	var total int64
	for i := range c.Lines {
		l := &c.Lines[i]
		var owed int64
		if repair {
			owed = d.Lines[i].BrandPays.Amount + d.Lines[i].PlanPays.Amount
		}
		var centre int64 // the centre's reductions' share of the line
		for j, r := range reduced {
			if r.Kind != l.Kind || r.Amount.Currency != cur || (l.Kind == LinePart && r.PartNumber != q.Lines[i].Code) {
				continue
			}
			n := min(left[j], max(l.Requested.Amount-owed-centre, 0))
			left[j] -= n
			centre += n
		}
		owed += centre
		l.Calculated = &tenants.Money{Amount: owed, Currency: cur}
		total += owed
		switch {
		case owed == l.Requested.Amount:
			l.Reason = string(d.Basis) + ": owed in full"
		case owed == 0:
			l.Reason = string(d.Basis) + ": the customer pays this line"
		default:
			l.Reason = fmt.Sprintf("%s: %d of the %d requested is owed", d.Basis, owed, l.Requested.Amount)
		}
		if centre > 0 {
			l.Reason += "; the centre's reduction of " + tenants.Money{Amount: centre, Currency: cur}.Text() + " is the brand's"
		}
	}
	return total
}

// autoReject rejects c, nothing being owed, with its flags kept: the
// adjudication's findings, the rejected lines and the rejection in one
// round trip.
func (s *Service) autoReject(ctx context.Context, tx pg.TenantTx, c Claim, d entitlement.Decision, flags []ClaimFlag) error {
	reason := "auto-rejected: nothing is owed (" + string(d.Basis) + "): " + appliedReason(d)
	c.Flags, c.Reasons = orEmpty(flags), []string{reason}
	b := &pgx.Batch{}
	c, err := queueAdjudicated(b, tx, c, rejected(c, reason).Lines)
	if err != nil {
		return err
	}
	return s.sendReject(ctx, tx, b, c, reason, "system")
}

// lineDecision is a line's decision when approved of requested is approved.
func lineDecision(approved, requested int64) string {
	switch {
	case approved == requested:
		return DecisionApproved
	case approved == 0:
		return DecisionRejected
	}
	return DecisionPartlyApproved
}

// autoApprove approves every line of c at its calculated amount: the
// adjudication's findings and the approval in one round trip.
func (s *Service) autoApprove(ctx context.Context, tx pg.TenantTx, c Claim, st pg.TenantSettings, reason string) error {
	for i := range c.Lines {
		l := &c.Lines[i]
		a := *l.Calculated
		l.Approved = &a
		l.Decision = lineDecision(a.Amount, l.Requested.Amount)
	}
	c.Flags, c.Reasons = []ClaimFlag{}, nil
	b := &pgx.Batch{}
	c, err := queueAdjudicated(b, tx, c, c.Lines)
	if err != nil {
		return err
	}
	_, err = s.approve(ctx, tx, c, reason, "system", b, &st)
	return err
}

// settle leaves c under review for a person, with its flags and reasons:
// writes nothing here needs back, so they ride the transaction's COMMIT
// (pg.TenantTx.Defer) instead of a round trip of their own.
func settle(ctx context.Context, tx pg.TenantTx, c Claim, flags []ClaimFlag, reasons []string, dec *ClaimDecision) error {
	for _, f := range flags {
		reasons = append(reasons, "flagged "+f.Code+": "+f.Detail)
	}
	c.Flags, c.Reasons, c.Decision = orEmpty(flags), append(reasons, "left for a reviewer"), dec
	b := &pgx.Batch{}
	if _, err := queueAdjudicated(b, tx, c, c.Lines); err != nil {
		return err
	}
	return tx.Defer(ctx, b)
}

func orEmpty(f []ClaimFlag) []ClaimFlag {
	if f == nil {
		return []ClaimFlag{}
	}
	return f
}

// queueAdjudicated queues on b the adjudication's writes for c, still
// submitted, in one statement: its move to under_review and its findings
// (flags, reasons, decision) in one update of the claim, which counts two
// revisions as the move and the findings did when written apart; the
// history row; and the version's lines (lines) as adjudicated. Its events,
// claim.under_review and, when it raised flags, claim.flagged, join tx's
// event buffer (events.QueueTx: one insert, with the COMMIT). It returns c
// under review, with lines.
func queueAdjudicated(b *pgx.Batch, tx pg.TenantTx, c Claim, lines []ClaimLine) (Claim, error) {
	reasons := c.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	review := "adjudicating version " + strconv.Itoa(c.Version)
	from, moved := c.State, transitionEvent(c, StateUnderReview, review, "system", TypeUnderReview, nil)
	c.State, c.Lines = StateUnderReview, lines
	b.Queue(`WITH moved AS (
		  UPDATE claims SET state = $3, state_reason = $4, flags = $5, reasons = $6, decision = $7,
		    revision = revision + 2, updated_at = `+nowSQL("$11")+` WHERE tenant_id = $1 AND id = $2),
		history AS (
		  INSERT INTO claim_state_changes (tenant_id, claim_id, version, from_state, to_state, reason, actor, changed_at)
		  VALUES ($1, $2, $8, $9, $3, $4, 'system', `+nowSQL("$11")+`))
		UPDATE claim_versions SET lines = $10, adjudicated_at = `+nowSQL("$11")+` WHERE tenant_id = $1 AND claim_id = $2 AND version = $8`,
		tx.TenantID, c.ID, StateUnderReview, review, c.Flags, reasons, c.Decision, c.Version, from, c.Lines, c.now)
	if err := events.QueueTx(b, tx, moved); err != nil {
		return c, err
	}
	if len(c.Flags) == 0 {
		return c, nil
	}
	codes := make([]string, 0, len(c.Flags))
	for _, f := range c.Flags {
		if !slices.Contains(codes, f.Code) {
			codes = append(codes, f.Code)
		}
	}
	return c, events.QueueTx(b, tx, events.New{Type: TypeFlagged, SubjectID: c.ID, Actor: "system",
		Data: eventData(c, nil, c.State, "flagged: "+strings.Join(codes, ", "), map[string]any{"flags": c.Flags})})
}

// appliedReason is the engine's reason for its basis: the last rule that
// applied before the selection.
func appliedReason(d entitlement.Decision) string {
	why := ""
	for _, t := range d.Trace {
		if t.Applied && t.Rule != "selection" && !strings.HasPrefix(t.Rule, "R2.lower") {
			why = t.Reason
			if strings.HasPrefix(t.Rule, "R1.never_free") {
				break
			}
		}
	}
	if why == "" {
		return "no warranty or plan covers the fault"
	}
	return why
}

// decidedOn is the day claim c is decided on: its repair's (occurred_on),
// or, for a ticket's repair, the day the customer reported it when that is
// earlier (and not before the purchase), the day the ticket decided the
// repair on (tickets' DecideReportedTx): a warranty that ended while the
// ticket waited still covers the repair the ticket charged to the brand.
func decidedOn(r warranty.UnitRecords, c Claim, ticket Ticket) string {
	if ticket.ReportedAt.IsZero() {
		return c.OccurredOn
	}
	return min(c.OccurredOn, max(r.Settings.Today(ticket.ReportedAt), r.Unit.PurchaseDate))
}

// engineInput builds the engine's input from the unit's records. (The
// warranty package's own converters are unexported; these mirror them.)
func engineInput(r warranty.UnitRecords, c Claim, ticket Ticket, quote entitlement.Quote) entitlement.Input {
	purchase, _ := time.Parse(time.DateOnly, r.Unit.PurchaseDate)
	on := decidedOn(r, c, ticket)
	date, _ := time.Parse(time.DateOnly, on)
	in := entitlement.Input{Unit: warranty.EngineUnit(r.Unit, r.Model, purchase), Date: date, Quote: quote,
		RequestedRemedy: entitlement.RemedyRepair,
		Fault:           entitlement.Fault{Cause: entitlement.Cause(c.Fault.Cause), PartCategories: c.Fault.PartCategories, Repairable: true}}
	for _, ct := range r.Contracts {
		if c.ContractID != nil && ct.ID != *c.ContractID && string(ct.Plan.Kind) == string(c.Kind) {
			continue // the claim names its contract of this kind
		}
		// A claim is decided on the day of its repair (decidedOn): a plan
		// that has expired since was active then (rules 4-7: its validity
		// window), and so was one whose benefit was used only after that
		// day (a swap, the unit's return): consumed later, it is judged by
		// its dates on that day. So is one cancelled after the repair
		// itself (a cancellation ends the plan from the day it is asked, it
		// does not undo the coverage before); a repair done after it, on a
		// ticket reported before, is not the plan's (the ticket charged it).
		changed := ct.StateChangedAt.In(r.Settings.Location).Format(time.DateOnly)
		if (ct.State == warranty.StateConsumed && on < changed) || (ct.State == warranty.StateCancelled && c.OccurredOn < changed) {
			ct.State = warranty.StateActive
		}
		in.Contracts = append(in.Contracts, warranty.EngineContract(ct, date))
	}
	// A plan that followed a replacement unit (an exchange the brand owed)
	// covered this unit until the day it left: a repair done by then is
	// still the plan's.
	for _, m := range r.MovedAway {
		if !m.CoveredOn(on, r.Settings.Location) || (c.ContractID != nil && m.ID != *c.ContractID && string(m.Plan.Kind) == string(c.Kind)) {
			continue
		}
		in.Contracts = append(in.Contracts, warranty.EngineContract(m.Contract, date))
	}
	for _, h := range r.History {
		if (c.ServiceRecordID != nil && h.ID == *c.ServiceRecordID) || h.OfTicket(ticket.Number) {
			continue // the repair this claim is for (named, or its ticket's) is not an earlier one
		}
		if rep, ok := warranty.EngineRepair(h); ok {
			in.History = append(in.History, rep)
		}
	}
	return in
}

// TenantsAwaitingAdjudication are the active tenants, each in the modes in
// which it has claims awaiting adjudication (state submitted), with since
// when its first such claim in filing order has waited: one statement
// across tenants (pg.TenantsWithWork).
func (s *Service) TenantsAwaitingAdjudication(ctx context.Context) ([]pg.TenantWork, error) {
	return pg.TenantsWithWork(ctx, s.DB, "claims_awaiting_adjudication", nil)
}

// Awaiting is a claim's version that awaits adjudication.
type Awaiting struct {
	ClaimID string
	Version int
}

// AwaitingAdjudication lists up to limit of tenantID's claims in state
// submitted, in ctx's mode, after claim after ("" from the first) in ID
// order (oldest first: IDs are time-ordered), with their current version,
// in one round trip: the queue Adjudicate works through. It walks
// claims_state_idx.
func (s *Service) AwaitingAdjudication(ctx context.Context, tenantID, after string, limit int) ([]Awaiting, error) {
	return pg.QueryRows(ctx, s.DB, tenantID, pgx.RowToStructByPos[Awaiting], `SELECT id, current_version FROM claims
		WHERE tenant_id = $1 AND state = 'submitted' AND id > $2 ORDER BY id LIMIT $3`, after, limit)
}
