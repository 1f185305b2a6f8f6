package quality_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/quality"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// An on-site repair completed more than the policy's hour after the visit's
// check-in (seed 002, 4.2.3: 一般性故障 1小时内完成维修) is a breach the
// scorecard counts under its own clock, on_site_repair: a repair checked
// in at 09:54 and completed at 11:00 (66 minutes) counts one.
func TestQualityCountsOnSiteRepairBreaches(t *testing.T) {
	k := newKindsEnv(t, "KPI-ONSITE-0001")
	k.serve(t, k.open(t, tickets.TypeRepair, k.day), k.day)
	sc := k.scorecard(t)
	require.Contains(t, sc.Breaches, quality.BreachCount{Clock: "on_site_repair", Count: 1}, "%+v", sc.Breaches)
}
