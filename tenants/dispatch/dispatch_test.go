package dispatch_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/dispatch"
)

// The tests' clock: Monday 2026-11-30, 10:00 in Asia/Shanghai (the tenants'
// zone); the window is 14:00-16:00 that day.
var (
	shanghai, _ = time.LoadLocation("Asia/Shanghai")
	now         = time.Date(2026, 11, 30, 10, 0, 0, 0, shanghai)
	winStart    = time.Date(2026, 11, 30, 14, 0, 0, 0, shanghai)
	winEnd      = time.Date(2026, 11, 30, 16, 0, 0, 0, shanghai)
	yesterday   = time.Date(2026, 11, 29, 15, 0, 0, 0, shanghai)
)

// Laoshan district, Qingdao, Shandong.
const (
	district = "370212"
	city     = "370200"
	province = "370000"
)

type testBundle struct {
	e        *domaintest.Env
	tenantID string
	customer string
}

// setup gives a test a tenant (with one customer for tickets) in its own
// rolled-back transaction.
func setup(t *testing.T) *testBundle {
	t.Helper()
	e := domaintest.New(t)
	return withCustomer(t, &testBundle{e: e, tenantID: e.Tenant})
}

// another adds a tenant in zone ("": Asia/Shanghai) to b's transaction.
func (b *testBundle) another(t *testing.T, zone string) *testBundle {
	t.Helper()
	return withCustomer(t, &testBundle{e: b.e, tenantID: b.e.Another(t, zone).TenantID})
}

func withCustomer(t *testing.T, b *testBundle) *testBundle {
	t.Helper()
	b.customer = tenants.NewID(tenants.PrefixCustomer)
	b.exec(t, `INSERT INTO customers (tenant_id, id, name, phones) VALUES ($1, $2, '王丽', '{13800138000}')`, b.customer)
	return b
}

// exec runs sql in the tenant's scope; $1 is the tenant.
func (b *testBundle) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	ctx := b.e.Ctx
	require.NoError(t, pg.InTenantTx(ctx, b.e.Tx, b.tenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, sql, append([]any{tx.TenantID}, args...)...)
		return err
	}))
}

type node struct {
	id, path string
}

type nodeSpec struct {
	name       string
	tier       string
	coverage   []string
	categories []string
	kinds      []string
	status     string
	capacity   int
	grade      *string
	lat, lon   *float64
}

// node adds a node under parent (nil: the root). Defaults: active, covering
// the district, washer, repair and install, capacity 10.
func (b *testBundle) node(t *testing.T, parent *node, s nodeSpec) node {
	t.Helper()
	id := tenants.NewID(tenants.PrefixNode)
	n := node{id: id, path: id}
	var parentID *string
	if parent != nil {
		n.path = parent.path + "." + id
		parentID = &parent.id
	}
	if s.coverage == nil {
		s.coverage = []string{district}
	}
	if s.categories == nil {
		s.categories = []string{"washer"}
	}
	if s.kinds == nil {
		s.kinds = []string{"repair", "install"}
	}
	if s.status == "" {
		s.status = "active"
	}
	if s.capacity == 0 {
		s.capacity = 10
	}
	if s.name == "" {
		s.name = s.tier
	}
	b.exec(t, `INSERT INTO nodes (tenant_id, id, external_code, name, tier, parent_id, path, status, grade,
			latitude, longitude, coverage, categories, service_kinds, daily_capacity)
		VALUES ($1, $2, $2, $3, $4, $5, $6::ltree, $7, $8, $9, $10, $11, $12, $13, $14)`,
		id, s.name, s.tier, parentID, n.path, s.status, s.grade, s.lat, s.lon, s.coverage, s.categories, s.kinds, s.capacity)
	return n
}

// network adds root → service center (province) → depot (city) → repair
// point (district), all active and eligible.
func (b *testBundle) network(t *testing.T) (root, center, depot, point node) {
	root = b.node(t, nil, nodeSpec{tier: "manufacturer", coverage: []string{}})
	center = b.node(t, &root, nodeSpec{tier: "service_center", name: "center", coverage: []string{province}})
	depot = b.node(t, &center, nodeSpec{tier: "specialist_depot", name: "depot", coverage: []string{city}})
	point = b.node(t, &depot, nodeSpec{tier: "repair_point", name: "point", coverage: []string{district}})
	return root, center, depot, point
}

type techSpec struct {
	name       string
	status     string
	level      int // washer level; 0: 3
	noLicence  bool
	expiresOn  string // default 2028-01-31
	expiredAt  *time.Time
	shifts     string // JSON; default Monday 08:00-18:00
	limit      int    // default 8
	lat, lon   *float64
	otherSkill bool // skilled in refrigerator only
}

func (b *testBundle) tech(t *testing.T, n node, s techSpec) string {
	t.Helper()
	id := tenants.NewID(tenants.PrefixTechnician)
	if s.status == "" {
		s.status = "active"
	}
	if s.level == 0 {
		s.level = 3
	}
	skills := map[string]int{"washer": s.level}
	if s.otherSkill {
		skills = map[string]int{"refrigerator": 5}
	}
	skillJSON, _ := json.Marshal(skills)
	var number, issued, expires *string
	if !s.noLicence {
		if s.expiresOn == "" {
			s.expiresOn = "2028-01-31"
		}
		number, issued, expires = ptr("L-"+id[4:12]), ptr("2020-01-01"), &s.expiresOn
	}
	if s.shifts == "" {
		s.shifts = `[{"weekday": 1, "start": "08:00", "end": "18:00"}]`
	}
	if s.limit == 0 {
		s.limit = 8
	}
	if s.name == "" {
		s.name = "tech-" + id[4:10]
	}
	b.exec(t, `INSERT INTO technicians (tenant_id, id, external_code, node_id, name, phone, status, skills,
			licence_number, licence_issued_on, licence_expires_on, licence_expired_at, shifts, daily_job_limit,
			home_latitude, home_longitude)
		VALUES ($1, $2, $2, $3, $4, '13900000000', $5, $6, $7, $8::date, $9::date, $10, $11, $12, $13, $14)`,
		id, n.id, s.name, s.status, skillJSON, number, issued, expires, s.expiredAt, s.shifts, s.limit, s.lat, s.lon)
	return id
}

// ticket adds a ticket on node (and technician, when not ""), in state,
// with its window starting at start (nil: no window; updated_at is then
// updated).
func (b *testBundle) ticket(t *testing.T, nodeID, techID, state string, start *time.Time, updated time.Time) string {
	t.Helper()
	id := tenants.NewID(tenants.PrefixTicket)
	var end *time.Time
	if start != nil {
		e := start.Add(time.Hour)
		end = &e
	}
	b.exec(t, `INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id, contact, address, fault,
			node_id, technician_id, window_start, window_end, created_by, updated_at)
		VALUES ($1, $2, $2, 'hotline', 'repair', $3, $4, '{}', '{}', '{}', $5, NULLIF($6, ''), $7, $8, 'test', $9)`,
		id, state, b.customer, nodeID, techID, start, end, updated)
	return id
}

func (b *testBundle) decide(t *testing.T, r dispatch.Request) (dispatch.DispatchDecision, error) {
	t.Helper()
	return b.decideAt(t, now, r)
}

func (b *testBundle) decideAt(t *testing.T, now time.Time, r dispatch.Request) (dispatch.DispatchDecision, error) {
	t.Helper()
	ctx := b.e.Ctx
	var d dispatch.DispatchDecision
	err := pg.InTenantTx(ctx, b.e.Tx, b.tenantID, func(tx pg.TenantTx) error {
		var err error
		d, err = dispatch.Decide(ctx, tx, now, r)
		return err
	})
	return d, err
}

func (b *testBundle) mustDecide(t *testing.T, r dispatch.Request) dispatch.DispatchDecision {
	t.Helper()
	d, err := b.decide(t, r)
	require.NoError(t, err)
	require.NotEmpty(t, d.Reason)
	return d
}

// washer is a repair request at the district in the test window.
func washer() dispatch.Request {
	return dispatch.Request{RegionCode: district, Category: "washer", ServiceKind: "repair", RequiredLevel: 3,
		WindowStart: &winStart, WindowEnd: &winEnd}
}

func ptr[T any](v T) *T { return &v }

func nodeByID(t *testing.T, d dispatch.DispatchDecision, id string) dispatch.NodeCandidate {
	t.Helper()
	for _, n := range d.Nodes {
		if n.NodeID == id {
			return n
		}
	}
	require.Failf(t, "node not listed", "%s not in %+v", id, d.Nodes)
	return dispatch.NodeCandidate{}
}

func techByID(t *testing.T, d dispatch.DispatchDecision, id string) dispatch.TechnicianCandidate {
	t.Helper()
	for _, c := range d.Technicians {
		if c.TechnicianID == id {
			return c
		}
	}
	require.Failf(t, "technician not listed", "%s not in %+v", id, d.Technicians)
	return dispatch.TechnicianCandidate{}
}

func requireInvalid(t *testing.T, err error, location, contains string) {
	t.Helper()
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, tenants.CodeInvalid, te.Code, "%v", err)
	require.NotEmpty(t, te.Fields, "%v", err)
	require.Equal(t, location, te.Fields[0].Location, "%v", err)
	require.Contains(t, te.Fields[0].Message, contains)
}

func TestNodeRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root, center, depot, point := b.network(t)
	goodTech := b.tech(t, point, techSpec{})
	b.tech(t, depot, techSpec{})
	suspended := b.node(t, &depot, nodeSpec{tier: "repair_point", status: "suspended"})
	probation := b.node(t, &depot, nodeSpec{tier: "repair_point", status: "probation"})
	installOnly := b.node(t, &depot, nodeSpec{tier: "repair_point", kinds: []string{"install"}})
	fridgeOnly := b.node(t, &depot, nodeSpec{tier: "repair_point", categories: []string{"refrigerator"}})
	full := b.node(t, &depot, nodeSpec{tier: "repair_point", capacity: 2})
	b.ticket(t, full.id, "", "dispatched", &winStart, now)
	b.ticket(t, full.id, "", "completed", nil, now.Add(-time.Hour))
	rejected := b.node(t, &depot, nodeSpec{tier: "repair_point"})
	elsewhere := b.node(t, &depot, nodeSpec{tier: "repair_point", coverage: []string{"370202"}})

	r := washer()
	r.ExcludeNodes = []string{rejected.id}
	d := b.mustDecide(t, r)

	require.Equal(t, point.id, d.NodeID, "the repair point is preferred over the depot and center: %s", d.Reason)
	require.Equal(t, "repair_point", d.Tier)
	require.Equal(t, goodTech, d.TechnicianID)
	require.Equal(t, "2026-11-30", d.Day)
	for id, rule := range map[string]string{
		suspended.id: "not_active", probation.id: "not_active", installOnly.id: "service_kind_not_offered",
		fridgeOnly.id: "category_not_serviced", full.id: "no_capacity_today", rejected.id: "rejected_earlier",
	} {
		n := nodeByID(t, d, id)
		require.False(t, n.Eligible, id)
		require.Equal(t, rule, n.ExcludedBy, id)
	}
	require.Equal(t, 2, nodeByID(t, d, full.id).LoadToday, "a windowed ticket and one without a window updated today")
	for _, n := range d.Nodes {
		require.NotEqual(t, elsewhere.id, n.NodeID, "a node not covering the address is not a candidate")
	}

	// Region through the city and the province.
	require.Equal(t, district, nodeByID(t, d, point.id).MatchedRegion)
	require.Equal(t, city, nodeByID(t, d, depot.id).MatchedRegion)
	require.Equal(t, province, nodeByID(t, d, center.id).MatchedRegion)
	require.True(t, nodeByID(t, d, depot.id).Eligible)
	require.True(t, nodeByID(t, d, center.id).Eligible)
	// Best first: eligible by score, repair point > depot > center.
	require.Equal(t, []string{point.id, depot.id, center.id}, []string{d.Nodes[0].NodeID, d.Nodes[1].NodeID, d.Nodes[2].NodeID})
	p := nodeByID(t, d, point.id)
	bd := p.Breakdown
	require.InDelta(t, p.Score, bd.Tier+bd.Grade+bd.Region+bd.Load+bd.Distance, 0.001)

	t.Run("HardFaultGoesToTheDepot", func(t *testing.T) {
		r := washer()
		r.HardFault = true
		d := b.mustDecide(t, r)
		require.Equal(t, depot.id, d.NodeID, d.Reason)
		require.Equal(t, "specialist_depot", d.Tier)
		require.Equal(t, "hard_fault_needs_higher_tier", nodeByID(t, d, point.id).ExcludedBy)
	})

	t.Run("Scope", func(t *testing.T) {
		other := b.node(t, &root, nodeSpec{tier: "service_center", name: "other center", coverage: []string{province}})
		r := washer()
		r.ScopePath = &other.path
		d := b.mustDecide(t, r)
		require.Equal(t, other.id, d.NodeID, d.Reason)
		require.Empty(t, d.TechnicianID, "the other center has no technicians")
		require.Len(t, d.Nodes, 1, "nodes outside the scope are not listed")

		r.NodeID = point.id
		_, err := b.decide(t, r)
		requireInvalid(t, err, "node_id", "no such node")

		r = washer()
		r.ScopePath = &depot.path
		d = b.mustDecide(t, r)
		require.Equal(t, point.id, d.NodeID, "the scope's top and everything under it: %s", d.Reason)
		require.True(t, nodeByID(t, d, depot.id).Eligible)
		for _, n := range d.Nodes {
			require.NotEqual(t, center.id, n.NodeID)
		}
	})
}

func TestHardFaultWithoutDepotGoesToTheServiceCenter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.node(t, nil, nodeSpec{tier: "manufacturer", coverage: []string{}})
	center := b.node(t, &root, nodeSpec{tier: "service_center", coverage: []string{province}})
	depot := b.node(t, &center, nodeSpec{tier: "specialist_depot", coverage: []string{city}, categories: []string{"tv"}})
	point := b.node(t, &depot, nodeSpec{tier: "repair_point"})
	tech := b.tech(t, center, techSpec{})

	r := washer()
	r.HardFault = true
	d := b.mustDecide(t, r)
	require.Equal(t, center.id, d.NodeID, d.Reason)
	require.Equal(t, "service_center", d.Tier)
	require.Equal(t, tech, d.TechnicianID)
	require.Equal(t, "category_not_serviced", nodeByID(t, d, depot.id).ExcludedBy)
	require.Equal(t, "hard_fault_needs_higher_tier", nodeByID(t, d, point.id).ExcludedBy)
	require.Contains(t, d.Reason, "hard fault")
}

func TestNobodyCanTakeIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	root := b.node(t, nil, nodeSpec{tier: "manufacturer", coverage: []string{}})
	b.node(t, &root, nodeSpec{tier: "service_center", coverage: []string{province}, status: "suspended"})

	d := b.mustDecide(t, washer())
	require.Empty(t, d.NodeID)
	require.Empty(t, d.TechnicianID)
	require.Len(t, d.Nodes, 1)
	require.Empty(t, d.Technicians)
	require.Contains(t, d.Reason, "1 not_active")

	r := washer()
	r.RegionCode = "110101" // Beijing: nobody covers it
	d = b.mustDecide(t, r)
	require.Empty(t, d.NodeID)
	require.Empty(t, d.Nodes)
	require.Contains(t, d.Reason, "No node covers region 110101")

	r.RegionCode = "37021"
	_, err := b.decide(t, r)
	requireInvalid(t, err, "address.region_code", "GB/T 2260")
}

func TestTechnicianRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, _, point := b.network(t)
	good := b.tech(t, point, techSpec{name: "good"})
	rejected := b.tech(t, point, techSpec{})
	onLeave := b.tech(t, point, techSpec{status: "on_leave"})
	left := b.tech(t, point, techSpec{status: "left"})
	expired := b.tech(t, point, techSpec{expiresOn: "2026-11-29"})
	expiresToday := b.tech(t, point, techSpec{expiresOn: "2026-11-30"})
	markedExpired := b.tech(t, point, techSpec{expiredAt: ptr(now.Add(-time.Hour))})
	noLicence := b.tech(t, point, techSpec{noLicence: true})
	level2 := b.tech(t, point, techSpec{level: 2})
	noSkill := b.tech(t, point, techSpec{otherSkill: true})
	morning := b.tech(t, point, techSpec{shifts: `[{"weekday": 1, "start": "08:00", "end": "15:00"}]`})
	tuesday := b.tech(t, point, techSpec{shifts: `[{"weekday": 2, "start": "08:00", "end": "18:00"}]`})
	split := b.tech(t, point, techSpec{shifts: `[{"weekday": 1, "start": "08:00", "end": "12:00"}, {"weekday": 1, "start": "13:00", "end": "17:00"}]`})
	busy := b.tech(t, point, techSpec{limit: 1})
	b.ticket(t, point.id, busy, "scheduled", ptr(winStart.Add(-4*time.Hour)), now)

	r := washer()
	r.ExcludeTechnicians = []string{rejected}
	d := b.mustDecide(t, r)
	require.Equal(t, point.id, d.NodeID)
	for id, rule := range map[string]string{
		rejected: "rejected_earlier", onLeave: "not_active", left: "not_active", expired: "licence_invalid",
		markedExpired: "licence_invalid", noLicence: "licence_invalid", level2: "skill_below_required",
		noSkill: "skill_below_required", morning: "off_shift", tuesday: "off_shift", busy: "daily_limit_reached",
	} {
		c := techByID(t, d, id)
		require.False(t, c.Eligible, id)
		require.Equal(t, rule, c.ExcludedBy, id)
	}
	for _, id := range []string{good, expiresToday, split} {
		require.True(t, techByID(t, d, id).Eligible, "%s: %+v", id, techByID(t, d, id))
	}
	require.Equal(t, 1, techByID(t, d, busy).JobsToday)
	require.Equal(t, 2, techByID(t, d, level2).Level)
	require.Equal(t, 0, techByID(t, d, noSkill).Level)
	require.Contains(t, []string{good, expiresToday, split}, d.TechnicianID)
	for i, c := range d.Technicians {
		if i > 0 && c.Eligible {
			require.True(t, d.Technicians[i-1].Eligible, "eligible technicians come first")
		}
	}

	t.Run("WindowAcrossTwoShiftsIsOffShift", func(t *testing.T) {
		r := washer()
		r.WindowStart, r.WindowEnd = ptr(winStart.Add(-3*time.Hour)), ptr(winStart.Add(-time.Hour)) // 11:00-13:00
		d := b.mustDecide(t, r)
		require.Equal(t, "off_shift", techByID(t, d, split).ExcludedBy)
		require.True(t, techByID(t, d, morning).Eligible)
	})

	t.Run("RestOfTodayNeedsAShiftNotYetOver", func(t *testing.T) {
		early := b.tech(t, point, techSpec{shifts: `[{"weekday": 1, "start": "06:00", "end": "09:30"}]`})
		late := b.tech(t, point, techSpec{shifts: `[{"weekday": 1, "start": "19:00", "end": "22:00"}]`})
		r := washer()
		r.WindowStart, r.WindowEnd = nil, nil
		d := b.mustDecide(t, r)
		require.Equal(t, "2026-11-30", d.Day)
		require.Equal(t, "off_shift", techByID(t, d, early).ExcludedBy, "its shift ended at 09:30, before now (10:00)")
		require.True(t, techByID(t, d, late).Eligible)
		require.Equal(t, "off_shift", techByID(t, d, tuesday).ExcludedBy)
	})

	t.Run("LicenceCountsOnTheWindowsDay", func(t *testing.T) {
		r := washer()
		r.WindowStart, r.WindowEnd = ptr(winStart.AddDate(0, 0, 7)), ptr(winEnd.AddDate(0, 0, 7)) // next Monday
		d := b.mustDecide(t, r)
		require.Equal(t, "2026-12-07", d.Day)
		require.Equal(t, "licence_invalid", techByID(t, d, expiresToday).ExcludedBy)
		require.Equal(t, 0, techByID(t, d, busy).JobsToday, "today's ticket does not count next week")
		require.True(t, techByID(t, d, busy).Eligible)
	})

	t.Run("NoTechnicianFree", func(t *testing.T) {
		r := washer()
		r.RequiredLevel = 5
		d := b.mustDecide(t, r)
		require.Equal(t, point.id, d.NodeID, "the node is still chosen: it assigns later")
		require.Empty(t, d.TechnicianID)
		require.Contains(t, d.Reason, "skill_below_required")
	})
}

func TestLoadAndDistance(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, _, point := b.network(t)
	// The address at Laoshan; homes 2 km, 10 km and 30 km away (roughly).
	r := washer()
	r.Latitude, r.Longitude = ptr(36.1070), ptr(120.4680)
	near := b.tech(t, point, techSpec{name: "near", lat: ptr(36.1250), lon: ptr(120.4680)})
	mid := b.tech(t, point, techSpec{name: "mid", lat: ptr(36.1970), lon: ptr(120.4680)})
	far := b.tech(t, point, techSpec{name: "far", lat: ptr(36.3770), lon: ptr(120.4680)})
	// near: 2 jobs today; mid: 1 (plus one cancelled, one yesterday, one
	// without a window last changed yesterday: none counts); far: 1.
	b.ticket(t, point.id, near, "scheduled", ptr(winStart.Add(-5*time.Hour)), now)
	b.ticket(t, point.id, near, "assigned", nil, now.Add(-time.Hour))
	b.ticket(t, point.id, mid, "completed", ptr(winStart.Add(-6*time.Hour)), now)
	b.ticket(t, point.id, mid, "cancelled", ptr(winStart.Add(2*time.Hour)), now)
	b.ticket(t, point.id, mid, "completed", &yesterday, yesterday)
	b.ticket(t, point.id, mid, "assigned", nil, yesterday)
	b.ticket(t, point.id, far, "scheduled", ptr(winEnd.Add(time.Hour)), now)
	placed := b.ticket(t, point.id, far, "assigned", &winStart, now)

	d := b.mustDecide(t, r)
	require.Equal(t, 2, techByID(t, d, near).JobsToday)
	require.Equal(t, 1, techByID(t, d, mid).JobsToday)
	require.Equal(t, 2, techByID(t, d, far).JobsToday)
	require.Equal(t, mid, d.TechnicianID, "least load wins over distance: %s", d.Reason)
	require.InDelta(t, 2.0, *techByID(t, d, near).DistanceKM, 0.2)
	require.Equal(t, 5, nodeByID(t, d, point.id).LoadToday)

	// The ticket being placed does not count against anyone: far and mid
	// are then at equal load and the nearer wins.
	r.TicketID = placed
	r.Latitude = ptr(36.3770) // the address moves next to far's home
	d = b.mustDecide(t, r)
	require.Equal(t, 1, techByID(t, d, far).JobsToday)
	require.Equal(t, far, d.TechnicianID, "nearer wins at equal load: %s", d.Reason)
	require.Equal(t, 4, nodeByID(t, d, point.id).LoadToday)
	c := techByID(t, d, far)
	require.InDelta(t, c.Score, c.Breakdown.Load+c.Breakdown.Distance+c.Breakdown.Level, 0.001)

	// Back at Laoshan without mid: far (1 job, 30 km) beats near (2 jobs,
	// 2 km).
	r.Latitude = ptr(36.1070)
	r.ExcludeTechnicians = []string{mid}
	d = b.mustDecide(t, r)
	require.Equal(t, far, d.TechnicianID, "far has 1 job, near 2")
}

func TestFallsBackToARunnerUpWithAFreeTechnician(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, depot, point := b.network(t)
	b.tech(t, point, techSpec{shifts: `[{"weekday": 2, "start": "08:00", "end": "18:00"}]`})
	free := b.tech(t, depot, techSpec{})

	d := b.mustDecide(t, washer())
	require.Equal(t, depot.id, d.NodeID, d.Reason)
	require.Equal(t, free, d.TechnicianID)
	require.Equal(t, point.id, d.Nodes[0].NodeID, "the repair point still ranks first")
	require.Contains(t, d.Reason, "better-ranked point")
}

func TestManualDispatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, center, depot, point := b.network(t)
	b.tech(t, point, techSpec{})
	depotTech := b.tech(t, depot, techSpec{})
	offShift := b.tech(t, depot, techSpec{shifts: `[]`})
	suspended := b.node(t, &depot, nodeSpec{tier: "repair_point", status: "suspended"})
	elsewhere := b.node(t, &depot, nodeSpec{tier: "repair_point", coverage: []string{"370202"}})
	rejected := b.node(t, &depot, nodeSpec{tier: "repair_point"})

	t.Run("EligibleNode", func(t *testing.T) {
		r := washer()
		r.NodeID = depot.id
		d := b.mustDecide(t, r)
		require.Equal(t, depot.id, d.NodeID)
		require.Equal(t, depotTech, d.TechnicianID)
		require.Contains(t, d.Reason, "Manual dispatch")
		require.True(t, nodeByID(t, d, point.id).Eligible, "the others are still listed with scores")
		require.Greater(t, nodeByID(t, d, point.id).Score, nodeByID(t, d, depot.id).Score)
		require.Equal(t, center.id, nodeByID(t, d, center.id).NodeID)
	})
	t.Run("TechnicianAlone", func(t *testing.T) {
		r := washer()
		r.TechnicianID = depotTech
		d := b.mustDecide(t, r)
		require.Equal(t, depot.id, d.NodeID)
		require.Equal(t, depotTech, d.TechnicianID)
	})
	for name, c := range map[string]struct {
		node, tech, exclude, location, message string
	}{
		"NotActiveNode":       {node: suspended.id, location: "node_id", message: "not_active"},
		"NodeNotCovering":     {node: elsewhere.id, location: "node_id", message: "region_not_covered"},
		"RejectedNode":        {node: rejected.id, exclude: rejected.id, location: "node_id", message: "rejected_earlier"},
		"UnknownNode":         {node: tenants.NewID(tenants.PrefixNode), location: "node_id", message: "no such node"},
		"MalformedNode":       {node: "nod_x", location: "node_id", message: "no such node"},
		"OffShiftTechnician":  {node: depot.id, tech: offShift, location: "technician_id", message: "off_shift"},
		"TechnicianElsewhere": {node: point.id, tech: depotTech, location: "technician_id", message: depot.id},
		"UnknownTechnician":   {tech: tenants.NewID(tenants.PrefixTechnician), location: "technician_id", message: "no such technician"},
	} {
		t.Run(name, func(t *testing.T) {
			r := washer()
			r.NodeID, r.TechnicianID = c.node, c.tech
			if c.exclude != "" {
				r.ExcludeNodes = []string{c.exclude}
			}
			_, err := b.decide(t, r)
			requireInvalid(t, err, c.location, c.message)
		})
	}
}

func TestAnotherTenantsNodesNeverAppear(t *testing.T) {
	t.Parallel()
	a := setup(t)
	other := a.another(t, "")
	_, _, _, otherPoint := other.network(t)
	otherTech := other.tech(t, otherPoint, techSpec{})
	_, _, _, point := a.network(t)

	d := a.mustDecide(t, washer())
	require.Equal(t, point.id, d.NodeID)
	require.Len(t, d.Nodes, 3)
	for _, n := range d.Nodes {
		require.False(t, strings.Contains(otherPoint.path, n.NodeID), "another tenant's node %s", n.NodeID)
	}

	// Manual choices of the other tenant's node or technician: not found.
	r := washer()
	r.NodeID = otherPoint.id
	_, err := a.decide(t, r)
	requireInvalid(t, err, "node_id", "no such node")
	r = washer()
	r.TechnicianID = otherTech
	_, err = a.decide(t, r)
	requireInvalid(t, err, "technician_id", "no such technician")

	// With the application's filter pointed at the other tenant, RLS alone
	// still shows none of its nodes.
	restore := pg.OverrideTenantFilterForTest(a.tenantID, other.tenantID)
	defer restore()
	d = a.mustDecide(t, washer())
	require.Empty(t, d.Nodes)
	require.Empty(t, d.NodeID)
}

func TestDayAndShiftsInTheTenantsZone(t *testing.T) {
	t.Parallel()
	b := setup(t).another(t, "Europe/London")
	london, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	_, _, _, point := b.network(t)
	// Monday 23:30 in London is already Tuesday 07:30 in Shanghai.
	late := time.Date(2026, 11, 30, 23, 30, 0, 0, london)
	evening := b.tech(t, point, techSpec{shifts: `[{"weekday": 1, "start": "20:00", "end": "23:59"}]`})
	tuesday := b.tech(t, point, techSpec{shifts: `[{"weekday": 2, "start": "07:00", "end": "18:00"}]`})
	b.ticket(t, point.id, evening, "scheduled", ptr(time.Date(2026, 11, 30, 0, 30, 0, 0, london)), late)  // Monday in London
	b.ticket(t, point.id, evening, "scheduled", ptr(time.Date(2026, 11, 29, 23, 30, 0, 0, london)), late) // Sunday in London, Monday in Shanghai

	r := washer()
	r.WindowStart, r.WindowEnd = nil, nil
	d, err := b.decideAt(t, late, r)
	require.NoError(t, err)
	require.Equal(t, "2026-11-30", d.Day)
	require.True(t, techByID(t, d, evening).Eligible, "%+v", techByID(t, d, evening))
	require.Equal(t, "off_shift", techByID(t, d, tuesday).ExcludedBy)
	require.Equal(t, 1, techByID(t, d, evening).JobsToday)
	require.Equal(t, 1, nodeByID(t, d, point.id).LoadToday, "the node's day is the same London day")
	require.Equal(t, evening, d.TechnicianID)
}
