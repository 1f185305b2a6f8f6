package network

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// Training and certification records of technicians (issue 13): what the
// technician-level policy requires, besides KPIs, for a level.

// PrefixCertification is the ID prefix of training and certification records.
const PrefixCertification = "crt"

// Event types of the records.
const (
	TypeCertificationRecorded = "technician.certification_recorded"
	TypeCertificationRemoved  = "technician.certification_removed"
)

// CourseCode is the shape of a course code.
var CourseCode = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// NewCertification is a training or certification record to add.
type NewCertification struct {
	Course        string   `json:"course" minLength:"1" maxLength:"64" pattern:"^[a-z0-9][a-z0-9_.-]{0,63}$" doc:"The course or certificate code, as the level policy names it." example:"washer-advanced"`
	Category      string   `json:"category,omitempty" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"The product category it is for; absent: it counts for every category." example:"washer"`
	Kind          string   `json:"kind,omitempty" enum:"training,certification" default:"certification" doc:"A training course attended or a certification examination." example:"certification"`
	CompletedOn   string   `json:"completed_on" format:"date" doc:"When it was completed (tenant's time zone); not in the future." example:"2026-06-15"`
	Result        string   `json:"result" enum:"passed,failed" doc:"Only passed records count for a level." example:"passed"`
	Score         *float64 `json:"score,omitempty" minimum:"0" maximum:"1000" doc:"The examination score, when there was one." example:"86.5"`
	ExpiresOn     string   `json:"expires_on,omitempty" format:"date" doc:"Last day it is valid; after completed_on. Absent: it does not expire." example:"2028-06-14"`
	Issuer        string   `json:"issuer,omitempty" maxLength:"200" doc:"Who trained or certified." example:"海尔服务学院"`
	CertificateNo string   `json:"certificate_number,omitempty" maxLength:"64" doc:"The certificate's number." example:"HSA-2026-00421"`
}

// Certification is a training or certification record of a technician.
type Certification struct {
	ID            string    `json:"id" example:"crt_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	TechnicianID  string    `json:"technician_id" example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pf"`
	Course        string    `json:"course" example:"washer-advanced"`
	Category      *string   `json:"category,omitempty" example:"washer"`
	Kind          string    `json:"kind" enum:"training,certification" example:"certification"`
	CompletedOn   string    `json:"completed_on" format:"date" example:"2026-06-15"`
	Result        string    `json:"result" enum:"passed,failed" example:"passed"`
	Score         *float64  `json:"score,omitempty" example:"86.5"`
	ExpiresOn     *string   `json:"expires_on,omitempty" format:"date" example:"2028-06-14"`
	Issuer        *string   `json:"issuer,omitempty" example:"海尔服务学院"`
	CertificateNo *string   `json:"certificate_number,omitempty" example:"HSA-2026-00421"`
	Valid         bool      `json:"valid" doc:"Passed, and not expired on the tenant's current date: whether it counts for a level now." example:"true"`
	CreatedBy     string    `json:"created_by" doc:"The API key that recorded it."`
	CreatedAt     time.Time `json:"created_at"`
}

// CertificationFilter narrows a network-wide list of records.
type CertificationFilter struct {
	Course        string
	ExpiresBefore string // YYYY-MM-DD: only records expiring on or before it
	ExpiresAfter  string // YYYY-MM-DD: only records expiring on or after it
	TechnicianID  string
	Limit         int    // page size (tenants.PageLimit)
	Cursor        string // next_cursor of the previous page
}

// certScope resolves who may see technician id's records: the network's
// managers any, a node-bound key its subtree's technicians, a technician
// key only itself. Anything else is not found.
func certScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) error {
	if technicianOnly(p) && id != p.TechnicianID {
		return tenants.NotFound("technician")
	}
	_, err := TechnicianNodeTx(ctx, tx, p, id)
	return err
}

// technicianOnly is a technician key (not also a node manager): it sees its own records only.
func technicianOnly(p tenants.Principal) bool {
	return p.HasRole(tenants.RoleTechnician) && !p.HasRole(tenants.RoleNodeManager)
}

const certificationColumns = `c.id, c.technician_id, c.course, c.category, c.kind, to_char(c.completed_on, 'YYYY-MM-DD'), c.result,
	c.score::float8, to_char(c.expires_on, 'YYYY-MM-DD'), c.issuer, c.certificate_no, c.created_by, c.created_at`

func scanCertification(r pgx.Row, today string) (Certification, error) {
	var c Certification
	err := r.Scan(&c.ID, &c.TechnicianID, &c.Course, &c.Category, &c.Kind, &c.CompletedOn, &c.Result, &c.Score, &c.ExpiresOn,
		&c.Issuer, &c.CertificateNo, &c.CreatedBy, &c.CreatedAt)
	c.Valid = c.Result == "passed" && c.CompletedOn <= today && (c.ExpiresOn == nil || *c.ExpiresOn >= today)
	return c, err
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// RecordCertification adds a record to a technician in the caller's scope.
func (s *Service) RecordCertification(ctx context.Context, p tenants.Principal, techID string, in NewCertification) (Certification, error) {
	v := &tenants.Validation{}
	if !CourseCode.MatchString(in.Course) {
		v.AddMsg("course", i18n.M("network.course_code"), in.Course)
	}
	if in.Category != "" && !slices.Contains(Categories, in.Category) {
		v.AddMsg("category", i18n.M("common.one_of", "Values", join(Categories)), in.Category)
	}
	if in.Kind == "" {
		in.Kind = "certification"
	}
	if in.Kind != "training" && in.Kind != "certification" {
		v.AddMsg("kind", i18n.M("common.one_of", "Values", "training, certification"), in.Kind)
	}
	if in.Result != "passed" && in.Result != "failed" {
		v.AddMsg("result", i18n.M("common.one_of", "Values", "passed, failed"), in.Result)
	}
	done, errD := time.Parse(dateLayout, in.CompletedOn)
	if errD != nil {
		v.AddMsg("completed_on", i18n.M("common.date"), in.CompletedOn)
	}
	if in.ExpiresOn != "" {
		exp, err := time.Parse(dateLayout, in.ExpiresOn)
		switch {
		case err != nil:
			v.AddMsg("expires_on", i18n.M("common.date"), in.ExpiresOn)
		case errD == nil && !exp.After(done):
			v.AddMsg("expires_on", i18n.M("network.after_completed_on", "Date", in.CompletedOn), in.ExpiresOn)
		}
	}
	if in.Score != nil && (*in.Score < 0 || *in.Score > 1000) {
		v.AddMsg("score", i18n.M("common.range", "Min", 0, "Max", 1000), *in.Score)
	}
	if err := v.Err(); err != nil {
		return Certification{}, err
	}
	now := s.now()
	var out Certification
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		today, err := tenantToday(ctx, tx, now)
		if err != nil {
			return err
		}
		if in.CompletedOn > today {
			return tenants.InvalidMsg("completed_on", i18n.M("common.not_in_future_today", "Today", today), in.CompletedOn)
		}
		if err := certScope(ctx, tx, p, techID); err != nil {
			return err
		}
		out, err = scanCertification(tx.QueryRow(ctx, `INSERT INTO technician_certifications AS c (tenant_id, id, technician_id, course,
			category, kind, completed_on, result, score, expires_on, issuer, certificate_no, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7::date, $8, $9, $10::date, $11, $12, $13) RETURNING `+certificationColumns,
			tx.TenantID, tenants.NewID(PrefixCertification), techID, in.Course, optional(in.Category), in.Kind, in.CompletedOn, in.Result,
			in.Score, optional(in.ExpiresOn), optional(in.Issuer), optional(in.CertificateNo), p.Subject()), today)
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeCertificationRecorded, SubjectID: techID, Actor: p.Subject(),
			Data: map[string]any{"certification_id": out.ID, "course": out.Course, "result": out.Result, "expires_on": out.ExpiresOn}})
	})
	return out, pg.Translate(err)
}

// ListCertifications lists a technician's records, newest first.
func (s *Service) ListCertifications(ctx context.Context, p tenants.Principal, techID string) ([]Certification, error) {
	out := []Certification{}
	err := s.certifications(ctx, p, func(ctx context.Context, tx pg.TenantTx, today string) (pgx.Rows, error) {
		if err := certScope(ctx, tx, p, techID); err != nil {
			return nil, err
		}
		return tx.Query(ctx, `SELECT `+certificationColumns+` FROM technician_certifications c
			WHERE c.tenant_id = $1 AND c.technician_id = $2 ORDER BY c.completed_on DESC, c.id DESC`, tx.TenantID, techID)
	}, &out)
	return out, err
}

// certificationKey is the sort key of a network list's record: its expiry
// ("" for none: those come last) and ID.
func certificationKey(c Certification) string {
	exp := ""
	if c.ExpiresOn != nil {
		exp = *c.ExpiresOn
	}
	return exp + "|" + c.ID
}

// ListNetworkCertifications lists the records of every technician in the
// caller's scope (a technician key: its own), by expiry (soonest first,
// those without an expiry last), a page of f.Limit with the cursor of the
// next ("" on the last): what a network manager needs to plan
// re-certification. A cursor this list did not make is invalid.
func (s *Service) ListNetworkCertifications(ctx context.Context, p tenants.Principal, f CertificationFilter) ([]Certification, string, error) {
	v := &tenants.Validation{}
	for loc, d := range map[string]string{"expires_before": f.ExpiresBefore, "expires_after": f.ExpiresAfter} {
		if _, err := time.Parse(dateLayout, d); d != "" && err != nil {
			v.AddMsg(loc, i18n.M("common.date"), d)
		}
	}
	if f.ExpiresBefore != "" && f.ExpiresAfter != "" && f.ExpiresBefore < f.ExpiresAfter {
		v.AddMsg("expires_before", i18n.M("network.on_or_after_expires_after", "Date", f.ExpiresAfter), f.ExpiresBefore)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	limit := tenants.PageLimit(f.Limit)
	key, err := tenants.PageAfter("network_certifications", f.Cursor)
	if err != nil {
		return nil, "", err
	}
	// The cursor's record: its ID (nil on the first page) and expiry (nil
	// when it has none).
	var afterID, afterExpiry *string
	if key != "" {
		exp, id, _ := strings.Cut(key, "|")
		d, err := time.Parse(dateLayout, exp)
		if (exp != "" && (err != nil || d.Year() < 1)) || id == "" {
			return nil, "", tenants.MalformedCursor(f.Cursor)
		}
		afterID = &id
		if exp != "" {
			afterExpiry = &exp
		}
	}
	if technicianOnly(p) {
		f.TechnicianID = p.TechnicianID
	}
	out := []Certification{}
	err = s.certifications(ctx, p, func(ctx context.Context, tx pg.TenantTx, _ string) (pgx.Rows, error) {
		sc, err := ResolveScope(ctx, tx, p)
		if err != nil {
			return nil, err
		}
		return tx.Query(ctx, `SELECT `+certificationColumns+` FROM technician_certifications c
			JOIN technicians t ON t.tenant_id = c.tenant_id AND t.id = c.technician_id
			JOIN nodes n ON n.tenant_id = t.tenant_id AND n.id = t.node_id
			WHERE c.tenant_id = $1 AND ($2::ltree IS NULL OR n.path <@ $2::ltree) AND ($3 = '' OR c.course = $3)
			  AND ($4 = '' OR c.expires_on <= $4::date) AND ($5 = '' OR c.expires_on >= $5::date) AND ($6 = '' OR c.technician_id = $6)
			  AND ($7::text IS NULL
			    OR ($8::date IS NULL AND c.expires_on IS NULL AND c.id > $7)
			    OR ($8::date IS NOT NULL AND (c.expires_on IS NULL OR c.expires_on > $8 OR (c.expires_on = $8 AND c.id > $7))))
			ORDER BY c.expires_on NULLS LAST, c.id LIMIT $9`, tx.TenantID, sc.Path(), f.Course, f.ExpiresBefore, f.ExpiresAfter, f.TechnicianID,
			afterID, afterExpiry, limit+1)
	}, &out)
	if err != nil {
		return nil, "", err
	}
	out, next := tenants.NextPage("network_certifications", out, limit, certificationKey)
	return out, next, nil
}

func (s *Service) certifications(ctx context.Context, p tenants.Principal, query func(context.Context, pg.TenantTx, string) (pgx.Rows, error), out *[]Certification) error {
	now := s.now()
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		today, err := tenantToday(ctx, tx, now)
		if err != nil {
			return err
		}
		rows, err := query(ctx, tx, today)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCertification(rows, today)
			if err != nil {
				return err
			}
			*out = append(*out, c)
		}
		return rows.Err()
	})
	return pg.Translate(err)
}

// RemoveCertification deletes a record entered in error (the audit log keeps it).
func (s *Service) RemoveCertification(ctx context.Context, p tenants.Principal, techID, id string) error {
	if !tenants.ValidID(PrefixCertification, id) {
		return tenants.NotFound("certification")
	}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if err := certScope(ctx, tx, p, techID); err != nil {
			return err
		}
		var course string
		err := tx.QueryRow(ctx, `DELETE FROM technician_certifications WHERE tenant_id = $1 AND technician_id = $2 AND id = $3
			RETURNING course`, tx.TenantID, techID, id).Scan(&course)
		if errors.Is(err, pgx.ErrNoRows) {
			return tenants.NotFound("certification")
		}
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeCertificationRemoved, SubjectID: techID, Actor: p.Subject(),
			Data: map[string]any{"certification_id": id, "course": course}})
	})
	return pg.Translate(err)
}

// LevelCandidate is what the quality context needs of a technician to level it.
type LevelCandidate struct {
	ID           string
	NodeID       string
	Skills       map[string]int
	LicenceValid bool
	// Courses are the passed records valid on the day asked, by category
	// ("" for records that count for every category).
	Courses map[string][]string
}

// LevelCandidatesTx lists the technicians who have not left, with their
// levels, whether their licence is valid on asOf (YYYY-MM-DD) and the
// passed records valid on asOf.
func LevelCandidatesTx(ctx context.Context, tx pg.TenantTx, asOf string) (map[string]*LevelCandidate, error) {
	rows, err := tx.Query(ctx, `SELECT id, node_id, skills, COALESCE(licence_expires_on >= $2::date, false) FROM technicians
		WHERE tenant_id = $1 AND status <> 'left'`, tx.TenantID, asOf)
	if err != nil {
		return nil, err
	}
	out := map[string]*LevelCandidate{}
	for rows.Next() {
		c := &LevelCandidate{Courses: map[string][]string{}}
		if err := rows.Scan(&c.ID, &c.NodeID, &c.Skills, &c.LicenceValid); err != nil {
			rows.Close()
			return nil, err
		}
		out[c.ID] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT technician_id, COALESCE(category, ''), course FROM technician_certifications
		WHERE tenant_id = $1 AND result = 'passed' AND completed_on <= $2::date AND (expires_on IS NULL OR expires_on >= $2::date)
		ORDER BY course`, tx.TenantID, asOf)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var tech, cat, course string
		if err := rows.Scan(&tech, &cat, &course); err != nil {
			return nil, err
		}
		if c := out[tech]; c != nil {
			c.Courses[cat] = append(c.Courses[cat], course)
		}
	}
	return out, rows.Err()
}

// SetSkillLevelTx sets a technician's level in a category inside the
// caller's transaction (a levelling decision), bumping its version, with a
// technician.updated event; it returns the level before (nil: none). The
// caller records the level history. Dispatch reads the level from then on.
func SetSkillLevelTx(ctx context.Context, tx pg.TenantTx, actor, id, category string, level int) (old *int, err error) {
	var version int
	err = tx.QueryRow(ctx, `WITH o AS (SELECT (skills ->> $3)::int AS level FROM technicians WHERE tenant_id = $1 AND id = $2 FOR UPDATE)
		UPDATE technicians t SET skills = t.skills || jsonb_build_object($3::text, $4::int), version = version + 1, updated_at = now() FROM o
		WHERE t.tenant_id = $1 AND t.id = $2 RETURNING o.level, t.version`, tx.TenantID, id, category, level).Scan(&old, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, tenants.NotFound("technician")
	}
	if err != nil {
		return nil, err
	}
	return old, events.Append(ctx, tx, events.New{Type: TypeTechnicianUpdated, SubjectID: id, Actor: actor,
		Data: map[string]any{"changed": []string{"skills"}, "version": version}})
}
