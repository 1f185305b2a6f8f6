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
	// CustomerFee is the brand's fee on a swap no rule prices.
	CustomerFee *tenants.Money `json:"customer_fee,omitempty" doc:"The brand's step only, on a swap whose brand_sets_fee is true (no rule owes it free and no plan fixes its fee): what the customer pays for the exchange (a goodwill or paid exchange: the depreciation, a flat amount), in the tenant's currency, from 0 to the replacement's retail price. It becomes the swap's fee (fee_set_by brand), the customer's as a plan's fee is; the rest of the replacement (amount) is borne as borne_by says (the brand, or the plan whose fee could not be given). On any other swap, or at the node manager's step, 422 naming customer_fee: a swap a rule owes free (a statutory or warranty exchange) carries no fee, and a plan's swap the fee its plan fixes. Absent: approved at the fee the swap has (none, on such a swap)."`
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
		// The contract the swap is under must still be in force on its
		// day, as at the request and the evaluation: one cancelled,
		// consumed or expired since neither prices nor bears the swap. The
		// swap is evaluated again as one naming none (Evaluate), and this
		// approval is not applied: the swap is returned at its new step.
		if w.ContractID != nil {
			gone, err := s.contractLapsed(ctx, tx, w)
			if err != nil {
				return err
			}
			if gone != "" {
				if out, err = s.evaluate(ctx, tx, w, p.Subject()); err != nil {
					return err
				}
				out.Steps, err = loadSteps(ctx, tx, id)
				return err
			}
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
		// The brand's fee on a swap no rule prices: the swap's fee, the
		// customer's, as a plan's is; the rest of the replacement is the
		// amount, borne by the brand (or the plan whose fee could not be
		// given).
		var fee *int64
		var feeRule, feeBy *string
		var extra map[string]any
		if in.CustomerFee != nil {
			price, err := s.checkCustomerFee(ctx, tx, w, *in.CustomerFee, *replacement)
			if err != nil {
				return err
			}
			f := in.CustomerFee.Amount
			a := tenants.Money{Amount: price - f, Currency: in.CustomerFee.Currency}
			amount, fee = &a, &f
			bearer := BorneByBrand
			if w.ContractID != nil {
				bearer = BorneByPlan + " " + *w.ContractID
			}
			r := "set by the brand at its approval (no rule fixes it): the customer pays " + major(f) + ", the " + bearer +
				" bears " + major(a.Amount) + " of the replacement's " + major(price)
			feeRule = &r
			reason += "; " + r
			extra = map[string]any{"amount": a, "fee_rule": r}
			by := FeeSetByBrand
			feeBy = &by
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
			fee = COALESCE($8, fee), fee_rule = COALESCE($9, fee_rule), fee_set_by = COALESCE($10, fee_set_by),
			version = version + 1, updated_at = $7 WHERE tenant_id = $1 AND id = $2`,
			tx.TenantID, id, to, clip(reason), replacement, amt, now, fee, feeRule, feeBy); err != nil {
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
		if err := step(ctx, tx, out, &from, now, reason, p.Subject(), typ, extra); err != nil {
			return err
		}
		out.Steps, err = loadSteps(ctx, tx, id)
		return err
	})
	return out, pg.Translate(err)
}

// contractLapsed says why the contract swap w is under no longer covers
// it on the swap's day (lapsed), "" while it does.
func (s *Service) contractLapsed(ctx context.Context, tx pg.TenantTx, w Swap) (string, error) {
	cs, err := warranty.UnitContracts(ctx, tx, w.UnitID)
	if err != nil {
		return "", err
	}
	st, err := tx.Settings(ctx)
	if err != nil {
		return "", err
	}
	days, err := s.clockDays(ctx, tx, st, w, cs)
	if err != nil {
		return "", err
	}
	return lapsed(cs, *w.ContractID, days), nil
}

// checkCustomerFee checks the brand's fee m on swap w, at the brand's
// step (the approver is checked): only a swap no rule prices
// (Swap.BrandSetsFee) takes one, in the tenant's currency, from 0 to the
// retail price of the replacement model replacement, which it returns.
func (s *Service) checkCustomerFee(ctx context.Context, tx pg.TenantTx, w Swap, m tenants.Money, replacement string) (int64, error) {
	const loc = "customer_fee"
	rule := ""
	if w.FeeRule != nil {
		rule = *w.FeeRule
	}
	switch {
	case w.State != StatePendingBrand:
		return 0, tenants.InvalidMsg(loc, i18n.M("swaps.fee_brand_step", "State", w.State), m)
	case !w.BrandSetsFee && w.ContractID != nil:
		return 0, tenants.InvalidMsg(loc, i18n.M("swaps.fee_fixed_by_plan", "Contract", *w.ContractID, "Rule", rule), m)
	case !w.BrandSetsFee:
		return 0, tenants.InvalidMsg(loc, i18n.M("swaps.fee_owed_free", "Rule", rule), m)
	}
	st, err := tx.Settings(ctx)
	if err != nil {
		return 0, err
	}
	v := &tenants.Validation{}
	tenants.CheckMoney(v, loc, m, st.Currency)
	if err := v.Err(); err != nil {
		return 0, err
	}
	model, err := catalog.LoadModel(ctx, tx, replacement)
	if err != nil {
		return 0, err
	}
	if price := model.RetailPrice.Amount; m.Amount > price {
		return 0, tenants.InvalidMsg(loc+".amount", i18n.M("swaps.fee_above_price", "Price", major(price)), m.Amount)
	}
	return model.RetailPrice.Amount, nil
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
