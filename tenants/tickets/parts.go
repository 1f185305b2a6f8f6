package tickets

import (
	"context"
	"strings"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/payouts/calendar"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/swaps"
)

// PartsInput moves parts of the node's stock for the ticket.
type PartsInput struct {
	Op    string       `json:"op" enum:"reserve,release,issue,use,return,return_defective" doc:"reserve: set parts aside (a shortage makes the ticket wait for parts); release: un-reserve; issue: take reserved parts off the shelf; use: fitted to the unit; return: unused parts back on the shelf; return_defective: the replaced part taken back for the brand." example:"reserve"`
	Lines []stock.Line `json:"lines" minItems:"1" maxItems:"50" doc:"The parts and quantities."`
}

// PartsResult is the ticket after a parts move with its requisition lines.
type PartsResult struct {
	Ticket    Ticket             `json:"ticket"`
	Parts     []stock.TicketPart `json:"parts" doc:"The ticket's requisition lines, cumulative."`
	Shortages []stock.Shortage   `json:"shortages" doc:"Reserve lines the node's stock could not cover (nothing of them was reserved)."`
}

// MoveParts moves parts of the ticket's node's stock for the ticket. A
// reservation the stock cannot cover makes an on-site ticket wait for
// parts (awaiting_parts; reschedule when they arrive).
func (s *Service) MoveParts(ctx context.Context, p tenants.Principal, id string, in PartsInput, ifVersion int) (PartsResult, error) {
	var res stock.Result
	t, err := s.act(ctx, p, id, ifVersion, ActParts, func(c *change) error {
		t := c.T
		if t.NodeID == nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.no_node_for_parts"))
		}
		// After the work, the technician brings back what it did not fit
		// (and the parts it replaced): the ticket's parts are settled by
		// its completion, and nothing else moves.
		if ended := t.State == StateCompleted || t.State == StateClosed; ended &&
			stock.Op(in.Op) != stock.OpReturn && stock.Op(in.Op) != stock.OpReturnDefective {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.parts_after_completion", "Op", in.Op, "State", t.State))
		}
		var err error
		res, err = stock.Apply(ctx, c.tx, stock.Requisition{NodeID: *t.NodeID, TicketID: t.ID, ModelID: deref(t.ModelID),
			Op: stock.Op(in.Op), Lines: in.Lines, Actor: c.p.Subject(), Loc: "lines"})
		if err != nil {
			return err
		}
		detail := map[string]any{"op": in.Op, "lines": in.Lines, "shortages": res.Shortages}
		c.data["op"], c.data["lines"] = in.Op, in.Lines
		if len(res.Shortages) > 0 && t.State == StateOnSite {
			c.data["shortages"] = res.Shortages
			c.moveTo(StateAwaitingParts, "parts short at the node", detail)
			return nil
		}
		c.note("", detail)
		return nil
	})
	if err != nil {
		return PartsResult{}, err
	}
	if res.Shortages == nil {
		res.Shortages = []stock.Shortage{}
	}
	return PartsResult{Ticket: t, Parts: res.Parts, Shortages: res.Shortages}, nil
}

// Parts returns a ticket's requisition lines.
func (s *Service) Parts(ctx context.Context, p tenants.Principal, id string) ([]stock.TicketPart, error) {
	return ofTicket(ctx, s, p, id, func(ctx context.Context, tx pg.TenantTx) ([]stock.TicketPart, error) {
		return stock.TicketParts(ctx, tx, id)
	})
}

// LoanerRequest asks for a loaner unit while the customer's is carried in.
type LoanerRequest struct {
	LoanerID string `json:"loaner_id,omitempty" maxLength:"64" doc:"A loaner of the node; or give category for any available one." example:"lnr_01jd3zq8w6v7t3y2k9x4n5m6pl"`
	Category string `json:"category,omitempty" maxLength:"64" doc:"Lend any available loaner of this category; default the unit's category." example:"washer"`
	DueOn    string `json:"due_on" format:"date" doc:"Due back on this day (tenant's zone); overdue loaners are listed by GET /v1/loaners?overdue=true." example:"2026-12-07"`
}

// CarryInInput takes the unit to the node.
type CarryInInput struct {
	Condition   string         `json:"condition" minLength:"1" maxLength:"500" doc:"The unit's visible condition, written on the receipt." example:"外观完好，无划痕"`
	Accessories []string       `json:"accessories,omitempty" maxItems:"20" doc:"Accessories taken with it." example:"[\"电源线\"]"`
	Loaner      *LoanerRequest `json:"loaner,omitempty"`
	ReturnBy    *time.Time     `json:"return_by,omitempty" doc:"The time agreed with the customer for the unit's return (seed 000: 跟用户约定送回时间,按规定时间送回); must be in the future. It is the workshop deadline (workshop_due_at): earlier than the policy's workshop_working_days, the promise given to the customer; later, the customer agreed to wait longer, and the carry-in records return_by_beyond_limit. Absent: the policy's working days." example:"2026-12-03T18:00:00+08:00"`
	// CustomerAgreed: the customer agreed to the carry-in and signed the receipt.
	CustomerAgreed bool `json:"customer_agreed" doc:"The reason was explained and the customer agreed to the unit being taken to the node, signing the receipt (seed 001: 若客户同意工程师带机器回公司维修…请用户在维修服务单相应处签字). Required (true): without it the carry-in is 422 at customer_agreed and the unit stays (repair it on site, or agree another visit)." example:"true"`
	// Configuration and DataBackup: what was confirmed with the customer
	// about a unit that holds the customer's data.
	Configuration string `json:"configuration,omitempty" maxLength:"500" doc:"The unit's configuration as confirmed with the customer face to face and written on the receipt (processor, memory, storage, cards fitted). Required for a unit that holds the customer's data (phone, laptop, camera, tablet; seed 001: 尤其是电脑配置和数据需重点标明), 422 at configuration without it." example:"R7 / 16GB / 1TB SSD"`
	DataBackup    string `json:"data_backup,omitempty" enum:"backed_up,not_backed_up,no_data" doc:"What was confirmed with the customer about the data on the unit before it left (当面和用户确认…硬盘数据备份): backed_up, the customer's data was backed up; not_backed_up, the customer was told the data may be lost and chose not to back it up; no_data, the unit holds none. Required for a unit that holds the customer's data (phone, laptop, camera, tablet), 422 at data_backup without it." example:"backed_up"`
}

// CarryInRecord is what the ticket keeps of a carry-in: the receipt, the
// loaner lent, and when the unit went back.
type CarryInRecord struct {
	ReceiptNumber  string      `json:"receipt_number" doc:"The receipt given to the customer." example:"RC-SN-20261130-00042"`
	ReceivedAt     time.Time   `json:"received_at" doc:"When the node took the unit." example:"2026-12-01T10:00:00+08:00"`
	Condition      string      `json:"condition" doc:"The unit's condition on receipt." example:"外观完好，无划痕"`
	Accessories    []string    `json:"accessories" doc:"Accessories taken with it."`
	Loan           *stock.Loan `json:"loan,omitempty"`
	ReturnedAt     *time.Time  `json:"returned_at,omitempty" doc:"When the unit went back to the customer." example:"2026-12-05T16:00:00+08:00"`
	ReturnBy       *time.Time  `json:"return_by,omitempty" doc:"The return time agreed with the customer at the carry-in: the workshop deadline." example:"2026-12-03T18:00:00+08:00"`
	CustomerAgreed bool        `json:"customer_agreed,omitempty" doc:"The customer agreed to the carry-in and signed the receipt; every carry-in requires it (absent on carry-ins recorded before it was asked)." example:"true"`
	Configuration  string      `json:"configuration,omitempty" doc:"The unit's configuration confirmed with the customer, on the receipt (a unit that holds the customer's data)." example:"R7 / 16GB / 1TB SSD"`
	DataBackup     string      `json:"data_backup,omitempty" enum:"backed_up,not_backed_up,no_data" doc:"What was confirmed with the customer about the unit's data before it left (a unit that holds the customer's data)." example:"backed_up"`
	// ReturnByBeyondLimit says the agreed return is later than the
	// policy's workshop limit: the customer agreed to wait longer than the
	// workshop_working_days, for the brand to see.
	ReturnByBeyondLimit bool `json:"return_by_beyond_limit,omitempty" doc:"The agreed return_by is later than the policy's workshop limit (workshop_working_days after the receipt): the customer agreed to wait longer, and the deadline is return_by. A brand reviewing its network's workshop times sees it here and in the carry-in's timeline entry." example:"false"`
}

// CarryIn takes the unit to the node with a receipt and lends a loaner.
// The customer must have agreed and signed the receipt (customer_agreed,
// invalid otherwise); a unit that holds the customer's data
// (catalog.DataCategories) leaves only with its configuration and what was
// agreed about its data on the receipt (configuration, data_backup, each
// invalid when missing), seed 001: 当面和用户确认机器配置、硬盘数据备份等,
// 并请用户在维修服务单相应处签字.
// It starts the workshop deadline (workshopDue): the unit is to be
// repaired and handed back (ReturnUnit) within the policy's working days,
// or by the return time agreed with the customer (return_by, after now,
// else invalid at return_by) whether sooner or later than that; a later
// one is recorded as return_by_beyond_limit.
func (s *Service) CarryIn(ctx context.Context, p tenants.Principal, id string, in CarryInInput, ifVersion int) (Ticket, error) {
	v := &tenants.Validation{}
	if !in.CustomerAgreed {
		v.AddMsg("customer_agreed", i18n.M("tickets.carry_in_not_agreed"), in.CustomerAgreed)
	}
	checkDataBackup(v, "data_backup", in.DataBackup)
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	return s.act(ctx, p, id, ifVersion, ActCarryIn, func(c *change) error {
		t := c.T
		v := &tenants.Validation{}
		if in.ReturnBy != nil && !in.ReturnBy.After(c.now) {
			v.AddMsg("return_by", i18n.M("common.must_be_in_future"), *in.ReturnBy)
		}
		if t.holdsData() {
			if strings.TrimSpace(in.Configuration) == "" {
				v.AddMsg("configuration", i18n.M("tickets.carry_in_data_unit", "Category", *t.Category), nil)
			}
			if in.DataBackup == "" {
				v.AddMsg("data_backup", i18n.M("tickets.carry_in_data_unit", "Category", *t.Category), nil)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if t.NodeID == nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.no_node_for_unit"))
		}
		rec := CarryInRecord{ReceiptNumber: "RC-" + t.Number + "-" + itoa(t.Visits), ReceivedAt: c.now,
			Condition: in.Condition, Accessories: in.Accessories, CustomerAgreed: true,
			Configuration: strings.TrimSpace(in.Configuration), DataBackup: in.DataBackup}
		if rec.Accessories == nil {
			rec.Accessories = []string{}
		}
		if in.Loaner != nil {
			cat := in.Loaner.Category
			if cat == "" && in.Loaner.LoanerID == "" {
				cat = deref(t.Category)
			}
			loan, err := stock.Lend(ctx, c.tx, c.now, c.clock, *t.NodeID, t.ID, in.Loaner.LoanerID, cat, in.Loaner.DueOn, c.p.Subject())
			if err != nil {
				return tenants.Relocate(err, "", "loaner.")
			}
			rec.Loan = &loan
			c.data["loaner_id"] = loan.LoanerID
		}
		due, err := workshopDue(ctx, c.tx, rec.ReceivedAt, c.policy.WorkshopWorkingDays)
		if err != nil {
			return err
		}
		detail := map[string]any{"receipt_number": rec.ReceiptNumber, "loan": rec.Loan, "customer_agreed": true}
		if rec.DataBackup != "" {
			detail["data_backup"] = rec.DataBackup
		}
		if in.ReturnBy != nil {
			// The time promised to the customer is the deadline: sooner
			// than the limit, it is the promise the customer was given;
			// later, the customer agreed to wait, which the record shows.
			by := in.ReturnBy.Truncate(time.Microsecond)
			rec.ReturnBy, rec.ReturnByBeyondLimit = &by, by.After(due)
			due = by
			detail["return_by"], c.data["return_by"] = by, by
			if rec.ReturnByBeyondLimit {
				detail["return_by_beyond_limit"], c.data["return_by_beyond_limit"] = true, true
			}
		}
		t.CarryIn = &rec
		*t.SLA.deadline(SLAWorkshop) = &due
		c.data["receipt_number"] = rec.ReceiptNumber
		c.moveTo(StateCarryIn, "", detail)
		return nil
	})
}

// workshopDue is when a unit received at receivedAt is due back from the
// workshop: seed 002, 4.2.3 (对于复杂故障,需带回维修站进行修理,修理时间最长
// 不超过3个工作日), n working days after the day of its receipt on the
// tenant's calendar (calendar.WorkingDaysAfter: Monday to Friday less the
// tenant's holidays, plus its make-up working days, 调休; the day of the
// receipt never counts), at the receipt's time of day. Both the day and the
// time are the tenant's zone's: WorkingDaysAfter counts from the civil date
// of the time it is given and returns a civil date (midnight UTC), so the
// receipt is put in the zone first and the time of day is set on the date
// found, in the zone. Received Thursday 10:00, the unit is due Tuesday
// 10:00 (Friday, Monday, Tuesday); received on a holiday or a weekend, the
// count starts with the next working day all the same.
func workshopDue(ctx context.Context, tx pg.TenantTx, receivedAt time.Time, n int) (time.Time, error) {
	st, err := tx.Settings(ctx)
	if err != nil {
		return time.Time{}, err
	}
	local := receivedAt.In(st.Location)
	day, err := calendar.WorkingDaysAfter(ctx, tx, local, n)
	if err != nil {
		return time.Time{}, err
	}
	due := time.Date(day.Year(), day.Month(), day.Day(), local.Hour(), local.Minute(), local.Second(), local.Nanosecond(), st.Location)
	return due.Truncate(time.Microsecond), nil
}

// ReturnInput returns the unit to the customer.
type ReturnInput struct {
	LoanerCondition string `json:"loaner_condition,omitempty" enum:"good,damaged" doc:"The loaner's condition when the customer gives it back; required when one was lent (damaged retires it), 422 when none is out." example:"good"`
	Note            string `json:"note,omitempty" maxLength:"500" doc:"What was handed back." example:"客户已取回，借用机已归还"`
}

// ReturnUnit hands the repaired unit back and takes the loaner back. It
// meets the workshop deadline; handed back after it, the change records
// the breach (recordMetLate) unless a sweep did.
func (s *Service) ReturnUnit(ctx context.Context, p tenants.Principal, id string, in ReturnInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActReturn, func(c *change) error {
		t := c.T
		var rec CarryInRecord
		if t.CarryIn != nil {
			rec = *t.CarryIn
		}
		if rec.Loan != nil && rec.Loan.ReturnedAt == nil {
			if in.LoanerCondition == "" {
				return tenants.InvalidMsg("loaner_condition", i18n.M("tickets.loaner_lent"), nil)
			}
			loan, err := stock.ReturnLoan(ctx, c.tx, c.now, t.ID, in.LoanerCondition, c.p.Subject())
			if err != nil {
				return tenants.Relocate(err, "condition", "loaner_condition")
			}
			rec.Loan = &loan
			c.data["loaner_id"], c.data["loaner_condition"] = loan.LoanerID, in.LoanerCondition
		} else if in.LoanerCondition != "" {
			return tenants.InvalidMsg("loaner_condition", i18n.M("tickets.no_loaner_out"), in.LoanerCondition)
		}
		now := c.now
		rec.ReturnedAt = &now
		t.CarryIn = &rec
		c.meetSLA(SLAWorkshop)
		c.moveTo(StateReturned, "", map[string]any{"note": in.Note, "loan": rec.Loan})
		return nil
	})
}

// SwapInput asks for a unit swap when the repair is impossible.
type SwapInput struct {
	Reason string `json:"reason" enum:"unrepairable,repair_cost_above_retail" doc:"Why the unit cannot be repaired." example:"unrepairable"`
	Note   string `json:"note,omitempty" maxLength:"500" doc:"What the technician found." example:"主板烧毁，无备件"`
}

// RequestSwap requests a unit swap for the ticket's unit (the swap
// evaluation job prices the fee and routes the approval). A unit found
// unrepairable in the workshop is no longer under the workshop's repair
// deadline: the request ends it (a request after it passed records the
// breach, recordMetLate). A unit whose price is only assumed at intake is a
// conflict until the brand sets it (swaps: a plan's fee is a share of it).
func (s *Service) RequestSwap(ctx context.Context, p tenants.Principal, id string, in SwapInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActSwap, func(c *change) error {
		t := c.T
		if t.UnitID == nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.unit_not_identified"))
		}
		if t.SwapID != nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.swap_already_requested", "Swap", *t.SwapID))
		}
		note := in.Note
		if note == "" {
			note = "ticket " + t.Number
		}
		nw := swaps.NewSwap{UnitID: *t.UnitID, Reason: in.Reason, Note: note}
		if c.clock != "" {
			nw.TestClockID = &c.clock // the swap lives on the ticket's clock
		}
		if t.Diagnosis != nil {
			// The diagnosed cause chooses the plan the swap is under
			// (an extended warranty's free replacement, or a fee plan's swap).
			nw.FaultCause = t.Diagnosis.Cause
		}
		sw, err := s.swaps.RequestSwapSystemTx(ctx, c.tx, c.p.Subject(), nw)
		if err != nil {
			return err
		}
		t.SwapID = &sw.ID
		c.meetSLA(SLAWorkshop)
		c.data["swap_id"] = sw.ID
		c.note("swap requested: "+in.Reason, map[string]any{"swap_id": sw.ID, "reason": in.Reason})
		return nil
	})
}
