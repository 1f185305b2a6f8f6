package swaps

import (
	"context"
	"slices"
	"strings"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// RequestSwap asks for a unit's swap and enqueues its evaluation in the same
// transaction. The unit must be active and in the principal's scope (a
// storefront key's unit of another storefront is not found; an unknown unit
// is invalid at unit_id); contract_id, when given, must be an active
// contract of the unit. A unit with an open swap is a conflict, and so is
// a swap under a plan of a unit whose price is only assumed
// (customers.Unit.CheckPurchasePricePaid); a suspended
// storefront's key is forbidden. In test mode the swap lives on the test
// clock of the contract it names (NewSwap.TestClockID, a ticket's clock,
// comes first). A contract named with a fault cause its plan does not
// cover (swapCovers) is invalid at contract_id. A statutory or seven-day exchange (owed without a plan,
// free) is asked only when the entitlement engine owes it on the swap's
// day (rule 1: within 15 days, or repaired twice within the warranty and
// still faulty; rule 9: a storefront sale within 7 days): otherwise it is
// invalid at reason and nothing is requested. (An exchange ticket, which
// calls RequestSwapTx, has had the engine allow it on the day the customer
// asked.)
func (s *Service) RequestSwap(ctx context.Context, p tenants.Principal, in NewSwap) (Swap, error) {
	var out Swap
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		if out, err = s.RequestSwapTx(ctx, tx, p, in); err != nil || !withoutPlan(out.Reason) {
			return err
		}
		at, err := testclocks.TimeOf(ctx, tx, out.TestClockID, s.now())
		if err != nil {
			return err
		}
		o, err := exchangeOwed(ctx, tx, out.UnitID, out.Reason, out.FaultCause, at)
		if err == nil && o.basis == "" {
			err = tenants.InvalidMsg("reason", i18n.M("swaps.exchange_not_owed", "Reason", out.Reason, "On", o.on, "Day", o.day), out.Reason)
		}
		return err
	})
	return out, pg.Translate(err)
}

// RequestSwapTx requests a swap inside the caller's transaction, with
// RequestSwap's checks of the principal (its scope, its storefront, a
// technician key's units): the swap, its first step and its evaluation job
// commit with the caller's change.
func (s *Service) RequestSwapTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, in NewSwap) (Swap, error) {
	if err := customers.CheckCanSell(ctx, tx, p); err != nil {
		return Swap{}, err // a suspended storefront's key only reads
	}
	u, err := customers.LoadUnit(ctx, tx, p, in.UnitID)
	if tenants.ErrorCode(err) == tenants.CodeNotFound && p.StorefrontID != "" {
		return Swap{}, err
	}
	// A technician key asks swaps only for the units its own jobs serve.
	units, uerr := s.techUnits(ctx, tx, p)
	if uerr != nil {
		return Swap{}, uerr
	}
	return s.request(ctx, tx, in, u, err, units, p.Subject(), p.NodeID)
}

// RequestSwapSystemTx requests a swap inside the caller's transaction for
// a rule that decides for the brand (a service ticket whose repair is
// impossible, a statutory exchange): the caller has checked the scope of
// its own object, so the unit is read without any key's scope; the swap is
// served by the unit's serving node; actor goes on the swap and its first
// step. The swap, its step and its evaluation job commit with the caller's
// change.
func (s *Service) RequestSwapSystemTx(ctx context.Context, tx pg.TenantTx, actor string, in NewSwap) (Swap, error) {
	u, err := customers.LoadUnitSystemTx(ctx, tx, in.UnitID)
	return s.request(ctx, tx, in, u, err, nil, actor, "")
}

// request checks and inserts a swap of unit u, read by the caller (unitErr
// its read's error: not_found is invalid on unit_id); units, when not nil,
// are the only units the caller may ask for; fallbackNode serves the swap
// when no ticket's node does.
func (s *Service) request(ctx context.Context, tx pg.TenantTx, in NewSwap, u customers.Unit, unitErr error, units []string,
	actor, fallbackNode string) (Swap, error) {
	var out Swap
	v := &tenants.Validation{}
	st, err := tx.Settings(ctx)
	if err != nil {
		return out, err
	}
	// The test clock the swap lives on: its ticket's, else (below) the
	// contract's it names. Live mode has no clocks.
	clock := in.TestClockID
	if pg.Livemode(ctx) {
		clock = nil
	}
	if !slices.Contains(Reasons, in.Reason) {
		v.AddMsg("reason", i18n.M("common.one_of", "Values", strings.Join(Reasons, ", ")), in.Reason)
	}
	in.Note = strings.TrimSpace(in.Note)
	if len([]rune(in.Note)) > 500 {
		v.AddMsg("note", i18n.M("common.max_length", "Max", 500), in.Note)
	}
	switch {
	case tenants.ErrorCode(unitErr) == tenants.CodeNotFound:
		v.AddMsg("unit_id", i18n.M("common.no_such_unit"), in.UnitID)
	case unitErr != nil:
		return out, unitErr
	case u.Status != "active":
		v.AddMsg("unit_id", i18n.M("swaps.unit_not_active", "Status", u.Status), in.UnitID)
	}
	if units != nil && u.ID != "" && !slices.Contains(units, u.ID) {
		v.AddMsg("unit_id", i18n.M("common.no_such_unit"), in.UnitID)
	}
	if in.FaultCause != "" && !slices.Contains(entitlement.Causes, entitlement.Cause(in.FaultCause)) {
		v.AddMsg("fault_cause", i18n.M("common.fault_cause"), in.FaultCause)
	}
	if in.ContractID != "" && withoutPlan(in.Reason) {
		// Rule 1: the three guarantees' exchange is owed by law, not by a
		// plan: it uses no plan's benefit and carries no plan's fee.
		v.AddMsg("contract_id", i18n.M("swaps.statutory_without_plan"), in.ContractID)
	} else if in.ContractID != "" && u.ID != "" {
		cs, err := warranty.UnitContracts(ctx, tx, u.ID)
		if err != nil {
			return out, err
		}
		i := slices.IndexFunc(cs, func(c warranty.Contract) bool { return c.ID == in.ContractID })
		switch {
		case i < 0:
			v.AddMsg("contract_id", i18n.M("common.no_such_unit_contract"), in.ContractID)
		case cs[i].State != warranty.StateActive:
			v.AddMsg("contract_id", i18n.M("swaps.contract_not_active", "State", string(cs[i].State)), in.ContractID)
		case in.FaultCause != "" && slices.Contains(entitlement.Causes, entitlement.Cause(in.FaultCause)) &&
			!swapCovers(cs[i].Plan, entitlement.Cause(in.FaultCause)):
			// Rules 4-7: a plan swaps only for the causes it covers, and
			// never for human damage or force majeure (rule 1).
			v.AddMsg("contract_id", i18n.M("swaps.plan_not_covering_cause", "Kind", string(cs[i].Plan.Kind), "Cause", in.FaultCause), in.ContractID)
		case clock == nil && !pg.Livemode(ctx):
			clock = cs[i].TestClockID
		}
	}
	if err := v.Err(); err != nil {
		return out, err
	}
	if !withoutPlan(in.Reason) {
		// A plan's fee is a share of the price paid (seed 002): not of a
		// list price assumed at intake.
		if err := u.CheckPurchasePricePaid(); err != nil {
			return out, err
		}
	}
	requested := "requested: " + in.Reason
	if in.FaultCause != "" {
		requested += "; fault cause " + in.FaultCause
	}
	id := tenants.NewID(tenants.PrefixSwap)
	var contract, note, cause *string
	if in.FaultCause != "" {
		cause = &in.FaultCause
	}
	if in.ContractID != "" {
		contract = &in.ContractID
	}
	if in.Note != "" {
		note = &in.Note
	}
	node, err := s.servingNode(ctx, tx, u.ID, fallbackNode)
	if err != nil {
		return out, err
	}
	// Requested at the swap's time: its clock's when it lives on one.
	now, err := testclocks.TimeOf(ctx, tx, clock, s.now())
	if err != nil {
		return out, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO swaps (tenant_id, id, unit_id, storefront_id, contract_id, reason, note, currency, requested_by, node_id,
		fault_cause, test_clock_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
		tx.TenantID, id, u.ID, u.StorefrontID, contract, in.Reason, note, st.Currency, actor, node, cause, clock, now); err != nil {
		return out, err
	}
	if out, err = getSwap(ctx, tx, "", id, ""); err != nil {
		return out, err
	}
	if err := step(ctx, tx, out, nil, now, requested, actor, TypeSwapRequested, nil); err != nil {
		return out, err
	}
	return out, s.enqueueEvaluation(ctx, tx.Tx, tx.TenantID, id)
}

// GetSwap returns a swap with its steps; a storefront key sees only its
// storefront's.
func (s *Service) GetSwap(ctx context.Context, p tenants.Principal, id string) (Swap, error) {
	var out Swap
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		if out, err = getSwap(ctx, tx, p.StorefrontID, id, ""); err != nil {
			return err
		}
		if err := s.checkServingScope(ctx, tx, p, out); err != nil {
			return err
		}
		out.Steps, err = loadSteps(ctx, tx, id)
		return err
	})
	return out, pg.Translate(err)
}

// ListSwaps lists swaps in id (request) order; a storefront key sees only
// its storefront's.
func (s *Service) ListSwaps(ctx context.Context, p tenants.Principal, f Filter) ([]Swap, string, error) {
	if f.State != "" && !slices.Contains(States, State(f.State)) {
		return nil, "", tenants.InvalidMsg("state", i18n.M("swaps.state"), f.State)
	}
	page, err := pg.NewKeyset("swaps", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	var out []Swap
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := resolveServingScope(ctx, tx, p)
		if err != nil {
			return err
		}
		units, err := s.techUnits(ctx, tx, p)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+swapColumns+` FROM swaps s
			WHERE s.tenant_id = $1 AND s.id > $2 AND ($3 = '' OR s.storefront_id = $3)
			  AND ($4 = '' OR s.state = $4) AND ($5 = '' OR s.unit_id = $5) AND `+inServingScope("$7", "$9")+`
			  AND ($8::text[] IS NULL OR s.unit_id = ANY ($8::text[]))
			ORDER BY s.id LIMIT $6`, tx.TenantID, page.After, p.StorefrontID, f.State, f.UnitID, page.Fetch(), sc.nodes, units, sc.root)
		if err != nil {
			return err
		}
		for rows.Next() {
			w, err := scanSwap(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, w)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	if out == nil {
		out = []Swap{}
	}
	out, next := pg.Page(page, out, func(w Swap) string { return w.ID })
	return out, next, nil
}
