package warranty

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
)

// QueueUnitRecordsSystem queues on b the reads of LoadUnitRecords into r,
// the unit read whoever sold it: a system read for the claim adjudication
// job, which adds its own reads to the same round trip. An unknown unit is
// not_found when b is sent.
func QueueUnitRecordsSystem(b *pgx.Batch, tenantID, unitID string, r *UnitRecords) {
	pg.QueueSettings(b, &r.Settings)
	customers.QueueLoadUnitSystem(b, tenantID, unitID, &r.Unit)
	catalog.QueueUnitModel(b, tenantID, unitID, &r.Model)
	QueueUnitContracts(b, tenantID, unitID, &r.Contracts)
	QueueContractsMovedAway(b, tenantID, unitID, &r.MovedAway)
	customers.QueueLoadHistory(b, tenantID, unitID, &r.History)
}

// MovedContract is a contract that followed a replacement unit away from a
// unit (FollowReplacementUnit), and when it left: it covered the unit until
// then.
type MovedContract struct {
	Contract
	LeftAt time.Time
}

// CoveredOn says whether the contract still covered the unit it left on
// day (YYYY-MM-DD, in loc, the tenant's zone): a repair done by the day it
// left is the plan's. Both the claim's named contract_id and its
// adjudication ask it.
func (m MovedContract) CoveredOn(day string, loc *time.Location) bool {
	return day <= m.LeftAt.In(loc).Format(time.DateOnly)
}

// QueueContractsMovedAway queues on b the read of the contracts that left
// unitID for a replacement unit, with when each left it (its first move
// away from the unit), into out.
func QueueContractsMovedAway(b *pgx.Batch, tenantID, unitID string, out *[]MovedContract) {
	b.Queue(`SELECT `+contractColumns+`, m.left_at
		FROM (SELECT contract_id, min(changed_at) AS left_at FROM contract_state_changes
		      WHERE tenant_id = $1 AND from_unit_id = $2 GROUP BY contract_id) m
		JOIN contracts c ON c.tenant_id = $1 AND c.id = m.contract_id
		JOIN coverage_plans p ON p.tenant_id = c.tenant_id AND p.id = c.plan_id
		ORDER BY c.starts_on, c.id`, tenantID, unitID).Query(func(rows pgx.Rows) error {
		var err error
		*out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (MovedContract, error) {
			var m MovedContract
			c, err := scanContractWith(r, &m.LeftAt)
			m.Contract = c
			return m, err
		})
		return err
	})
}
