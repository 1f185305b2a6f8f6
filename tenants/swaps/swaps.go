// Package swaps owns unit swaps: the depreciation fee, the replacement
// model, the approval chain by amount and the fulfilment.
package swaps

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/network"
)

// Default approval limits, minor units: a swap whose amount is at most
// AutoApproveLimit is approved at once; up to NodeApproveLimit a node
// manager approves it; above, a node manager and then the brand.
const (
	DefaultAutoApproveLimit = 100000 // 1,000 CNY
	DefaultNodeApproveLimit = 500000 // 5,000 CNY
)

// Service is the swaps context's entry point. Each exported method runs in
// one tenant-scoped transaction.
type Service struct {
	DB  pg.DB
	Now func() time.Time
	// AutoApproveLimit and NodeApproveLimit override the defaults when > 0.
	AutoApproveLimit, NodeApproveLimit int64

	jobs              customers.JobRelations
	enqueueEvaluation func(ctx context.Context, tx pgx.Tx, tenantID, swapID string) error
	servingNodeOf     func(ctx context.Context, tx pg.TenantTx, unitID string) (*string, error)
}

// Deps are the Service's dependencies; every one is required.
type Deps struct {
	// Jobs says which units a technician key's jobs serve: it sees only
	// those units' swaps (tickets.ServedTx).
	Jobs customers.JobRelations
	// EnqueueEvaluation schedules, inside tx, the job that evaluates a
	// requested swap (jobs.SwapEvaluationEnqueuer).
	EnqueueEvaluation func(ctx context.Context, tx pgx.Tx, tenantID, swapID string) error
	// ServingNode is the node serving a unit, inside tx: the tickets
	// context's tickets.ServingNodeTx (nil when no ticket names a node).
	ServingNode func(ctx context.Context, tx pg.TenantTx, unitID string) (*string, error)
}

// NewService returns the swaps service over db. It fails when db or a
// dependency is missing.
func NewService(db pg.DB, d Deps) (*Service, error) {
	if db == nil {
		return nil, errors.New("swaps: NewService needs a database")
	}
	if d.Jobs == nil {
		return nil, errors.New("swaps: Deps.Jobs is required")
	}
	if d.EnqueueEvaluation == nil {
		return nil, errors.New("swaps: Deps.EnqueueEvaluation is required")
	}
	if d.ServingNode == nil {
		return nil, errors.New("swaps: Deps.ServingNode is required")
	}
	return &Service{DB: db, jobs: d.Jobs, enqueueEvaluation: d.EnqueueEvaluation, servingNodeOf: d.ServingNode}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) limits() (auto, node int64) {
	auto, node = DefaultAutoApproveLimit, DefaultNodeApproveLimit
	if s.AutoApproveLimit > 0 {
		auto = s.AutoApproveLimit
	}
	if s.NodeApproveLimit > 0 {
		node = s.NodeApproveLimit
	}
	return auto, node
}

// State is where a swap stands.
type State string

// Swap states: requested (the evaluation job has not run yet) →
// pending_node_manager → pending_brand → approved → fulfilled; the
// evaluation skips the steps the amount does not need; any open state but
// requested → rejected.
const (
	StateRequested          State = "requested"
	StatePendingNodeManager State = "pending_node_manager"
	StatePendingBrand       State = "pending_brand"
	StateApproved           State = "approved"
	StateFulfilled          State = "fulfilled"
	StateRejected           State = "rejected"
)

// States lists every swap state.
var States = []State{StateRequested, StatePendingNodeManager, StatePendingBrand, StateApproved, StateFulfilled, StateRejected}

// Reasons a swap is asked for.
var Reasons = []string{"unrepairable", "repair_cost_above_retail", "statutory_exchange", "plan_swap", "no_reason_exchange"}

// Who bears a swap's amount (Swap.BorneBy): the customer pays its fee.
const (
	BorneByPlan  = "plan"
	BorneByBrand = "brand"
)

// Who set a swap's fee (Swap.FeeSetBy).
const (
	FeeSetByEvaluation = "evaluation"
	FeeSetByBrand      = "brand"
)

// Event types.
const (
	TypeSwapRequested = "swap.requested"
	TypeSwapEvaluated = "swap.evaluated"
	TypeSwapApproved  = "swap.approved"
	TypeSwapRejected  = "swap.rejected"
	TypeSwapFulfilled = "swap.fulfilled"
)

// Swap is a unit's exchange for a new one.
type Swap struct {
	ID                 string         `json:"id" example:"swp_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	UnitID             string         `json:"unit_id" example:"unt_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	StorefrontID       *string        `json:"storefront_id,omitempty" doc:"The unit's storefront." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	ContractID         *string        `json:"contract_id,omitempty" doc:"The plan contract the swap is under; its benefit is consumed by the fulfilment." example:"ctr_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	Reason             string         `json:"reason" enum:"unrepairable,repair_cost_above_retail,statutory_exchange,plan_swap,no_reason_exchange" doc:"Why: the unit cannot be repaired (unrepairable, repair_cost_above_retail); the three guarantees' exchange of a faulty unit (statutory_exchange, rule 1); a plan's swap (plan_swap); a seven-day change-of-mind exchange (no_reason_exchange, 七天无理由退换货). statutory_exchange and no_reason_exchange use no plan and carry no fee." example:"unrepairable"`
	Note               *string        `json:"note,omitempty" example:"main board burnt"`
	FaultCause         *string        `json:"fault_cause,omitempty" doc:"The fault's cause as diagnosed, when the request gave it: it chose the plan." example:"performance"`
	State              State          `json:"state" enum:"requested,pending_node_manager,pending_brand,approved,fulfilled,rejected" example:"pending_node_manager"`
	StateReason        *string        `json:"state_reason,omitempty" doc:"Why the swap entered its state." example:"amount 4,999.00 above the auto-approval limit 1,000.00"`
	Fee                *tenants.Money `json:"fee,omitempty"`
	FeeRule            *string        `json:"fee_rule,omitempty" doc:"The rule that set the fee." example:"swap_for_repair plan: flat fee"`
	Amount             *tenants.Money `json:"amount,omitempty" doc:"The replacement's retail price less the customer's fee: what the swap costs besides the fee, borne by borne_by. The approval chain goes by it."`
	BorneBy            string         `json:"borne_by,omitempty" enum:"plan,brand" doc:"Who bears amount: the plan contract's provider for a swap under contract_id, else the brand. The customer pays fee. Absent until evaluated." example:"brand"`
	FeeSetBy           string         `json:"fee_set_by,omitempty" enum:"evaluation,brand" doc:"Who set fee: the evaluation (the plan's terms, or none for an exchange the law or the warranty owes) or the brand at its approval (customer_fee, when brand_sets_fee)." example:"evaluation"`
	BrandSetsFee       bool           `json:"brand_sets_fee" doc:"No rule fixes the swap's fee: nothing owes it free (the three guarantees, the manufacturer warranty, a seven-day exchange) and no plan in force prices it (or the plan's fee is a CNY default the purchase's currency cannot take). The swap waits for the brand, whose approval may charge the customer a fee (approveSwap's customer_fee: a goodwill or paid exchange); the rest is borne as borne_by says." example:"false"`
	ReplacementModelID *string        `json:"replacement_model_id,omitempty" doc:"The same model, else a similar model priced no higher than the original." example:"mdl_01jd3zq8w6v7t3y2k9x4n5m6pg"`
	NeedsBrand         bool           `json:"needs_brand" doc:"The brand (tenant_admin) approves after the node manager." example:"false"`
	ReplacementUnitID  *string        `json:"replacement_unit_id,omitempty" doc:"The unit registered at the fulfilment." example:"unt_01jd3zq8w6v7t3y2k9x4n5m6pj"`
	NodeID             *string        `json:"node_id,omitempty" doc:"The node serving the unit: the node of the unit's latest dispatched ticket, else the requesting key's node. A node manager sees and approves only swaps served in their subtree; a swap no node serves, only a manager of the network's root." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	RequestedBy        string         `json:"requested_by" example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	Steps              []Step         `json:"steps,omitempty" doc:"The swap's history, oldest first (single reads only)."`
	TestClockID        *string        `json:"test_clock_id,omitempty" doc:"Test mode only: the test clock the swap lives on, its ticket's (one asked from a ticket), else its plan contract's. Its day is the clock's: the plan in force and the fee's month of ownership are judged on it, and the replacement is bought on it; it is requested, evaluated, approved, rejected and fulfilled at the clock's time (created_at, updated_at, the steps' changed_at). Absent on the wall clock." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	Version            int            `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt          time.Time      `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt          time.Time      `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// Step is one entry of a swap's history.
type Step struct {
	FromState *State    `json:"from_state,omitempty" example:"pending_node_manager"`
	ToState   State     `json:"to_state" example:"pending_brand"`
	Reason    string    `json:"reason" example:"approved by the node manager"`
	Actor     string    `json:"actor" doc:"The API key, or system for the evaluation." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	ChangedAt time.Time `json:"changed_at" example:"2026-11-01T09:30:00+08:00"`
}

// NewSwap asks for a unit's swap.
type NewSwap struct {
	UnitID     string `json:"unit_id" maxLength:"64" example:"unt_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Reason     string `json:"reason" enum:"unrepairable,repair_cost_above_retail,statutory_exchange,plan_swap,no_reason_exchange" doc:"Why: the unit cannot be repaired (unrepairable, repair_cost_above_retail); the three guarantees' exchange of a faulty unit (statutory_exchange, rule 1); a plan's swap (plan_swap); a seven-day change-of-mind exchange (no_reason_exchange, 七天无理由退换货). statutory_exchange and no_reason_exchange use no plan and carry no fee." example:"unrepairable"`
	ContractID string `json:"contract_id,omitempty" maxLength:"64" doc:"The unit's active plan contract to swap under; default the unit's active swap-giving plan, if any." example:"ctr_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	Note       string `json:"note,omitempty" maxLength:"500" example:"main board burnt"`
	FaultCause string `json:"fault_cause,omitempty" enum:"performance,environmental_dust,environmental_heat,environmental_moisture,power_surge,unstable_voltage,accidental_damage,human_damage,force_majeure,software_tuning,no_fault,delivery_damage" doc:"The fault's cause as diagnosed (a ticket's diagnosis), in the entitlement engine's vocabulary. Without contract_id it chooses the plan at the request, the one covering the cause on the best terms: an extended warranty replaces free for a performance or environmental fault, an accidental-damage or no-reason plan swaps accidental damage for its fee; the swap's contract_id and first step say which. Absent, a unit holding an extended warranty and one of those plans is priced under the plan and waits for the brand." example:"performance"`
	// TestClockID is the test clock of the ticket that asks for the swap,
	// set by the domain, never by a request: in test mode the swap lives
	// on it. Without it, the swap takes the clock of the contract it names
	// or is evaluated under. Ignored in live mode.
	TestClockID *string `json:"-"`
}

// Filter selects swaps; empty fields do not filter.
type Filter struct {
	State, UnitID string
	Limit         int
	Cursor        string
}

const swapColumns = `s.id, s.unit_id, s.storefront_id, s.contract_id, s.reason, s.note, s.state, s.state_reason, s.fee,
	s.fee_rule, s.amount, s.currency, s.replacement_model_id, s.needs_brand, s.replacement_unit_id, s.requested_by,
	s.version, s.created_at, s.updated_at, s.node_id, s.fault_cause, s.test_clock_id, s.brand_sets_fee, s.fee_set_by`

func scanSwap(row pgx.Row) (Swap, error) {
	var w Swap
	var fee, amount *int64
	var cur string
	var feeBy *string
	err := row.Scan(&w.ID, &w.UnitID, &w.StorefrontID, &w.ContractID, &w.Reason, &w.Note, &w.State, &w.StateReason, &fee,
		&w.FeeRule, &amount, &cur, &w.ReplacementModelID, &w.NeedsBrand, &w.ReplacementUnitID, &w.RequestedBy,
		&w.Version, &w.CreatedAt, &w.UpdatedAt, &w.NodeID, &w.FaultCause, &w.TestClockID, &w.BrandSetsFee, &feeBy)
	if fee != nil {
		w.Fee = &tenants.Money{Amount: *fee, Currency: cur}
	}
	if feeBy != nil {
		w.FeeSetBy = *feeBy
	}
	if amount != nil {
		w.Amount = &tenants.Money{Amount: *amount, Currency: cur}
		w.BorneBy = BorneByBrand
		if w.ContractID != nil {
			w.BorneBy = BorneByPlan
		}
	}
	return w, err
}

// getSwap reads a swap the principal may see (a storefront key: its
// storefront's); lock is "" or "FOR UPDATE".
func getSwap(ctx context.Context, tx pg.TenantTx, storefrontID, id, lock string) (Swap, error) {
	if !tenants.ValidID(tenants.PrefixSwap, id) {
		return Swap{}, tenants.NotFound("swap")
	}
	w, err := scanSwap(tx.QueryRow(ctx, `SELECT `+swapColumns+` FROM swaps s
		WHERE s.tenant_id = $1 AND s.id = $2 AND ($3 = '' OR s.storefront_id = $3) `+lock, tx.TenantID, id, storefrontID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Swap{}, tenants.NotFound("swap")
	}
	return w, err
}

// servingScope is what swaps a principal sees by the node serving them,
// as a value swaps turns into its own predicate (inServingScope): nodes
// are the ids of a node-bound key's subtree (network.ScopeNodesTx), nil
// for a principal that sees the whole tenant; root says the key's node is
// the network's root, the only one that also sees a swap no node serves.
type servingScope struct {
	nodes []string
	root  bool
}

func resolveServingScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal) (servingScope, error) {
	if p.NodeID == "" {
		return servingScope{}, nil
	}
	nodes, err := network.ScopeNodesTx(ctx, tx, p)
	if err != nil || len(nodes) == 0 { // its node is gone: it sees nothing
		return servingScope{nodes: []string{}}, err
	}
	sc, err := network.ResolveScope(ctx, tx, p)
	path := sc.Path()
	return servingScope{nodes: nodes, root: path != nil && *path == p.NodeID}, err
}

// contains reports whether the scope holds a swap served by node (nil:
// none).
func (sc servingScope) contains(node *string) bool {
	switch {
	case sc.nodes == nil:
		return true
	case node == nil:
		return sc.root
	default:
		return slices.Contains(sc.nodes, *node)
	}
}

// inServingScope is the predicate "swap s is in the serving scope" for a
// servingScope's nodes and root given as placeholders.
func inServingScope(nodes, root string) string {
	return `(` + nodes + `::text[] IS NULL OR (s.node_id IS NULL AND ` + root + `::bool) OR s.node_id = ANY (` + nodes + `::text[]))`
}

// techUnits is a technician key's restriction: the units its own jobs
// serve (customers.JobUnits); nil for anyone else, whom the serving scope
// and the storefront bound.
func (s *Service) techUnits(ctx context.Context, tx pg.TenantTx, p tenants.Principal) ([]string, error) {
	if !customers.ActsAsTechnician(p) {
		return nil, nil
	}
	return customers.JobUnits(ctx, tx, s.jobs, p)
}

// checkServingScope answers not_found for a swap outside a node-bound
// principal's subtree, or for a technician key a swap of a unit none of its
// jobs serves, as for any object outside one's scope.
func (s *Service) checkServingScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal, w Swap) error {
	units, err := s.techUnits(ctx, tx, p)
	if err != nil {
		return err
	}
	if units != nil && !slices.Contains(units, w.UnitID) {
		return tenants.NotFound("swap")
	}
	sc, err := resolveServingScope(ctx, tx, p)
	if err != nil {
		return err
	}
	if !sc.contains(w.NodeID) {
		return tenants.NotFound("swap")
	}
	return nil
}

// servingNode is the node serving a unit (Deps.ServingNode, the tickets
// context's answer); else fallback (nil for "").
func (s *Service) servingNode(ctx context.Context, tx pg.TenantTx, unitID, fallback string) (*string, error) {
	node, err := s.servingNodeOf(ctx, tx, unitID)
	if err != nil {
		return nil, err
	}
	if node == nil && fallback != "" {
		node = &fallback
	}
	return node, nil
}

func loadSteps(ctx context.Context, tx pg.TenantTx, id string) ([]Step, error) {
	rows, err := tx.Query(ctx, `SELECT from_state, to_state, reason, actor, changed_at FROM swap_steps
		WHERE tenant_id = $1 AND swap_id = $2 ORDER BY seq`, tx.TenantID, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Step, error) {
		var s Step
		err := r.Scan(&s.FromState, &s.ToState, &s.Reason, &s.Actor, &s.ChangedAt)
		return s, err
	})
}

// step records a state change of w (already written) with its event; at is
// when it happened, the swap's time (its test clock's, else now).
func step(ctx context.Context, tx pg.TenantTx, w Swap, from *State, at time.Time, reason, actor, eventType string, extra map[string]any) error {
	if _, err := tx.Exec(ctx, `INSERT INTO swap_steps (tenant_id, swap_id, from_state, to_state, reason, actor, changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, tx.TenantID, w.ID, from, w.State, reason, actor, at); err != nil {
		return err
	}
	if eventType == "" {
		return nil
	}
	d := map[string]any{"unit_id": w.UnitID, "state": w.State, "reason": reason}
	if w.StorefrontID != nil {
		d["storefront_id"] = *w.StorefrontID
	}
	if from != nil {
		d["from_state"] = *from
	}
	if w.Fee != nil {
		d["fee"] = *w.Fee
	}
	if w.FeeSetBy != "" {
		d["fee_set_by"] = w.FeeSetBy
	}
	if w.BorneBy != "" {
		d["borne_by"] = w.BorneBy
	}
	if w.ReplacementModelID != nil {
		d["replacement_model_id"] = *w.ReplacementModelID
	}
	for k, v := range extra {
		d[k] = v
	}
	return events.Append(ctx, tx, events.New{Type: eventType, SubjectID: w.ID, Actor: actor, Data: d})
}
