// Package network owns a brand's service network: the node tree
// (manufacturer → service centers → specialist depots → repair points), each
// node's coverage, categories, service kinds, capacity and status history,
// the technicians who work for the nodes, and bulk imports of both.
//
// The tree is stored as an ltree path of node ids, so "everything under node
// X" is the single indexed predicate `path <@ X.path`. A principal bound to a
// node (node_manager and technician keys) sees only that node's subtree;
// anything outside it is not found.
package network

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Tier is a node's level in the network.
type Tier string

// Tiers, top to bottom. A node's parent is of a strictly higher tier.
const (
	TierManufacturer    Tier = "manufacturer"
	TierServiceCenter   Tier = "service_center"
	TierSpecialistDepot Tier = "specialist_depot"
	TierRepairPoint     Tier = "repair_point"
)

// Tiers lists the tiers top to bottom.
var Tiers = []Tier{TierManufacturer, TierServiceCenter, TierSpecialistDepot, TierRepairPoint}

// Rank is 1 for the manufacturer down to 4 for a repair point; 0 if unknown.
func (t Tier) Rank() int { return slices.Index(Tiers, t) + 1 }

// NodeStatus is where a node stands in the brand's network.
type NodeStatus string

// Node statuses: new partners start on probation; terminated is final.
const (
	StatusProbation  NodeStatus = "probation"
	StatusActive     NodeStatus = "active"
	StatusSuspended  NodeStatus = "suspended"
	StatusTerminated NodeStatus = "terminated"
)

// NodeStatuses lists every node status.
var NodeStatuses = []NodeStatus{StatusProbation, StatusActive, StatusSuspended, StatusTerminated}

// statusTransitions are the allowed status changes.
var statusTransitions = map[NodeStatus][]NodeStatus{
	StatusProbation: {StatusActive, StatusSuspended, StatusTerminated},
	StatusActive:    {StatusSuspended, StatusTerminated},
	StatusSuspended: {StatusActive, StatusTerminated},
}

// Categories are the product categories a node services or a technician is
// skilled in.
var Categories = []string{
	"washer", "refrigerator", "air_conditioner", "tv", "water_heater", "kitchen",
	"small_appliance", "phone", "laptop", "camera", "tablet",
}

// ServiceKinds are the kinds of work a node offers.
var ServiceKinds = []string{"install", "repair", "maintenance", "carry_in", "remote"}

// Grades rate nodes from their KPIs, A best.
var Grades = []string{"A", "B", "C", "D", "E"}

// Contact is who to call at a node.
type Contact struct {
	Name  string `json:"name,omitempty" maxLength:"100" example:"王建国"`
	Phone string `json:"phone,omitempty" maxLength:"32" example:"+86 532 8893 0000"`
	Email string `json:"email,omitempty" maxLength:"200" format:"email" example:"qingdao-sc@example.cn"`
}

// Address is a postal address with its GB/T 2260 region code.
type Address struct {
	RegionCode string `json:"region_code,omitempty" pattern:"^[1-9][0-9]{5}$" doc:"GB/T 2260 district (or city) code." example:"370212"`
	Line       string `json:"line,omitempty" maxLength:"300" example:"海尔路1号"`
	PostalCode string `json:"postal_code,omitempty" pattern:"^[0-9]{6}$" example:"266101"`
}

// Point is a WGS-84 location.
type Point struct {
	Latitude  float64 `json:"latitude" minimum:"-90" maximum:"90" example:"36.1062"`
	Longitude float64 `json:"longitude" minimum:"-180" maximum:"180" example:"120.4681"`
}

// Node is one service organisation in the brand's network.
type Node struct {
	ID              string     `json:"id" example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	ExternalCode    string     `json:"external_code" doc:"The brand's own code for the node; unique per tenant; imports match on it." example:"SC-QD-001"`
	Name            string     `json:"name" example:"青岛市南服务中心"`
	Tier            Tier       `json:"tier" enum:"manufacturer,service_center,specialist_depot,repair_point" example:"service_center"`
	ParentID        *string    `json:"parent_id,omitempty" doc:"The node above; absent only for the manufacturer root." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	Path            []string   `json:"path" doc:"Node ids from the root down to this node." example:"[\"nod_01jd3zq8w6v7t3y2k9x4n5m6pa\",\"nod_01jd3zq8w6v7t3y2k9x4n5m6pc\"]"`
	Status          NodeStatus `json:"status" enum:"probation,active,suspended,terminated" example:"active"`
	StatusReason    *string    `json:"status_reason,omitempty" example:"passed the 3-month probation review"`
	StatusChangedAt time.Time  `json:"status_changed_at" example:"2026-11-01T09:30:00+08:00"`
	Grade           *string    `json:"grade,omitempty" enum:"A,B,C,D,E" doc:"Grade from the latest KPI review, A best." example:"A"`
	Contact         Contact    `json:"contact"`
	Address         Address    `json:"address"`
	Location        *Point     `json:"location,omitempty"`
	Coverage        []string   `json:"coverage" doc:"GB/T 2260 codes the node serves: a province or city code covers everything in it." example:"[\"370202\",\"370203\",\"370212\"]"`
	Categories      []string   `json:"categories" example:"[\"washer\",\"refrigerator\"]"`
	ServiceKinds    []string   `json:"service_kinds" example:"[\"install\",\"repair\"]"`
	DailyCapacity   int        `json:"daily_capacity" doc:"Jobs the node can take per day." example:"40"`
	Version         int        `json:"version" doc:"Increases with every change; the ETag is \"v<version>\"." example:"3"`
	CreatedAt       time.Time  `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	UpdatedAt       time.Time  `json:"updated_at" example:"2026-11-01T09:30:00+08:00"`
}

// NodeFields are a node's editable attributes.
type NodeFields struct {
	ExternalCode  string   `json:"external_code" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" doc:"The brand's own code for the node; unique per tenant." example:"SC-QD-001"`
	Name          string   `json:"name" minLength:"1" maxLength:"200" example:"青岛市南服务中心"`
	Grade         string   `json:"grade,omitempty" enum:"A,B,C,D,E" example:"A"`
	Contact       Contact  `json:"contact,omitempty"`
	Address       Address  `json:"address,omitempty"`
	Location      *Point   `json:"location,omitempty"`
	Coverage      []string `json:"coverage,omitempty" maxItems:"5000" doc:"GB/T 2260 codes the node serves." example:"[\"370202\",\"370212\"]"`
	Categories    []string `json:"categories,omitempty" maxItems:"20" doc:"Product categories serviced." example:"[\"washer\",\"refrigerator\"]"`
	ServiceKinds  []string `json:"service_kinds,omitempty" maxItems:"5" doc:"install, repair, maintenance, carry_in, remote." example:"[\"install\",\"repair\"]"`
	DailyCapacity int      `json:"daily_capacity,omitempty" doc:"Jobs per day; 0 takes no dispatched work." example:"40"`
}

// NewNode is a node to create.
type NewNode struct {
	NodeFields
	Tier     Tier   `json:"tier" enum:"manufacturer,service_center,specialist_depot,repair_point" example:"service_center"`
	ParentID string `json:"parent_id,omitempty" doc:"Required except for the manufacturer root." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	Status   string `json:"status,omitempty" enum:"probation,active" default:"probation" doc:"New partners start on probation." example:"probation"`
}

// NodeUpdate changes some of a node's attributes; absent fields stay.
type NodeUpdate struct {
	ExternalCode  *string   `json:"external_code,omitempty" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" example:"SC-QD-001"`
	Name          *string   `json:"name,omitempty" minLength:"1" maxLength:"200" example:"青岛市南服务中心"`
	Grade         *string   `json:"grade,omitempty" enum:"A,B,C,D,E" example:"B"`
	Contact       *Contact  `json:"contact,omitempty"`
	Address       *Address  `json:"address,omitempty"`
	Location      *Point    `json:"location,omitempty"`
	Coverage      *[]string `json:"coverage,omitempty" maxItems:"5000" example:"[\"370202\",\"370212\"]"`
	Categories    *[]string `json:"categories,omitempty" maxItems:"20" example:"[\"washer\"]"`
	ServiceKinds  *[]string `json:"service_kinds,omitempty" maxItems:"5" example:"[\"repair\"]"`
	DailyCapacity *int      `json:"daily_capacity,omitempty" example:"60"`
}

// Service is the network context's entry point. Each exported method runs
// in one tenant-scoped transaction. Build it with NewService; a literal
// Service{DB: db} serves only the methods that enqueue nothing (not
// CreateImport).
type Service struct {
	DB  pg.DB
	Now func() time.Time

	enqueueImport func(ctx context.Context, tx pgx.Tx, tenantID, importID string) error
}

// Deps are the Service's dependencies; every one is required.
type Deps struct {
	// EnqueueImport schedules the job that runs an import, inside tx (the
	// transaction that stores the import): jobs.NetworkImportEnqueuer.
	EnqueueImport func(ctx context.Context, tx pgx.Tx, tenantID, importID string) error
}

// NewService returns the network service over db. It fails when db or a
// dependency is missing.
func NewService(db pg.DB, d Deps) (*Service, error) {
	if db == nil {
		return nil, errors.New("network: NewService needs a database")
	}
	if d.EnqueueImport == nil {
		return nil, errors.New("network: Deps.EnqueueImport is required")
	}
	return &Service{DB: db, enqueueImport: d.EnqueueImport}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

var externalCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validateFields checks a node's attributes, with locations under prefix
// (the node's own fields: "", for the API and import rows alike). Region codes are checked
// against the reference table separately (checkRegions).
func validateFields(v *tenants.Validation, prefix string, f NodeFields) {
	if !externalCode.MatchString(f.ExternalCode) {
		v.AddMsg(prefix+"external_code", i18n.M("common.identifier"), f.ExternalCode)
	}
	if n := len([]rune(f.Name)); n < 1 || n > 200 {
		v.AddMsg(prefix+"name", i18n.M("common.length", "Min", 1, "Max", 200), f.Name)
	}
	if f.Grade != "" && !slices.Contains(Grades, f.Grade) {
		v.AddMsg(prefix+"grade", i18n.M("common.one_of", "Values", "A, B, C, D, E"), f.Grade)
	}
	if f.DailyCapacity < 0 || f.DailyCapacity > 100000 {
		v.AddMsg(prefix+"daily_capacity", i18n.M("common.range", "Min", 0, "Max", 100000), f.DailyCapacity)
	}
	if f.Address.RegionCode != "" && RegionLevel(f.Address.RegionCode) == 0 {
		v.AddMsg(prefix+"address.region_code", i18n.M("common.region_code_6"), f.Address.RegionCode)
	}
	if f.Location != nil && (f.Location.Latitude < -90 || f.Location.Latitude > 90 || f.Location.Longitude < -180 || f.Location.Longitude > 180) {
		v.AddMsg(prefix+"location", i18n.M("common.lat_lng_range"), f.Location)
	}
	checkList(v, prefix+"coverage", f.Coverage, func(c string) bool { return RegionLevel(c) != 0 }, i18n.M("common.region_code_6"))
	checkList(v, prefix+"categories", f.Categories, func(c string) bool { return slices.Contains(Categories, c) }, i18n.M("common.one_of", "Values", join(Categories)))
	checkList(v, prefix+"service_kinds", f.ServiceKinds, func(c string) bool { return slices.Contains(ServiceKinds, c) }, i18n.M("common.one_of", "Values", join(ServiceKinds)))
}

func checkList(v *tenants.Validation, loc string, items []string, ok func(string) bool, want i18n.Message) {
	seen := map[string]bool{}
	for i, it := range items {
		switch {
		case !ok(it):
			v.AddMsg(loc+"["+itoa(i)+"]", want, it)
		case seen[it]:
			v.AddMsg(loc+"["+itoa(i)+"]", i18n.M("common.duplicate"), it)
		}
		seen[it] = true
	}
}
