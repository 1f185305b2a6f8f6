package network

// Row validation: a row on its own, its external code against earlier rows,
// and its parent or node against the file and the network.

import (
	"fmt"
	"strconv"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
)

// duplicate reports a row whose code's first row is another.
func duplicate(index map[string]impIndexed, code string, row int) *ImportError {
	if first, ok := index[code]; ok && code != "" && first.row != row {
		e := rowError(row, "external_code", i18n.M("import.duplicate_code", "Row", first.row))
		return &e
	}
	return nil
}

// validateNode checks a node row on its own, and whether it repeats an
// earlier row's code.
func (r *impRun) validateNode(n *impNode, unknown map[string]bool, index map[string]impIndexed) {
	v := &tenants.Validation{}
	validateFields(v, "", n.fields())
	tier := Tier(n.in.Tier)
	if tier.Rank() == 0 {
		v.AddMsg("tier", tierNames, n.in.Tier)
	}
	if n.in.Status != "" && n.in.Status != string(StatusProbation) && n.in.Status != string(StatusActive) {
		v.AddMsg("status", i18n.M("network.probation_or_active"), n.in.Status)
	}
	switch {
	case tier == TierManufacturer && n.in.ParentCode != "":
		v.AddMsg("parent_code", i18n.M("network.manufacturer_no_parent"), n.in.ParentCode)
	case tier.Rank() > 1 && n.in.ParentCode == "":
		v.AddMsg("parent_code", i18n.M("common.required_for_a", "What", string(tier)), nil)
	}
	if c := n.in.Address.RegionCode; unknown[c] {
		v.AddMsg("address.region_code", i18n.M("common.unknown_region_code"), c)
	}
	for i, c := range n.in.Coverage {
		if unknown[c] {
			v.AddMsg(fmt.Sprintf("coverage[%d]", i), i18n.M("common.unknown_region_code"), c)
		}
	}
	n.errs = append(n.errs, r.rowErrors(n.row, v.Fields())...)
	if dup := duplicate(index, n.in.ExternalCode, n.row); dup != nil {
		n.errs = append(n.errs, *dup)
	}
	n.failed = len(n.errs) > 0
}

// resolveParent finds a node row's parent: a row of the file (written at an
// earlier phase unless it failed) or a node of the network.
func (r *impRun) resolveParent(n *impNode, rank int, index map[string]impIndexed, nodes map[string]*impExisting) {
	if rank == 1 {
		return
	}
	code := n.in.ParentCode
	tier := Tier(n.in.Tier)
	check := func(parentTier Tier, status NodeStatus) bool {
		if parentTier.Rank() >= rank {
			n.fail("parent_code", i18n.M("network.parent_tier", "Tier", string(tier), "Parent", code, "ParentTier", string(parentTier)))
			return false
		}
		if status == StatusTerminated {
			n.fail("parent_code", i18n.M("import.parent_terminated", "Code", code))
			return false
		}
		return true
	}
	ex := nodes[code]
	if p, ok := index[code]; ok {
		var status NodeStatus
		if ex != nil {
			status = ex.status
		}
		switch {
		case p.tier.Rank() == 0:
			n.fail("parent_code", i18n.M("import.parent_not_imported", "Row", p.row))
		case !check(p.tier, status):
		case p.failed || ex == nil:
			n.fail("parent_code", i18n.M("import.parent_not_imported", "Row", p.row))
		default:
			n.parentID = ex.id
		}
		return
	}
	if ex != nil {
		if check(ex.tier, ex.status) {
			n.parentID = ex.id
		}
		return
	}
	n.fail("parent_code", i18n.M("import.no_such_node", "Code", strconv.Quote(code)))
}

func (r *impRun) validateTechnician(t *impTech, unknown map[string]bool, index map[string]impIndexed, techIDs map[string]string) {
	v := &tenants.Validation{}
	in := t.in
	validateTechnician(v, "", NewTechnician{ExternalCode: in.ExternalCode, Name: in.Name, Phone: in.Phone,
		Status: in.Status, Skills: in.Skills, Licence: in.Licence, Shifts: in.Shifts, DailyJobLimit: in.DailyJobLimit,
		Home: in.Home})
	if in.NodeCode == "" {
		v.AddMsg("node_code", i18n.M("network.technician_node_code_required"), nil)
	}
	if in.Licence != nil {
		checkLicenceDates(v, "licence.", *in.Licence, r.today)
	}
	if in.Status == string(TechnicianLeft) && techIDs[in.ExternalCode] == "" {
		v.AddMsg("status", i18n.M("network.new_technician_status"), in.Status)
	}
	if in.Home != nil && unknown[in.Home.RegionCode] {
		v.AddMsg("home.region_code", i18n.M("common.unknown_region_code"), in.Home.RegionCode)
	}
	t.errs = append(t.errs, r.rowErrors(t.row, v.Fields())...)
	if dup := duplicate(index, in.ExternalCode, t.row); dup != nil {
		t.errs = append(t.errs, *dup)
	}
	t.failed = len(t.errs) > 0
}

// resolveNode finds a technician row's node: a node row of the file
// (written by an earlier phase unless it failed) or a node of the network.
func resolveNode(t *impTech, index map[string]impIndexed, nodes map[string]*impExisting) {
	code := t.in.NodeCode
	ex := nodes[code]
	if p, ok := index[code]; ok && (p.failed || ex == nil) {
		t.fail("node_code", i18n.M("import.node_not_imported", "Row", p.row))
		return
	}
	if ex == nil {
		t.fail("node_code", i18n.M("import.no_such_node", "Code", strconv.Quote(code)))
		return
	}
	t.nodeID = ex.id
	if ex.status == StatusTerminated && t.in.Status != string(TechnicianLeft) {
		t.fail("node_code", i18n.M("import.node_terminated", "Code", code))
	}
}

func (n *impNode) fail(field string, m i18n.Message) {
	n.errs = append(n.errs, rowError(n.row, field, m))
	n.failed = true
}

func (t *impTech) fail(field string, m i18n.Message) {
	t.errs = append(t.errs, rowError(t.row, field, m))
	t.failed = true
}

func (n *impNode) fields() NodeFields {
	return NodeFields{ExternalCode: n.in.ExternalCode, Name: n.in.Name, Grade: n.in.Grade, Contact: n.in.Contact,
		Address: n.in.Address, Location: n.in.Location, Coverage: n.in.Coverage, Categories: n.in.Categories,
		ServiceKinds: n.in.ServiceKinds, DailyCapacity: n.in.DailyCapacity}
}

var tierNames = i18n.M("common.one_of", "Values", "manufacturer, service_center, specialist_depot, repair_point")
