// Package tickets owns service tickets from intake to callback: intake with
// verification, triage and remote guidance, dispatch to nodes and
// technicians, appointments, on-site work (diagnosis, entitlement and quote,
// parts, carry-in with loaners, swap requests), completion with the service
// promises' waivers, sign-off by a one-time code, follow-up callbacks, SLA
// timers and daily reconciliation.
//
// Every action runs in one tenant transaction that locks the ticket, checks
// the transition against the published table (Transitions), writes the
// ticket (its SLA deadlines and their next check among its columns), its
// timeline entries and the event (ticket.<action>) together; a sweep
// checks the deadlines (sla_sweep.go). Event data carries storefront_id (null when none).
package tickets

import (
	"context"
	"errors"
	"time"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/swaps"
)

// Service is the tickets context's entry point. Each exported method runs in
// one tenant-scoped transaction. Build it with NewService.
type Service struct {
	DB  pg.DB
	Now func() time.Time

	codes   CodeSender
	notify  *notifications.Service
	swaps   *swaps.Service
	payouts *payouts.Service
}

// Deps are the Service's dependencies: Swaps, Payouts and Notifications
// are required; Codes is optional.
type Deps struct {
	// Swaps takes the swap requests of repairs judged impossible.
	Swaps *swaps.Service
	// Payouts schedules the compensation a plan owes for a completed
	// repair (rule 7).
	Payouts *payouts.Service
	// Notifications tells the ticket's customer of its moments and
	// delivers the sign-off codes (the tenant's SMS gateway, else the
	// notification.requested event).
	Notifications *notifications.Service
	// Codes, when set, also receives every sign-off code in the sending
	// transaction: a tap for tests, which read the codes from it, and no
	// part of the service (the codes reach customers through
	// Notifications either way). Nil: nothing more.
	Codes CodeSender
}

// NewService returns the tickets service over db. It fails when db or a
// required dependency is missing.
func NewService(db pg.DB, d Deps) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("tickets: NewService needs a database")
	case d.Swaps == nil:
		return nil, errors.New("tickets: Deps.Swaps is required")
	case d.Payouts == nil:
		return nil, errors.New("tickets: Deps.Payouts is required")
	case d.Notifications == nil:
		return nil, errors.New("tickets: Deps.Notifications is required")
	}
	return &Service{DB: db, swaps: d.Swaps, payouts: d.Payouts, codes: d.Codes, notify: d.Notifications}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// CodeSender also receives the one-time sign-off codes for the customers'
// phones (Deps.Codes: tests).
type CodeSender interface {
	SendSignoffCode(ctx context.Context, tenantID, ticketID, phone, code string) error
}

// State is where a ticket is in its life.
type State string

// Ticket states (DESIGN.md "Service tickets").
const (
	StateNew            State = "new"
	StateNeedsInfo      State = "needs_info"
	StateTriaged        State = "triaged"
	StateRemoteGuidance State = "remote_guidance"
	StateResolved       State = "resolved"
	StateDispatched     State = "dispatched"
	StateAssigned       State = "assigned"
	StateScheduled      State = "scheduled"
	StateOnSite         State = "on_site"
	StateAwaitingParts  State = "awaiting_parts"
	StateCarryIn        State = "carry_in"
	StateReturned       State = "returned"
	StateCompleted      State = "completed"
	StateClosed         State = "closed"
	StateReopened       State = "reopened"
	StateCancelled      State = "cancelled"
)

// States lists every state in life order.
var States = []State{StateNew, StateNeedsInfo, StateTriaged, StateRemoteGuidance, StateResolved, StateDispatched,
	StateAssigned, StateScheduled, StateOnSite, StateAwaitingParts, StateCarryIn, StateReturned, StateCompleted,
	StateClosed, StateReopened, StateCancelled}

// Event types on the tenant feed: ticket.<action> for every action, plus
// the timers' ticket.sla_breached.
const (
	TypeSLABreached = "ticket.sla_breached"
)
