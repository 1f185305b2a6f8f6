package warranty

import (
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
	customers.QueueLoadHistory(b, tenantID, unitID, &r.History)
}
