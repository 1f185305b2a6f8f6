package tickets

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/dispatch"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/stock"
)

// TriageInput is the triage decision.
type TriageInput struct {
	Mode          string `json:"mode" enum:"remote,on_site,carry_in" doc:"remote: guide the customer by phone (no visit): repair, maintenance and consultation tickets; on_site: send a technician; carry_in: the unit is taken to the node, a repair only. A consultation is remote only, an installation, a return or an exchange is served by a visit: another mode is 422." example:"on_site"`
	RequiredLevel int    `json:"required_level,omitempty" minimum:"1" maximum:"5" doc:"Minimum technician skill level; default 1, 3 for hard faults." example:"2"`
	HardFault     bool   `json:"hard_fault,omitempty" doc:"A hard fault: dispatch goes up a tier (depot, then service center)." example:"false"`
	Instructions  string `json:"instructions,omitempty" maxLength:"2000" doc:"For remote triage only: the guidance given to the customer (required then; 422 with another mode)." example:"请断电重启并清理排水泵过滤器"`
	Loaner        string `json:"loaner,omitempty" enum:"preferred,required,none" doc:"For carry-in: whether the customer gets a loaner of the category while the unit is away. preferred (the default for carry-in): dispatch ranks nodes holding an available loaner first within their tier; required: only such nodes are eligible (no_loaner_available otherwise); none: loaners play no part. The decision's reason says which node holds how many." example:"preferred"`
}

// Triage decides how the ticket is served. Remote tickets go to remote
// guidance; on-site and carry-in tickets are dispatched at once by the
// scoring rules (within the route SLA), or stay triaged with the reason when
// no node can take them.
func (s *Service) Triage(ctx context.Context, p tenants.Principal, id string, in TriageInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActTriage, func(c *change) error {
		t := c.T
		if err := modeInFlow(t.Type, in.Mode); err != nil {
			return err
		}
		tr := Triage{Mode: in.Mode, ServiceKind: defaultKind(in.Mode, t.Type), RequiredLevel: in.RequiredLevel, HardFault: in.HardFault}
		if tr.RequiredLevel == 0 {
			tr.RequiredLevel = 1
			if tr.HardFault {
				tr.RequiredLevel = 3
			}
		}
		t.Triage = &tr
		c.data["mode"] = tr.Mode
		if in.Instructions != "" && in.Mode != "remote" {
			return tenants.InvalidMsg("instructions", i18n.M("tickets.instructions_remote_only"), in.Instructions)
		}
		if in.Mode == "remote" {
			if in.Instructions == "" {
				return tenants.InvalidMsg("instructions", i18n.M("tickets.guidance_required"), nil)
			}
			t.Guidance = &Guidance{Instructions: in.Instructions}
			c.moveTo(StateTriaged, "", map[string]any{"triage": tr})
			c.moveTo(StateRemoteGuidance, "", map[string]any{"instructions": in.Instructions})
			c.meetSLA(SLARoute, SLAResponse, SLAFirstContact)
			return nil
		}
		if t.Category == nil {
			return tenants.InvalidMsg("mode", i18n.M("tickets.model_needed"), in.Mode)
		}
		rec := c.dispatchRecord()
		rec.Loaner = ""
		switch {
		case in.Loaner != "" && in.Mode != "carry_in":
			return tenants.InvalidMsg("loaner", i18n.M("tickets.loaner_carry_in_only"), in.Loaner)
		case in.Mode == "carry_in" && in.Loaner == "":
			rec.Loaner = dispatch.LoanerPreferred
		case in.Mode == "carry_in" && in.Loaner != "none":
			rec.Loaner = in.Loaner
		}
		t.Dispatch = &rec
		c.moveTo(StateTriaged, "", map[string]any{"triage": tr})
		return c.dispatch(ctx, dispatchOrder{})
	})
}

// remoteOnly reports whether tickets of type typ are served remotely only:
// their flow has no dispatch (a consultation, DESIGN: "consultation
// (remote only)").
func remoteOnly(typ string) bool { return !slices.Contains(transitionOf(ActDispatch).Types, typ) }

// modeInFlow refuses, at mode, a triage mode the ticket's type has no flow
// for: remote guidance for a type served by a visit (an installation, a
// return or an exchange: their flows record no guidance), a visit for a
// type served remotely only (a consultation: its flow has no accept,
// schedule or check-in). Either would leave the ticket open where no
// action of its flow leads on, its deadlines running, until cancelled.
// A carry-in for a type whose flow carries nothing in (only a repair's
// does) would be dispatched to nodes that take carry-ins, which need not
// install, service or collect.
func modeInFlow(typ, mode string) error {
	switch {
	case mode == "remote" && !slices.Contains(transitionOf(ActGuidance).Types, typ):
		return tenants.InvalidMsg("mode", i18n.M("tickets.visit_only", "Type", typ), mode)
	case mode != "remote" && remoteOnly(typ):
		return tenants.InvalidMsg("mode", i18n.M("tickets.remote_only", "Type", typ), mode)
	case mode == "carry_in" && !slices.Contains(transitionOf(ActCarryIn).Types, typ):
		return tenants.InvalidMsg("mode", i18n.M("tickets.carry_in_repair_only", "Type", typ), mode)
	}
	return nil
}

func defaultKind(mode, ticketType string) string {
	switch {
	case mode == "remote":
		return "remote"
	case mode == "carry_in":
		return "carry_in"
	case ticketType == "install" || ticketType == "maintenance":
		return ticketType
	}
	return "repair"
}

// DispatchRecord is what the ticket keeps of its dispatch: the last
// decision (every candidate considered with its score breakdown or the
// rule that excluded it), the override that made it, and who rejected the
// job before.
type DispatchRecord struct {
	Decision            dispatch.DispatchDecision `json:"decision"`
	Override            *Override                 `json:"override,omitempty"`
	RejectedNodes       []string                  `json:"rejected_nodes" doc:"Nodes that rejected the job: not dispatched to again." example:"[]"`
	RejectedTechnicians []string                  `json:"rejected_technicians" doc:"Technicians who rejected the job." example:"[]"`
	Loaner              string                    `json:"loaner,omitempty" enum:"preferred,required" doc:"A carry-in's need of a loaner, as triaged: every dispatch of the ticket weighs it." example:"preferred"`
}

// Override is a manual dispatch: who chose and why.
type Override struct {
	By     string `json:"by" doc:"The key that overrode the scoring." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	Reason string `json:"reason" doc:"Why." example:"customer asked for the same technician as last time"`
}

type dispatchOrder struct {
	nodeID, technicianID, reason string
	// wholeNetwork dispatches over the whole network whoever acts: the
	// dispatch that follows a node's or technician's rejection is the
	// network's, not one within the rejecting party's own subtree.
	wholeNetwork bool
}

func (c *change) dispatchRecord() DispatchRecord {
	var r DispatchRecord
	if c.T.Dispatch != nil {
		r = *c.T.Dispatch
	}
	if r.RejectedNodes == nil {
		r.RejectedNodes = []string{}
	}
	if r.RejectedTechnicians == nil {
		r.RejectedTechnicians = []string{}
	}
	return r
}

// dispatch asks the dispatch rules for a node and technician and moves the
// ticket to dispatched, or leaves it triaged with the reason when nobody
// can take it (the route SLA keeps running and escalates).
func (c *change) dispatch(ctx context.Context, o dispatchOrder) error {
	t := c.T
	rec := c.dispatchRecord()
	req := dispatch.Request{TicketID: t.ID, RegionCode: t.Address.RegionCode, Latitude: t.Address.Latitude, Longitude: t.Address.Longitude,
		Category: deref(t.Category), ServiceKind: t.Triage.ServiceKind, RequiredLevel: t.Triage.RequiredLevel,
		HardFault: t.Triage.HardFault, ExcludeNodes: rec.RejectedNodes, ExcludeTechnicians: rec.RejectedTechnicians,
		NodeID: o.nodeID, TechnicianID: o.technicianID, Loaner: rec.Loaner}
	if t.PreferredWindow != nil {
		req.WindowStart, req.WindowEnd = &t.PreferredWindow.Start, &t.PreferredWindow.End
	}
	if c.p.NodeID != "" && !o.wholeNetwork {
		sc, err := network.ResolveScope(ctx, c.tx, c.p)
		if err != nil {
			return err
		}
		req.ScopePath = sc.Path()
	}
	d, err := dispatch.Decide(ctx, c.tx, c.now, req)
	if err != nil {
		return err
	}
	rec.Decision, rec.Override = d, nil
	if o.nodeID != "" || o.technicianID != "" {
		rec.Override = &Override{By: c.p.Subject(), Reason: o.reason}
	}
	t.Dispatch = &rec
	detail := map[string]any{"node_id": d.NodeID, "technician_id": d.TechnicianID, "reason": d.Reason}
	switch {
	case rec.Override != nil:
		detail["override"] = rec.Override
	case o.reason != "":
		detail["requested_reason"] = o.reason // why it was dispatched again by the rules
	}
	if d.NodeID == "" {
		t.NodeID, t.TechnicianID = nil, nil
		if t.State != StateTriaged {
			c.moveTo(StateTriaged, d.Reason, detail)
		} else {
			c.note(d.Reason, detail)
			t.StateReason = &d.Reason
		}
		c.data["dispatch_failed"] = true
		return nil
	}
	t.NodeID = &d.NodeID
	t.TechnicianID = nil
	if d.TechnicianID != "" {
		t.TechnicianID = &d.TechnicianID
	}
	t.DispatchCount++
	c.moveTo(StateDispatched, d.Reason, detail)
	c.meetSLA(SLARoute)
	c.data["dispatch"] = detail
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// GuidanceInput is remote guidance's outcome.
type GuidanceInput struct {
	Outcome string `json:"outcome" enum:"resolved,observe,failed" doc:"resolved: the fault is gone (callback after 2 h); observe: the customer watches it (callback after 30 min); failed: a visit is needed (dispatched now)." example:"resolved"`
	Notes   string `json:"notes,omitempty" maxLength:"2000" doc:"What happened." example:"客户按指导清理过滤器后恢复正常"`
}

// RecordGuidance records remote guidance's outcome.
func (s *Service) RecordGuidance(ctx context.Context, p tenants.Principal, id string, in GuidanceInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActGuidance, func(c *change) error {
		t := c.T
		now := c.now
		if t.Guidance == nil {
			t.Guidance = &Guidance{}
		}
		t.Guidance.Outcome, t.Guidance.RecordedAt = in.Outcome, &now
		c.data["outcome"] = in.Outcome
		detail := map[string]any{"outcome": in.Outcome, "notes": in.Notes}
		switch in.Outcome {
		case "resolved":
			c.meetSLA(SLACompletion)
			c.moveTo(StateResolved, "", detail)
			c.startSLA(SLACallback, minutes(c.policy.GuidanceCallbackMinutes))
		case "observe":
			c.note("observe: callback in "+itoa(c.policy.ObserveCallbackMinutes)+" minutes", detail)
			c.startSLA(SLACallback, minutes(c.policy.ObserveCallbackMinutes))
		default:
			if remoteOnly(t.Type) {
				// a visit is a ticket of another type (repair, maintenance)
				return tenants.InvalidMsg("outcome", i18n.M("tickets.remote_only", "Type", t.Type), in.Outcome)
			}
			if t.Category == nil {
				return tenants.InvalidMsg("outcome", i18n.M("tickets.visit_needs_model"), in.Outcome)
			}
			t.needsVisit()
			c.meetSLA(SLACallback)
			c.note("guidance failed: a visit is needed", detail)
			return c.dispatch(ctx, dispatchOrder{})
		}
		return nil
	})
}

// DispatchInput is a manual dispatch.
type DispatchInput struct {
	NodeID       string `json:"node_id,omitempty" maxLength:"64" doc:"Dispatch to this node (an override: reason required). Absent: by the scoring rules." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	TechnicianID string `json:"technician_id,omitempty" maxLength:"64" doc:"Propose this technician of the node (an override)." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pr"`
	Reason       string `json:"reason,omitempty" maxLength:"500" doc:"Why: required for an override (kept as dispatch.override.reason); for a dispatch by the scoring rules, kept in the timeline's entry (detail.requested_reason)." example:"customer asked for the same technician as last time"`
}

// Dispatch dispatches (again): by the scoring rules, or to a chosen node
// and technician, recording who overrode the rules and why. A scheduled
// ticket dispatched again (改派 to another node or technician) gives up
// its window, which was its technician's: the new one agrees a window
// (the appointment history keeps the old one, and a window the network
// gave up once it had begun counts as missed, visitReport). A job sent
// to another node (or to none) leaves its parts: those of the first
// node's stock fitted or issued for it keep it there (a conflict: assign
// another of its technicians), those reserved go back to the node's
// shelf. Dispatched again to the same node, its parts stay as they are.
func (s *Service) Dispatch(ctx context.Context, p tenants.Principal, id string, in DispatchInput, ifVersion int) (Ticket, error) {
	if (in.NodeID != "" || in.TechnicianID != "") && strings.TrimSpace(in.Reason) == "" {
		return Ticket{}, tenants.InvalidMsg("reason", i18n.M("tickets.required_when_choosing"), nil)
	}
	return s.act(ctx, p, id, ifVersion, ActDispatch, func(c *change) error {
		c.T.needsVisit()
		if c.T.Category == nil {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.no_model_to_dispatch"))
		}
		from := c.T.NodeID // the node a job dispatched again leaves
		if c.T.State == StateScheduled {
			// 改派: the window was the node's technician's
			if a := c.T.Appointment; a.Start != nil && a.End != nil {
				c.data["window_given_up"] = Window{Start: *a.Start, End: *a.End}
			}
			c.T.Appointment = Appointment{}
		}
		if err := c.dispatch(ctx, dispatchOrder{nodeID: in.NodeID, technicianID: in.TechnicianID, reason: in.Reason}); err != nil {
			return err
		}
		if from != nil && (c.T.NodeID == nil || *c.T.NodeID != *from) {
			// to another node (or none): the parts leave the first one
			if err := c.partsLeave(ctx, from, func(parts string) i18n.Message {
				return i18n.M("tickets.redispatch_parts_held", "Parts", parts)
			}); err != nil {
				return err
			}
		}
		if (in.NodeID != "" || in.TechnicianID != "") && c.T.NodeID == nil {
			return tenants.InvalidMsg("node_id", i18n.M("tickets.cannot_dispatch_there", "Reason", deref(c.T.StateReason)), in.NodeID)
		}
		return nil
	})
}

// AssignInput names the technician a node assigns.
type AssignInput struct {
	TechnicianID string `json:"technician_id" maxLength:"64" doc:"A technician of the ticket's node, active, with a service licence valid on the day the job is to be done (the appointment's day, else the day of the customer's preferred window while it is ahead, else today; as dispatch judges it): 422 at technician_id naming the day otherwise. On a scheduled ticket (改派): the technician the agreed window passes to, who must be free for it." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pr"`
	Reason       string `json:"reason,omitempty" maxLength:"500" doc:"Why this technician (on a scheduled ticket, kept as the appointment's note)." example:"the proposed technician is on leave"`
}

// Assign lets the node (or a dispatcher) assign one of the node's
// technicians, who then has the job. A scheduled job is reassigned (改派,
// seeds 000 and 001: the centre reassigns another engineer when the one
// booked cannot make it) with the window agreed with the customer kept:
// the window is booked for the new technician as a schedule books it
// (appoint: shifts, licence, daily limit, other bookings; a conflict at
// window otherwise), recorded in the appointment history as a technician
// conflict, and the ticket stays scheduled. The first technician's time
// is free again.
func (s *Service) Assign(ctx context.Context, p tenants.Principal, id string, in AssignInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActAssign, func(c *change) error {
		if err := checkTechnician(ctx, c, "technician_id", in.TechnicianID); err != nil {
			return err
		}
		from := c.T.TechnicianID
		c.T.TechnicianID = &in.TechnicianID
		detail := map[string]any{"technician_id": in.TechnicianID}
		if c.T.State != StateScheduled || c.T.Appointment.Start == nil || c.T.Appointment.End == nil {
			c.moveTo(StateAssigned, in.Reason, detail)
			return nil
		}
		w := Window{Start: *c.T.Appointment.Start, End: *c.T.Appointment.End}
		unreachable := c.T.Appointment.CustomerUnreachable
		if err := c.appoint(ctx, w, "technician_conflict", in.Reason); err != nil {
			return err
		}
		// the window kept is still the one it was: agreed, or the
		// network's promise to a customer it could not reach
		c.T.Appointment.CustomerUnreachable = unreachable
		detail["from_technician_id"], detail["window"] = from, w
		c.data["from_technician_id"] = from
		c.moveTo(StateScheduled, in.Reason, detail)
		return nil
	})
}

// checkTechnician checks a technician belongs to the ticket's node and may
// work: active, licence valid on the ticket's serviceDay (invalid at loc
// otherwise), skilled enough. A job not yet taken
// (dispatched) is taken only by an active node: a node suspended or
// terminated since the dispatch takes no new work (a conflict: dispatch
// the ticket again).
func checkTechnician(ctx context.Context, c *change, loc, techID string) error {
	if !tenants.ValidID(tenants.PrefixTechnician, techID) {
		return tenants.InvalidMsg(loc, i18n.M("tickets.no_technician_at_node"), techID)
	}
	// The licence is judged on the day the job is to be done, as dispatch
	// and booking judge it: a licence ending before the booked (or
	// preferred) window's day does not take the job.
	day, err := c.serviceDay(ctx)
	if err != nil {
		return err
	}
	// The skill the triage requires in the ticket's category, as dispatch
	// requires it: a node assigning its own technician may not go below.
	required, category := 1, deref(c.T.Category)
	if c.T.Triage != nil && c.T.Triage.RequiredLevel > required {
		required = c.T.Triage.RequiredLevel
	}
	st, found, err := network.TechnicianAtNodeTx(ctx, c.tx, techID, deref(c.T.NodeID), day, category)
	switch {
	case err != nil:
		return err
	case !found:
		return tenants.InvalidMsg(loc, i18n.M("tickets.no_technician_at_node"), techID)
	case c.T.State == StateDispatched && st.NodeStatus != network.StatusActive:
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.node_not_active", "Status", string(st.NodeStatus)))
	case st.Status != network.TechnicianActive:
		return tenants.InvalidMsg(loc, i18n.M("tickets.technician_status", "Status", string(st.Status)), techID)
	case !st.LicenceValid:
		return checkLicence(st, day, loc, techID)
	case category != "" && st.Level < required:
		return tenants.InvalidMsg(loc, i18n.M("tickets.skill_below_required", "Category", category, "Level", st.Level, "Required", required), techID)
	}
	return nil
}

// AcceptInput accepts a dispatched job.
type AcceptInput struct {
	TechnicianID string `json:"technician_id,omitempty" maxLength:"64" doc:"For a node accepting on a technician's behalf when none was proposed, or another of its technicians. The technician who accepts (this one, the key's own or the one proposed) must be active with a service licence valid on the day of the customer's preferred window while it is ahead, else today (as dispatch judges it): 422 at technician_id naming the day otherwise." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pr"`
}

// Accept: the proposed technician (or the node for one of its
// technicians) takes the job.
func (s *Service) Accept(ctx context.Context, p tenants.Principal, id string, in AcceptInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActAccept, func(c *change) error {
		tech := in.TechnicianID
		if p.TechnicianID != "" {
			if tech != "" && tech != p.TechnicianID {
				return tenants.InvalidMsg("technician_id", i18n.M("tickets.technician_accepts_self"), tech)
			}
			tech = p.TechnicianID
		}
		if tech == "" {
			tech = deref(c.T.TechnicianID)
		}
		if tech == "" {
			return tenants.InvalidMsg("technician_id", i18n.M("tickets.no_technician_proposed"), nil)
		}
		if err := checkTechnician(ctx, c, "technician_id", tech); err != nil {
			return err
		}
		c.T.TechnicianID = &tech
		c.moveTo(StateAssigned, "", map[string]any{"technician_id": tech})
		return nil
	})
}

// RejectInput rejects a job.
type RejectInput struct {
	ReasonCode string `json:"reason_code" enum:"no_capacity,no_skill,too_far,schedule_conflict,parts_unavailable,other" doc:"Why the job is rejected." example:"schedule_conflict"`
	Note       string `json:"note,omitempty" maxLength:"500" doc:"More detail." example:"师傅当天已排满"`
}

// Reject: a technician rejects the job (the node may give it to another)
// or a node rejects it; the ticket is re-dispatched without them by the
// scoring rules over the whole network, not within the rejecting key's
// subtree (a repair point rejecting would otherwise find no node at all).
// A job that leaves its node so leaves its parts as Dispatch's does: those
// of the node's stock fitted or issued for it keep it there (a conflict
// naming them), those reserved go back to the node's shelf.
func (s *Service) Reject(ctx context.Context, p tenants.Principal, id string, in RejectInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActReject, func(c *change) error {
		rec := c.dispatchRecord()
		detail := map[string]any{"reason_code": in.ReasonCode, "note": in.Note, "node_id": c.T.NodeID, "technician_id": c.T.TechnicianID}
		if p.HasRole(tenants.RoleTechnician) && !p.HasRole(tenants.RoleNodeManager) && c.T.TechnicianID != nil {
			rec.RejectedTechnicians = append(rec.RejectedTechnicians, *c.T.TechnicianID)
		} else if c.T.NodeID != nil {
			rec.RejectedNodes = append(rec.RejectedNodes, *c.T.NodeID)
		}
		c.T.Dispatch = &rec
		c.data["reason_code"] = in.ReasonCode
		c.note("rejected: "+in.ReasonCode, detail)
		from := c.T.NodeID
		if err := c.dispatch(ctx, dispatchOrder{wholeNetwork: true}); err != nil {
			return err
		}
		if from != nil && (c.T.NodeID == nil || *c.T.NodeID != *from) {
			// to another node (or none): the parts leave the first one, as at a dispatch
			return c.partsLeave(ctx, from, func(parts string) i18n.Message {
				return i18n.M("tickets.redispatch_parts_held", "Parts", parts)
			})
		}
		return nil
	})
}

// CancelInput cancels a ticket.
type CancelInput struct {
	Reason string `json:"reason" minLength:"1" maxLength:"500" doc:"Why." example:"客户已自行解决"`
}

// Cancel cancels an open ticket; its running SLAs stop. Parts still
// reserved for it go back to the node (releaseParts); parts fitted to the
// unit or issued and not returned make it a conflict (partsHeld). A
// reopened ticket keeps what its earlier completion charged, whether or not
// the network came again: the repair was done and paid (seed 003's 多次免单
// frees an installation visited again because delivery was not in sync,
// and the repair of a fault back after a paid one, never by refunding the
// paid repair).
func (s *Service) Cancel(ctx context.Context, p tenants.Principal, id string, in CancelInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActCancel, func(c *change) error {
		now := c.now
		c.T.CancelledAt = &now
		c.meetSLA(SLAs...)
		parts, err := stock.TicketParts(ctx, c.tx, c.T.ID)
		if err != nil {
			return err
		}
		if err := c.partsHeld(parts); err != nil {
			return err
		}
		if err := c.releaseParts(ctx, c.T.NodeID, parts); err != nil {
			return err
		}
		c.moveTo(StateCancelled, in.Reason, nil)
		return nil
	})
}

// ReopenInput reopens a finished ticket.
type ReopenInput struct {
	Reason string `json:"reason" minLength:"1" maxLength:"500" doc:"Why." example:"complaint: the fault came back the next day"`
}

// Reopen reopens a completed, resolved or closed ticket to serve it again.
func (s *Service) Reopen(ctx context.Context, p tenants.Principal, id string, in ReopenInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActReopen, func(c *change) error {
		c.reopen(in.Reason, nil)
		return nil
	})
}

// reopen makes a finished ticket workable again: a new visit, with the
// last one's sign-off and charges kept on the timeline only; detail is the
// reopening step's. A ticket served remotely only (a consultation) goes
// straight back to remote guidance, the way it is served: a reopened one
// would wait for a dispatch its flow does not have.
func (c *change) reopen(reason string, detail map[string]any) {
	t := c.T
	t.ReopenCount++
	t.ClosedAt, t.CompletedAt = nil, nil
	t.Signoff = Signoff{}
	t.signoffHash, t.signoffAttempts = nil, 0
	t.FollowUp = FollowUp{}
	c.meetSLA(SLACallback)
	c.moveTo(StateReopened, reason, detail)
	c.startSLA(SLACompletion, c.policy.reopenedDeadline(t.Type, t.Priority))
	if remoteOnly(t.Type) {
		c.moveTo(StateRemoteGuidance, reason, nil)
		return
	}
	t.needsVisit()
}

// reopenedDeadline is how long a reopened ticket has to be completed
// again, from the reopening: an install its policy's install_minutes (the
// seeds' 24 hours; the delivery, which the intake's install deadline counts
// from, is long past), any other ticket the completion_minutes; either
// scaled by the priority like the intake's completion deadline.
func (p SLAPolicy) reopenedDeadline(ticketType, priority string) time.Duration {
	mins := p.CompletionMinutes
	if ticketType == TypeInstall {
		mins = p.InstallMinutes
	}
	return p.intakeDeadline(mins, priority)
}

// needsVisit makes an untriaged or remotely guided ticket an on-site one,
// keeping any skill level and hard-fault flag triage gave it.
func (t *Ticket) needsVisit() {
	if t.Triage == nil {
		t.Triage = &Triage{RequiredLevel: 1}
	}
	if t.Triage.Mode == "" || t.Triage.Mode == "remote" {
		t.Triage.Mode, t.Triage.ServiceKind = "on_site", defaultKind("on_site", t.Type)
	}
}

// CallbackInput is a follow-up callback's outcome.
type CallbackInput struct {
	Outcome string `json:"outcome" enum:"satisfied,unsatisfied,unreachable" doc:"satisfied closes the ticket; unsatisfied reopens and re-dispatches it (a consultation goes back to remote guidance); unreachable waits for another try (the tenant's rule closes it after enough tries)." example:"satisfied"`
	Note    string `json:"note,omitempty" maxLength:"1000" doc:"What the customer said." example:"客户表示满意"`
}

// RecordCallback records a follow-up callback.
func (s *Service) RecordCallback(ctx context.Context, p tenants.Principal, id string, in CallbackInput, ifVersion int) (Ticket, error) {
	return s.act(ctx, p, id, ifVersion, ActCallback, func(c *change) error {
		t := c.T
		if _, err := c.tx.Exec(ctx, `INSERT INTO ticket_callbacks (tenant_id, ticket_id, seq, outcome, note, actor, at)
			VALUES ($1, $2, (SELECT coalesce(max(seq), 0) + 1 FROM ticket_callbacks WHERE tenant_id = $1 AND ticket_id = $2), $3, $4, $5, $6)`,
			c.tx.TenantID, t.ID, in.Outcome, nullIfEmpty(in.Note), c.p.Subject(), c.now); err != nil {
			return err
		}
		outcome := in.Outcome
		t.FollowUp.Outcome = &outcome
		c.data["outcome"] = in.Outcome
		detail := map[string]any{"outcome": in.Outcome, "note": in.Note}
		now := c.now
		switch in.Outcome {
		case "satisfied":
			c.meetSLA(SLACallback, SLACompletion)
			t.ClosedAt = &now
			c.moveTo(StateClosed, "customer satisfied", detail)
		case "unsatisfied":
			c.meetSLA(SLACallback)
			c.reopen("customer unsatisfied at callback", detail)
			if remoteOnly(t.Type) {
				return nil // guided again (reopen)
			}
			return c.dispatch(ctx, dispatchOrder{})
		default:
			t.FollowUp.UnreachableCount++
			n := t.FollowUp.UnreachableCount
			if limit := c.policy.UnreachableCloseAfter; limit > 0 && n >= limit && t.State != StateRemoteGuidance {
				c.meetSLA(SLACallback, SLACompletion)
				t.ClosedAt = &now
				c.moveTo(StateClosed, "customer unreachable after "+itoa(n)+" callbacks (tenant rule)", detail)
				return nil
			}
			c.note("customer unreachable ("+itoa(n)+")", detail)
		}
		return nil
	})
}

// knownState reports whether s names a ticket state.
func knownState(s string) bool { return slices.Contains(States, State(s)) }

// partsHeld refuses to cancel a ticket whose parts (its requisition lines)
// are out of its node's stock: a cancellation settles nothing, so the
// node's stock would stay short with nobody charged for them, and no claim
// can be made for a ticket never completed. Parts fitted to the unit (used) are a conflict naming
// them: complete the ticket instead, so they are billed or claimed;
// fitted parts a reopened ticket's earlier completions billed
// (settledParts) are settled and do not count. Parts issued to the technician
// and neither fitted nor returned are a conflict naming them: return them
// to the node first.
func (c *change) partsHeld(parts []stock.TicketPart) error {
	var fitted, out []string
	settled := c.T.settledParts()
	for _, p := range parts {
		if p.Used > settled[p.PartID].Used {
			fitted = append(fitted, p.PartNumber)
		}
		if p.Issued > p.Used+p.Returned {
			out = append(out, p.PartNumber)
		}
	}
	switch {
	case len(fitted) > 0:
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.cancel_parts_fitted", "Parts", strings.Join(fitted, ", ")))
	case len(out) > 0:
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.cancel_parts_issued", "Parts", strings.Join(out, ", ")))
	}
	return nil
}

// releaseParts gives back what a cancelled or completed ticket still holds
// reserved (reserved, not issued) at nodeID, its node (or the node it
// leaves), parts being its requisition
// lines: the node can hand them out again. It moves stock as a release
// through the ticket's requisition does (stock_moves kind release).
func (c *change) releaseParts(ctx context.Context, nodeID *string, parts []stock.TicketPart) error {
	if nodeID == nil {
		return nil
	}
	var lines []stock.Line
	for _, p := range parts {
		if n := p.Reserved - p.Issued; n > 0 {
			lines = append(lines, stock.Line{PartID: p.PartID, Quantity: n})
		}
	}
	if len(lines) == 0 {
		return nil
	}
	_, err := stock.Apply(ctx, c.tx, stock.Requisition{NodeID: *nodeID, TicketID: c.T.ID, Op: stock.OpRelease,
		Lines: lines, Actor: c.p.Subject(), Loc: "lines"})
	return err
}
