package network

import (
	"context"
	"errors"
	"fmt"
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

// TechnicianStatus is whether a technician currently works for the network.
type TechnicianStatus string

// Technician statuses. Only active technicians with a valid licence are
// eligible for dispatch.
const (
	TechnicianActive    TechnicianStatus = "active"
	TechnicianOnLeave   TechnicianStatus = "on_leave"
	TechnicianSuspended TechnicianStatus = "suspended"
	TechnicianLeft      TechnicianStatus = "left"
)

// TechnicianStatuses lists every technician status.
var TechnicianStatuses = []TechnicianStatus{TechnicianActive, TechnicianOnLeave, TechnicianSuspended, TechnicianLeft}

// LicenceStatus is a service licence's standing on the tenant's current date.
type LicenceStatus string

// Licence statuses: a licence is valid through its expires_on date, in the
// tenant's time zone.
const (
	LicenceValid   LicenceStatus = "valid"
	LicenceExpired LicenceStatus = "expired"
	LicenceMissing LicenceStatus = "missing"
)

// MaxSkillLevel is the highest skill level; 1 is the lowest.
const MaxSkillLevel = 5

// DefaultDailyJobLimit is a new technician's daily job limit when none is given.
const DefaultDailyJobLimit = 8

// Skill is a technician's level in one product category.
type Skill struct {
	Category string `json:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Product category." example:"washer"`
	Level    int    `json:"level" minimum:"1" maximum:"5" doc:"1 (trainee) to 5 (master)." example:"3"`
}

// Shift is a weekly working window in the tenant's time zone.
type Shift struct {
	Weekday int    `json:"weekday" minimum:"1" maximum:"7" doc:"ISO weekday: 1 Monday to 7 Sunday." example:"1"`
	Start   string `json:"start" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" doc:"Start time, HH:MM, in the tenant's time zone." example:"08:00"`
	End     string `json:"end" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" doc:"End time, HH:MM, after start on the same day." example:"18:00"`
}

// Home is where a technician starts the day.
type Home struct {
	RegionCode string `json:"region_code,omitempty" pattern:"^[1-9][0-9]{5}$" doc:"GB/T 2260 district (or city) code." example:"370212"`
	Location   *Point `json:"location,omitempty"`
}

func (h *Home) empty() bool { return h == nil || (h.RegionCode == "" && h.Location == nil) }

// Licence is a technician's service licence as read: status is computed on
// the tenant's current date.
type Licence struct {
	Number    string        `json:"number,omitempty" doc:"Licence number; absent when the technician has no licence." example:"SD-2025-0012345"`
	IssuedOn  string        `json:"issued_on,omitempty" format:"date" example:"2025-02-01"`
	ExpiresOn string        `json:"expires_on,omitempty" format:"date" doc:"Last day the licence is valid, in the tenant's time zone." example:"2028-01-31"`
	Status    LicenceStatus `json:"status" enum:"valid,expired,missing" doc:"valid through expires_on; expired after it; missing when there is none." example:"valid"`
}

// LicenceInput is a service licence to record.
type LicenceInput struct {
	Number    string `json:"number" minLength:"1" maxLength:"64" doc:"Licence number." example:"SD-2025-0012345"`
	IssuedOn  string `json:"issued_on" format:"date" doc:"Issue date; not in the future." example:"2025-02-01"`
	ExpiresOn string `json:"expires_on" format:"date" doc:"Last valid day; after issued_on." example:"2028-01-31"`
}

// Technician is a person who does the work for a node.
type Technician struct {
	ID            string           `json:"id" example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pf"`
	ExternalCode  string           `json:"external_code" doc:"The brand's own code for the technician; unique per tenant; imports match on it." example:"T-QD-0042"`
	NodeID        string           `json:"node_id" doc:"The node the technician works for." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Name          string           `json:"name" example:"李师傅"`
	Phone         string           `json:"phone" example:"+86 138 0532 0000"`
	Status        TechnicianStatus `json:"status" enum:"active,on_leave,suspended,left" example:"active"`
	Skills        []Skill          `json:"skills" doc:"Levels per product category, by category."`
	Licence       Licence          `json:"licence"`
	Eligible      bool             `json:"eligible" doc:"Whether dispatch may assign work: status active and licence valid." example:"true"`
	Shifts        []Shift          `json:"shifts" doc:"Weekly working windows, by weekday and start."`
	DailyJobLimit int              `json:"daily_job_limit" doc:"Most jobs assigned per day; 0 takes none." example:"8"`
	Home          *Home            `json:"home,omitempty"`
	Version       int              `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"2"`
	CreatedAt     time.Time        `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt     time.Time        `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// NewTechnician is a technician to create.
type NewTechnician struct {
	ExternalCode  string        `json:"external_code" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" doc:"The brand's own code for the technician; unique per tenant." example:"T-QD-0042"`
	NodeID        string        `json:"node_id" maxLength:"64" doc:"The node the technician works for: in your scope and not terminated." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	Name          string        `json:"name" minLength:"1" maxLength:"200" example:"李师傅"`
	Phone         string        `json:"phone" minLength:"5" maxLength:"32" pattern:"^\\+?[0-9][0-9 ()-]*$" example:"+86 138 0532 0000"`
	Status        string        `json:"status,omitempty" enum:"active,on_leave,suspended" doc:"Default active." example:"active"`
	Skills        []Skill       `json:"skills,omitempty" maxItems:"20" doc:"One entry per category."`
	Licence       *LicenceInput `json:"licence,omitempty"`
	Shifts        []Shift       `json:"shifts,omitempty" maxItems:"21" doc:"Weekly working windows; windows on one weekday must not overlap."`
	DailyJobLimit *int          `json:"daily_job_limit,omitempty" minimum:"0" maximum:"100" doc:"Most jobs assigned per day (default 8); 0 takes none." example:"8"`
	Home          *Home         `json:"home,omitempty"`
}

// TechnicianUpdate changes some of a technician's attributes; absent fields
// stay. The licence changes only through RenewLicence.
type TechnicianUpdate struct {
	ExternalCode  *string  `json:"external_code,omitempty" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" example:"T-QD-0042"`
	NodeID        *string  `json:"node_id,omitempty" maxLength:"64" doc:"Moves the technician to this node (in your scope, not terminated)." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Name          *string  `json:"name,omitempty" minLength:"1" maxLength:"200" example:"李师傅"`
	Phone         *string  `json:"phone,omitempty" minLength:"5" maxLength:"32" pattern:"^\\+?[0-9][0-9 ()-]*$" example:"+86 138 0532 0001"`
	Status        *string  `json:"status,omitempty" enum:"active,on_leave,suspended,left" example:"on_leave"`
	Skills        *[]Skill `json:"skills,omitempty" maxItems:"20" doc:"Replaces all skills."`
	Shifts        *[]Shift `json:"shifts,omitempty" maxItems:"21" doc:"Replaces all shifts."`
	DailyJobLimit *int     `json:"daily_job_limit,omitempty" minimum:"0" maximum:"100" example:"10"`
	Home          *Home    `json:"home,omitempty"`
}

// TechnicianFilter selects technicians; empty fields do not filter.
type TechnicianFilter struct {
	NodeID    string
	SubtreeOf string
	// Category with MinLevel (1 when 0) keeps technicians skilled enough.
	Category string
	MinLevel int
	Licence  string
	Status   string
	Eligible *bool
	Limit    int
	Cursor   string
}

var (
	hhmm  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	phone = regexp.MustCompile(`^\+?[0-9][0-9 ()-]{4,31}$`)
)

const dateLayout = "2006-01-02"

// validateTechnician checks a technician's attributes, with locations under
// prefix (the technician's own fields: "", for the API and import rows alike). The node, region codes
// and the licence's relation to today are checked in the transaction.
func validateTechnician(v *tenants.Validation, prefix string, f NewTechnician) {
	if !externalCode.MatchString(f.ExternalCode) {
		v.AddMsg(prefix+"external_code", i18n.M("common.identifier"), f.ExternalCode)
	}
	if n := len([]rune(f.Name)); n < 1 || n > 200 {
		v.AddMsg(prefix+"name", i18n.M("common.length", "Min", 1, "Max", 200), f.Name)
	}
	if !phone.MatchString(f.Phone) {
		v.AddMsg(prefix+"phone", i18n.M("network.phone_format"), f.Phone)
	}
	if f.Status != "" && !slices.Contains(TechnicianStatuses, TechnicianStatus(f.Status)) {
		v.AddMsg(prefix+"status", i18n.M("common.one_of", "Values", "active, on_leave, suspended, left"), f.Status)
	}
	seen := map[string]bool{}
	for i, sk := range f.Skills {
		loc := fmt.Sprintf("%sskills[%d]", prefix, i)
		switch {
		case !slices.Contains(Categories, sk.Category):
			v.AddMsg(loc+".category", i18n.M("common.one_of", "Values", join(Categories)), sk.Category)
		case seen[sk.Category]:
			v.AddMsg(loc+".category", i18n.M("network.level_per_category"), sk.Category)
		}
		seen[sk.Category] = true
		if sk.Level < 1 || sk.Level > MaxSkillLevel {
			v.AddMsg(loc+".level", i18n.M("common.range", "Min", 1, "Max", 5), sk.Level)
		}
	}
	validateShifts(v, prefix+"shifts", f.Shifts)
	if f.DailyJobLimit != nil && (*f.DailyJobLimit < 0 || *f.DailyJobLimit > 100) {
		v.AddMsg(prefix+"daily_job_limit", i18n.M("common.range", "Min", 0, "Max", 100), *f.DailyJobLimit)
	}
	if f.Home != nil {
		if f.Home.RegionCode != "" && RegionLevel(f.Home.RegionCode) == 0 {
			v.AddMsg(prefix+"home.region_code", i18n.M("common.region_code_6"), f.Home.RegionCode)
		}
		if l := f.Home.Location; l != nil && (l.Latitude < -90 || l.Latitude > 90 || l.Longitude < -180 || l.Longitude > 180) {
			v.AddMsg(prefix+"home.location", i18n.M("common.lat_lng_range"), l)
		}
	}
	if f.Licence != nil {
		validateLicence(v, prefix+"licence.", *f.Licence)
	}
}

// validateShifts checks each shift and that well-formed shifts on one
// weekday do not overlap (one may start when another ends).
func validateShifts(v *tenants.Validation, loc string, shifts []Shift) {
	ok := make([]bool, len(shifts))
	for i, sh := range shifts {
		at := fmt.Sprintf("%s[%d]", loc, i)
		okDay := sh.Weekday >= 1 && sh.Weekday <= 7
		if !okDay {
			v.AddMsg(at+".weekday", i18n.M("network.weekday"), sh.Weekday)
		}
		okStart, okEnd := hhmm.MatchString(sh.Start), hhmm.MatchString(sh.End)
		if !okStart {
			v.AddMsg(at+".start", i18n.M("network.time_of_day"), sh.Start)
		}
		if !okEnd {
			v.AddMsg(at+".end", i18n.M("network.time_of_day"), sh.End)
		}
		if okStart && okEnd && sh.End <= sh.Start {
			v.AddMsg(at+".end", i18n.M("network.after_start"), sh.End)
			continue
		}
		ok[i] = okDay && okStart && okEnd
		if !ok[i] {
			continue
		}
		for j, o := range shifts[:i] {
			if ok[j] && o.Weekday == sh.Weekday && o.Start < sh.End && sh.Start < o.End {
				v.AddMsg(at, i18n.M("network.shift_overlap", "Index", j), sh)
				break
			}
		}
	}
}

// validateLicence checks a licence's shape and dates; prefix ends in ".".
func validateLicence(v *tenants.Validation, prefix string, l LicenceInput) {
	if n := len([]rune(strings.TrimSpace(l.Number))); n < 1 || n > 64 {
		v.AddMsg(prefix+"number", i18n.M("common.length", "Min", 1, "Max", 64), l.Number)
	}
	issued, errI := time.Parse(dateLayout, l.IssuedOn)
	if errI != nil {
		v.AddMsg(prefix+"issued_on", i18n.M("common.date"), l.IssuedOn)
	}
	expires, errE := time.Parse(dateLayout, l.ExpiresOn)
	if errE != nil {
		v.AddMsg(prefix+"expires_on", i18n.M("common.date"), l.ExpiresOn)
	}
	if errI == nil && errE == nil && !expires.After(issued) {
		v.AddMsg(prefix+"expires_on", i18n.M("network.after_issued_on", "Date", l.IssuedOn), l.ExpiresOn)
	}
}

// checkLicenceDates checks a licence's dates against the tenant's today: a
// licence is not issued in the future.
func checkLicenceDates(v *tenants.Validation, prefix string, l LicenceInput, today string) {
	if _, err := time.Parse(dateLayout, l.IssuedOn); err == nil && l.IssuedOn > today {
		v.AddMsg(prefix+"issued_on", i18n.M("common.in_future_today", "Today", today), l.IssuedOn)
	}
}

// tenantToday is the date at now in the tenant's time zone, as YYYY-MM-DD.
func tenantToday(ctx context.Context, tx pg.TenantTx, now time.Time) (string, error) {
	_, today, err := tx.Today(ctx, now)
	return today, err
}

func licenceStatus(expiresOn *string, today string) LicenceStatus {
	switch {
	case expiresOn == nil:
		return LicenceMissing
	case *expiresOn < today:
		return LicenceExpired
	}
	return LicenceValid
}

const technicianColumns = `t.id, t.external_code, t.node_id, t.name, t.phone, t.status, t.skills, t.licence_number,
	to_char(t.licence_issued_on, 'YYYY-MM-DD'), to_char(t.licence_expires_on, 'YYYY-MM-DD'), t.shifts,
	t.daily_job_limit, t.home_region, t.home_latitude, t.home_longitude, t.version, t.created_at, t.updated_at`

func scanTechnician(row pgx.Row, today string) (Technician, error) {
	var (
		t                Technician
		skills           map[string]int
		number, iss, exp *string
		region           *string
		homeLat, homeLon *float64
	)
	err := row.Scan(&t.ID, &t.ExternalCode, &t.NodeID, &t.Name, &t.Phone, &t.Status, &skills, &number, &iss, &exp,
		&t.Shifts, &t.DailyJobLimit, &region, &homeLat, &homeLon, &t.Version, &t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return Technician{}, err
	}
	t.Skills = skillList(skills)
	if t.Shifts == nil {
		t.Shifts = []Shift{}
	}
	t.Licence = Licence{Status: licenceStatus(exp, today)}
	if number != nil {
		t.Licence.Number = *number
	}
	if iss != nil {
		t.Licence.IssuedOn = *iss
	}
	if exp != nil {
		t.Licence.ExpiresOn = *exp
	}
	t.Eligible = t.Status == TechnicianActive && t.Licence.Status == LicenceValid
	if region != nil || homeLat != nil {
		t.Home = &Home{}
		if region != nil {
			t.Home.RegionCode = *region
		}
		if homeLat != nil && homeLon != nil {
			t.Home.Location = &Point{Latitude: *homeLat, Longitude: *homeLon}
		}
	}
	return t, nil
}

func collectTechnicians(rows pgx.Rows, today string) ([]Technician, error) {
	defer rows.Close()
	out := []Technician{}
	for rows.Next() {
		t, err := scanTechnician(rows, today)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func skillList(m map[string]int) []Skill {
	out := make([]Skill, 0, len(m))
	for c, l := range m {
		out = append(out, Skill{Category: c, Level: l})
	}
	slices.SortFunc(out, func(a, b Skill) int { return strings.Compare(a.Category, b.Category) })
	return out
}

func skillMap(skills []Skill) map[string]int {
	m := make(map[string]int, len(skills))
	for _, s := range skills {
		m[s.Category] = s.Level
	}
	return m
}

func sortedShifts(shifts []Shift) []Shift {
	out := slices.Clone(shifts)
	if out == nil {
		out = []Shift{}
	}
	slices.SortStableFunc(out, func(a, b Shift) int {
		if a.Weekday != b.Weekday {
			return a.Weekday - b.Weekday
		}
		return strings.Compare(a.Start, b.Start)
	})
	return out
}

// getTechnician reads a technician whose node is in scope; lock is "" or
// "FOR UPDATE OF t".
func getTechnician(ctx context.Context, tx pg.TenantTx, sc Scope, id, lock, today string) (Technician, error) {
	if !tenants.ValidID(tenants.PrefixTechnician, id) {
		return Technician{}, tenants.NotFound("technician")
	}
	t, err := scanTechnician(tx.QueryRow(ctx, `SELECT `+technicianColumns+`
		FROM technicians t JOIN nodes n ON n.tenant_id = t.tenant_id AND n.id = t.node_id
		WHERE t.tenant_id = $1 AND t.id = $2 AND ($3::ltree IS NULL OR n.path <@ $3::ltree) `+lock,
		tx.TenantID, id, sc.Path()), today)
	if errors.Is(err, pgx.ErrNoRows) {
		return Technician{}, tenants.NotFound("technician")
	}
	return t, err
}

// checkTechnicianNode adds a problem at loc unless the node is in scope and
// not terminated. It takes a share lock on the node, so the node cannot be
// terminated before the transaction commits.
func checkTechnicianNode(ctx context.Context, tx pg.TenantTx, sc Scope, v *tenants.Validation, loc, nodeID string) error {
	n, err := getNode(ctx, tx, sc, nodeID, "FOR SHARE")
	switch {
	case tenants.ErrorCode(err) == tenants.CodeNotFound:
		v.AddMsg(loc, i18n.M("common.no_such_node"), nodeID)
	case err != nil:
		return err
	case n.Status == StatusTerminated:
		v.AddMsg(loc, i18n.M("network.node_terminated"), nodeID)
	}
	return nil
}

// checkRegion adds a problem at loc when code is well formed but not in the
// GB/T 2260 table.
func checkRegion(ctx context.Context, tx pg.TenantTx, v *tenants.Validation, loc, code string) error {
	if code == "" || RegionLevel(code) == 0 {
		return nil
	}
	rv := &tenants.Validation{}
	if err := checkRegions(ctx, tx, rv, loc, []string{code}); err != nil {
		return err
	}
	for _, fe := range rv.Fields() {
		v.AddField(fe.At(loc))
	}
	return nil
}

func homeColumns(h *Home) (region *string, lat, lon *float64) {
	if h == nil {
		return nil, nil, nil
	}
	lat, lon = latLon(h.Location)
	return nullable(h.RegionCode), lat, lon
}

// CreateTechnician adds a technician to a node in the principal's scope. A
// technician may be created with an expired licence (they are then not
// eligible); the licence is marked expired at once, so the expiry job sends
// no event for it.
func (s *Service) CreateTechnician(ctx context.Context, p tenants.Principal, in NewTechnician) (Technician, error) {
	v := &tenants.Validation{}
	validateTechnician(v, "", in)
	if in.Status == string(TechnicianLeft) {
		v.AddMsg("status", i18n.M("network.new_technician_status"), in.Status)
	}
	if err := v.Err(); err != nil {
		return Technician{}, err
	}
	status := TechnicianStatus(in.Status)
	if status == "" {
		status = TechnicianActive
	}
	limit := DefaultDailyJobLimit
	if in.DailyJobLimit != nil {
		limit = *in.DailyJobLimit
	}
	now := s.now()
	var out Technician
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		today, sc, err := todayInScope(ctx, tx, p, now)
		if err != nil {
			return err
		}
		if err := checkTechnicianNode(ctx, tx, sc, v, "node_id", in.NodeID); err != nil {
			return err
		}
		if in.Home != nil {
			if err := checkRegion(ctx, tx, v, "home.region_code", in.Home.RegionCode); err != nil {
				return err
			}
		}
		var number, issued, expires *string
		var expiredAt *time.Time
		if l := in.Licence; l != nil {
			checkLicenceDates(v, "licence.", *l, today)
			number, issued, expires = &l.Number, &l.IssuedOn, &l.ExpiresOn
			if licenceStatus(expires, today) == LicenceExpired {
				expiredAt = &now
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if !sc.Whole() {
			if err := nodeKeyKeepsLevels(nil, in.Skills); err != nil {
				return err
			}
		}
		region, lat, lon := homeColumns(in.Home)
		out, err = scanTechnician(tx.QueryRow(ctx, `
			INSERT INTO technicians AS t (tenant_id, id, external_code, node_id, name, phone, status, skills,
			       licence_number, licence_issued_on, licence_expires_on, licence_expired_at, shifts, daily_job_limit,
			       home_region, home_latitude, home_longitude)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::date, $11::date, $12, $13, $14, $15, $16, $17)
			RETURNING `+technicianColumns,
			tx.TenantID, tenants.NewID(tenants.PrefixTechnician), in.ExternalCode, in.NodeID, in.Name, in.Phone, status,
			skillMap(in.Skills), number, issued, expires, expiredAt, sortedShifts(in.Shifts), limit, region, lat, lon), today)
		if err != nil {
			return err
		}
		return events.Append(ctx, tx, events.New{Type: TypeTechnicianCreated, SubjectID: out.ID, Actor: p.Subject(),
			Data: map[string]any{"external_code": out.ExternalCode, "node_id": out.NodeID, "status": out.Status,
				"licence_status": out.Licence.Status, "eligible": out.Eligible}})
	})
	return out, pg.Translate(err)
}

// GetTechnician returns a technician whose node is in the principal's scope.
func (s *Service) GetTechnician(ctx context.Context, p tenants.Principal, id string) (Technician, error) {
	now := s.now()
	var t Technician
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		today, sc, err := todayInScope(ctx, tx, p, now)
		if err != nil {
			return err
		}
		t, err = getTechnician(ctx, tx, sc, id, "", today)
		return err
	})
	return t, pg.Translate(err)
}

// ListTechnicians lists technicians of nodes in scope, in id order. Licence
// validity and eligibility are judged on the tenant's current date.
func (s *Service) ListTechnicians(ctx context.Context, p tenants.Principal, f TechnicianFilter) ([]Technician, string, error) {
	v := &tenants.Validation{}
	if f.MinLevel != 0 && f.Category == "" {
		v.AddMsg("min_level", i18n.M("network.needs_category"), f.MinLevel)
	}
	if f.MinLevel < 0 || f.MinLevel > MaxSkillLevel {
		v.AddMsg("min_level", i18n.M("common.range", "Min", 1, "Max", 5), f.MinLevel)
	}
	if f.Category != "" && !slices.Contains(Categories, f.Category) {
		v.AddMsg("category", i18n.M("common.one_of", "Values", join(Categories)), f.Category)
	}
	if f.Licence != "" && !slices.Contains([]LicenceStatus{LicenceValid, LicenceExpired, LicenceMissing}, LicenceStatus(f.Licence)) {
		v.AddMsg("licence", i18n.M("common.one_of", "Values", "valid, expired, missing"), f.Licence)
	}
	if f.Status != "" && !slices.Contains(TechnicianStatuses, TechnicianStatus(f.Status)) {
		v.AddMsg("status", i18n.M("common.one_of", "Values", "active, on_leave, suspended, left"), f.Status)
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	minLevel := max(f.MinLevel, 1)
	page, err := pg.NewKeyset("technicians", f.Cursor, f.Limit)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	var out []Technician
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		today, sc, err := todayInScope(ctx, tx, p, now)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT `+technicianColumns+`
			FROM technicians t JOIN nodes n ON n.tenant_id = t.tenant_id AND n.id = t.node_id
			WHERE t.tenant_id = $1 AND t.id > $2
			  AND ($3::ltree IS NULL OR n.path <@ $3::ltree)
			  AND ($4 = '' OR t.node_id = $4)
			  AND ($5 = '' OR n.path <@ (SELECT s.path FROM nodes s WHERE s.tenant_id = $1 AND s.id = $5))
			  AND ($6 = '' OR (t.skills ? $6 AND (t.skills ->> $6)::int >= $7))
			  AND ($8 = '' OR CASE WHEN t.licence_expires_on IS NULL THEN 'missing'
			                       WHEN t.licence_expires_on < $9::date THEN 'expired' ELSE 'valid' END = $8)
			  AND ($10 = '' OR t.status = $10)
			  AND ($11::bool IS NULL OR (t.status = 'active' AND COALESCE(t.licence_expires_on >= $9::date, false)) = $11)
			ORDER BY t.id LIMIT $12`,
			tx.TenantID, page.After, sc.Path(), f.NodeID, f.SubtreeOf, f.Category, minLevel, f.Licence, today,
			f.Status, f.Eligible, page.Fetch())
		if err != nil {
			return err
		}
		out, err = collectTechnicians(rows, today)
		return err
	})
	if err != nil {
		return nil, "", pg.Translate(err)
	}
	out, next := pg.Page(page, out, func(t Technician) string { return t.ID })
	return out, next, nil
}

// todayInScope is the tenant's date at now and p's scope: what reading
// technicians needs (licence validity and eligibility are judged on the
// date).
func todayInScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal, now time.Time) (string, Scope, error) {
	today, err := tenantToday(ctx, tx, now)
	if err != nil {
		return "", Scope{}, err
	}
	sc, err := ResolveScope(ctx, tx, p)
	return today, sc, err
}

// lockTechnician reads technician id in p's scope as of today in the
// tenant's zone (at now), locked for the transaction, and checks If-Match
// (ifVersion > 0). It returns the scope and the day too.
func lockTechnician(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string, ifVersion int, now time.Time) (Technician, Scope, string, error) {
	today, sc, err := todayInScope(ctx, tx, p, now)
	if err != nil {
		return Technician{}, Scope{}, "", err
	}
	t, err := getTechnician(ctx, tx, sc, id, "FOR UPDATE OF t", today)
	if err != nil {
		return Technician{}, Scope{}, "", err
	}
	if err := tenants.CheckVersion("technician", ifVersion, t.Version); err != nil {
		return Technician{}, Scope{}, "", err
	}
	return t, sc, today, nil
}

// nodeKeyKeepsLevels refuses, forbidden, skills that raise a technician's
// level in a category, or give a new category above level 1: a level moves
// by the tenant's levelling (a run's proposal, a person's decision, an
// appeal, the history of every change; quality.levels), and dispatch sends
// hard faults by it. A node-bound key may lower a level or drop a category,
// as it may take its own technician off work; a technician it onboards
// starts at level 1 in each category (from nil), the brand raising it.
func nodeKeyKeepsLevels(from, to []Skill) error {
	held := make(map[string]int, len(from))
	for _, sk := range from {
		held[sk.Category] = sk.Level
	}
	for _, sk := range to {
		if sk.Level > max(held[sk.Category], 1) {
			return tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("network.node_key_raise_level", "Category", sk.Category))
		}
	}
	return nil
}

// UpdateTechnician applies u to a technician in scope; ifVersion > 0 must
// match its version. Changing node_id moves the technician to another node
// in scope that is not terminated.
func (s *Service) UpdateTechnician(ctx context.Context, p tenants.Principal, id string, u TechnicianUpdate, ifVersion int) (Technician, error) {
	now := s.now()
	var out Technician
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		t, sc, today, err := lockTechnician(ctx, tx, p, id, ifVersion, now)
		if err != nil {
			return err
		}
		if u.Skills != nil && !sc.Whole() {
			if err := nodeKeyKeepsLevels(t.Skills, *u.Skills); err != nil {
				return err
			}
		}
		limit := t.DailyJobLimit
		f := NewTechnician{ExternalCode: t.ExternalCode, NodeID: t.NodeID, Name: t.Name, Phone: t.Phone,
			Status: string(t.Status), Skills: t.Skills, Shifts: t.Shifts, DailyJobLimit: &limit, Home: t.Home}
		var changed tenants.Changes
		set := changed.Set
		set("external_code", tenants.Differs(u.ExternalCode, f.ExternalCode), func() { f.ExternalCode = *u.ExternalCode })
		set("node_id", u.NodeID != nil && *u.NodeID != t.NodeID, func() { f.NodeID = *u.NodeID })
		set("name", tenants.Differs(u.Name, f.Name), func() { f.Name = *u.Name })
		set("phone", tenants.Differs(u.Phone, f.Phone), func() { f.Phone = *u.Phone })
		set("status", tenants.Differs(u.Status, f.Status), func() { f.Status = *u.Status })
		set("skills", tenants.Differs(u.Skills, f.Skills), func() { f.Skills = *u.Skills })
		set("shifts", tenants.Differs(u.Shifts, f.Shifts), func() { f.Shifts = *u.Shifts })
		set("daily_job_limit", tenants.DiffersPtr(u.DailyJobLimit, f.DailyJobLimit), func() { f.DailyJobLimit = u.DailyJobLimit })
		set("home", tenants.DiffersPtr(u.Home, f.Home), func() { f.Home = u.Home })
		if f.Home.empty() {
			f.Home = nil
		}
		v := &tenants.Validation{}
		validateTechnician(v, "", f)
		if f.NodeID != t.NodeID {
			if err := checkTechnicianNode(ctx, tx, sc, v, "node_id", f.NodeID); err != nil {
				return err
			}
		}
		if u.Home != nil && f.Home != nil {
			if err := checkRegion(ctx, tx, v, "home.region_code", f.Home.RegionCode); err != nil {
				return err
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		if len(changed) == 0 {
			out = t
			return nil
		}
		region, lat, lon := homeColumns(f.Home)
		out, err = scanTechnician(tx.QueryRow(ctx, `
			UPDATE technicians AS t SET external_code = $3, node_id = $4, name = $5, phone = $6, status = $7, skills = $8,
			       shifts = $9, daily_job_limit = $10, home_region = $11, home_latitude = $12, home_longitude = $13,
			       version = version + 1, updated_at = now()
			WHERE t.tenant_id = $1 AND t.id = $2
			RETURNING `+technicianColumns,
			tx.TenantID, t.ID, f.ExternalCode, f.NodeID, f.Name, f.Phone, f.Status, skillMap(f.Skills),
			sortedShifts(f.Shifts), *f.DailyJobLimit, region, lat, lon), today)
		if err != nil {
			return err
		}
		data := map[string]any{"changed": changed, "version": out.Version}
		if out.NodeID != t.NodeID {
			data["from_node_id"], data["to_node_id"] = t.NodeID, out.NodeID
		}
		if out.Status != t.Status {
			data["from_status"], data["to_status"] = t.Status, out.Status
		}
		return events.Append(ctx, tx, events.New{Type: TypeTechnicianUpdated, SubjectID: t.ID, Actor: p.Subject(), Data: data})
	})
	return out, pg.Translate(err)
}

// RenewLicence replaces a technician's licence with a new one that is valid
// today (issued no later than today, expiring no earlier), clearing any
// expiry mark; ifVersion > 0 must match the technician's version.
func (s *Service) RenewLicence(ctx context.Context, p tenants.Principal, id string, l LicenceInput, ifVersion int) (Technician, error) {
	v := &tenants.Validation{}
	validateLicence(v, "", l)
	if err := v.Err(); err != nil {
		return Technician{}, err
	}
	now := s.now()
	var out Technician
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		t, _, today, err := lockTechnician(ctx, tx, p, id, ifVersion, now)
		if err != nil {
			return err
		}
		checkLicenceDates(v, "", l, today)
		if l.ExpiresOn < today {
			v.AddMsg("expires_on", i18n.M("network.already_expired", "Today", today), l.ExpiresOn)
		}
		if err := v.Err(); err != nil {
			return err
		}
		out, err = scanTechnician(tx.QueryRow(ctx, `
			UPDATE technicians AS t SET licence_number = $3, licence_issued_on = $4::date, licence_expires_on = $5::date,
			       licence_expired_at = NULL, version = version + 1, updated_at = now()
			WHERE t.tenant_id = $1 AND t.id = $2
			RETURNING `+technicianColumns,
			tx.TenantID, t.ID, l.Number, l.IssuedOn, l.ExpiresOn), today)
		if err != nil {
			return err
		}
		data := map[string]any{"number": l.Number, "issued_on": l.IssuedOn, "expires_on": l.ExpiresOn, "version": out.Version}
		if t.Licence.Status != LicenceMissing {
			data["previous_number"], data["previous_expires_on"] = t.Licence.Number, t.Licence.ExpiresOn
		}
		return events.Append(ctx, tx, events.New{Type: TypeTechnicianLicenceRenewed, SubjectID: t.ID, Actor: p.Subject(), Data: data})
	})
	return out, pg.Translate(err)
}

// ExpireLicences marks, in one transaction for the tenant, every licence that
// has expired by now in the tenant's time zone and is not marked yet
// (technicians who have left are skipped), appending a
// technician.licence_expired event for each. It returns how many it marked;
// a second call at the same time marks none.
func (s *Service) ExpireLicences(ctx context.Context, tenantID string, now time.Time) (int, error) {
	type expired struct {
		id, nodeID, number, expiresOn string
	}
	n := 0
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		today, err := tenantToday(ctx, tx, now)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			UPDATE technicians SET licence_expired_at = $3
			WHERE tenant_id = $1 AND licence_expired_at IS NULL AND licence_expires_on < $2::date AND status <> 'left'
			RETURNING id, node_id, COALESCE(licence_number, ''), to_char(licence_expires_on, 'YYYY-MM-DD')`,
			tx.TenantID, today, now)
		if err != nil {
			return err
		}
		marked, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (expired, error) {
			var e expired
			err := r.Scan(&e.id, &e.nodeID, &e.number, &e.expiresOn)
			return e, err
		})
		if err != nil {
			return err
		}
		for _, e := range marked {
			if err := events.Append(ctx, tx, events.New{Type: TypeTechnicianLicenceExpired, SubjectID: e.id, Actor: "system",
				Data: map[string]any{"node_id": e.nodeID, "number": e.number, "expires_on": e.expiresOn}}); err != nil {
				return err
			}
		}
		n = len(marked)
		return nil
	})
	return n, pg.Translate(err)
}
