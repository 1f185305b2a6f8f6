// Package privacy owns the tenant's privacy policy (privacy_policies): how
// long technicians and node keys keep seeing a customer's personal data
// after their job ended, and after how many days personal data that no
// longer serves its purpose is masked at rest: a closed ticket's
// (tickets.MaskEndedTx), a customer's the brand no longer serves
// (customers.MaskRetainedTx). It also holds the masked forms of personal data
// (mask.go). Who sees what is decided by tenants.Principal.SeesPersonalData
// from the relation the owning context works out.
package privacy

import (
	"context"
	"errors"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// Default policy values, used until a tenant sets its own.
const (
	DefaultGraceHours = 24
)

// Policy is a tenant's privacy policy.
type Policy struct {
	GraceHours    int       `json:"grace_hours" minimum:"0" maximum:"8760" doc:"Hours a technician or node key still sees a customer's name, phone and address after its job ended (completed, closed, cancelled or resolved); 0: masked as soon as it ends." example:"24"`
	RetentionDays *int      `json:"retention_days,omitempty" minimum:"1" maximum:"36500" doc:"Days personal data is kept once it no longer serves its purpose, then masked at rest by the hourly retention job (138****8000, 王*, 北京市朝阳区****), in the object and in the audit log's entries of it. A ticket: retention_days after it closes or is cancelled (its contact, service address, sign-off code, a visit's product location, and the numbers and names in its fault, diagnosis notes and the customer's comment). A customer (name, phones, addresses): retention_days after the brand last served them, when none of their tickets (resolved ones included) or complaints is still open and none of their units is under the manufacturer warranty (whole unit or key part) or a contract: counted from the latest of the record's last change, a ticket's close or cancellation, a complaint's close, a unit's registration and the last day of a warranty or contract; their phones are released (a lookup no longer finds them). Records keep their ids, amounts and history. Absent: kept." example:"365"`
	Version       int       `json:"version" example:"1"`
	UpdatedAt     time.Time `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// Grace is the policy's grace period.
func (p Policy) Grace() time.Duration { return time.Duration(p.GraceHours) * time.Hour }

// PolicyUpdate changes the policy; absent fields stay.
type PolicyUpdate struct {
	GraceHours    *int `json:"grace_hours,omitempty" minimum:"0" maximum:"8760" doc:"Hours of grace after a job ends." example:"24"`
	RetentionDays *int `json:"retention_days,omitempty" minimum:"0" maximum:"36500" doc:"Days personal data is kept once it no longer serves its purpose (a ticket closed or cancelled, a customer no longer served: see the policy's retention_days) until it is masked at rest; 0 turns retention off." example:"365"`
}

// Service reads and changes privacy policies; each method is one transaction.
type Service struct {
	DB pg.DB
}

// PolicyTx reads the tenant's policy inside the caller's transaction
// (defaults when it never set one).
func PolicyTx(ctx context.Context, tx pg.TenantTx) (Policy, error) {
	p := Policy{GraceHours: DefaultGraceHours}
	err := tx.QueryRow(ctx, `SELECT grace_hours, retention_days, version, updated_at FROM privacy_policies WHERE tenant_id = $1`,
		tx.TenantID).Scan(&p.GraceHours, &p.RetentionDays, &p.Version, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil
	}
	return p, err
}

// Get returns the principal's tenant's policy.
func (s *Service) Get(ctx context.Context, p tenants.Principal) (Policy, error) {
	var out Policy
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = PolicyTx(ctx, tx)
		return err
	})
	return out, pg.Translate(err)
}

// TypePolicyUpdated is the event of a change of the privacy policy.
const TypePolicyUpdated = "privacy_policy.updated"

// Update changes the tenant's policy, as the other policy documents are
// changed: ifVersion must be its current version (0 while the tenant never
// set one), else precondition failed. A field is changed only when its value
// differs (tenants.Changes): with none, nothing is written, the version and
// updated_at stay and no event is appended; otherwise the version goes up
// with a privacy_policy.updated event naming the changed fields.
func (s *Service) Update(ctx context.Context, p tenants.Principal, u PolicyUpdate, ifVersion int) (Policy, error) {
	v := &tenants.Validation{}
	if u.GraceHours != nil && (*u.GraceHours < 0 || *u.GraceHours > 8760) {
		v.AddMsg("grace_hours", i18n.M("privacy.retention_hours"), *u.GraceHours)
	}
	if u.RetentionDays != nil && (*u.RetentionDays < 0 || *u.RetentionDays > 36500) {
		v.AddMsg("retention_days", i18n.M("privacy.retention_days"), *u.RetentionDays)
	}
	if err := v.Err(); err != nil {
		return Policy{}, err
	}
	var out Policy
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		// Serialise writers of a tenant's first policy (no row to lock yet).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('privacy_policy:' || $1, 0))`, tx.TenantID); err != nil {
			return err
		}
		cur, err := PolicyTx(ctx, tx)
		if err != nil {
			return err
		}
		if cur.Version != ifVersion {
			return tenants.ErrorMsg(tenants.CodePreconditionFailed, i18n.M("privacy.policy_changed", "Version", cur.Version))
		}
		// retention_days 0 is "off", stored as none.
		retention := u.RetentionDays
		if retention != nil && *retention == 0 {
			retention = nil
		}
		var changed tenants.Changes
		changed.Set("grace_hours", tenants.Differs(u.GraceHours, cur.GraceHours), func() { cur.GraceHours = *u.GraceHours })
		changed.Set("retention_days", u.RetentionDays != nil && !reflect.DeepEqual(retention, cur.RetentionDays),
			func() { cur.RetentionDays = retention })
		if len(changed) == 0 {
			out = cur
			return nil
		}
		if err := tx.QueryRow(ctx, `INSERT INTO privacy_policies (tenant_id, grace_hours, retention_days) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, livemode) DO UPDATE SET grace_hours = $2, retention_days = $3,
			  version = privacy_policies.version + 1, updated_at = now()
			RETURNING grace_hours, retention_days, version, updated_at`, tx.TenantID, cur.GraceHours, cur.RetentionDays).
			Scan(&out.GraceHours, &out.RetentionDays, &out.Version, &out.UpdatedAt); err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypePolicyUpdated, SubjectID: tx.TenantID, Actor: p.Subject(),
			Data: PolicyEvent{Policy: out, Changed: changed}})
	})
	return out, pg.Translate(err)
}

// PolicyEvent is the data of privacy_policy.updated: the policy as changed
// and which of its fields changed.
type PolicyEvent struct {
	Policy
	Changed []string `json:"changed" doc:"The fields the update changed." example:"[\"retention_days\"]"`
}

// RetentionBatch bounds the objects (tickets, customers) one retention run
// masks per tenant and mode; the next hourly run goes on.
const RetentionBatch = 500

// Masker masks at rest, inside the caller's transaction, the personal data
// of at most limit objects that ended (or were last served) before
// `before`, and returns how many it masked.
type Masker func(ctx context.Context, tx pg.TenantTx, before time.Time, limit int) (int, error)

// ApplyRetention runs mask, in one transaction of the tenant in the mode of
// ctx, on what ended longer ago than the tenant's retention_days before now
// (nothing when the policy keeps data), at most RetentionBatch, and returns
// how many it masked: the retention job's run of one context for one
// tenant.
func ApplyRetention(ctx context.Context, db pg.DB, tenantID string, now time.Time, mask Masker) (int, error) {
	var n int
	err := pg.InTenantTx(ctx, db, tenantID, func(tx pg.TenantTx) error {
		p, err := PolicyTx(ctx, tx)
		if err != nil || p.RetentionDays == nil {
			return err
		}
		n, err = mask(ctx, tx, now.AddDate(0, 0, -*p.RetentionDays), RetentionBatch)
		return err
	})
	return n, pg.Translate(err)
}
