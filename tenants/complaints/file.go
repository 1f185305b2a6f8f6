package complaints

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// escalationInterval is how long an escalated complaint may stay unresolved
// before it escalates one level further: the tenant's SLA policy.
func escalationInterval(ctx context.Context, tx pg.TenantTx) (time.Duration, error) {
	pol, err := tickets.LoadSLAPolicy(ctx, tx)
	if err != nil {
		return 0, err
	}
	return time.Duration(pol.EscalationMinutes) * time.Minute, nil
}

func (s *Service) enqueue(ctx context.Context, tx pg.TenantTx, id string, clock *string, level int, due time.Time) error {
	if level > MaxLevel {
		return nil
	}
	return s.enqueueSLA(ctx, tx.Tx, tx.TenantID, id, clock, level, due)
}

// FileComplaint files a complaint and schedules its SLA timer in the same
// transaction. At least one of ticket_id, node_id and technician_id is
// needed (422 on ticket_id), and a property_damage or late_arrival
// complaint names its ticket (422 on ticket_id); node, technician, storefront and customer
// default from the ticket, the node from the technician. References that do
// not exist (or, for a storefront key, a ticket of another storefront; for
// a node-scoped key, a ticket or technician outside its subtree) are 422
// naming the field. A storefront key files only against its own
// storefront's tickets and names neither node nor technician; a node-scoped
// key only against its subtree's nodes, tickets and technicians. A
// complaint about a ticket on a test clock lives on the ticket's clock: it
// is filed at the clock's time and its deadline runs on the clock.
func (s *Service) FileComplaint(ctx context.Context, p tenants.Principal, in NewComplaint) (ComplaintDetail, error) {
	v := &tenants.Validation{}
	if in.Severity == "" {
		in.Severity = SeverityMedium
	}
	if !slices.Contains(Categories, in.Category) {
		v.AddMsg("category", i18n.M("common.one_of", "Values", categoryList), in.Category)
	}
	if !slices.Contains(Severities, in.Severity) {
		v.AddMsg("severity", i18n.M("common.one_of", "Values", "low, medium, high, critical"), in.Severity)
	}
	if n := len([]rune(strings.TrimSpace(in.Description))); n < 1 || len([]rune(in.Description)) > 2000 {
		v.AddMsg("description", i18n.M("common.length", "Min", 1, "Max", 2000), in.Description)
	}
	if in.TicketID == "" && in.NodeID == "" && in.TechnicianID == "" {
		v.AddMsg("ticket_id", i18n.M("complaints.target_required"), nil)
	} else if in.Category == CategoryPropertyDamage && in.TicketID == "" {
		v.AddMsg("ticket_id", i18n.M("complaints.damage_ticket_required"), nil)
	} else if in.Category == CategoryLateArrival && in.TicketID == "" {
		v.AddMsg("ticket_id", i18n.M("complaints.late_arrival_ticket_required"), nil)
	}
	if in.ClaimedAmount != nil && in.Category != CategoryPropertyDamage {
		v.AddMsg("claimed_amount", i18n.M("complaints.claimed_only_damage"), in.ClaimedAmount)
	}
	var out ComplaintDetail
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveScope(ctx, tx, p)
		if err != nil {
			return err
		}
		var claimedAmount *int64
		var claimedCurrency *string
		if in.ClaimedAmount != nil && in.Category == CategoryPropertyDamage {
			if err := checkAmount(ctx, tx, v, "claimed_amount", *in.ClaimedAmount); err != nil {
				return err
			}
			claimedAmount, claimedCurrency = &in.ClaimedAmount.Amount, &in.ClaimedAmount.Currency
		}
		var ticket tickets.Parties
		var storefront, customer *string
		if sc.storefront != nil {
			storefront = sc.storefront
			if in.TicketID == "" {
				v.AddMsg("ticket_id", i18n.M("complaints.storefront_own_tickets"), nil)
			}
			if in.NodeID != "" {
				v.AddMsg("node_id", i18n.M("complaints.storefront_node_from_ticket"), in.NodeID)
			}
			if in.TechnicianID != "" {
				v.AddMsg("technician_id", i18n.M("complaints.storefront_technician_from_ticket"), in.TechnicianID)
			}
		}
		if in.TicketID != "" {
			t, found, err := tickets.PartiesTx(ctx, tx, in.TicketID)
			switch {
			case err != nil:
				return err
			case !found:
				v.AddMsg("ticket_id", i18n.M("common.no_ticket_with_id"), in.TicketID)
			case sc.storefront != nil && (t.StorefrontID == nil || *t.StorefrontID != *sc.storefront),
				sc.nodes != nil && (t.NodeID == nil || !slices.Contains(sc.nodes, *t.NodeID)):
				// another storefront's ticket, or one outside a node key's
				// subtree, is not one the key can see
				v.AddMsg("ticket_id", i18n.M("common.no_ticket_with_id"), in.TicketID)
			default:
				ticket = t
				if sc.storefront == nil {
					storefront = t.StorefrontID
				}
				customer = t.CustomerID
			}
		}
		node, tech := ticket.NodeID, ticket.TechnicianID
		if in.TechnicianID != "" {
			techNode, found, err := network.NodeOfTechnicianTx(ctx, tx, in.TechnicianID)
			switch {
			case err != nil:
				return err
			case !found, sc.nodes != nil && !slices.Contains(sc.nodes, techNode):
				// a node key knows only its subtree's technicians
				v.AddMsg("technician_id", i18n.M("common.no_technician_with_id"), in.TechnicianID)
			default:
				tech = &in.TechnicianID
				if node == nil && in.NodeID == "" {
					node = &techNode
				}
			}
		}
		if in.NodeID != "" {
			ok := false
			if tenants.ValidID(tenants.PrefixNode, in.NodeID) {
				names, err := network.NodeNamesTx(ctx, tx, []string{in.NodeID})
				if err != nil {
					return err
				}
				_, ok = names[in.NodeID]
			}
			if !ok {
				v.AddMsg("node_id", i18n.M("common.no_node_with_id"), in.NodeID)
			} else {
				node = &in.NodeID
			}
		}
		if in.CustomerID != "" && (customer == nil || *customer != in.CustomerID) {
			// the ticket's own customer is the key's to name; another
			// must be in its scope (a storefront's own customers)
			ok, err := customers.CustomerExistsTx(ctx, tx, customers.ScopeOf(p), in.CustomerID)
			if err != nil {
				return err
			}
			if !ok {
				v.AddMsg("customer_id", i18n.M("common.no_customer_with_id"), in.CustomerID)
			} else {
				customer = &in.CustomerID
			}
		}
		if sc.nodes != nil && v.Err() == nil && (node == nil || !slices.Contains(sc.nodes, *node)) {
			v.AddMsg("node_id", i18n.M("complaints.node_outside_scope"), in.NodeID)
		}
		if err := v.Err(); err != nil {
			return err
		}

		now, clock := s.now(), ticket.TestClockID
		if clock != nil {
			if now, err = testclocks.NowTx(ctx, tx, *clock); err != nil {
				return err
			}
		}
		due := now.Add(SLAWindows[in.Severity])
		id := tenants.NewID(tenants.PrefixComplaint)
		if _, err := tx.Exec(ctx, `INSERT INTO complaints (tenant_id, id, ticket_id, node_id, technician_id, storefront_id, customer_id,
			category, severity, description, state, sla_due_at, created_by, created_at, updated_at, claimed_amount, claimed_currency, test_clock_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11, $12, $13, $13, $14, $15, $16)`,
			tx.TenantID, id, nullable(in.TicketID), node, tech, storefront, customer, in.Category, in.Severity,
			in.Description, due, p.Subject(), now, claimedAmount, claimedCurrency, clock); err != nil {
			return err
		}
		c := Complaint{ID: id, TicketID: nullable(in.TicketID), NodeID: node, TechnicianID: tech, StorefrontID: storefront,
			CustomerID: customer, Category: in.Category, Severity: in.Severity}
		extra := map[string]any{"sla_due_at": due}
		if in.ClaimedAmount != nil {
			extra["claimed_amount"] = *in.ClaimedAmount
		}
		if err := record(ctx, tx, c, change{action: "file", to: StateOpen, level: 0, actor: p.Subject(), eventType: TypeFiled,
			extra: extra, at: now}); err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, id, clock, 1, due); err != nil {
			return err
		}
		out, err = getDetail(ctx, tx, id, now)
		return err
	})
	return out, pg.Translate(err)
}

// checkAmount adds to v what is wrong with m at loc: an amount of the
// tenant's currency, above zero and bounded.
func checkAmount(ctx context.Context, tx pg.TenantTx, v *tenants.Validation, loc string, m tenants.Money) error {
	st, err := tx.Settings(ctx)
	if err != nil {
		return err
	}
	tenants.CheckMoney(v, loc, m, st.Currency)
	if m.Amount == 0 {
		v.AddMsg(loc+".amount", i18n.M("common.must_be_positive"), m.Amount)
	}
	return nil
}
