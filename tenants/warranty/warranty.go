// Package warranty owns coverage plans (the extended warranties and
// protection plans a brand or its storefronts sell) and the contracts that
// attach a plan to a unit, moving through pending → active → expired (or
// cancelled, or consumed by a swap). Entitlement questions are answered by
// the pure engine in warranty/entitlement from what UnitContracts returns.
//
// The statutory three guarantees and the manufacturer warranty apply to every
// unit without a contract; they are not plans and have no rows here.
//
// Dates follow one convention, shared with the engine: "day N" counts the
// purchase date as day 1 (day 31 is purchase + 30 days, "the next day" is
// purchase + 1); a term of M months from date D covers D through the day
// before D's day of the month M months later, or through that month's last
// day when it has no such day (entitlement.TermEnd: one month from 31
// January ends on 28 or 29 February); the manufacturer warranty runs from the
// purchase date for the model's warranty_months. Dates are calendar dates in
// the tenant's time zone.
//
// Sale windows (the seed sells protection plans with the product, before
// their day-31 start): a protection plan may be sold up to sale_window_days
// (default 30) after the purchase; an extended warranty only while the
// manufacturer warranty runs, through its last day. Refunds of cancelled
// contracts are settled by the seller outside ServiceNet.
package warranty

import (
	"errors"
	"time"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// Service is the warranty context's entry point. Each exported method runs
// in one tenant-scoped transaction. Build it with NewService.
type Service struct {
	DB  pg.DB
	Now func() time.Time

	jobs customers.JobRelations
}

// Deps are the Service's dependencies; every one is required.
type Deps struct {
	// Jobs says which units a technician's or node key's jobs serve: such
	// keys see only those units' contracts (tickets.ServedTx).
	Jobs customers.JobRelations
}

// NewService returns the warranty service over db. It fails when db or a
// dependency is missing.
func NewService(db pg.DB, d Deps) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("warranty: NewService needs a database")
	case d.Jobs == nil:
		return nil, errors.New("warranty: Deps.Jobs is required")
	}
	return &Service{DB: db, jobs: d.Jobs}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Event types of this context.
const (
	TypePlanCreated       = "coverage_plan.created"
	TypePlanUpdated       = "coverage_plan.updated"
	TypeContractCreated   = "contract.created"
	TypeContractActivated = "contract.activated"
	TypeContractExpired   = "contract.expired"
	TypeContractCancelled = "contract.cancelled"
	TypeContractConsumed  = "contract.consumed"
	TypeContractRedated   = "contract.redated"
)

// Categories are the product categories of product models (004_catalog.sql).
var Categories = []string{
	"washer", "refrigerator", "air_conditioner", "tv", "water_heater", "kitchen",
	"small_appliance", "phone", "laptop", "camera", "tablet",
}

// Fault causes a diagnosis names and a plan may exclude: the entitlement
// engine's vocabulary, one list for the whole system.
const (
	CauseHardwareFault   = string(entitlement.CausePerformance) // a performance fault in normal use
	CauseDust            = string(entitlement.CauseDust)
	CauseHeat            = string(entitlement.CauseHeat)
	CauseMoisture        = string(entitlement.CauseMoisture) // inside moisture or condensation
	CausePowerSurge      = string(entitlement.CausePowerSurge)
	CauseUnstableVoltage = string(entitlement.CauseUnstableVoltage)
	CauseAccidental      = string(entitlement.CauseAccidental) // drops, crushing, impact
	CauseSoftware        = string(entitlement.CauseSoftware)
	CauseHumanDamage     = string(entitlement.CauseHuman)        // deliberate misuse or unauthorised disassembly: never free
	CauseForceMajeure    = string(entitlement.CauseForceMajeure) // natural disasters and the like: never free
)

// FaultCauses lists every fault cause.
var FaultCauses = []string{
	CauseHardwareFault, CauseDust, CauseHeat, CauseMoisture, CausePowerSurge, CauseUnstableVoltage,
	CauseAccidental, CauseSoftware, CauseHumanDamage, CauseForceMajeure,
}

// EnvironmentalCauses are the faults an extended warranty and a no-reason
// repair plan repair free (seed rules 4 and 7).
var EnvironmentalCauses = []string{CauseDust, CauseHeat, CauseMoisture, CausePowerSurge, CauseUnstableVoltage}

// AccidentalCauses are accidental damage: drops, crushing, impact (rules 5, 7).
var AccidentalCauses = []string{CauseAccidental}

// AlwaysExcluded are excluded from every plan, whatever its terms say.
var AlwaysExcluded = []string{CauseForceMajeure, CauseHumanDamage}

const dateLayout = time.DateOnly
