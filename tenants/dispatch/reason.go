package dispatch

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/servicenet/servicenet/internal/i18n"
)

var (
	nodeRuleOrder = []string{RuleRejectedEarlier, RuleNotActive, RuleRegionNotCovered,
		RuleServiceKindNotOffered, RuleCategoryNotServiced, RuleHardFaultHigherTier, RuleNoCapacityToday, RuleNoLoaner}
	techRuleOrder = []string{RuleRejectedEarlier, RuleNotActive, RuleLicenceInvalid, RuleSkillBelowRequired,
		RuleOffShift, RuleBookedInWindow, RuleDailyLimitReached}
)

// nodeRuleText completes "the node ..." for a rule.
func nodeRuleText(rule string, r Request, day string) i18n.Message {
	switch rule {
	case RuleRejectedEarlier:
		return i18n.M("dispatch.rule.rejected_earlier")
	case RuleNotActive:
		return i18n.M("dispatch.rule.not_active")
	case RuleRegionNotCovered:
		return i18n.M("dispatch.rule.region_not_covered", "Region", r.RegionCode)
	case RuleServiceKindNotOffered:
		return i18n.M("dispatch.rule.service_kind_not_offered", "ServiceKind", r.ServiceKind)
	case RuleCategoryNotServiced:
		return i18n.M("dispatch.rule.category_not_serviced", "Category", r.Category)
	case RuleHardFaultHigherTier:
		return i18n.M("dispatch.rule.hard_fault_higher_tier")
	case RuleNoCapacityToday:
		return i18n.M("dispatch.rule.no_capacity", "Day", day)
	case RuleNoLoaner:
		return i18n.M("dispatch.rule.no_loaner", "Category", r.Category)
	}
	return i18n.M("dispatch.rule.other", "Rule", rule)
}

// loanerNote tells what the chosen node means for a carry-in's loaner.
func loanerNote(chosen NodeCandidate, r Request) []i18n.Message {
	if r.Loaner == "" || chosen.LoanersAvailable == nil {
		return nil
	}
	if n := *chosen.LoanersAvailable; n > 0 {
		return []i18n.Message{i18n.M("dispatch.loaner_held", "Loaners", n, "Category", r.Category, "Score", loanerScore)}
	}
	return []i18n.Message{i18n.M("dispatch.loaner_none", "Category", r.Category)}
}

// techRuleText completes "the technician ..." for a technician's rule.
func techRuleText(t TechnicianCandidate, r Request, required int, day string) i18n.Message {
	switch t.ExcludedBy {
	case RuleRejectedEarlier:
		return i18n.M("dispatch.rule.rejected_earlier")
	case RuleNotActive:
		return i18n.M("dispatch.rule.not_active")
	case RuleLicenceInvalid:
		return i18n.M("dispatch.rule.licence_invalid", "Day", day)
	case RuleSkillBelowRequired:
		return i18n.M("dispatch.rule.skill_below_required", "Category", r.Category, "Level", t.Level, "Required", required)
	case RuleOffShift:
		return i18n.M("dispatch.rule.off_shift")
	case RuleBookedInWindow:
		return i18n.M("dispatch.rule.booked_in_window")
	case RuleDailyLimitReached:
		return i18n.M("dispatch.rule.daily_limit_reached", "Jobs", t.JobsToday, "Limit", t.DailyJobLimit, "Day", day)
	}
	return i18n.M("dispatch.rule.other", "Rule", t.ExcludedBy)
}

// ruleCounts summarises exclusions as "2 not_active, 1 no_capacity_today".
func ruleCounts(order []string, rules []string) string {
	counts := map[string]int{}
	for _, r := range rules {
		counts[r]++
	}
	var parts []string
	for _, r := range order {
		if counts[r] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[r], r))
		}
	}
	return strings.Join(parts, ", ")
}

func noNodeReason(nodes []NodeCandidate, r Request, day string) []i18n.Message {
	if len(nodes) == 0 {
		return []i18n.Message{i18n.M("dispatch.no_node_covers", "Region", r.RegionCode)}
	}
	rules := make([]string, len(nodes))
	for i, n := range nodes {
		rules[i] = n.ExcludedBy
	}
	return []i18n.Message{i18n.M("dispatch.no_node_can_take", "Nodes", len(nodes), "Region", r.RegionCode, "Day", day,
		"Counts", ruleCounts(nodeRuleOrder, rules))}
}

// chosenReason explains the choice as messages rendered one after the
// other: the node's clause, the technician's clause, the end.
func chosenReason(chosen NodeCandidate, tech *TechnicianCandidate, techs []TechnicianCandidate, top []NodeCandidate,
	skipped int, manual bool, r Request, day string) []i18n.Message {
	node := func(start bool) i18n.Message {
		code := "dispatch.node." + chosen.Tier
		if start {
			code = "dispatch.node_start." + chosen.Tier
		}
		return i18n.M(code, "Name", chosen.Name)
	}
	var out []i18n.Message
	switch {
	case manual:
		out = append(out, i18n.M("dispatch.manual", "Node", node(false),
			"Load", chosen.LoadToday, "Capacity", chosen.DailyCapacity, "Day", day))
	case skipped > 0:
		names := make([]string, skipped)
		for i, n := range top[:skipped] {
			names[i] = n.Name
		}
		out = append(out, i18n.M("dispatch.skipped", "Node", node(true), "Skipped", strings.Join(names, ", "),
			"Load", chosen.LoadToday, "Capacity", chosen.DailyCapacity, "Day", day))
	default:
		code := "dispatch.best_node"
		if r.HardFault {
			code = "dispatch.best_node_hard_fault"
		}
		out = append(out, i18n.M(code, "Node", node(true),
			"Load", chosen.LoadToday, "Capacity", chosen.DailyCapacity, "Day", day))
	}
	if tech != nil {
		out = append(out, i18n.M("dispatch.technician", "Technician", tech.Name, "Category", r.Category,
			"Level", tech.Level, "Jobs", tech.JobsToday))
		if tech.DistanceKM != nil {
			out = append(out, i18n.M("dispatch.technician_distance", "KM", strconv.FormatFloat(*tech.DistanceKM, 'f', 1, 64)))
		}
		return append(out, i18n.M("dispatch.end"))
	}
	var rules []string
	for _, t := range techs {
		if t.NodeID == chosen.NodeID {
			rules = append(rules, t.ExcludedBy)
		}
	}
	if len(rules) == 0 {
		return append(out, i18n.M("dispatch.no_technicians"))
	}
	return append(out, i18n.M("dispatch.no_free_technician", "Counts", ruleCounts(techRuleOrder, rules)))
}
