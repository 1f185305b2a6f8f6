package complaints_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// timer is a scheduled SLA timer as the EnqueueSLA hook received it.
type timer struct {
	id    string
	level int
	due   time.Time
}

type testBundle struct {
	db               *pgtest.DB
	svc              *complaints.Service
	admin            tenants.Principal
	root, centerA    string
	centerB, tech    string
	customer         string
	sfA, sfB         tenants.Principal
	ticketA, ticketB string
	mu               sync.Mutex
	timers           []timer
	clock            time.Time
}

func (b *testBundle) now() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.clock
}

func (b *testBundle) lastTimer(t *testing.T) timer {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	require.NotEmpty(t, b.timers)
	return b.timers[len(b.timers)-1]
}

// requireTimer checks the last scheduled timer.
func (b *testBundle) requireTimer(t *testing.T, id string, level int, due time.Time) {
	t.Helper()
	got := b.lastTimer(t)
	require.Equal(t, id, got.id)
	require.Equal(t, level, got.level)
	require.True(t, due.Equal(got.due), "timer due %s, want %s", got.due, due)
}

func (b *testBundle) timerCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.timers)
}

// setup gives a test its own database and a tenant with a network (root,
// two service centers, a technician at center A), two storefronts with
// their principals, a customer and a ticket of each storefront: A's at
// center A with the technician, B's at center B.
func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	idn := &identity.Service{DB: db.App}
	_, key, err := idn.CreateTenant(ctx, identity.NewTenant{Name: "Brand", Slug: "brand"}, "operator")
	require.NoError(t, err)
	admin, err := idn.Authenticate(ctx, key.Secret)
	require.NoError(t, err)
	b := &testBundle{db: db, admin: admin, clock: time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)}
	b.svc, err = complaints.NewService(db.App, complaints.Deps{
		EnqueueSLA: func(_ context.Context, _ pgx.Tx, _, id string, _ *string, level int, due time.Time) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.timers = append(b.timers, timer{id, level, due})
			return nil
		},
		// These tests uphold no complaint that refunds or compensates
		// (damage_test.go does, on the whole application).
		Refund: func(context.Context, pg.TenantTx, string, *string, tenants.Money, string, string) (string, error) {
			return "", errors.New("complaints_test: no refunds here")
		},
		Compensate: func(context.Context, pg.TenantTx, string, string, *string, tenants.Money, string, string) (string, error) {
			return "", errors.New("complaints_test: no compensations here")
		}})
	require.NoError(t, err)
	b.svc.Now = b.now
	nw := &network.Service{DB: db.App}
	node := func(code string, tier network.Tier, parent string) string {
		n, err := nw.CreateNode(ctx, admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: code, Name: code},
			Tier: tier, ParentID: parent, Status: "active"})
		require.NoError(t, err)
		return n.ID
	}
	b.root = node("ROOT", "manufacturer", "")
	b.centerA = node("SC-A", "service_center", b.root)
	b.centerB = node("SC-B", "service_center", b.root)
	tec, err := nw.CreateTechnician(ctx, admin, network.NewTechnician{ExternalCode: "T-1", NodeID: b.centerA, Name: "李师傅", Phone: "+86 138 0532 0000"})
	require.NoError(t, err)
	b.tech = tec.ID
	cus, err := customers.NewService(db.App, customers.Deps{Jobs: tickets.ServedTx, PurchaseDateMoved: warranty.RedateUnitContractsTx})
	require.NoError(t, err)
	c, _, err := cus.CreateCustomer(ctx, admin, customers.NewCustomer{Name: "王丽", Phones: []string{"13800138000"}})
	require.NoError(t, err)
	b.customer = c.ID
	sf := func(code string) tenants.Principal {
		s, err := cus.CreateStorefront(ctx, admin, customers.NewStorefront{Code: code, Name: code, Platform: "jd"})
		require.NoError(t, err)
		return tenants.Principal{TenantID: admin.TenantID, KeyID: "key_" + code, Roles: []string{tenants.RoleStorefront}, StorefrontID: s.ID}
	}
	b.sfA, b.sfB = sf("SHOP-A"), sf("SHOP-B")
	b.ticketA = insertTicket(t, db, admin.TenantID, "SN-20261120-00001", b.sfA.StorefrontID, b.centerA, b.tech, b.customer)
	b.ticketB = insertTicket(t, db, admin.TenantID, "SN-20261120-00002", b.sfB.StorefrontID, b.centerB, "", b.customer)
	return b
}

// insertTicket writes a dispatched ticket directly (the tickets API is
// another package's).
func insertTicket(t *testing.T, db *pgtest.DB, tenantID, number, storefront, node, tech, customer string) string {
	t.Helper()
	ctx := context.Background()
	id := tenants.NewID(tenants.PrefixTicket)
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	require.NoError(t, pg.InTenantTx(ctx, db.Owner, tenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(ctx, `INSERT INTO tickets (tenant_id, id, number, channel, type, state, storefront_id, customer_id,
			contact, address, fault, node_id, technician_id, created_by)
			VALUES ($1, $2, $3, 'storefront', 'repair', 'assigned', $4, $5, '{"name":"王丽","phone":"13800138000"}',
			'{"region_code":"370212","line":"崂山区1号"}', '{"symptom":"不脱水"}', $6, $7, 'test')`,
			tx.TenantID, id, number, opt(storefront), customer, node, opt(tech))
		return err
	}))
	return id
}

func requireCode(t *testing.T, err error, code tenants.Code, location string) *tenants.Error {
	t.Helper()
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, code, te.Code, "%v", err)
	if location != "" {
		require.NotEmpty(t, te.Fields, "%v", err)
		require.Equal(t, location, te.Fields[0].Location, "%v", err)
	}
	return te
}

func actions(d complaints.ComplaintDetail) []string {
	var out []string
	for _, h := range d.History {
		out = append(out, h.Action)
	}
	return out
}

func (b *testBundle) eventCount(t *testing.T, typ, subject string) int {
	t.Helper()
	ctx := context.Background()
	var n int
	require.NoError(t, pg.InTenantTx(ctx, b.db.Owner, b.admin.TenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(ctx, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = $2 AND subject_id = $3`,
			tx.TenantID, typ, subject).Scan(&n)
	}))
	return n
}

func TestStateMachine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := b.admin

	c, err := b.svc.FileComplaint(ctx, p, complaints.NewComplaint{TicketID: b.ticketA, Category: complaints.CategoryLate,
		Description: "师傅迟到两个小时"})
	require.NoError(t, err)
	require.Equal(t, complaints.StateOpen, c.State)
	require.Equal(t, complaints.SeverityMedium, c.Severity, "default severity")
	require.Equal(t, b.centerA, *c.NodeID, "node from the ticket")
	require.Equal(t, b.tech, *c.TechnicianID, "technician from the ticket")
	require.Equal(t, b.sfA.StorefrontID, *c.StorefrontID, "storefront from the ticket")
	require.Equal(t, b.customer, *c.CustomerID, "customer from the ticket")
	require.True(t, c.SLADueAt.Equal(b.clock.Add(48*time.Hour)), "medium: 48 h, got %s", c.SLADueAt)
	require.Equal(t, []string{"investigate", "escalate", "resolve"}, c.AllowedActions)
	b.requireTimer(t, c.ID, 1, c.SLADueAt)
	require.Equal(t, 1, b.eventCount(t, complaints.TypeFiled, c.ID))

	c, err = b.svc.Investigate(ctx, p, c.ID, "核实中", c.Version)
	require.NoError(t, err)
	require.Equal(t, complaints.StateInvestigating, c.State)

	t.Run("InvestigateTwiceIsAConflictNamingTheState", func(t *testing.T) {
		_, err := b.svc.Investigate(ctx, p, c.ID, "", 0)
		te := requireCode(t, err, tenants.CodeConflict, "")
		require.Contains(t, te.Message, "complaint is investigating; allowed: escalate, resolve")
	})
	t.Run("StaleVersionIsRefused", func(t *testing.T) {
		_, err := b.svc.Resolve(ctx, p, c.ID, "x", c.Version-1)
		requireCode(t, err, tenants.CodePreconditionFailed, "")
	})
	t.Run("RateBeforeResolutionIsAConflict", func(t *testing.T) {
		_, err := b.svc.Rate(ctx, p, c.ID, 5, "", 0)
		requireCode(t, err, tenants.CodeConflict, "")
	})

	c, err = b.svc.Resolve(ctx, p, c.ID, "网点经理上门致歉", 0)
	require.NoError(t, err)
	require.Equal(t, complaints.StateResolved, c.State)
	require.Equal(t, []string{"rate", "close"}, c.AllowedActions)
	require.False(t, c.Overdue)

	t.Run("RatingOutsideOneToFiveIsInvalid", func(t *testing.T) {
		for _, r := range []int{0, 6, -1} {
			_, err := b.svc.Rate(ctx, p, c.ID, r, "", 0)
			requireCode(t, err, tenants.CodeInvalid, "rating")
		}
	})

	// A low rating reopens under a new deadline.
	b.mu.Lock()
	b.clock = b.clock.Add(3 * time.Hour)
	b.mu.Unlock()
	c, err = b.svc.Rate(ctx, p, c.ID, 2, "还是不满意", 0)
	require.NoError(t, err)
	require.Equal(t, complaints.StateReopened, c.State)
	require.Equal(t, 1, c.ReopenCount)
	require.Equal(t, 2, *c.ResolutionRating)
	require.Nil(t, c.ResolvedAt)
	require.True(t, c.SLADueAt.Equal(b.now().Add(48*time.Hour)))
	b.requireTimer(t, c.ID, 1, c.SLADueAt)
	require.Equal(t, 1, b.eventCount(t, complaints.TypeReopened, c.ID))

	c, err = b.svc.Resolve(ctx, p, c.ID, "更换配件并减免费用", 0)
	require.NoError(t, err)
	c, err = b.svc.Rate(ctx, p, c.ID, 5, "满意", 0)
	require.NoError(t, err)
	require.Equal(t, complaints.StateClosed, c.State)
	require.NotNil(t, c.ClosedAt)
	require.Empty(t, c.AllowedActions)
	require.Equal(t, []string{"file", "investigate", "resolve", "rate", "resolve", "rate"}, actions(c))
	require.Equal(t, 2, b.eventCount(t, complaints.TypeRated, c.ID))
	require.Equal(t, 1, b.eventCount(t, complaints.TypeClosed, c.ID))

	_, err = b.svc.Close(ctx, p, c.ID, "", 0)
	te := requireCode(t, err, tenants.CodeConflict, "")
	require.Contains(t, te.Message, "complaint is closed; allowed: none")

	t.Run("CloseWithoutRating", func(t *testing.T) {
		c, err := b.svc.FileComplaint(ctx, p, complaints.NewComplaint{TechnicianID: b.tech, Category: complaints.CategoryAttitude,
			Severity: complaints.SeverityLow, Description: "态度差"})
		require.NoError(t, err)
		require.Equal(t, b.centerA, *c.NodeID, "node from the technician")
		require.Nil(t, c.StorefrontID)
		_, err = b.svc.Close(ctx, p, c.ID, "", 0)
		requireCode(t, err, tenants.CodeConflict, "")
		_, err = b.svc.Resolve(ctx, p, c.ID, "已批评教育", 0)
		require.NoError(t, err)
		c, err = b.svc.Close(ctx, p, c.ID, "客户未接电话", 0)
		require.NoError(t, err)
		require.Equal(t, complaints.StateClosed, c.State)
		require.Nil(t, c.ResolutionRating)
	})
}

func TestFileValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	cases := []struct {
		name string
		p    tenants.Principal
		in   complaints.NewComplaint
		loc  string
	}{
		{"NoSubject", b.admin, complaints.NewComplaint{Category: "fee", Description: "x"}, "ticket_id"},
		{"UnknownTicket", b.admin, complaints.NewComplaint{TicketID: "tkt_00000000000000000000000000", Category: "fee", Description: "x"}, "ticket_id"},
		{"MalformedTicket", b.admin, complaints.NewComplaint{TicketID: "TKT-1", Category: "fee", Description: "x"}, "ticket_id"},
		{"UnknownNode", b.admin, complaints.NewComplaint{NodeID: "nod_00000000000000000000000000", Category: "fee", Description: "x"}, "node_id"},
		{"UnknownTechnician", b.admin, complaints.NewComplaint{TechnicianID: "tec_00000000000000000000000000", Category: "fee", Description: "x"}, "technician_id"},
		{"UnknownCustomer", b.admin, complaints.NewComplaint{NodeID: b.centerA, CustomerID: "cus_00000000000000000000000000", Category: "fee", Description: "x"}, "customer_id"},
		{"LateArrivalWithoutTicket", b.admin, complaints.NewComplaint{NodeID: b.centerA, Category: "late_arrival", Description: "x"}, "ticket_id"},
		{"BadCategory", b.admin, complaints.NewComplaint{NodeID: b.centerA, Category: "noise", Description: "x"}, "category"},
		{"BadSeverity", b.admin, complaints.NewComplaint{NodeID: b.centerA, Category: "fee", Severity: "urgent", Description: "x"}, "severity"},
		{"BlankDescription", b.admin, complaints.NewComplaint{NodeID: b.centerA, Category: "fee", Description: "  "}, "description"},
		{"StorefrontOtherTicket", b.sfA, complaints.NewComplaint{TicketID: b.ticketB, Category: "fee", Description: "x"}, "ticket_id"},
		{"StorefrontWithoutTicket", b.sfA, complaints.NewComplaint{NodeID: b.centerA, Category: "fee", Description: "x"}, "ticket_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.svc.FileComplaint(ctx, c.p, c.in)
			requireCode(t, err, tenants.CodeInvalid, c.loc)
		})
	}
	require.Equal(t, 0, b.timerCount(), "nothing filed, nothing scheduled")
}

func TestScoping(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	a, err := b.svc.FileComplaint(ctx, b.sfA, complaints.NewComplaint{TicketID: b.ticketA, Category: "quality", Severity: "high", Description: "修完又坏"})
	require.NoError(t, err)
	require.Equal(t, b.sfA.StorefrontID, *a.StorefrontID)
	bc, err := b.svc.FileComplaint(ctx, b.admin, complaints.NewComplaint{TicketID: b.ticketB, Category: "fee", Description: "乱收费"})
	require.NoError(t, err)
	n, err := b.svc.FileComplaint(ctx, b.admin, complaints.NewComplaint{NodeID: b.centerB, Category: "other", Description: "电话打不通"})
	require.NoError(t, err)

	ids := func(p tenants.Principal, f complaints.ComplaintFilter) []string {
		cs, _, err := b.svc.ListComplaints(ctx, p, f)
		require.NoError(t, err)
		out := []string{}
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	managerA := tenants.Principal{TenantID: b.admin.TenantID, KeyID: "key_mgr", Roles: []string{tenants.RoleNodeManager}, NodeID: b.centerA}
	managerRoot := tenants.Principal{TenantID: b.admin.TenantID, KeyID: "key_root", Roles: []string{tenants.RoleNodeManager}, NodeID: b.root}

	require.Equal(t, []string{a.ID}, ids(b.sfA, complaints.ComplaintFilter{}))
	require.Equal(t, []string{bc.ID}, ids(b.sfB, complaints.ComplaintFilter{}))
	require.Equal(t, []string{a.ID}, ids(managerA, complaints.ComplaintFilter{}))
	require.ElementsMatch(t, []string{a.ID, bc.ID, n.ID}, ids(managerRoot, complaints.ComplaintFilter{}))
	require.ElementsMatch(t, []string{bc.ID, n.ID}, ids(b.admin, complaints.ComplaintFilter{NodeID: b.centerB}))
	require.Equal(t, []string{a.ID}, ids(b.admin, complaints.ComplaintFilter{TechnicianID: b.tech}))
	require.Equal(t, []string{bc.ID}, ids(b.admin, complaints.ComplaintFilter{TicketID: b.ticketB}))
	require.Equal(t, []string{a.ID}, ids(b.admin, complaints.ComplaintFilter{Severity: "high"}))
	require.Equal(t, []string{n.ID}, ids(b.admin, complaints.ComplaintFilter{Category: "other"}))

	for name, p := range map[string]tenants.Principal{"OtherStorefront": b.sfB, "OtherSubtree": managerA} {
		t.Run(name+"SeesNotFound", func(t *testing.T) {
			id := a.ID
			if name == "OtherSubtree" {
				id = bc.ID
			}
			_, err := b.svc.GetComplaint(ctx, p, id)
			requireCode(t, err, tenants.CodeNotFound, "")
			_, err = b.svc.Rate(ctx, p, id, 5, "", 0)
			requireCode(t, err, tenants.CodeNotFound, "")
		})
	}
	got, err := b.svc.GetComplaint(ctx, b.sfA, a.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"file"}, actions(got))

	t.Run("Overdue", func(t *testing.T) {
		require.Empty(t, ids(b.admin, complaints.ComplaintFilter{Overdue: true}))
		b.mu.Lock()
		b.clock = b.clock.Add(25 * time.Hour) // high (24 h) is overdue, medium (48 h) not
		b.mu.Unlock()
		require.Equal(t, []string{a.ID}, ids(b.admin, complaints.ComplaintFilter{Overdue: true}))
		c, err := b.svc.GetComplaint(ctx, b.admin, a.ID)
		require.NoError(t, err)
		require.True(t, c.Overdue)
	})
}

func TestSLATimer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tenant := b.admin.TenantID
	c, err := b.svc.FileComplaint(ctx, b.admin, complaints.NewComplaint{TicketID: b.ticketA, Category: "attitude", Severity: "critical",
		Description: "师傅辱骂客户"})
	require.NoError(t, err)
	due := b.clock.Add(4 * time.Hour)
	require.True(t, c.SLADueAt.Equal(due), "critical: 4 h")
	b.requireTimer(t, c.ID, 1, due)

	t.Run("TooEarlyLevelOrWrongDueDoesNothing", func(t *testing.T) {
		ok, err := b.svc.SLAExpired(ctx, tenant, c.ID, 1, due.Add(-time.Minute))
		require.NoError(t, err)
		require.False(t, ok, "another deadline")
		ok, err = b.svc.SLAExpired(ctx, tenant, c.ID, 0, due)
		require.NoError(t, err)
		require.False(t, ok, "level 0 is not an escalation")
	})

	// Level 1: dispatcher, next timer an escalation interval (60 min) after the deadline.
	ok, err := b.svc.SLAExpired(ctx, tenant, c.ID, 1, due)
	require.NoError(t, err)
	require.True(t, ok)
	got, err := b.svc.GetComplaint(ctx, b.admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.EscalationLevel)
	require.Equal(t, "dispatcher", got.EscalatedTo)
	require.Equal(t, complaints.StateOpen, got.State, "escalation does not change the state")
	require.True(t, got.SLABreachedAt.Equal(due))
	next := due.Add(time.Hour)
	require.True(t, got.SLADueAt.Equal(next))
	b.requireTimer(t, c.ID, 2, next)

	t.Run("RunningTwiceHasTheEffectOfOnce", func(t *testing.T) {
		n := b.timerCount()
		ok, err := b.svc.SLAExpired(ctx, tenant, c.ID, 1, due)
		require.NoError(t, err)
		require.False(t, ok)
		require.Equal(t, n, b.timerCount())
		got, err := b.svc.GetComplaint(ctx, b.admin, c.ID)
		require.NoError(t, err)
		require.Equal(t, 1, got.EscalationLevel)
		require.Equal(t, []string{"file", "sla_breached"}, actions(got))
		require.Equal(t, 1, b.eventCount(t, complaints.TypeSLABreached, c.ID))
	})

	ok, err = b.svc.SLAExpired(ctx, tenant, c.ID, 2, next)
	require.NoError(t, err)
	require.True(t, ok)
	last := next.Add(time.Hour)
	b.requireTimer(t, c.ID, 3, last)
	ok, err = b.svc.SLAExpired(ctx, tenant, c.ID, 3, last)
	require.NoError(t, err)
	require.True(t, ok)
	n := b.timerCount()
	got, err = b.svc.GetComplaint(ctx, b.admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, 3, got.EscalationLevel)
	require.Equal(t, "brand", got.EscalatedTo)
	require.True(t, got.SLADueAt.Equal(last), "the brand's deadline stays missed")
	require.NotContains(t, got.AllowedActions, "escalate")
	ok, err = b.svc.SLAExpired(ctx, tenant, c.ID, 3, last)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, n, b.timerCount(), "no timer above the brand")
	require.Equal(t, 3, b.eventCount(t, complaints.TypeSLABreached, c.ID))

	_, err = b.svc.Escalate(ctx, b.admin, c.ID, "再升级", 0)
	te := requireCode(t, err, tenants.CodeConflict, "")
	require.Contains(t, te.Message, "level 3")

	t.Run("ResolvedComplaintDoesNothing", func(t *testing.T) {
		c, err := b.svc.FileComplaint(ctx, b.admin, complaints.NewComplaint{NodeID: b.centerB, Category: "late", Severity: "high", Description: "迟到"})
		require.NoError(t, err)
		_, err = b.svc.Resolve(ctx, b.admin, c.ID, "已致歉", 0)
		require.NoError(t, err)
		ok, err := b.svc.SLAExpired(ctx, tenant, c.ID, 1, c.SLADueAt)
		require.NoError(t, err)
		require.False(t, ok)
		got, err := b.svc.GetComplaint(ctx, b.admin, c.ID)
		require.NoError(t, err)
		require.Equal(t, 0, got.EscalationLevel)
		require.Nil(t, got.SLABreachedAt)
	})

	t.Run("ManualEscalationMovesTheDeadline", func(t *testing.T) {
		c, err := b.svc.FileComplaint(ctx, b.admin, complaints.NewComplaint{NodeID: b.centerB, Category: "fee", Severity: "low", Description: "多收费"})
		require.NoError(t, err)
		_, err = b.svc.Escalate(ctx, b.admin, c.ID, "  ", 0)
		requireCode(t, err, tenants.CodeInvalid, "reason")
		e, err := b.svc.Escalate(ctx, b.admin, c.ID, "客户要求网点经理处理", 0)
		require.NoError(t, err)
		require.Equal(t, 1, e.EscalationLevel)
		require.True(t, e.SLADueAt.Equal(b.now().Add(time.Hour)))
		b.requireTimer(t, c.ID, 2, e.SLADueAt)
		require.Nil(t, e.SLABreachedAt, "a manual escalation is not a breach")
		ok, err := b.svc.SLAExpired(ctx, tenant, c.ID, 1, c.SLADueAt)
		require.NoError(t, err)
		require.False(t, ok, "the filing's timer finds its deadline replaced")
		require.Equal(t, 1, b.eventCount(t, complaints.TypeEscalated, c.ID))
	})

	t.Run("UnknownComplaintIsNotFound", func(t *testing.T) {
		_, err := b.svc.SLAExpired(ctx, tenant, "cmp_00000000000000000000000000", 1, due)
		requireCode(t, err, tenants.CodeNotFound, "")
	})
}

// TestNodeScopedKeyFilesOnlyWithinItsSubtree: a key bound to a node works
// its subtree's tickets and technicians only. Naming its own node must not
// let it file against another subtree's ticket or technician: the
// complaint would then be its to resolve, and upholding it waives and
// refunds the other subtree's ticket and counts against the other node's
// technician.
func TestNodeScopedKeyFilesOnlyWithinItsSubtree(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	nw := &network.Service{DB: b.db.App}
	techB, err := nw.CreateTechnician(ctx, b.admin, network.NewTechnician{ExternalCode: "T-2", NodeID: b.centerB, Name: "赵师傅", Phone: "+86 138 0532 0001"})
	require.NoError(t, err)
	dispatcherA := tenants.Principal{TenantID: b.admin.TenantID, KeyID: "key_dispA", Roles: []string{tenants.RoleDispatcher}, NodeID: b.centerA}

	_, err = b.svc.FileComplaint(ctx, dispatcherA, complaints.NewComplaint{TicketID: b.ticketB, NodeID: b.centerA, Category: "attitude",
		Description: "师傅态度差"})
	requireCode(t, err, tenants.CodeInvalid, "ticket_id")
	_, err = b.svc.FileComplaint(ctx, dispatcherA, complaints.NewComplaint{TicketID: b.ticketB, Category: "attitude", Description: "师傅态度差"})
	requireCode(t, err, tenants.CodeInvalid, "ticket_id")
	_, err = b.svc.FileComplaint(ctx, dispatcherA, complaints.NewComplaint{TechnicianID: techB.ID, NodeID: b.centerA, Category: "attitude",
		Description: "师傅态度差"})
	requireCode(t, err, tenants.CodeInvalid, "technician_id")

	own, err := b.svc.FileComplaint(ctx, dispatcherA, complaints.NewComplaint{TicketID: b.ticketA, Category: "attitude", Description: "师傅态度差"})
	require.NoError(t, err, "its own subtree's ticket")
	require.Equal(t, b.centerA, *own.NodeID)
	cs, _, err := b.svc.ListComplaints(ctx, b.admin, complaints.ComplaintFilter{})
	require.NoError(t, err)
	require.Len(t, cs, 1, "nothing filed outside the subtree")
}

// A timer that runs late, after the next level's deadline has passed too
// (a test clock advanced far past the deadline, a queue that ran late),
// catches the levels up at once, each at its own deadline: the critical
// complaint due at 4 h, checked 2 h 30 min after it, is at the dispatcher
// from the deadline, the node manager an hour after, the brand two hours
// after (the escalation interval is 60 min), in one run.
func TestSLATimerRunningLateCatchesTheLevelsUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	c, err := b.svc.FileComplaint(ctx, b.admin, complaints.NewComplaint{TicketID: b.ticketA, Category: "attitude", Severity: "critical",
		Description: "师傅辱骂客户"})
	require.NoError(t, err)
	due := b.clock.Add(4 * time.Hour)
	b.mu.Lock()
	b.clock = due.Add(150 * time.Minute)
	b.mu.Unlock()

	ok, err := b.svc.SLAExpired(ctx, b.admin.TenantID, c.ID, 1, due)
	require.NoError(t, err)
	require.True(t, ok)
	got, err := b.svc.GetComplaint(ctx, b.admin, c.ID)
	require.NoError(t, err)
	require.Equal(t, 3, got.EscalationLevel, "the levels whose deadlines passed")
	require.Equal(t, "brand", got.EscalatedTo)
	require.True(t, got.SLABreachedAt.Equal(due), "first breached at the deadline")
	require.True(t, got.SLADueAt.Equal(due.Add(2*time.Hour)), "the brand's deadline, two intervals after: %s", got.SLADueAt)
	require.True(t, got.Overdue)
	require.Equal(t, []string{"file", "sla_breached", "sla_breached", "sla_breached"}, actions(got))
	var levels []int
	for _, h := range got.History[1:] {
		levels = append(levels, h.ToLevel)
	}
	require.Equal(t, []int{1, 2, 3}, levels)
	require.Equal(t, 3, b.eventCount(t, complaints.TypeSLABreached, c.ID))

	// The timers the catch-up left behind change nothing.
	ok, err = b.svc.SLAExpired(ctx, b.admin.TenantID, c.ID, 2, due.Add(time.Hour))
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = b.svc.SLAExpired(ctx, b.admin.TenantID, c.ID, 3, due.Add(2*time.Hour))
	require.NoError(t, err)
	require.False(t, ok)
}
