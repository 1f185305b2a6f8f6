package network

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// QueueRegionKnown queues, on b, whether code is in the GB/T 2260 reference
// table, into known, so a caller reads it in the same round trip as the
// rest of what it checks.
func QueueRegionKnown(b *pgx.Batch, code string, known *bool) {
	b.Queue(`SELECT EXISTS (SELECT FROM regions WHERE code = $1)`, code).QueryRow(func(row pgx.Row) error {
		return row.Scan(known)
	})
}

// TechnicianStanding is whether a technician may take a job on a day.
type TechnicianStanding struct {
	Status TechnicianStatus
	// LicenceValid: a licence is recorded, not marked expired, and expires
	// on or after the day.
	LicenceValid bool
	// Level is the technician's skill level in the job's category (0: none).
	Level int
	// NodeStatus is the status of the technician's node: only an active
	// node takes new work.
	NodeStatus NodeStatus
	// NodeTier is the tier of the technician's node: a hard fault is not
	// a repair point's.
	NodeTier Tier
	// DailyJobLimit is the most jobs the technician takes a day.
	DailyJobLimit int
}

// TechnicianAtNodeTx reads the standing on day (YYYY-MM-DD) of technician
// id of node nodeID, with the skill level in category, the node's status
// and tier and the technician's daily job limit; found is false when the
// node has no such technician.
func TechnicianAtNodeTx(ctx context.Context, tx pg.TenantTx, id, nodeID, day, category string) (s TechnicianStanding, found bool, err error) {
	err = tx.QueryRow(ctx, `SELECT t.status, t.licence_expired_at IS NULL AND t.licence_expires_on IS NOT NULL AND t.licence_expires_on >= $4::date,
		       COALESCE((t.skills ->> $5)::int, 0), n.status, t.daily_job_limit, n.tier
		FROM technicians t JOIN nodes n ON n.tenant_id = t.tenant_id AND n.id = t.node_id
		WHERE t.tenant_id = $1 AND t.id = $2 AND t.node_id = $3`, tx.TenantID, id, nodeID, day, category).Scan(
		&s.Status, &s.LicenceValid, &s.Level, &s.NodeStatus, &s.DailyJobLimit, &s.NodeTier)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, false, nil
	}
	return s, err == nil, err
}

// TechnicianCardTx reads the name and licence number a customer message
// shows of technician id; both are "" when the tenant has no such technician.
func TechnicianCardTx(ctx context.Context, tx pg.TenantTx, id string) (name, licence string, err error) {
	var lic *string
	err = tx.QueryRow(ctx, `SELECT name, licence_number FROM technicians WHERE tenant_id = $1 AND id = $2`,
		tx.TenantID, id).Scan(&name, &lic)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", nil
	}
	if lic != nil {
		licence = *lic
	}
	return name, licence, err
}

// LockTechnicianShiftsTx reads technician id's name and shifts and locks the
// row (FOR NO KEY UPDATE) until the caller's transaction ends, so two
// bookings for the technician are checked one after the other. A missing
// technician is pgx.ErrNoRows.
func LockTechnicianShiftsTx(ctx context.Context, tx pg.TenantTx, id string) (name string, shifts []Shift, err error) {
	err = tx.QueryRow(ctx, `SELECT name, shifts FROM technicians WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE`,
		tx.TenantID, id).Scan(&name, &shifts)
	return name, shifts, err
}
