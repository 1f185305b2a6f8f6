package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/apitest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
)

func init() {
	readers := []string{"tenant_admin", "agent", "dispatcher", "node_manager", "storefront", "integrator", "auditor"}
	filers := []string{"tenant_admin", "agent", "dispatcher", "storefront", "integrator"}
	resolvers := []string{"tenant_admin", "agent", "dispatcher"}
	for _, op := range []string{"listComplaints", "getComplaint"} {
		wantMatrix[op] = readers
	}
	// The customer's rating comes through the channel that filed the complaint.
	for _, op := range []string{"fileComplaint", "rateComplaint"} {
		wantMatrix[op] = filers
	}
	for _, op := range []string{"investigateComplaint", "escalateComplaint", "resolveComplaint", "closeComplaint"} {
		wantMatrix[op] = resolvers
	}
	dummyParams["complaint_id"] = "cmp_00000000000000000000000000"
}

// complaintShop is a tenant with a network, a technician at its repair
// point, two storefronts with keys and a ticket of each (tickets written
// directly: the tickets API is not part of this package's tests).
type complaintShop struct {
	tenantID, admin      string
	net                  apitest.Network
	tech, customer       string
	shopA, shopB         string // storefront keys
	ticketA, ticketB     string
	pointManager, center string // node_manager keys at the repair point and at the service center
}

func newComplaintShop(t *testing.T, env *apitest.Env, slug string) complaintShop {
	t.Helper()
	ten := env.CreateTenant(t, slug)
	s := complaintShop{tenantID: ten.ID, admin: ten.AdminKey}
	s.net = env.CreateNetwork(t, s.admin, slug)
	s.tech = createdID(t, env, s.admin, "/v1/network/technicians", map[string]any{"external_code": slug + "-T1",
		"node_id": s.net.Point, "name": "李师傅", "phone": "+86 138 0532 0000"})
	s.customer = createdID(t, env, s.admin, "/v1/customers", map[string]any{"name": "王丽", "phones": []string{"+86 138 0013 8000"}})
	sfA, sfB := env.Storefront(t, s.admin, "SHOP-A"), env.Storefront(t, s.admin, "SHOP-B")
	s.shopA, s.shopB = env.StorefrontKey(t, s.admin, sfA), env.StorefrontKey(t, s.admin, sfB)
	s.ticketA = s.ticket(t, env, "SN-20261120-00001", sfA, s.net.Point, s.tech)
	s.ticketB = s.ticket(t, env, "SN-20261120-00002", sfB, s.net.Center, "")
	nodeKey := func(node string) string {
		r := env.Do(t, http.MethodPost, "/v1/api-keys", s.admin, map[string]any{"name": "manager " + node,
			"roles": []string{"node_manager"}, "node_id": node})
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		return r.JSON(t)["secret"].(string)
	}
	s.pointManager, s.center = nodeKey(s.net.Point), nodeKey(s.net.Center)
	return s
}

func (s complaintShop) ticket(t *testing.T, env *apitest.Env, number, storefront, node, tech string) string {
	t.Helper()
	ctx := context.Background()
	id := tenants.NewID(tenants.PrefixTicket)
	var techID *string
	if tech != "" {
		techID = &tech
	}
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, s.tenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tickets (tenant_id, id, number, channel, type, state, storefront_id, customer_id,
			contact, address, fault, node_id, technician_id, created_by)
			VALUES ($1, $2, $3, 'storefront', 'repair', 'assigned', $4, $5, '{"name":"王丽","phone":"13800138000"}',
			'{"region_code":"370212","line":"崂山区1号"}', '{"symptom":"不脱水"}', $6, $7, 'test')`,
			tx.TenantID, id, number, storefront, s.customer, node, techID)
		return err
	}))
	return id
}

func TestComplaintLifecycle(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	s := newComplaintShop(t, env, "cmp-life")

	r := env.Do(t, http.MethodPost, "/v1/complaints", s.shopA, map[string]any{"ticket_id": s.ticketA, "category": "late",
		"severity": "high", "description": "师傅迟到两个小时且未提前联系"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	c := r.JSON(t)
	id := c["id"].(string)
	require.Equal(t, "/v1/complaints/"+id, r.Header.Get("Location"))
	require.Equal(t, `"v1"`, r.Header.Get("ETag"))
	require.Equal(t, "open", c["state"])
	require.Equal(t, s.net.Point, c["node_id"])
	require.Equal(t, s.tech, c["technician_id"])
	require.Equal(t, s.customer, c["customer_id"])
	require.Equal(t, float64(0), c["escalation_level"])
	require.Len(t, c["history"], 1)
	created, err := time.Parse(time.RFC3339, c["created_at"].(string))
	require.NoError(t, err)
	due, err := time.Parse(time.RFC3339, c["sla_due_at"].(string))
	require.NoError(t, err)
	require.Equal(t, 24*time.Hour, due.Sub(created), "high: 24 h")

	t.Run("TheTimerIsScheduledWithTheFiling", func(t *testing.T) {
		ctx := context.Background()
		var n int
		require.NoError(t, env.DB.Owner.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'complaint_sla'
			AND args->>'complaint_id' = $1 AND (args->>'level')::int = 1 AND scheduled_at = $2`, id, due).Scan(&n))
		require.Equal(t, 1, n)
	})

	t.Run("OtherStorefrontSeesNotFound", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/complaints/"+id, s.shopB, nil)
		requireProblem(t, r, http.StatusNotFound, "not_found", "")
		r = env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/rate", s.shopB, map[string]any{"rating": 5})
		requireProblem(t, r, http.StatusNotFound, "not_found", "")
		require.Empty(t, listIDs(t, env, s.shopB, "/v1/complaints"))
		require.Equal(t, []string{id}, listIDs(t, env, s.shopA, "/v1/complaints"))
	})
	t.Run("StorefrontCannotFileAgainstAnotherStorefrontsTicket", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/complaints", s.shopA, map[string]any{"ticket_id": s.ticketB, "category": "fee",
			"description": "乱收费"})
		p := requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.ticket_id")
		require.Contains(t, string(r.Body), "no ticket with this id", p)
	})
	t.Run("NodeManagersSeeTheirSubtree", func(t *testing.T) {
		r := env.Do(t, http.MethodGet, "/v1/complaints/"+id, s.pointManager, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r = env.Do(t, http.MethodGet, "/v1/complaints/"+id, s.center, nil)
		require.Equal(t, http.StatusOK, r.Status, "the point is under the center: %s", r.Body)
	})

	r = env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/investigate", s.admin, map[string]any{"note": "已联系网点"}, `If-Match: "v1"`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "investigating", r.JSON(t)["state"])

	t.Run("IllegalTransitionsAre409NamingTheState", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/investigate", s.admin, nil)
		p := requireProblem(t, r, http.StatusConflict, "conflict", "")
		require.Contains(t, p["detail"], "complaint is investigating; allowed: escalate, resolve")
		r = env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/close", s.admin, nil)
		requireProblem(t, r, http.StatusConflict, "conflict", "")
		r = env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/rate", s.shopA, map[string]any{"rating": 4})
		requireProblem(t, r, http.StatusConflict, "conflict", "")
	})
	t.Run("StaleETagIs412", func(t *testing.T) {
		r := env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/resolve", s.admin, map[string]any{"resolution": "x"}, `If-Match: "v1"`)
		requireProblem(t, r, http.StatusPreconditionFailed, "precondition_failed", "")
	})

	r = env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/escalate", s.admin, map[string]any{"reason": "客户要求网点经理处理"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "dispatcher", r.JSON(t)["escalated_to"])

	r = env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/resolve", s.admin, map[string]any{"resolution": "网点经理上门致歉，减免上门费"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, "resolved", r.JSON(t)["state"])

	t.Run("RatingOutsideOneToFiveIs422", func(t *testing.T) {
		for _, rating := range []int{0, 6} {
			r := env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/rate", s.shopA, map[string]any{"rating": rating})
			requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.rating")
		}
	})

	r = env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/rate", s.shopA, map[string]any{"rating": 1, "comment": "还是不满意"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m := r.JSON(t)
	require.Equal(t, "reopened", m["state"])
	require.Equal(t, float64(1), m["reopen_count"])
	require.Equal(t, float64(1), m["escalation_level"], "reopening keeps the level")

	r = env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/resolve", s.admin, map[string]any{"resolution": "更换门封并退还费用"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = env.Do(t, http.MethodPost, "/v1/complaints/"+id+"/rate", s.shopA, map[string]any{"rating": 5, "comment": "满意"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m = r.JSON(t)
	require.Equal(t, "closed", m["state"])
	require.Equal(t, float64(5), m["resolution_rating"])
	require.Equal(t, []any{}, m["allowed_actions"])
	var acts []string
	for _, h := range m["history"].([]any) {
		acts = append(acts, h.(map[string]any)["action"].(string))
	}
	require.Equal(t, []string{"file", "investigate", "escalate", "resolve", "rate", "resolve", "rate"}, acts)

	r = env.Do(t, http.MethodGet, "/v1/events?type=complaint.*", s.admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var types []string
	for _, e := range r.JSON(t)["data"].([]any) {
		ev := e.(map[string]any)
		types = append(types, ev["type"].(string))
		require.Equal(t, s.net.Point, ev["data"].(map[string]any)["node_id"])
		require.NotEmpty(t, ev["data"].(map[string]any)["storefront_id"])
	}
	require.Equal(t, []string{"complaint.filed", "complaint.investigating", "complaint.escalated", "complaint.resolved",
		"complaint.rated", "complaint.reopened", "complaint.resolved", "complaint.rated", "complaint.closed"}, types)
}

// A storefront key files a complaint for its own customers only: naming
// another party's customer (the brand's, here) is 422 at customer_id, as an
// unknown id is, and files nothing (the complaint would have joined that
// customer's records, its data export included). Its ticket's customer, and
// a customer of its own, it names.
func TestComplaintStorefrontNamesOnlyItsCustomers(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	s := newComplaintShop(t, env, "cmp-sf-customer")
	brands := createdID(t, env, s.admin, "/v1/customers", map[string]any{"name": "赵六", "phones": []string{"+86 138 0013 8001"}})
	own := createdID(t, env, s.shopA, "/v1/customers", map[string]any{"name": "孙七", "phones": []string{"+86 138 0013 8002"}})
	file := func(customer string) *apitest.Response {
		return env.Do(t, http.MethodPost, "/v1/complaints", s.shopA, map[string]any{"ticket_id": s.ticketA, "customer_id": customer,
			"category": "late", "description": "师傅迟到"})
	}
	r := file(brands)
	requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.customer_id")
	require.Empty(t, listIDs(t, env, s.admin, "/v1/complaints"), "nothing filed")
	for _, c := range []string{s.customer, own} {
		r = file(c)
		require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
		require.Equal(t, c, r.JSON(t)["customer_id"])
	}
}

func TestComplaintListFilters(t *testing.T) {
	t.Parallel()
	env := apitest.Shared(t)
	s := newComplaintShop(t, env, "cmp-list")
	file := func(body map[string]any) string { return createdID(t, env, s.admin, "/v1/complaints", body) }
	a := file(map[string]any{"ticket_id": s.ticketA, "category": "quality", "severity": "critical", "description": "修完又坏"})
	b := file(map[string]any{"ticket_id": s.ticketB, "category": "fee", "description": "乱收费"})
	n := file(map[string]any{"node_id": s.net.Depot, "category": "other", "severity": "low", "description": "电话打不通"})

	require.Equal(t, []string{a, b, n}, listIDs(t, env, s.admin, "/v1/complaints"))
	require.Equal(t, []string{a}, listIDs(t, env, s.admin, "/v1/complaints?technician_id="+s.tech))
	require.Equal(t, []string{b}, listIDs(t, env, s.admin, "/v1/complaints?ticket_id="+s.ticketB))
	require.Equal(t, []string{n}, listIDs(t, env, s.admin, "/v1/complaints?node_id="+s.net.Depot))
	require.Equal(t, []string{a}, listIDs(t, env, s.admin, "/v1/complaints?severity=critical"))
	require.Equal(t, []string{b}, listIDs(t, env, s.admin, "/v1/complaints?category=fee"))
	require.Empty(t, listIDs(t, env, s.admin, "/v1/complaints?overdue=true"))
	require.Equal(t, []string{a}, listIDs(t, env, s.pointManager, "/v1/complaints"))
	require.Equal(t, []string{a, b, n}, listIDs(t, env, s.center, "/v1/complaints"))

	r := env.Do(t, http.MethodGet, "/v1/complaints?limit=2", s.admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	next := r.JSON(t)["next_cursor"].(string)
	require.Equal(t, []string{n}, listIDs(t, env, s.admin, "/v1/complaints?cursor="+next))

	r = env.Do(t, http.MethodGet, "/v1/complaints?state=pending", s.admin, nil)
	requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "query.state")
	r = env.Do(t, http.MethodPost, "/v1/complaints", s.admin, map[string]any{"category": "fee", "description": "x"})
	requireProblem(t, r, http.StatusUnprocessableEntity, "invalid", "body.ticket_id")
}

// The SLA timer runs on the server's River workers: a complaint whose
// deadline has passed escalates to the dispatcher, schedules the node
// manager's timer, and shows in the overdue list.
func TestComplaintSLATimerEscalates(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	s := newComplaintShop(t, env, "cmp-sla")
	id := createdID(t, env, s.admin, "/v1/complaints", map[string]any{"ticket_id": s.ticketA, "category": "attitude",
		"severity": "critical", "description": "师傅态度恶劣"})
	ctx := context.Background()
	// The deadline passed: move it into the past and fire its timer now.
	past := time.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)
	require.NoError(t, pg.InTenantTx(ctx, env.DB.Owner, s.tenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `UPDATE complaints SET sla_due_at = $3 WHERE tenant_id = $1 AND id = $2`, tx.TenantID, id, past)
		return err
	}))
	require.Equal(t, []string{id}, listIDs(t, env, s.admin, "/v1/complaints?overdue=true"))
	for range 2 { // twice: the second run changes nothing
		_, err := env.River.Insert(ctx, jobs.ComplaintSLAArgs{TenantID: s.tenantID, ComplaintID: id, Level: 1, DueAt: past}, &river.InsertOpts{})
		require.NoError(t, err)
	}
	var m map[string]any
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var pending int
		if !assert.NoError(c, env.DB.Owner.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'complaint_sla'
			AND (args->>'level')::int = 1 AND scheduled_at <= now() AND state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&pending)) {
			return
		}
		assert.Zero(c, pending)
	}, 15*time.Second, 50*time.Millisecond)
	r := env.Do(t, http.MethodGet, "/v1/complaints/"+id, s.admin, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m = r.JSON(t)
	require.Equal(t, float64(1), m["escalation_level"])
	require.Equal(t, "dispatcher", m["escalated_to"])
	var breaches int
	for _, h := range m["history"].([]any) {
		if h.(map[string]any)["action"] == "sla_breached" {
			breaches++
			require.Equal(t, "system", h.(map[string]any)["actor"])
		}
	}
	require.Equal(t, 1, breaches, "the timer ran twice, escalated once")
	due, err := time.Parse(time.RFC3339, m["sla_due_at"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, past.Add(time.Hour), due, time.Second, "the node manager gets the escalation interval")
	var n int
	require.NoError(t, env.DB.Owner.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'complaint_sla'
		AND args->>'complaint_id' = $1 AND (args->>'level')::int = 2`, id).Scan(&n))
	require.Equal(t, 1, n, "the next level's timer")
}
