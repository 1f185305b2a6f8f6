package dispatch

import (
	"fmt"
	"strings"
)

var tierNames = map[string]string{
	tierManufacturer: "manufacturer", tierCenter: "service center",
	tierDepot: "specialist depot", tierRepairPoint: "repair point",
}

var (
	nodeRuleOrder = []string{RuleRejectedEarlier, RuleNotActive, RuleRegionNotCovered,
		RuleServiceKindNotOffered, RuleCategoryNotServiced, RuleHardFaultHigherTier, RuleNoCapacityToday, RuleNoLoaner}
	techRuleOrder = []string{RuleRejectedEarlier, RuleNotActive, RuleLicenceInvalid, RuleSkillBelowRequired,
		RuleOffShift, RuleDailyLimitReached}
)

// nodeRuleText completes "the node ..." for a rule.
func nodeRuleText(rule string, r Request, day string) string {
	switch rule {
	case RuleRejectedEarlier:
		return "rejected this ticket earlier"
	case RuleNotActive:
		return "is not active"
	case RuleRegionNotCovered:
		return "does not cover region " + r.RegionCode + ", its city or its province"
	case RuleServiceKindNotOffered:
		return "does not offer " + r.ServiceKind
	case RuleCategoryNotServiced:
		return "does not service " + r.Category
	case RuleHardFaultHigherTier:
		return "is a repair point, and a hard fault goes to a depot or service center"
	case RuleNoCapacityToday:
		return "has no capacity left on " + day
	case RuleNoLoaner:
		return "holds no available " + r.Category + " loaner, and this carry-in requires one"
	}
	return rule
}

// loanerNote tells what the chosen node means for a carry-in's loaner.
func loanerNote(chosen NodeCandidate, r Request) string {
	if r.Loaner == "" || chosen.LoanersAvailable == nil {
		return ""
	}
	if n := *chosen.LoanersAvailable; n > 0 {
		return fmt.Sprintf(" For the carry-in it holds %d available %s loaner(s), preferred (+%d).", n, r.Category, loanerScore)
	}
	return fmt.Sprintf(" It holds no available %s loaner for the carry-in (preferred, not required): none of the eligible nodes ranked above it does either.", r.Category)
}

// techRuleText completes "the technician ..." for a technician's rule.
func techRuleText(t TechnicianCandidate, r Request, required int, day string) string {
	switch t.ExcludedBy {
	case RuleRejectedEarlier:
		return "rejected this ticket earlier"
	case RuleNotActive:
		return "is not active"
	case RuleLicenceInvalid:
		return "has no licence valid on " + day
	case RuleSkillBelowRequired:
		return fmt.Sprintf("has %s level %d, below the required %d", r.Category, t.Level, required)
	case RuleOffShift:
		return "is not on shift in the window"
	case RuleDailyLimitReached:
		return fmt.Sprintf("already has %d of %d jobs on %s", t.JobsToday, t.DailyJobLimit, day)
	}
	return t.ExcludedBy
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

func noNodeReason(nodes []NodeCandidate, r Request, day string) string {
	if len(nodes) == 0 {
		return fmt.Sprintf("No node covers region %s, its city or its province.", r.RegionCode)
	}
	rules := make([]string, len(nodes))
	for i, n := range nodes {
		rules[i] = n.ExcludedBy
	}
	return fmt.Sprintf("None of the %d nodes covering region %s can take the job on %s: %s.",
		len(nodes), r.RegionCode, day, ruleCounts(nodeRuleOrder, rules))
}

func chosenReason(chosen NodeCandidate, tech *TechnicianCandidate, techs []TechnicianCandidate, top []NodeCandidate,
	skipped int, manual bool, r Request, day string) string {
	var b strings.Builder
	what := fmt.Sprintf("%s %s", tierNames[chosen.Tier], chosen.Name)
	switch {
	case manual:
		fmt.Fprintf(&b, "Manual dispatch to %s, which is eligible (%d of %d jobs booked on %s)",
			what, chosen.LoadToday, chosen.DailyCapacity, day)
	case skipped > 0:
		names := make([]string, skipped)
		for i, n := range top[:skipped] {
			names[i] = n.Name
		}
		fmt.Fprintf(&b, "%s has a free technician while the better-ranked %s have none (%d of %d jobs booked on %s)",
			capitalise(what), strings.Join(names, ", "), chosen.LoadToday, chosen.DailyCapacity, day)
	default:
		fmt.Fprintf(&b, "%s is the best eligible node%s (%d of %d jobs booked on %s)",
			capitalise(what), hardFaultNote(r), chosen.LoadToday, chosen.DailyCapacity, day)
	}
	if tech != nil {
		fmt.Fprintf(&b, "; technician %s is on shift with %s level %d and %d jobs that day", tech.Name, r.Category, tech.Level, tech.JobsToday)
		if tech.DistanceKM != nil {
			fmt.Fprintf(&b, ", %.1f km away", *tech.DistanceKM)
		}
		b.WriteString(".")
		return b.String()
	}
	var rules []string
	for _, t := range techs {
		if t.NodeID == chosen.NodeID {
			rules = append(rules, t.ExcludedBy)
		}
	}
	if len(rules) == 0 {
		b.WriteString("; it has no technicians, so it assigns one later.")
	} else {
		fmt.Fprintf(&b, "; none of its technicians is free (%s), so it assigns one later.", ruleCounts(techRuleOrder, rules))
	}
	return b.String()
}

func hardFaultNote(r Request) string {
	if r.HardFault {
		return " for a hard fault"
	}
	return ""
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
