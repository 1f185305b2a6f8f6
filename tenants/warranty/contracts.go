package warranty

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
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/events"
	"github.com/servicenet/servicenet/tenants/testclocks"
)

// ContractState is where a contract stands.
type ContractState string

// Contract states. pending → active → expired move with the calendar (the
// contract_lifecycle job, in the tenant's time zone); pending or active →
// cancelled on request; active → consumed when the plan's one benefit was
// used (after a swap the replacement unit is not covered).
const (
	StatePending   ContractState = "pending"
	StateActive    ContractState = "active"
	StateExpired   ContractState = "expired"
	StateCancelled ContractState = "cancelled"
	StateConsumed  ContractState = "consumed"
)

// ContractStates lists every contract state.
var ContractStates = []ContractState{StatePending, StateActive, StateExpired, StateCancelled, StateConsumed}

// Contract attaches a coverage plan to a unit for a dated window.
type Contract struct {
	ID                string        `json:"id" example:"ctr_01jd3zq8w6v7t3y2k9x4n5m6pb"`
	UnitID            string        `json:"unit_id" example:"unt_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	PlanID            string        `json:"plan_id" example:"pln_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	StorefrontID      *string       `json:"storefront_id,omitempty" doc:"The storefront that sold the contract; absent when the brand sold it." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	ExternalReference *string       `json:"external_reference,omitempty" doc:"The seller's own order number; unique per seller." example:"TM-20261101-000123"`
	SoldOn            string        `json:"sold_on" format:"date" doc:"Sale date in the tenant's time zone." example:"2026-11-01"`
	Price             tenants.Money `json:"price"`
	StartsOn          string        `json:"starts_on" format:"date" doc:"First day of coverage." example:"2028-11-01"`
	EndsOn            string        `json:"ends_on" format:"date" doc:"Last day of coverage." example:"2030-10-31"`
	State             ContractState `json:"state" enum:"pending,active,expired,cancelled,consumed" doc:"pending before starts_on, active through ends_on, then expired; or cancelled, or consumed (its benefit used, e.g. a swap)." example:"pending"`
	StateReason       *string       `json:"state_reason,omitempty" doc:"Why the contract entered its state." example:"customer returned the plan"`
	StateChangedAt    time.Time     `json:"state_changed_at" example:"2026-11-01T09:30:00+08:00"`
	Plan              Plan          `json:"plan"`
	Version           int           `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"1"`
	CreatedAt         time.Time     `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt         time.Time     `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
	TestClockID       *string       `json:"test_clock_id,omitempty" doc:"Test mode only: the test clock the contract lives on; absent when it is on the wall clock." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`
}

// TypeContractBackfilled is the event of a past sale recorded after the
// fact (sold_on before today), alongside its contract.created.
const TypeContractBackfilled = "contract.backfilled"

// NewContract is a plan to sell for a unit.
type NewContract struct {
	UnitID            string         `json:"unit_id" maxLength:"64" doc:"The unit; a storefront key sells only for units its storefront sold." example:"unt_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	PlanID            string         `json:"plan_id" maxLength:"64" doc:"An active plan whose eligible categories include the unit's model's category." example:"pln_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	StorefrontID      string         `json:"storefront_id,omitempty" maxLength:"64" doc:"The selling storefront, for a sale the brand records on a storefront's behalf; absent means the brand sold it. A storefront key always sells as its own storefront." example:"sfr_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	SoldOn            string         `json:"sold_on,omitempty" format:"date" doc:"Sale date; default today in the tenant's time zone. Not in the future, not before the purchase, not after the plan's sale window. A past date records a past sale (history): its state follows from the dates (pending, active or already expired), and a contract.backfilled event says so. Coverage never starts before the sale: starts_on is the later of the plan's start and sold_on." example:"2026-11-01"`
	Price             *tenants.Money `json:"price,omitempty"`
	ExternalReference string         `json:"external_reference,omitempty" minLength:"1" maxLength:"64" doc:"The seller's own order number; unique per seller (409)." example:"TM-20261101-000123"`
	TestClockID       string         `json:"test_clock_id,omitempty" maxLength:"64" doc:"Test mode only: the test clock the contract lives on from its sale. Today is the clock's (sold_on and the state follow from it), and its window moves when the clock is advanced (see advanceTestClock). With a live key, or a clock the key does not see, 422 on body.test_clock_id." example:"clk_01jd3zq8w6v7t3y2k9x4n5m6pq"`
}

// ContractFilter selects contracts; empty fields do not filter.
type ContractFilter struct {
	UnitID string
	PlanID string
	State  string
	Limit  int
	Cursor string
}

// StateChange is one entry of a contract's state history.
type StateChange struct {
	FromState *ContractState `json:"from_state,omitempty" doc:"Absent for the sale." example:"pending"`
	ToState   ContractState  `json:"to_state" example:"active"`
	Reason    string         `json:"reason" example:"coverage started"`
	Actor     string         `json:"actor" doc:"The API key that made the change, or system for the lifecycle job." example:"system"`
	ChangedAt time.Time      `json:"changed_at" example:"2026-12-01T00:00:03+08:00"`
}

const contractColumns = `c.id, c.unit_id, c.plan_id, c.storefront_id, c.external_reference, to_char(c.sold_on, 'YYYY-MM-DD'),
	c.price, c.currency, to_char(c.starts_on, 'YYYY-MM-DD'), to_char(c.ends_on, 'YYYY-MM-DD'), c.state, c.state_reason,
	c.state_changed_at, c.version, c.created_at, c.updated_at, c.test_clock_id, ` + planColumns

const contractFrom = ` FROM contracts c JOIN coverage_plans p ON p.tenant_id = c.tenant_id AND p.id = c.plan_id `

// cteFrom reads a contract from a data-modifying CTE named c (RETURNING *):
// the statement's own reads of the table would see the row as it was.
const cteFrom = ` FROM c JOIN coverage_plans p ON p.tenant_id = c.tenant_id AND p.id = c.plan_id`

func scanContract(row pgx.Row) (Contract, error) { return scanContractWith(row) }

// scanContractWith scans a contract (contractColumns) and then extra.
func scanContractWith(row pgx.Row, extra ...any) (Contract, error) {
	var c Contract
	dest := []any{&c.ID, &c.UnitID, &c.PlanID, &c.StorefrontID, &c.ExternalReference, &c.SoldOn, &c.Price.Amount, &c.Price.Currency,
		&c.StartsOn, &c.EndsOn, &c.State, &c.StateReason, &c.StateChangedAt, &c.Version, &c.CreatedAt, &c.UpdatedAt, &c.TestClockID}
	pd, finish := planDest(&c.Plan)
	if err := row.Scan(append(append(dest, pd...), extra...)...); err != nil {
		return Contract{}, err
	}
	finish()
	return c, nil
}

func collectContracts(rows pgx.Rows) ([]Contract, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contract, error) { return scanContract(r) })
}

// resolveContractScope returns p's scope of contracts inside tx.
func (s *Service) resolveContractScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal) (customers.UnitScope, error) {
	return customers.UnitScopeTx(ctx, tx, s.jobs, p)
}

// getContract reads a contract the principal may see (customers.UnitScope);
// lock is "" or "FOR UPDATE OF c".
func getContract(ctx context.Context, tx pg.TenantTx, sc customers.UnitScope, id, lock string) (Contract, error) {
	if !tenants.ValidID(tenants.PrefixContract, id) {
		return Contract{}, tenants.NotFound("contract")
	}
	c, err := scanContract(tx.QueryRow(ctx, `SELECT `+contractColumns+contractFrom+`
		WHERE c.tenant_id = $1 AND c.id = $2 AND ($3 = '' OR c.storefront_id = $3)
		  AND ($4::text[] IS NULL OR c.unit_id = ANY ($4::text[])) `+lock, tx.TenantID, id, sc.StorefrontID, sc.Units))
	if errors.Is(err, pgx.ErrNoRows) {
		return Contract{}, tenants.NotFound("contract")
	}
	return c, err
}

// unitFacts are what selling a plan needs to know about a unit.
type unitFacts struct {
	purchase       time.Time
	storefrontID   *string
	status         string
	category       string
	warrantyMonths int
}

// saleUnit reads and locks (customers.LockUnitSystemTx) the unit a plan is
// sold for, with its whole-unit warranty term (the model's, or a warranty
// promotion's for the unit's purchase date); ok is false when the tenant has
// no such unit.
func saleUnit(ctx context.Context, tx pg.TenantTx, unitID string) (u unitFacts, ok bool, err error) {
	unit, err := customers.LockUnitSystemTx(ctx, tx, unitID)
	if tenants.ErrorCode(err) == tenants.CodeNotFound {
		return u, false, nil
	} else if err != nil {
		return u, false, err
	}
	m, err := catalog.LoadModel(ctx, tx, unit.ModelID)
	if err != nil {
		return u, false, err
	}
	purchase, err := time.Parse(dateLayout, unit.PurchaseDate)
	if err != nil {
		return u, false, err
	}
	months, _ := m.WholeUnitWarranty(unit.PurchaseDate) // a promotion's term: the extended warranty starts after it
	return unitFacts{purchase: purchase, storefrontID: unit.StorefrontID, status: unit.Status, category: m.Category,
		warrantyMonths: months}, true, nil
}

// clockTime is the time of a contract on clock (nil: none), for its
// stamps: its test clock's time, nil on the wall clock, where the SQL
// stamps the database's now() (nowSQL). The dates a contract's changes
// are stamped with are facts claims read (a plan consumed after a repair
// covers it, one that followed a replacement covered the unit it left
// until then): on a clock they are the clock's.
func clockTime(ctx context.Context, tx pg.TenantTx, clock *string) (*time.Time, error) {
	if clock == nil {
		return nil, nil
	}
	at, err := testclocks.NowTx(ctx, tx, *clock)
	return &at, err
}

// nowSQL is the SQL for a contract's time given as the parameter p (a
// *time.Time, clockTime's): the clock's time, else the transaction's
// now().
func nowSQL(p string) string {
	return `coalesce(` + p + `::timestamptz, now())`
}

// changeState moves a contract to state with its history row and event,
// stamped with the contract's time (its test clock's when it is on one).
func changeState(ctx context.Context, tx pg.TenantTx, c Contract, to ContractState, reason, actor, eventType string) (Contract, error) {
	at, err := clockTime(ctx, tx, c.TestClockID)
	if err != nil {
		return Contract{}, err
	}
	out, err := scanContract(tx.QueryRow(ctx, `
		WITH c AS (
			UPDATE contracts SET state = $3, state_reason = $4, state_changed_at = `+nowSQL("$5")+`, version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2
			RETURNING *)
		SELECT `+contractColumns+cteFrom,
		tx.TenantID, c.ID, to, reason, at))
	if err != nil {
		return Contract{}, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO contract_state_changes (tenant_id, contract_id, from_state, to_state, reason, actor, changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, `+nowSQL("$7")+`)`, tx.TenantID, c.ID, c.State, to, reason, actor, at); err != nil {
		return Contract{}, err
	}
	return out, events.Append(ctx, tx, events.New{Type: eventType, SubjectID: c.ID, Actor: actor,
		Data: map[string]any{"unit_id": c.UnitID, "plan_id": c.PlanID, "storefront_id": c.StorefrontID, "from_state": c.State,
			"to_state": to, "reason": reason}})
}

// CreateContract sells a plan for a unit. The coverage window is computed
// from the unit's purchase date (and its model's manufacturer warranty for
// an extended warranty), and the state from today in the tenant's time zone:
// pending before the window, active within it, expired after it. Coverage
// never starts before sold_on. A sale today whose coverage has already
// ended is refused; a past sale (sold_on before today) is history, recorded
// in whatever state its dates give, with a contract.backfilled event, and an
// expired one is no conflict with a live contract. A storefront key sells only for units its
// storefront sold (any other unit is not found) and always as that
// storefront. A live (pending or active) contract of the same plan kind on
// the unit, or a reference the seller already used, is a conflict.
// Refunds are out of scope.
func (s *Service) CreateContract(ctx context.Context, p tenants.Principal, in NewContract) (Contract, error) {
	var out Contract
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		v := &tenants.Validation{}
		// On a test clock, today is the clock's.
		now, err := testclocks.AtTx(ctx, tx, p, v, "test_clock_id", in.TestClockID, s.now())
		if err != nil {
			return err
		}
		today, _ := time.Parse(dateLayout, st.Today(now))

		soldOn := today
		if in.SoldOn != "" {
			if soldOn, err = time.Parse(dateLayout, in.SoldOn); err != nil {
				v.AddMsg("sold_on", i18n.M("common.date"), in.SoldOn)
			} else if soldOn.After(today) {
				v.AddMsg("sold_on", i18n.M("common.in_future_today", "Today", today.Format(dateLayout)), in.SoldOn)
			}
		}
		if in.Price != nil {
			tenants.CheckMoney(v, "price", *in.Price, st.Currency)
		}
		if in.ExternalReference != "" && (len(in.ExternalReference) > 64 || strings.TrimSpace(in.ExternalReference) == "") {
			v.AddMsg("external_reference", i18n.M("common.length", "Min", 1, "Max", 64), in.ExternalReference)
		}

		// The seller.
		var seller *string
		switch {
		case p.StorefrontID != "":
			if in.StorefrontID != "" && in.StorefrontID != p.StorefrontID {
				v.AddMsg("storefront_id", i18n.M("warranty.storefront_own_sales"), in.StorefrontID)
			}
			seller = &p.StorefrontID
		case in.StorefrontID != "":
			ok, err := customers.StorefrontExistsTx(ctx, tx, in.StorefrontID)
			if err != nil {
				return err
			}
			if !ok {
				v.AddMsg("storefront_id", i18n.M("common.no_such_storefront"), in.StorefrontID)
			}
			seller = &in.StorefrontID
		}

		// The unit: locked so two sales for it cannot race past the
		// live-contract check.
		var u unitFacts
		unitOK := false
		if tenants.ValidID(tenants.PrefixUnit, in.UnitID) {
			if u, unitOK, err = saleUnit(ctx, tx, in.UnitID); err != nil {
				return err
			}
		}
		if p.StorefrontID != "" && (!unitOK || u.storefrontID == nil || *u.storefrontID != p.StorefrontID) {
			return tenants.NotFound("unit")
		}
		switch {
		case !unitOK:
			v.AddMsg("unit_id", i18n.M("common.no_such_unit"), in.UnitID)
		case u.status != "active":
			v.AddMsg("unit_id", i18n.M("warranty.unit_not_in_use", "Status", u.status), in.UnitID)
			unitOK = false
		}

		plan, err := getPlan(ctx, tx, in.PlanID, "FOR SHARE")
		planOK := err == nil
		switch {
		case tenants.ErrorCode(err) == tenants.CodeNotFound:
			v.AddMsg("plan_id", i18n.M("warranty.no_such_plan"), in.PlanID)
		case err != nil:
			return err
		case plan.Status != PlanActive:
			v.AddMsg("plan_id", i18n.M("warranty.plan_retired"), in.PlanID)
			planOK = false
		case unitOK && !slices.Contains(plan.EligibleCategories, u.category):
			v.AddMsg("plan_id", i18n.M("warranty.category_not_sold", "Category", u.category, "Covers", strings.Join(plan.EligibleCategories, ", ")), in.PlanID)
			planOK = false
		}

		var startsOn, endsOn time.Time
		if unitOK && planOK {
			startsOn, endsOn = CoverageWindow(plan, u.purchase, u.warrantyMonths)
			latest := LatestSale(plan, u.purchase, u.warrantyMonths)
			switch {
			case hasField(v, "sold_on"): // already refused
			case soldOn.Before(u.purchase):
				v.AddMsg("sold_on", i18n.M("warranty.before_purchase", "Date", u.purchase.Format(dateLayout)), soldOn.Format(dateLayout))
			case soldOn.After(latest):
				v.AddMsg("sold_on", i18n.M("warranty.after_sale_window", "Date", latest.Format(dateLayout)),
					soldOn.Format(dateLayout))
			case endsOn.Before(soldOn):
				v.AddMsg("sold_on", i18n.M("warranty.ended_before_sale", "Date", endsOn.Format(dateLayout)), soldOn.Format(dateLayout))
			case endsOn.Before(today) && !soldOn.Before(today):
				v.AddMsg("sold_on", i18n.M("warranty.ended_today", "Date", endsOn.Format(dateLayout)), soldOn.Format(dateLayout))
			}
			// Coverage never starts before the sale: a plan bought after a
			// fault cannot cover it.
			if soldOn.After(startsOn) {
				startsOn = soldOn
			}
		}
		if err := v.Err(); err != nil {
			return err
		}

		state := StateOn(startsOn, endsOn, today)
		backfilled := soldOn.Before(today)
		var live bool
		if err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM contracts c JOIN coverage_plans p ON p.tenant_id = c.tenant_id AND p.id = c.plan_id
			               WHERE c.tenant_id = $1 AND c.unit_id = $2 AND p.kind = $3 AND c.state IN ('pending', 'active'))`,
			tx.TenantID, in.UnitID, plan.Kind).Scan(&live); err != nil {
			return err
		}
		if live && state != StateExpired { // history that has ended competes with no live contract
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("warranty.live_contract_of_kind", "Kind", string(plan.Kind))).With(
				tenants.FieldMsg("plan_id", i18n.M("warranty.live_contract_exists"), in.PlanID))
		}

		price := plan.Price
		if in.Price != nil {
			price = *in.Price
		}
		var ref *string
		if in.ExternalReference != "" {
			ref = &in.ExternalReference
		}
		reason := "sold"
		if backfilled {
			reason = "backfilled: sold on " + soldOn.Format(dateLayout) + ", recorded on " + today.Format(dateLayout) +
				"; state " + string(state) + " from the dates"
		}
		var (
			clock *string
			at    *time.Time // the sale's stamp: the clock's time on one
		)
		if in.TestClockID != "" {
			clock, at = &in.TestClockID, &now
		}
		id := tenants.NewID(tenants.PrefixContract)
		out, err = scanContract(tx.QueryRow(ctx, `
			WITH c AS (
				INSERT INTO contracts (tenant_id, id, unit_id, plan_id, storefront_id, external_reference, sold_on, price, currency,
				       starts_on, ends_on, state, state_reason, created_by, test_clock_id, state_changed_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, `+nowSQL("$16")+`)
			RETURNING *)
			SELECT `+contractColumns+cteFrom,
			tx.TenantID, id, in.UnitID, plan.ID, seller, ref, soldOn, price.Amount, price.Currency,
			startsOn, endsOn, state, reason, p.Subject(), clock, at))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO contract_state_changes (tenant_id, contract_id, from_state, to_state, reason, actor, changed_at)
			VALUES ($1, $2, NULL, $3, $4, $5, `+nowSQL("$6")+`)`, tx.TenantID, id, state, reason, p.Subject(), at); err != nil {
			return err
		}
		data := map[string]any{"unit_id": out.UnitID, "plan_id": out.PlanID, "kind": plan.Kind, "state": out.State,
			"sold_on": out.SoldOn, "starts_on": out.StartsOn, "ends_on": out.EndsOn, "price": out.Price}
		if seller != nil {
			data["storefront_id"] = *seller
		}
		if backfilled {
			data["backfilled"] = true
		}
		if err := events.Append(ctx, tx, events.New{Type: TypeContractCreated, SubjectID: id, Actor: p.Subject(), Data: data}); err != nil {
			return err
		}
		if backfilled {
			data["reason"] = reason
			data["recorded_on"] = today.Format(dateLayout)
			if err := events.Append(ctx, tx, events.New{Type: TypeContractBackfilled, SubjectID: id, Actor: p.Subject(), Data: data}); err != nil {
				return err
			}
		}
		if state == StateActive {
			return events.Append(ctx, tx, events.New{Type: TypeContractActivated, SubjectID: id, Actor: p.Subject(),
				Data: map[string]any{"unit_id": out.UnitID, "plan_id": out.PlanID, "storefront_id": out.StorefrontID, "from_state": nil,
					"to_state": StateActive, "reason": reason}})
		}
		return nil
	})
	return out, pg.Translate(err)
}

func hasField(v *tenants.Validation, loc string) bool {
	return slices.ContainsFunc(v.Fields(), func(f tenants.FieldError) bool { return f.Location == loc })
}

// GetContract returns a contract with its plan. A storefront key sees only
// its storefront's contracts; any other is not found.
func (s *Service) GetContract(ctx context.Context, p tenants.Principal, id string) (Contract, error) {
	var out Contract
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := s.resolveContractScope(ctx, tx, p)
		if err != nil {
			return err
		}
		out, err = getContract(ctx, tx, sc, id, "")
		return err
	})
	return out, pg.Translate(err)
}

// ContractHistory returns a contract's state changes, oldest first.
func (s *Service) ContractHistory(ctx context.Context, p tenants.Principal, id string) ([]StateChange, error) {
	out := []StateChange{}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := s.resolveContractScope(ctx, tx, p)
		if err != nil {
			return err
		}
		if _, err := getContract(ctx, tx, sc, id, ""); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT from_state, to_state, reason, actor, changed_at FROM contract_state_changes
			WHERE tenant_id = $1 AND contract_id = $2 ORDER BY seq`, tx.TenantID, id)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (StateChange, error) {
			var c StateChange
			err := r.Scan(&c.FromState, &c.ToState, &c.Reason, &c.Actor, &c.ChangedAt)
			return c, err
		})
		return err
	})
	return out, pg.Translate(err)
}

// ListContracts lists contracts in id (sale) order; a storefront key sees
// only its storefront's.
func (s *Service) ListContracts(ctx context.Context, p tenants.Principal, f ContractFilter) ([]Contract, string, error) {
	v := &tenants.Validation{}
	if f.State != "" && !slices.Contains(ContractStates, ContractState(f.State)) {
		v.AddMsg("state", i18n.M("common.one_of", "Values", "pending, active, expired, cancelled, consumed"), f.State)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	page, err := pg.NewKeyset("contracts", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	const list = `SELECT ` + contractColumns + contractFrom + `
		WHERE c.tenant_id = $1 AND c.id > $2
		  AND ($3 = '' OR c.storefront_id = $3)
		  AND ($4 = '' OR c.unit_id = $4)
		  AND ($5 = '' OR c.plan_id = $5)
		  AND ($6 = '' OR c.state = $6)
		  AND ($8::text[] IS NULL OR c.unit_id = ANY ($8::text[]))
		ORDER BY c.id LIMIT $7`
	var out []Contract
	if !p.NeedsJobRelation() {
		// No job restriction: one pipelined round trip.
		out, err = pg.QueryRows(ctx, s.DB, p.TenantID, func(r pgx.CollectableRow) (Contract, error) { return scanContract(r) },
			list, page.After, p.StorefrontID, f.UnitID, f.PlanID, f.State, page.Fetch(), []string(nil))
	} else {
		err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
			sc, err := s.resolveContractScope(ctx, tx, p)
			if err != nil {
				return err
			}
			rows, err := tx.Query(ctx, list, tx.TenantID, page.After, sc.StorefrontID, f.UnitID, f.PlanID, f.State, page.Fetch(), sc.Units)
			if err != nil {
				return err
			}
			out, err = collectContracts(rows)
			return err
		})
		err = pg.Translate(err)
	}
	if err != nil {
		return nil, "", err
	}
	if out == nil {
		out = []Contract{}
	}
	out, next := pg.Page(page, out, func(c Contract) string { return c.ID })
	return out, next, nil
}

// CancelContract cancels a pending or active contract; ifVersion > 0 must
// match its version. Any other state is a conflict. The cancellation ends
// the coverage from its day: a claim for a repair done before it is still
// the plan's (claims' adjudication). Refunds are out of scope: the seller
// settles them outside ServiceNet.
func (s *Service) CancelContract(ctx context.Context, p tenants.Principal, id, reason string, ifVersion int) (Contract, error) {
	if n := len([]rune(strings.TrimSpace(reason))); n < 1 || n > 500 {
		return Contract{}, tenants.InvalidMsg("reason", i18n.M("common.length", "Min", 1, "Max", 500), reason)
	}
	var out Contract
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sc, err := s.resolveContractScope(ctx, tx, p)
		if err != nil {
			return err
		}
		c, err := getContract(ctx, tx, sc, id, "FOR UPDATE OF c")
		if err != nil {
			return err
		}
		if err := tenants.CheckVersion("contract", ifVersion, c.Version); err != nil {
			return err
		}
		if c.State != StatePending && c.State != StateActive {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("warranty.not_cancellable", "State", c.State))
		}
		out, err = changeState(ctx, tx, c, StateCancelled, reason, p.Subject(), TypeContractCancelled)
		return err
	})
	return out, pg.Translate(err)
}

// UnitContracts returns every contract of a unit, whatever its state, with
// its plan's terms, by start date: what the entitlement engine weighs. It
// runs in the caller's transaction and applies no principal scope.
func UnitContracts(ctx context.Context, tx pg.TenantTx, unitID string) ([]Contract, error) {
	rows, err := tx.Query(ctx, unitContractsSQL, tx.TenantID, unitID)
	if err != nil {
		return nil, err
	}
	return collectContracts(rows)
}

// QueueUnitContracts queues UnitContracts' read on b, into out.
func QueueUnitContracts(b *pgx.Batch, tenantID, unitID string, out *[]Contract) {
	b.Queue(unitContractsSQL, tenantID, unitID).Query(func(rows pgx.Rows) error {
		var err error
		*out, err = collectContracts(rows)
		return err
	})
}

const unitContractsSQL = `SELECT ` + contractColumns + contractFrom + `
	WHERE c.tenant_id = $1 AND c.unit_id = $2 ORDER BY c.starts_on, c.id`

// ConsumeContract marks an active contract consumed (its benefit was used:
// after a swap the replacement unit is not covered by it), with a history
// row and a contract.consumed event, in the caller's transaction. A contract
// that does not exist is not found; one that is not active is a conflict.
func ConsumeContract(ctx context.Context, tx pg.TenantTx, contractID, reason, actor string) error {
	if strings.TrimSpace(reason) == "" {
		return tenants.InvalidMsg("reason", i18n.M("common.required"), reason)
	}
	c, err := getContract(ctx, tx, customers.UnitScope{}, contractID, "FOR UPDATE OF c")
	if err != nil {
		return err
	}
	if c.State != StateActive {
		return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("warranty.not_consumable", "State", c.State))
	}
	_, err = changeState(ctx, tx, c, StateConsumed, reason, actor, TypeContractConsumed)
	return err
}

// EndForReplacedUnit ends every live contract of a unit that a swap
// replaced, in the caller's transaction: active ones are consumed (their
// benefit was used; the replacement is not covered), pending ones that never
// started are cancelled. It returns the contracts it ended.
func EndForReplacedUnit(ctx context.Context, tx pg.TenantTx, unitID, reason, actor string) ([]string, error) {
	cs, err := UnitContracts(ctx, tx, unitID)
	if err != nil {
		return nil, err
	}
	var ended []string
	for _, c := range cs {
		switch c.State {
		case StateActive:
			err = ConsumeContract(ctx, tx, c.ID, reason, actor)
		case StatePending:
			_, err = changeState(ctx, tx, c, StateCancelled, reason, actor, TypeContractCancelled)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		ended = append(ended, c.ID)
	}
	return ended, nil
}

// FollowReplacementUnit moves every live (pending or active) contract of a
// unit that an exchange the brand owes replaced (a statutory or warranty
// exchange, a seven-day exchange: no plan's benefit was used) to the
// replacement unit, in the caller's transaction, keeping its dates, price
// and state: the customer paid for the plan, and an exchange that is the
// brand's duty does not take it away. Each move is a history row (the state
// unchanged, the reason naming both units, from_unit_id the unit it left:
// QueueContractsMovedAway), stamped with the contract's time (its test
// clock's when it is on one): the unit was covered until then. except is
// a contract that does not follow (the plan whose benefit the swap used;
// "" for none). It returns the contracts it moved.
func FollowReplacementUnit(ctx context.Context, tx pg.TenantTx, unitID, replacementID, except, reason, actor string) ([]string, error) {
	rows, err := tx.Query(ctx, `UPDATE contracts SET unit_id = $3, version = version + 1, updated_at = now()
		WHERE tenant_id = $1 AND unit_id = $2 AND state IN ('pending', 'active') AND id <> $4
		RETURNING id, state, test_clock_id`, tx.TenantID, unitID, replacementID, except)
	if err != nil {
		return nil, err
	}
	type moved struct {
		id, state string
		clock     *string
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (moved, error) {
		var m moved
		return m, r.Scan(&m.id, &m.state, &m.clock)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ms, func(a, b moved) int { return strings.Compare(a.id, b.id) })
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		at, err := clockTime(ctx, tx, m.clock)
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO contract_state_changes (tenant_id, contract_id, from_state, to_state, reason, actor, from_unit_id,
			changed_at) VALUES ($1, $2, $3, $3, $4, $5, $6, `+nowSQL("$7")+`)`, tx.TenantID, m.id, m.state, reason, actor, unitID, at); err != nil {
			return nil, err
		}
		ids = append(ids, m.id)
	}
	return ids, nil
}

// RedateUnitContractsTx moves the coverage windows of a unit's pending,
// active and expired contracts to the unit's purchase date as it now
// stands, in the caller's transaction, after the purchase date was
// corrected (for an online sale the day the customer received the goods,
// seed 002: the plans count from 交易成功, as the warranty does): each
// window is CoverageWindow's for the new date, and coverage still never
// starts before sold_on. Cancelled and consumed contracts are history and
// keep their dates, and so do the contracts that followed the unit from
// the one it replaced (FollowReplacementUnit): their windows count from
// the purchase of the unit first sold, which this date is not. A moved
// contract gets a history row naming both windows and a contract.redated
// event carrying them, and its state follows the new dates on its day (its
// test clock's when it is on one, else now's in the tenant's zone): after
// the contract.redated, contract.activated or contract.expired when it
// becomes active or expired (one back to pending has no event of its own:
// its contract.redated says so).
func RedateUnitContractsTx(ctx context.Context, tx pg.TenantTx, unitID string, now time.Time, actor string) error {
	u, ok, err := saleUnit(ctx, tx, unitID)
	if err != nil || !ok {
		return err
	}
	cs, err := UnitContracts(ctx, tx, unitID)
	if err != nil {
		return err
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT contract_id FROM contract_state_changes
		WHERE tenant_id = $1 AND contract_id = ANY ($2::text[]) AND from_unit_id IS NOT NULL`, tx.TenantID, contractIDs(cs))
	if err != nil {
		return err
	}
	followed, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	st, err := tx.Settings(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if (c.State != StatePending && c.State != StateActive && c.State != StateExpired) || slices.Contains(followed, c.ID) {
			continue
		}
		startsOn, endsOn := CoverageWindow(c.Plan, u.purchase, u.warrantyMonths)
		if soldOn, err := time.Parse(dateLayout, c.SoldOn); err == nil && soldOn.After(startsOn) {
			startsOn = soldOn
		}
		from, to := startsOn.Format(dateLayout), endsOn.Format(dateLayout)
		if from == c.StartsOn && to == c.EndsOn {
			continue
		}
		at, err := clockTime(ctx, tx, c.TestClockID)
		if err != nil {
			return err
		}
		day := now
		if at != nil {
			day = *at
		}
		today, _ := time.Parse(dateLayout, st.Today(day))
		state := StateOn(startsOn, endsOn, today)
		reason := "purchase date corrected to " + u.purchase.Format(dateLayout) + ": coverage " + c.StartsOn + " to " + c.EndsOn +
			" moved to " + from + " to " + to
		if _, err := tx.Exec(ctx, `UPDATE contracts SET starts_on = $3::date, ends_on = $4::date, state = $5,
			state_reason = CASE WHEN state = $5 THEN state_reason ELSE $6 END,
			state_changed_at = CASE WHEN state = $5 THEN state_changed_at ELSE `+nowSQL("$7")+` END,
			version = version + 1, updated_at = now()
			WHERE tenant_id = $1 AND id = $2`, tx.TenantID, c.ID, from, to, state, reason, at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO contract_state_changes (tenant_id, contract_id, from_state, to_state, reason, actor, changed_at)
			VALUES ($1, $2, $3, $4, $5, $6, `+nowSQL("$7")+`)`, tx.TenantID, c.ID, c.State, state, reason, actor, at); err != nil {
			return err
		}
		data := map[string]any{"unit_id": c.UnitID, "plan_id": c.PlanID, "from_state": c.State, "to_state": state, "reason": reason,
			"from_starts_on": c.StartsOn, "from_ends_on": c.EndsOn, "starts_on": from, "ends_on": to, "today": today.Format(dateLayout)}
		if c.StorefrontID != nil {
			data["storefront_id"] = *c.StorefrontID
		}
		if err := events.Append(ctx, tx, events.New{Type: TypeContractRedated, SubjectID: c.ID, Actor: actor, Data: data}); err != nil {
			return err
		}
		typ := ""
		switch {
		case state == c.State:
		case state == StateActive:
			typ = TypeContractActivated
		case state == StateExpired:
			typ = TypeContractExpired
		}
		if typ == "" {
			continue
		}
		if err := events.Append(ctx, tx, events.New{Type: typ, SubjectID: c.ID, Actor: actor, Data: data}); err != nil {
			return err
		}
	}
	return nil
}

func contractIDs(cs []Contract) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// AdvanceContracts moves one tenant's contracts along the calendar at now in
// the tenant's time zone, in one transaction: pending → active from
// starts_on, active (or a pending one whose window passed unseen) → expired
// after ends_on, each with a history row and an event. It returns how many
// moved; a second call at the same time moves none. Contracts attached to
// a test clock are left to their clock (AdvanceClockContracts).
func (s *Service) AdvanceContracts(ctx context.Context, tenantID string, now time.Time) (int, error) {
	return s.advanceContracts(ctx, tenantID, nil, now)
}

// AdvanceClockContracts is AdvanceContracts for the contracts attached to
// the test clock clockID, at the clock's time now: their changes are
// stamped with it.
func (s *Service) AdvanceClockContracts(ctx context.Context, tenantID, clockID string, now time.Time) (int, error) {
	return s.advanceContracts(ctx, tenantID, &clockID, now)
}

func (s *Service) advanceContracts(ctx context.Context, tenantID string, clockID *string, now time.Time) (int, error) {
	type moved struct {
		id, unitID, planID string
		storefrontID       *string
		from, to           ContractState
		startsOn, endsOn   string
	}
	n := 0
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		today := st.Today(now)
		var at *time.Time // a clock's changes are stamped with its time
		if clockID != nil {
			at = &now
		}
		rows, err := tx.Query(ctx, `
			WITH due AS (
				SELECT id, state AS from_state,
				       CASE WHEN ends_on < $2::date THEN 'expired' ELSE 'active' END AS to_state
				FROM contracts
				WHERE tenant_id = $1 AND test_clock_id IS NOT DISTINCT FROM $3
				  AND ((state = 'pending' AND starts_on <= $2::date) OR (state = 'active' AND ends_on < $2::date))
				ORDER BY id
				FOR UPDATE)
			UPDATE contracts c SET state = due.to_state,
			       state_reason = CASE WHEN due.to_state = 'active' THEN 'coverage started' ELSE 'coverage ended' END,
			       state_changed_at = `+nowSQL("$4")+`, version = c.version + 1, updated_at = now()
			FROM due
			WHERE c.tenant_id = $1 AND c.id = due.id
			RETURNING c.id, c.unit_id, c.plan_id, c.storefront_id, due.from_state, c.state,
			          to_char(c.starts_on, 'YYYY-MM-DD'), to_char(c.ends_on, 'YYYY-MM-DD')`,
			tx.TenantID, today, clockID, at)
		if err != nil {
			return err
		}
		ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (moved, error) {
			var m moved
			err := r.Scan(&m.id, &m.unitID, &m.planID, &m.storefrontID, &m.from, &m.to, &m.startsOn, &m.endsOn)
			return m, err
		})
		if err != nil {
			return err
		}
		slices.SortFunc(ms, func(a, b moved) int { return strings.Compare(a.id, b.id) })
		for _, m := range ms {
			typ, reason := TypeContractActivated, "coverage started"
			if m.to == StateExpired {
				typ, reason = TypeContractExpired, "coverage ended"
			}
			if _, err := tx.Exec(ctx, `INSERT INTO contract_state_changes (tenant_id, contract_id, from_state, to_state, reason, actor, changed_at)
				VALUES ($1, $2, $3, $4, $5, 'system', `+nowSQL("$6")+`)`, tx.TenantID, m.id, m.from, m.to, reason, at); err != nil {
				return err
			}
			if err := events.Append(ctx, tx, events.New{Type: typ, SubjectID: m.id, Actor: "system",
				Data: map[string]any{"unit_id": m.unitID, "plan_id": m.planID, "storefront_id": m.storefrontID, "from_state": m.from, "to_state": m.to,
					"reason": reason, "starts_on": m.startsOn, "ends_on": m.endsOn, "today": today}}); err != nil {
				return err
			}
		}
		n = len(ms)
		return nil
	})
	return n, pg.Translate(err)
}

// AttachClockTx attaches contract id to the test clock clockID inside tx
// (testclocks.Attacher): from then on its window moves on the clock's
// time. A contract the transaction does not see is not_found; one on
// another clock is a conflict. Attaching it again to its clock does nothing.
// A storefront key attaches only the contracts its storefront sold.
func AttachClockTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id, clockID string) error {
	var current *string
	err := tx.QueryRow(ctx, `SELECT test_clock_id FROM contracts WHERE tenant_id = $1 AND id = $2
		AND ($3 = '' OR storefront_id = $3) FOR UPDATE`, tx.TenantID, id, p.StorefrontID).Scan(&current)
	if errors.Is(err, pgx.ErrNoRows) {
		return tenants.NotFound("contract")
	}
	if err != nil {
		return err
	}
	if attach, err := testclocks.Attachable("contract", current, clockID); !attach {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE contracts SET test_clock_id = $3 WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, clockID)
	return err
}
