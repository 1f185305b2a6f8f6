package complaints

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// GetComplaint returns a complaint with its history. Complaints outside the
// principal's scope (another storefront's, another subtree's) are not found.
func (s *Service) GetComplaint(ctx context.Context, p tenants.Principal, id string) (ComplaintDetail, error) {
	var out ComplaintDetail
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		now := s.now()
		if _, err := getComplaint(ctx, tx, sc, id, "", now); err != nil {
			return err
		}
		out, err = getDetail(ctx, tx, id, now)
		return err
	})
	return out, pg.Translate(err)
}

// ListComplaints lists the complaints in the principal's scope, oldest
// first. Overdue keeps those still unresolved after their deadline (on
// their clock's time for those on a test clock).
func (s *Service) ListComplaints(ctx context.Context, p tenants.Principal, f ComplaintFilter) ([]Complaint, string, error) {
	v := &tenants.Validation{}
	if f.State != "" && !slices.Contains(States, State(f.State)) {
		v.AddMsg("state", i18n.M("common.one_of", "Values", "open, investigating, reopened, resolved, closed"), f.State)
	}
	if f.Category != "" && !slices.Contains(Categories, Category(f.Category)) {
		v.AddMsg("category", i18n.M("common.one_of", "Values", categoryList), f.Category)
	}
	if f.Severity != "" && !slices.Contains(Severities, Severity(f.Severity)) {
		v.AddMsg("severity", i18n.M("common.one_of", "Values", "low, medium, high, critical"), f.Severity)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	page, err := pg.NewKeyset("complaints", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	var out []Complaint
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+complaintColumns+` FROM complaints c
			WHERE c.tenant_id = $1 AND c.id > $2 AND `+inScope("$3", "$4", "$14")+`
			  AND ($5 = '' OR c.state = $5) AND ($6 = '' OR c.category = $6) AND ($7 = '' OR c.severity = $7)
			  AND ($8 = '' OR c.ticket_id = $8) AND ($9 = '' OR c.node_id = $9) AND ($10 = '' OR c.technician_id = $10)
			  AND (NOT $11 OR (c.state IN ('open', 'investigating', 'reopened')
			                   AND c.sla_due_at < `+testclocks.TimeOfSQL("c.tenant_id", "c.test_clock_id", "$12::timestamptz")+`))
			ORDER BY c.id LIMIT $13`,
			tx.TenantID, page.After, sc.storefront, sc.nodes, f.State, f.Category, f.Severity, f.TicketID, f.NodeID,
			f.TechnicianID, f.Overdue, now, page.Fetch(), sc.technician)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Complaint, error) { return scanComplaint(r, now) })
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := pg.Page(page, out, func(c Complaint) string { return c.ID })
	return out, next, nil
}

func checkText(loc, text string, required bool, max int) error {
	n := len([]rune(strings.TrimSpace(text)))
	if (required && n < 1) || len([]rune(text)) > max {
		if required {
			return tenants.InvalidMsg(loc, i18n.M("common.length", "Max", max, "Min", 1), text)
		}
		return tenants.InvalidMsg(loc, i18n.M("common.max_length", "Max", max), text)
	}
	return nil
}

// act runs one action on a complaint in scope: the runner locks the
// complaint and checks If-Match (ifVersion > 0) and that the complaint
// admits the action (409 naming the state and the allowed actions
// otherwise), then fn changes it at the complaint's time (its test
// clock's, else now).
func (s *Service) act(ctx context.Context, p tenants.Principal, id, action string, ifVersion int, fn func(tx pg.TenantTx, c Complaint, now time.Time) error) (ComplaintDetail, error) {
	var out ComplaintDetail
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		now := s.now()
		c, err := machine(now).Lock(ctx, tx, p, id, ifVersion, action)
		if err != nil {
			return err
		}
		now = c.at(now)
		if err := fn(tx, c, now); err != nil {
			return err
		}
		out, err = getDetail(ctx, tx, id, now)
		return err
	})
	return out, pg.Translate(err)
}

// Investigate starts (or, after a reopening, restarts) the investigation:
// open | reopened → investigating. The deadline keeps running.
func (s *Service) Investigate(ctx context.Context, p tenants.Principal, id, note string, ifVersion int) (ComplaintDetail, error) {
	if err := checkText("note", note, false, 1000); err != nil {
		return ComplaintDetail{}, err
	}
	return s.act(ctx, p, id, ActionInvestigate, ifVersion, func(tx pg.TenantTx, c Complaint, now time.Time) error {
		return record(ctx, tx, c, change{action: "investigate", to: StateInvestigating, level: c.EscalationLevel,
			note: nullable(note), actor: p.Subject(), eventType: TypeInvestigating, at: now})
	})
}

// Escalate raises an unresolved complaint one level (dispatcher, node
// manager, brand) with the reason; the state is unchanged. Below the brand
// the new level gets the tenant's escalation interval before the timer
// escalates again. At level 3 it is a conflict.
func (s *Service) Escalate(ctx context.Context, p tenants.Principal, id, reason string, ifVersion int) (ComplaintDetail, error) {
	if err := checkText("reason", reason, true, 1000); err != nil {
		return ComplaintDetail{}, err
	}
	return s.act(ctx, p, id, ActionEscalate, ifVersion, func(tx pg.TenantTx, c Complaint, now time.Time) error {
		_, err := s.escalate(ctx, tx, c, c.EscalationLevel+1, now, now, "escalate", reason, p.Subject(), TypeEscalated)
		return err
	})
}

// escalate moves c up to level at from, restarts its deadline at the
// escalation interval from then and schedules the next level's timer; at
// is the complaint's time the change is recorded at. It returns the new
// deadline.
func (s *Service) escalate(ctx context.Context, tx pg.TenantTx, c Complaint, level int, from, at time.Time, action, note, actor, eventType string) (time.Time, error) {
	due := c.SLADueAt
	if level < MaxLevel {
		iv, err := escalationInterval(ctx, tx)
		if err != nil {
			return due, err
		}
		due = from.Add(iv)
	}
	breached := action == "sla_breached"
	if _, err := tx.Exec(ctx, `UPDATE complaints SET sla_due_at = $3,
		sla_breached_at = CASE WHEN $4 THEN coalesce(sla_breached_at, $5) ELSE sla_breached_at END
		WHERE tenant_id = $1 AND id = $2`, tx.TenantID, c.ID, due, breached, from); err != nil {
		return due, err
	}
	if err := record(ctx, tx, c, change{action: action, to: c.State, level: level, note: nullable(note), actor: actor,
		eventType: eventType, extra: map[string]any{"sla_due_at": due}, at: at}); err != nil {
		return due, err
	}
	if level < MaxLevel {
		return due, s.enqueue(ctx, tx, c.ID, c.TestClockID, level+1, due)
	}
	return due, nil
}

// Resolve records how an unresolved complaint was resolved (ResolveWith
// without a finding).
func (s *Service) Resolve(ctx context.Context, p tenants.Principal, id, resolution string, ifVersion int) (ComplaintDetail, error) {
	return s.ResolveWith(ctx, p, id, ResolveInput{Resolution: resolution}, ifVersion)
}

// ResolveWith records how an unresolved complaint was resolved: open |
// investigating | reopened → resolved. The customer then rates it.
//
// Upholding a waiving complaint (late_arrival, attitude, licence,
// overcharge, conduct; Waivers) against a ticket records the service
// promise on the ticket in the same transaction (tickets.WaiveChargesTx):
// the service is free and the brand pays. On a completed ticket it
// applies to the settled charges at once and what the customer had paid
// is refunded as a payout to the customer (Deps.Refund); on one not yet
// completed (a complaint during the service) the diagnosis and the
// completion apply it, and nothing is refunded because nothing was paid;
// a cancelled ticket has nothing to waive. It happens once: the ticket
// carries each promise once and a complaint refunds at most once, so a
// second complaint, or a reopened one resolved again, refunds nothing
// more. An upheld late_arrival complaint also asks the technician for
// the apology it owes (an apologise task, unless the ticket has one).
// A late_arrival complaint on a ticket that never had an
// appointment window agreed is a conflict (409). An upheld conduct
// complaint names its breach (422 on breach); a breach on anything else
// is refused the same way.
//
// Upholding a property_damage complaint names the value the center
// assessed (in.AssessedAmount: > 0, the tenant's currency; 422 on
// assessed_amount otherwise, and on anything but an upheld property_damage
// complaint) and schedules its payout to the ticket's customer, owed by
// the brand (Deps.Compensate), in the same transaction. It waives no
// charges. The compensation also asks the ticket's technician to
// apologise for the damage (seed 000: 照价赔偿,并表示歉意;
// tickets.ApologiseForDamageTx: an apologise_damage task, refused the
// node manager visits), in the same transaction: one apology per
// compensation, so other damage of the same ticket compensated later is
// apologised for too, and a complaint resolved again pays and asks
// nothing more. Damage by the service presupposes a visit: on a ticket the
// network never visited (tickets.VisitedTx: no check-in, carry-in or
// pickup) upholding it is a conflict on upheld, nothing paid. A complaint compensates once: resolved again after a reopening,
// it pays nothing more, and an assessed amount or damaged item other than
// the one paid is a conflict. One damage is paid once: when another
// complaint compensated the same ticket's damage, the compensation is a
// conflict on damaged_item (naming that complaint, its payout and amount)
// unless in.DamagedItem names an item other than every earlier
// compensation's; one that named no item covered the visit's damage.
// in.DamagedItem is refused (422) on anything but an upheld
// property_damage complaint.
//
// Upholding a fee complaint against a ticket may carry the centre's
// reduction of the customer's charges (in.Reduction: named lines or an
// amount; seed 000: 如果用户一再坚持则将信息处理结果报回中心,根据中心批示处理),
// applied in the same transaction exactly as the ticket's reduce-charges
// action applies it (tickets.ReduceChargesTx), the brand bearing it: the
// completion applies it, or on settled charges it applies at once and
// what the customer had paid is refunded (Deps.Refund, refund_payout_id).
// Its errors are the action's under reduction. (422 at reduction.amount.amount
// beyond what the customer pays; 409 before the charges are known). A
// reduction on anything but an upheld fee complaint against a ticket is
// 422 at reduction. A fee complaint upheld without one changes no money,
// and one rejected changes nothing.
//
// A finding that applied a promise or a reduction or paid a compensation
// stands: resolved again after a reopening, such a complaint is upheld
// again (a conflict otherwise), since its ticket stays free (or reduced)
// and its payouts stand; a second reduction is a conflict at reduction.
func (s *Service) ResolveWith(ctx context.Context, p tenants.Principal, id string, in ResolveInput, ifVersion int) (ComplaintDetail, error) {
	if err := checkText("resolution", in.Resolution, true, 2000); err != nil {
		return ComplaintDetail{}, err
	}
	if in.DamagedItem != "" {
		if err := checkText("damaged_item", in.DamagedItem, true, 200); err != nil {
			return ComplaintDetail{}, err
		}
	}
	if in.Breach != "" && !slices.Contains(Breaches, in.Breach) {
		return ComplaintDetail{}, tenants.InvalidMsg("breach", i18n.M("common.one_of", "Values", strings.Join(Breaches, ", ")), in.Breach)
	}
	if in.Reduction != nil {
		if err := in.Reduction.Check(); err != nil {
			return ComplaintDetail{}, tenants.Relocate(err, "", "reduction.")
		}
	}
	return s.act(ctx, p, id, ActionResolve, ifVersion, func(tx pg.TenantTx, c Complaint, now time.Time) error {
		switch {
		case in.Reduction != nil && (c.Category != CategoryFee || !in.Upheld || c.TicketID == nil):
			return tenants.InvalidMsg("reduction", i18n.M("complaints.reduction_only_upheld_fee"), in.Reduction)
		case in.Reduction != nil && c.Reduction != nil:
			m := i18n.M("complaints.finding_applied", "Applied", applied(c))
			return tenants.ErrorMsg(tenants.CodeConflict, m).With(tenants.FieldMsg("reduction", m, in.Reduction))
		case in.Breach != "" && (c.Category != CategoryConduct || !in.Upheld):
			return tenants.InvalidMsg("breach", i18n.M("complaints.breach_only_upheld_conduct"), in.Breach)
		case in.Breach == "" && in.Upheld && c.Category == CategoryConduct:
			return tenants.InvalidMsg("breach", i18n.M("complaints.breach_required", "Values", strings.Join(Breaches, ", ")), nil)
		case !in.Upheld && (c.Waiver != nil || c.Reduction != nil || c.CompensationPayoutID != nil):
			// the finding made the ticket's service free (and refunded it)
			// or paid a compensation: those stand, so the finding does
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("complaints.finding_applied", "Applied", applied(c)))
		}
		var upheld *bool
		if in.Upheld || c.Upheld != nil {
			upheld = &in.Upheld
		}
		extra := map[string]any{"upheld": in.Upheld}
		found, err := s.compensateDamage(ctx, tx, c, in, p.Subject())
		if err != nil {
			return err
		}
		assessed, compensationID := found.assessed, found.payout
		if assessed != nil {
			extra["assessed_amount"], extra["compensation_payout_id"] = *assessed, compensationID
			if found.item != nil {
				extra["damaged_item"] = *found.item
			}
		}
		if compensationID != nil && c.CompensationPayoutID == nil {
			// compensated now: the damage is also apologised for (照价赔偿,
			// 并表示歉意), by the ticket's technician, once per compensation
			d := tickets.DamageApology{ComplaintID: c.ID, PayoutID: *compensationID, Amount: *assessed}
			if found.item != nil {
				d.Item = *found.item
			}
			task, err := tickets.ApologiseForDamageTx(ctx, tx, p.Subject(), *c.TicketID, d, now)
			if err != nil {
				return err
			}
			if task != "" {
				extra["apology_task_id"] = task
			}
		}
		waiver, refundID := c.Waiver, c.RefundPayoutID
		if code, ok := Waivers[c.Category]; ok && in.Upheld && c.TicketID != nil && c.Waiver == nil {
			note := string(c.Category) + " complaint " + c.ID + " upheld"
			if in.Breach != "" {
				note += " (" + in.Breach + ")"
			}
			w, err := tickets.WaiveChargesTx(ctx, tx, p.Subject(), *c.TicketID, tickets.LateWaiver{Code: code, Note: note, Source: c.ID}, now)
			if err != nil {
				return err
			}
			waiver = &code
			extra["waiver"] = code
			if w.Applied && w.Refund.Amount > 0 && c.RefundPayoutID == nil {
				pid, err := s.refund(ctx, tx, w.UnitID, w.TestClockID, w.Refund, "refund: service charge waived ("+code+"), "+note, c.ID)
				if err != nil {
					return err
				}
				refundID = &pid
				extra["refund_payout_id"], extra["refund"] = pid, w.Refund
			}
		}
		reduction := c.Reduction
		if in.Reduction != nil {
			// the centre's reduction the upheld fee complaint carries,
			// through the ticket's own path (and its refund)
			r, err := tickets.ReduceChargesTx(ctx, tx, p.Subject(), *c.TicketID, c.ID, *in.Reduction,
				in.Resolution, tickets.RefundFunc(s.refund), now)
			if err != nil {
				return tenants.Relocate(err, "", "reduction.")
			}
			reduction = &r.Reduction
			extra["reduction"] = r.Reduction.Amount
			if r.Reduction.RefundPayoutID != nil {
				refundID = r.Reduction.RefundPayoutID
				extra["refund_payout_id"], extra["refund"] = *refundID, r.Refund
			}
		}
		var assessedAmount *int64
		var assessedCurrency *string
		if assessed != nil {
			assessedAmount, assessedCurrency = &assessed.Amount, &assessed.Currency
		}
		if _, err := tx.Exec(ctx, `UPDATE complaints SET resolution = $3, resolved_at = $4, upheld = $5, breach = $6,
				waiver = $7, refund_payout_id = $8, assessed_amount = $9, assessed_currency = $10, compensation_payout_id = $11,
				damaged_item = $12, reduction = $13
				WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, c.ID, in.Resolution, now, upheld, nullable(in.Breach), waiver, refundID,
			assessedAmount, assessedCurrency, compensationID, found.item, reduction); err != nil {
			return err
		}
		return record(ctx, tx, c, change{action: "resolve", to: StateResolved, level: c.EscalationLevel,
			note: &in.Resolution, actor: p.Subject(), eventType: TypeResolved, extra: extra, at: now})
	})
}

// applied says what an upheld complaint's finding applied: the service
// promise (and the refund) or the compensation.
func applied(c Complaint) string {
	var out []string
	if c.Waiver != nil {
		out = append(out, "waiver "+*c.Waiver)
	}
	if c.Reduction != nil {
		out = append(out, "reduction "+c.Reduction.Amount.Text())
	}
	if c.RefundPayoutID != nil {
		out = append(out, "refund "+*c.RefundPayoutID)
	}
	if c.CompensationPayoutID != nil {
		out = append(out, "compensation "+*c.CompensationPayoutID)
	}
	return strings.Join(out, ", ")
}

// damageFinding is what an upheld property_damage complaint's assessment
// recorded: the value paid, the item assessed (nil: none named) and the
// payout.
type damageFinding struct {
	assessed *tenants.Money
	item     *string
	payout   *string
}

// compensateDamage checks in's assessment against c and, for an upheld
// property_damage complaint not yet compensated, schedules the customer's
// compensation, unless another complaint already compensated the same
// damage of the ticket (compensatedElsewhere). It returns the finding the
// complaint carries after the resolution (c's own when it had one).
func (s *Service) compensateDamage(ctx context.Context, tx pg.TenantTx, c Complaint, in ResolveInput, actor string) (damageFinding, error) {
	damage := c.Category == CategoryPropertyDamage && in.Upheld
	item := normalItem(in.DamagedItem)
	had := damageFinding{assessed: c.AssessedAmount, item: c.DamagedItem, payout: c.CompensationPayoutID}
	switch {
	case in.AssessedAmount != nil && !damage:
		return damageFinding{}, tenants.InvalidMsg("assessed_amount", i18n.M("complaints.assessed_only_upheld_damage"), in.AssessedAmount)
	case item != "" && !damage:
		return damageFinding{}, tenants.InvalidMsg("damaged_item", i18n.M("complaints.item_only_upheld_damage"), in.DamagedItem)
	case !damage:
		return had, nil
	case c.CompensationPayoutID != nil:
		// assessed and paid once: resolved again, the assessment stands
		sameAmount := in.AssessedAmount == nil || (c.AssessedAmount != nil && *in.AssessedAmount == *c.AssessedAmount)
		sameItem := item == "" || (c.DamagedItem != nil && strings.EqualFold(*c.DamagedItem, item))
		if sameAmount && sameItem {
			return had, nil
		}
		loc, value := "assessed_amount", any(in.AssessedAmount)
		if !sameItem {
			loc, value = "damaged_item", in.DamagedItem
		}
		m := i18n.M("complaints.damage_already_compensated", "Payout", *c.CompensationPayoutID, "Amount", moneyText(c.AssessedAmount))
		return damageFinding{}, tenants.ErrorMsg(tenants.CodeConflict, m).With(tenants.FieldMsg(loc, m, value))
	case in.AssessedAmount == nil:
		return damageFinding{}, tenants.InvalidMsg("assessed_amount", i18n.M("complaints.assessed_required"), nil)
	}
	v := &tenants.Validation{}
	if err := checkAmount(ctx, tx, v, "assessed_amount", *in.AssessedAmount); err != nil {
		return damageFinding{}, err
	}
	if err := v.Err(); err != nil {
		return damageFinding{}, err
	}
	t, found, err := tickets.PartiesTx(ctx, tx, *c.TicketID)
	switch {
	case err != nil:
		return damageFinding{}, err
	case !found || t.UnitID == nil:
		return damageFinding{}, tenants.ErrorMsg(tenants.CodeConflict, i18n.M("complaints.damage_ticket_no_unit", "Ticket", *c.TicketID))
	}
	// Damage by the service presupposes the network in the home or holding
	// the goods: a ticket never visited cannot have done it.
	if visited, err := tickets.VisitedTx(ctx, tx, *c.TicketID); err != nil {
		return damageFinding{}, err
	} else if !visited {
		m := i18n.M("complaints.damage_never_visited", "Ticket", *c.TicketID)
		return damageFinding{}, tenants.ErrorMsg(tenants.CodeConflict, m).With(tenants.FieldMsg("upheld", m, in.Upheld))
	}
	if err := compensatedElsewhere(ctx, tx, c, in.DamagedItem, item); err != nil {
		return damageFinding{}, err
	}
	what := "property damaged during the service"
	if item != "" {
		what += " (" + item + ")"
	}
	reason := "compensation: " + what + ", at the value the center assessed (照价赔偿); property_damage complaint " +
		c.ID + " upheld by " + actor
	pid, err := s.compensate(ctx, tx, *t.UnitID, *c.TicketID, t.TestClockID, *in.AssessedAmount, reason, c.ID)
	if err != nil {
		return damageFinding{}, err
	}
	return damageFinding{assessed: in.AssessedAmount, item: nullable(item), payout: &pid}, nil
}

// compensatedElsewhere refuses to compensate c's damage when another
// complaint already compensated the same ticket's damage: one damage is
// paid once (照价赔偿 pays what was damaged, not each complaint about it).
// Another compensation pays only for an item (item, normalized; raw as
// sent) that differs from every earlier compensation's; one that named no
// item covered the visit's damage. It holds a lock on the ticket's
// compensations until the transaction ends, so two complaints resolved at
// once cannot both pay. The conflict is on damaged_item and names the
// earlier complaint, its payout and amount.
func compensatedElsewhere(ctx context.Context, tx pg.TenantTx, c Complaint, raw, item string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('complaints.damage:' || $1 || ':' || $2, 0))`,
		tx.TenantID, *c.TicketID); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT id, compensation_payout_id, assessed_amount, assessed_currency, damaged_item FROM complaints
		WHERE tenant_id = $1 AND ticket_id = $2 AND id <> $3 AND compensation_payout_id IS NOT NULL
		ORDER BY resolved_at, id`, tx.TenantID, *c.TicketID, c.ID)
	if err != nil {
		return err
	}
	type paid struct {
		id, payout     string
		amount         *int64
		currency, item *string
	}
	earlier, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (paid, error) {
		var p paid
		err := r.Scan(&p.id, &p.payout, &p.amount, &p.currency, &p.item)
		return p, err
	})
	if err != nil {
		return err
	}
	for _, p := range earlier {
		amount := moneyText(money(p.amount, p.currency))
		var m i18n.Message
		switch {
		case p.item == nil:
			m = i18n.M("complaints.damage_paid_on_ticket_unnamed", "Complaint", p.id, "Payout", p.payout, "Amount", amount)
		case item == "" || strings.EqualFold(*p.item, item):
			m = i18n.M("complaints.damage_paid_on_ticket", "Complaint", p.id, "Payout", p.payout, "Amount", amount, "Item", *p.item)
		default:
			continue // other damage
		}
		var value any
		if raw != "" {
			value = raw
		}
		return tenants.ErrorMsg(tenants.CodeConflict, m).With(tenants.FieldMsg("damaged_item", m, value))
	}
	return nil
}

// normalItem is an item as recorded: trimmed, inner spaces made one.
func normalItem(s string) string { return strings.Join(strings.Fields(s), " ") }

// moneyText shows an amount as 650.00 CNY ("" for none).
func moneyText(m *tenants.Money) string {
	if m == nil {
		return ""
	}
	return m.Text()
}

// Rate records the customer's rating (1-5) of a resolved complaint's
// resolution. 3-5 closes the complaint; 1-2 (LowRating) reopens it under a
// new deadline (the severity's window from now) at its current escalation
// level. A rating outside 1-5 is invalid naming rating.
func (s *Service) Rate(ctx context.Context, p tenants.Principal, id string, rating int, comment string, ifVersion int) (ComplaintDetail, error) {
	if rating < 1 || rating > 5 {
		return ComplaintDetail{}, tenants.InvalidMsg("rating", i18n.M("common.range", "Min", 1, "Max", 5), rating)
	}
	if err := checkText("comment", comment, false, 1000); err != nil {
		return ComplaintDetail{}, err
	}
	return s.act(ctx, p, id, ActionRate, ifVersion, func(tx pg.TenantTx, c Complaint, now time.Time) error {
		extra := map[string]any{"rating": rating}
		if rating <= LowRating {
			due := now.Add(SLAWindows[c.Severity])
			extra["sla_due_at"] = due
			if _, err := tx.Exec(ctx, `UPDATE complaints SET resolution_rating = $3, rating_comment = $4, rated_at = $5,
				reopen_count = reopen_count + 1, sla_due_at = $6, resolved_at = NULL WHERE tenant_id = $1 AND id = $2`,
				tx.TenantID, c.ID, rating, nullable(comment), now, due); err != nil {
				return err
			}
			if err := record(ctx, tx, c, change{action: "rate", to: StateReopened, level: c.EscalationLevel,
				note: nullable(comment), actor: p.Subject(), eventType: TypeRated, extra: extra, at: now}, TypeReopened); err != nil {
				return err
			}
			return s.enqueue(ctx, tx, c.ID, c.TestClockID, c.EscalationLevel+1, due)
		}
		if _, err := tx.Exec(ctx, `UPDATE complaints SET resolution_rating = $3, rating_comment = $4, rated_at = $5, closed_at = $5
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, c.ID, rating, nullable(comment), now); err != nil {
			return err
		}
		return record(ctx, tx, c, change{action: "rate", to: StateClosed, level: c.EscalationLevel,
			note: nullable(comment), actor: p.Subject(), eventType: TypeRated, extra: extra, at: now}, TypeClosed)
	})
}

// Close closes a resolved complaint without the customer's rating (the
// customer could not be reached or declined to rate).
func (s *Service) Close(ctx context.Context, p tenants.Principal, id, note string, ifVersion int) (ComplaintDetail, error) {
	if err := checkText("note", note, false, 1000); err != nil {
		return ComplaintDetail{}, err
	}
	return s.act(ctx, p, id, ActionClose, ifVersion, func(tx pg.TenantTx, c Complaint, now time.Time) error {
		if _, err := tx.Exec(ctx, `UPDATE complaints SET closed_at = $3 WHERE tenant_id = $1 AND id = $2`, tx.TenantID, c.ID, now); err != nil {
			return err
		}
		return record(ctx, tx, c, change{action: "close", to: StateClosed, level: c.EscalationLevel,
			note: nullable(note), actor: p.Subject(), eventType: TypeClosed, at: now})
	})
}

// SLAExpired is the SLA timer of a complaint's escalation to level, due at
// dueAt. When the complaint is still unresolved (open, investigating,
// reopened), its deadline is still dueAt and it is below level, it
// escalates to level (history action sla_breached, event
// complaint.sla_breached) and, below the brand, schedules the next level's
// timer the escalation interval after dueAt, in the same transaction.
// Otherwise (resolved, deadline moved, already escalated) it does nothing:
// running a timer twice has the effect of running it once. It reports
// whether it escalated; a complaint that does not exist is not found. On a
// test clock the timer runs when an advance of the clock passes dueAt (the
// clock's time), and the change is recorded at the clock's time. A timer
// that runs after the next level's deadline has passed too (a test clock
// advanced far past the deadline, a queue that ran late) catches the
// levels up at once, each escalated at its own deadline, as the tickets'
// SLA checks do.
func (s *Service) SLAExpired(ctx context.Context, tenantID, id string, level int, dueAt time.Time) (bool, error) {
	escalated := false
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		c, err := getComplaint(ctx, tx, scope{}, id, "FOR UPDATE OF c", s.now())
		if err != nil {
			return err
		}
		// The stored deadline has Postgres's microseconds; the timer's
		// (its JSON args) may carry the clock's nanoseconds.
		if !running(c.State) || !c.SLADueAt.Equal(dueAt.Truncate(time.Microsecond)) || c.EscalationLevel >= level || level > MaxLevel {
			return nil
		}
		escalated = true
		now := c.at(s.now())
		for {
			due, err := s.escalate(ctx, tx, c, level, dueAt, now, "sla_breached", "resolution deadline missed; escalated to "+EscalatedTo(level),
				"system", TypeSLABreached)
			if err != nil || level >= MaxLevel || now.Before(due) {
				return err
			}
			c.EscalationLevel, c.SLADueAt = level, due
			level, dueAt = level+1, due
		}
	})
	if errors.Is(err, pgx.ErrNoRows) {
		err = tenants.NotFound("complaint")
	}
	return escalated, pg.Translate(err)
}
