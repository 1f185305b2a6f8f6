package swaps

import (
	"context"
	"strings"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Approval is an approver's decision on a swap's current step.
type Approval struct {
	Note string `json:"note,omitempty" maxLength:"500" doc:"Kept in the swap's steps." example:"photos checked"`
	// ReplacementModelID chooses (or changes) the replacement.
	ReplacementModelID string `json:"replacement_model_id,omitempty" maxLength:"64" doc:"Chooses the replacement: a model of the unit's category, not discontinued, priced no higher than the original's purchase price (its list price when none was recorded); the unit's own model is always allowed. Required at the brand's step when the evaluation found none." example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pg"`
}

// Fulfilment is the replacement handed to the customer.
type Fulfilment struct {
	Serial string `json:"serial" minLength:"1" maxLength:"64" doc:"Serial of the new unit." example:"BH0Y3E1D2000999"`
}

// approver names who approves a swap in state st, and checks p is that one.
func approver(p tenants.Principal, st State) error {
	switch st {
	case StatePendingNodeManager:
		if !p.HasRole(tenants.RoleNodeManager) {
			return tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("swaps.pending_node_manager"))
		}
	case StatePendingBrand:
		if !p.HasRole(tenants.RoleTenantAdmin) {
			return tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("swaps.pending_brand"))
		}
	default:
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("swaps.no_approval_step", "State", st))
	}
	return nil
}

// lockForChange reads a swap for a change, checks it is served in a
// node-bound principal's subtree (not_found otherwise: out of scope) and
// checks the version. A swap requested before its unit had a dispatched
// ticket learns its serving node here.
func (s *Service) lockForChange(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string, ifVersion int) (Swap, error) {
	w, err := getSwap(ctx, tx, p.StorefrontID, id, "FOR UPDATE")
	if err != nil {
		return Swap{}, err
	}
	if w.NodeID == nil {
		node, err := s.servingNode(ctx, tx, w.UnitID, "")
		if err != nil {
			return Swap{}, err
		}
		if node != nil {
			if _, err := tx.Exec(ctx, `UPDATE swaps SET node_id = $3 WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, *node); err != nil {
				return Swap{}, err
			}
			w.NodeID = node
		}
	}
	if err := s.checkServingScope(ctx, tx, p, w); err != nil {
		return Swap{}, err
	}
	return w, tenants.CheckVersion("swap", ifVersion, w.Version)
}

// Approve approves the swap's current step: pending_node_manager by a node
// manager's key (then pending_brand when the amount needs the brand, else
// approved), pending_brand by a tenant_admin key (then approved). Another
// role at a step is forbidden, naming the step; a swap in another state is a
// conflict naming it.
func (s *Service) Approve(ctx context.Context, p tenants.Principal, id string, in Approval, ifVersion int) (Swap, error) {
	var out Swap
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		w, err := s.lockForChange(ctx, tx, p, id, ifVersion)
		if err != nil {
			return err
		}
		if err := approver(p, w.State); err != nil {
			return err
		}
		replacement, amount := w.ReplacementModelID, w.Amount
		if in.ReplacementModelID != "" {
			m, err := checkReplacement(ctx, tx, w.UnitID, in.ReplacementModelID)
			if err != nil {
				return err
			}
			replacement = &m.ID
			a := m.RetailPrice
			if w.Fee != nil {
				a.Amount = max(a.Amount-w.Fee.Amount, 0)
			}
			amount = &a
			// The chain by amount: a node manager's approval ends the chain
			// only up to the node limit; a replacement that raises the
			// amount above it is the brand's to choose.
			if _, node := s.limits(); w.State == StatePendingNodeManager && !w.NeedsBrand && a.Amount > node {
				return tenants.InvalidMsg("replacement_model_id", i18n.M("swaps.above_approval_limit", "Amount", major(a.Amount), "Limit", major(node)), in.ReplacementModelID)
			}
		}
		to, reason := StateApproved, "approved by the brand"
		if w.State == StatePendingNodeManager {
			reason = "approved by the node manager"
			if w.NeedsBrand {
				to = StatePendingBrand
			}
		}
		if replacement == nil && to == StateApproved {
			return tenants.InvalidMsg("replacement_model_id", i18n.M("swaps.replacement_required"), nil)
		}
		if n := strings.TrimSpace(in.Note); n != "" {
			reason += ": " + n
		}
		var amt *int64
		if amount != nil {
			amt = &amount.Amount
		}
		now, err := testclocks.TimeOf(ctx, tx, w.TestClockID, s.now())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE swaps SET state = $3, state_reason = $4, replacement_model_id = $5, amount = $6,
			version = version + 1, updated_at = $7 WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, id, to, reason, replacement, amt, now); err != nil {
			return err
		}
		from := w.State
		if out, err = getSwap(ctx, tx, "", id, ""); err != nil {
			return err
		}
		typ := TypeSwapEvaluated
		if to == StateApproved {
			typ = TypeSwapApproved
		}
		if err := step(ctx, tx, out, &from, now, reason, p.Subject(), typ, nil); err != nil {
			return err
		}
		out.Steps, err = loadSteps(ctx, tx, id)
		return err
	})
	return out, pg.Translate(err)
}

// checkReplacement checks a chosen replacement model against the unit's:
// the same category, not discontinued, and, unless it is the unit's own
// model, priced no higher than the original (replacementCeiling: the
// purchase price).
func checkReplacement(ctx context.Context, tx pg.TenantTx, unitID, modelID string) (catalog.ProductModel, error) {
	const loc = "replacement_model_id"
	u, err := customers.LoadUnitSystemTx(ctx, tx, unitID)
	if err != nil {
		return catalog.ProductModel{}, err
	}
	orig, err := catalog.LoadModel(ctx, tx, u.ModelID)
	if err != nil {
		return catalog.ProductModel{}, err
	}
	m, err := catalog.LoadModel(ctx, tx, modelID)
	switch {
	case tenants.ErrorCode(err) == tenants.CodeNotFound:
		return m, tenants.InvalidMsg(loc, i18n.M("swaps.no_such_model"), modelID)
	case err != nil:
		return m, err
	case m.Category != orig.Category:
		return m, tenants.InvalidMsg(loc, i18n.M("swaps.category_mismatch", "Category", m.Category, "Original", orig.Category), modelID)
	case m.Discontinued:
		return m, tenants.InvalidMsg(loc, i18n.M("swaps.model_discontinued"), modelID)
	}
	if ceiling, of := replacementCeiling(u, orig); m.ID != orig.ID && m.RetailPrice.Amount > ceiling {
		msg := i18n.M("swaps.above_retail_price", "Price", major(ceiling))
		if of == "purchase price" {
			msg = i18n.M("swaps.above_purchase_price", "Price", major(ceiling))
		}
		return m, tenants.InvalidMsg(loc, msg, modelID)
	}
	return m, nil
}

// Reject rejects an open swap with a reason: a tenant_admin key at any step
// after the evaluation, a node manager's key at pending_node_manager only
// (forbidden otherwise, naming the step). A swap still requested, approved
// by the evaluation, fulfilled or rejected is a conflict naming its state,
// except that the brand may reject an approved swap before fulfilment.
func (s *Service) Reject(ctx context.Context, p tenants.Principal, id, reason string, ifVersion int) (Swap, error) {
	reason = strings.TrimSpace(reason)
	if n := len([]rune(reason)); n < 1 || n > 500 {
		return Swap{}, tenants.InvalidMsg("reason", i18n.M("common.length", "Min", 1, "Max", 500), reason)
	}
	var out Swap
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		w, err := s.lockForChange(ctx, tx, p, id, ifVersion)
		if err != nil {
			return err
		}
		switch {
		case w.State == StateApproved && p.HasRole(tenants.RoleTenantAdmin):
		case w.State == StatePendingNodeManager || w.State == StatePendingBrand:
			if !p.HasRole(tenants.RoleTenantAdmin) {
				if err := approver(p, w.State); err != nil {
					return err
				}
			}
		default:
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("swaps.not_rejectable", "State", w.State))
		}
		now, err := testclocks.TimeOf(ctx, tx, w.TestClockID, s.now())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE swaps SET state = 'rejected', state_reason = $3, version = version + 1, updated_at = $4
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, reason, now); err != nil {
			return err
		}
		from := w.State
		if out, err = getSwap(ctx, tx, "", id, ""); err != nil {
			return err
		}
		if err := step(ctx, tx, out, &from, now, reason, p.Subject(), TypeSwapRejected, nil); err != nil {
			return err
		}
		out.Steps, err = loadSteps(ctx, tx, id)
		return err
	})
	return out, pg.Translate(err)
}

// Fulfil records the hand-over of an approved swap: the replacement unit is
// registered (same owner, the replacement model, serial) and the old unit is
// marked replaced by it. The plan whose benefit the swap used (its
// contract_id) ends with the old unit, consumed (rules 5-7: the replacement
// is not covered by it; it keeps the normal warranty). Every other live plan
// follows the replacement with its dates (warranty.FollowReplacementUnit):
// the customer paid for it, and an exchange the brand owes (a statutory or
// warranty exchange, a seven-day exchange, which use no plan) must not take
// it away.
// The replacement is bought on the swap's day: its test clock's when it
// lives on one (its warranty starts then).
// Any state but approved is a conflict naming it; a bad serial is invalid.
func (s *Service) Fulfil(ctx context.Context, p tenants.Principal, id string, in Fulfilment, ifVersion int) (Swap, error) {
	var out Swap
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		w, err := s.lockForChange(ctx, tx, p, id, ifVersion)
		if err != nil {
			return err
		}
		if w.State != StateApproved {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("swaps.not_fulfillable", "State", w.State))
		}
		now, err := testclocks.TimeOf(ctx, tx, w.TestClockID, s.now())
		if err != nil {
			return err
		}
		nu, err := customers.ReplaceUnitSystemTx(ctx, tx, p.KeyID,
			w.UnitID, customers.Replacement{ModelID: *w.ReplacementModelID, Serial: in.Serial}, now)
		if err != nil {
			return err
		}
		used := ""
		if w.ContractID != nil {
			used = *w.ContractID
		}
		moved, err := warranty.FollowReplacementUnit(ctx, tx, w.UnitID, nu.ID, used,
			"unit exchanged ("+w.ID+"): the plan follows the replacement "+nu.ID+" from "+w.UnitID, p.Subject())
		if err != nil {
			return err
		}
		consumed, err := warranty.EndForReplacedUnit(ctx, tx, w.UnitID,
			"unit swapped ("+w.ID+"): the replacement "+nu.ID+" is not covered", p.Subject())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE swaps SET state = 'fulfilled', state_reason = $3, replacement_unit_id = $4,
			version = version + 1, updated_at = $5 WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, id, "replacement "+nu.ID+" handed over", nu.ID, now); err != nil {
			return err
		}
		from := w.State
		if out, err = getSwap(ctx, tx, "", id, ""); err != nil {
			return err
		}
		if consumed == nil {
			consumed = []string{}
		}
		if err := step(ctx, tx, out, &from, now, "replacement "+nu.ID+" handed over", p.Subject(), TypeSwapFulfilled,
			map[string]any{"replacement_unit_id": nu.ID, "ended_contract_ids": consumed, "moved_contract_ids": moved}); err != nil {
			return err
		}
		out.Steps, err = loadSteps(ctx, tx, id)
		return err
	})
	return out, pg.Translate(err)
}
