package stock_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/app"
	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/stock"
)

type testBundle struct {
	db       pg.DB // the test's transaction, or its own database (TestConcurrentReservationsNeverOversell)
	svc      *stock.Service
	admin    tenants.Principal
	root     string
	pointA   string // repair point under center A
	pointB   string // repair point under center B
	centerA  string
	washer   string // model
	fridge   string // model
	motor    string // part fitting the washer
	pump     string // part fitting the washer
	seal     string // part fitting the washer
	compress string // part fitting the fridge only
	customer string
	a        *app.App
}

// setup gives a test a tenant in its own rolled-back transaction.
func setup(t *testing.T) *testBundle {
	t.Helper()
	e := domaintest.New(t)
	return newTenant(t, e.App, e.Tx, e.Admin)
}

// another adds a second tenant to b's transaction.
func (b *testBundle) another(t *testing.T, e *domaintest.Env) *testBundle {
	t.Helper()
	return newTenant(t, b.a, b.db, e.Another(t, ""))
}

// newTenant gives admin's tenant two centers with a repair point each, a
// washer and a fridge with parts, and a customer, through the services of a
// over db.
func newTenant(t *testing.T, a *app.App, db pg.DB, admin tenants.Principal) *testBundle {
	t.Helper()
	ctx := context.Background()
	b := &testBundle{db: db, a: a, svc: a.Stock, admin: admin}
	nw := a.Network
	node := func(code string, tier network.Tier, parent string) string {
		n, err := nw.CreateNode(ctx, b.admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: code, Name: code},
			Tier: tier, ParentID: parent, Status: "active"})
		require.NoError(t, err)
		return n.ID
	}
	b.root = node("ROOT", "manufacturer", "")
	b.centerA = node("SC-A", "service_center", b.root)
	centerB := node("SC-B", "service_center", b.root)
	b.pointA = node("RP-A", "repair_point", b.centerA)
	b.pointB = node("RP-B", "repair_point", centerB)

	cat := a.Catalog
	model := func(number, category string) string {
		m, err := cat.CreateProductModel(ctx, b.admin, catalog.NewProductModel{ModelNumber: number, Category: category, Name: number,
			RetailPrice: tenants.Money{Amount: 399900, Currency: "CNY"}, WarrantyMonths: 36})
		require.NoError(t, err)
		return m.ID
	}
	part := func(number string, models ...string) string {
		p, err := cat.CreatePart(ctx, b.admin, catalog.NewPart{PartNumber: number, Name: "Part " + number, Category: "motor",
			Price: tenants.Money{Amount: 10000, Currency: "CNY"}, CompatibleModelIDs: models})
		require.NoError(t, err)
		return p.ID
	}
	b.washer = model("EG100", "washer")
	b.fridge = model("BCD-500", "refrigerator")
	b.motor = part("MTR-1", b.washer)
	b.pump = part("PMP-1", b.washer)
	b.seal = part("SEAL-1", b.washer)
	b.compress = part("CMP-1", b.fridge)

	c, _, err := a.Customers.CreateCustomer(ctx, b.admin, customers.NewCustomer{Name: "王丽", Phones: []string{"13800138000"}})
	require.NoError(t, err)
	b.customer = c.ID
	return b
}

// ticket inserts a bare ticket at node for the washer model (the tickets
// context owns intake; stock only needs the row).
func (b *testBundle) ticket(t *testing.T, node string) string {
	t.Helper()
	id := tenants.NewID(tenants.PrefixTicket)
	require.NoError(t, pg.InTenantTx(context.Background(), b.db, b.admin.TenantID, func(tx pg.TenantTx) error {
		_, err := tx.Exec(context.Background(), `
			INSERT INTO tickets (tenant_id, id, number, channel, type, state, customer_id, model_id, category, contact, address, fault,
			  node_id, created_by)
			VALUES ($1, $2, $3, 'hotline', 'repair', 'on_site', $4, $5, 'washer', '{}', '{}', '{}', $6, 'test')`,
			tx.TenantID, id, "SN-"+id[4:], b.customer, b.washer, node)
		return err
	}))
	return id
}

// apply runs a requisition in its own transaction.
func (b *testBundle) apply(t *testing.T, r stock.Requisition) (stock.Result, error) {
	t.Helper()
	var res stock.Result
	err := pg.InTenantTx(context.Background(), b.db, b.admin.TenantID, func(tx pg.TenantTx) error {
		var err error
		res, err = stock.Apply(context.Background(), tx, r)
		return err
	})
	return res, err
}

func (b *testBundle) level(t *testing.T, node, part string) stock.Level {
	t.Helper()
	ls, _, err := b.svc.ListStock(context.Background(), b.admin, node, stock.StockFilter{})
	require.NoError(t, err)
	for _, l := range ls {
		if l.PartID == part {
			return l
		}
	}
	return stock.Level{NodeID: node, PartID: part}
}

func requireCode(t *testing.T, err error, code tenants.Code, location string) {
	t.Helper()
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, code, te.Code, "%v", err)
	if location != "" {
		require.NotEmpty(t, te.Fields, "%v", err)
		require.Equal(t, location, te.Fields[0].Location, "%v", err)
	}
}

// requireConstraint asserts err is code for a violation of the named
// database constraint (the API names the field it guards).
func requireConstraint(t *testing.T, err error, code tenants.Code, constraint string) {
	t.Helper()
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, code, te.Code, "%v", err)
	require.Equal(t, constraint, te.Constraint, "%v", err)
}

func partOf(parts []stock.TicketPart, id string) stock.TicketPart {
	for _, p := range parts {
		if p.PartID == id {
			return p
		}
	}
	return stock.TicketPart{}
}

func TestRequisitionLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)

	lv, err := b.svc.Receive(ctx, b.admin, b.pointA, stock.Receipt{Note: "DN-1",
		Lines: []stock.ReceiptLine{{PartID: b.motor, Quantity: 3}, {PartID: b.pump, Quantity: 1}}})
	require.NoError(t, err)
	require.Len(t, lv, 2)
	require.Equal(t, 3, b.level(t, b.pointA, b.motor).OnHand)

	tkt := b.ticket(t, b.pointA)
	req := func(op stock.Op, lines ...stock.Line) stock.Requisition {
		return stock.Requisition{NodeID: b.pointA, TicketID: tkt, ModelID: b.washer, Op: op, Lines: lines, Actor: "key_test", Loc: "lines"}
	}

	// Reserve: motor x2 fits; pump x2 is short (1 on hand) and reserves nothing; seal none at all.
	res, err := b.apply(t, req(stock.OpReserve, stock.Line{PartID: b.motor, Quantity: 2}, stock.Line{PartID: b.pump, Quantity: 2},
		stock.Line{PartID: b.seal, Quantity: 1}))
	require.NoError(t, err)
	require.Equal(t, []stock.Shortage{{PartID: b.pump, Requested: 2, Available: 1}, {PartID: b.seal, Requested: 1, Available: 0}}, res.Shortages)
	require.Len(t, res.Parts, 1)
	require.Equal(t, stock.TicketPart{PartID: b.motor, PartNumber: "MTR-1", Name: "Part MTR-1", NodeID: b.pointA, Reserved: 2}, res.Parts[0])
	m := b.level(t, b.pointA, b.motor)
	require.Equal(t, []int{3, 2, 1}, []int{m.OnHand, m.Reserved, m.Available})
	require.Equal(t, 0, b.level(t, b.pointA, b.pump).Reserved, "the short line reserved nothing")

	t.Run("IncompatiblePartIsInvalid", func(t *testing.T) {
		_, err := b.apply(t, req(stock.OpReserve, stock.Line{PartID: b.motor, Quantity: 1}, stock.Line{PartID: b.compress, Quantity: 1}))
		requireCode(t, err, tenants.CodeInvalid, "lines[1].part_id")
		_, err = b.apply(t, req(stock.OpReserve, stock.Line{PartID: "prt_00000000000000000000000000", Quantity: 1}))
		requireCode(t, err, tenants.CodeInvalid, "lines[0].part_id")
	})

	t.Run("OverIssueIsInvalid", func(t *testing.T) {
		_, err := b.apply(t, req(stock.OpIssue, stock.Line{PartID: b.motor, Quantity: 3}))
		requireCode(t, err, tenants.CodeInvalid, "lines[0].quantity")
		_, err = b.apply(t, req(stock.OpUse, stock.Line{PartID: b.motor, Quantity: 1}))
		requireCode(t, err, tenants.CodeInvalid, "lines[0].quantity")
	})

	res, err = b.apply(t, req(stock.OpIssue, stock.Line{PartID: b.motor, Quantity: 2}))
	require.NoError(t, err)
	require.Equal(t, 2, partOf(res.Parts, b.motor).Issued)
	m = b.level(t, b.pointA, b.motor)
	require.Equal(t, []int{1, 0, 1}, []int{m.OnHand, m.Reserved, m.Available}, "issued parts left the shelf")

	t.Run("OverUseIsInvalid", func(t *testing.T) {
		_, err := b.apply(t, req(stock.OpUse, stock.Line{PartID: b.motor, Quantity: 3}))
		requireCode(t, err, tenants.CodeInvalid, "lines[0].quantity")
		_, err = b.apply(t, req(stock.OpReturnDefective, stock.Line{PartID: b.motor, Quantity: 1}))
		requireCode(t, err, tenants.CodeInvalid, "lines[0].quantity")
	})

	_, err = b.apply(t, req(stock.OpUse, stock.Line{PartID: b.motor, Quantity: 1}))
	require.NoError(t, err)
	_, err = b.apply(t, req(stock.OpReturn, stock.Line{PartID: b.motor, Quantity: 2}))
	requireCode(t, err, tenants.CodeInvalid, "lines[0].quantity")
	_, err = b.apply(t, req(stock.OpReturn, stock.Line{PartID: b.motor, Quantity: 1}))
	require.NoError(t, err)
	res, err = b.apply(t, req(stock.OpReturnDefective, stock.Line{PartID: b.motor, Quantity: 1}))
	require.NoError(t, err)
	require.Equal(t, stock.TicketPart{PartID: b.motor, PartNumber: "MTR-1", Name: "Part MTR-1", NodeID: b.pointA,
		Reserved: 2, Issued: 2, Used: 1, Returned: 1, DefectiveReturned: 1}, partOf(res.Parts, b.motor))
	m = b.level(t, b.pointA, b.motor)
	require.Equal(t, []int{2, 0, 2, 1}, []int{m.OnHand, m.Reserved, m.Available, m.Defective})

	// Reserve then release the pump.
	_, err = b.apply(t, req(stock.OpReserve, stock.Line{PartID: b.pump, Quantity: 1}))
	require.NoError(t, err)
	_, err = b.apply(t, req(stock.OpRelease, stock.Line{PartID: b.pump, Quantity: 2}))
	requireCode(t, err, tenants.CodeInvalid, "lines[0].quantity")
	_, err = b.apply(t, req(stock.OpRelease, stock.Line{PartID: b.pump, Quantity: 1}))
	require.NoError(t, err)
	require.Equal(t, 0, b.level(t, b.pointA, b.pump).Reserved)

	// Every movement is logged, for the ticket.
	moves, _, err := b.svc.ListMoves(ctx, b.admin, b.pointA, stock.MoveFilter{TicketID: tkt})
	require.NoError(t, err)
	var kinds []stock.MoveKind
	for _, mv := range moves {
		kinds = append(kinds, mv.Kind)
	}
	require.Equal(t, []stock.MoveKind{"reserve", "issue", "use", "return", "return_defective", "reserve", "release"}, kinds)
	all, _, err := b.svc.ListMoves(ctx, b.admin, b.pointA, stock.MoveFilter{PartID: b.motor, Limit: 2})
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, stock.MoveReceive, all[0].Kind)

	t.Run("AdjustNeverBelowReserved", func(t *testing.T) {
		_, err := b.apply(t, req(stock.OpReserve, stock.Line{PartID: b.motor, Quantity: 2}))
		require.NoError(t, err)
		_, err = b.svc.Adjust(ctx, b.admin, b.pointA, stock.Adjustment{Reason: "count", Lines: []stock.Count{{PartID: b.motor, OnHand: ptr(1)}}})
		requireCode(t, err, tenants.CodeInvalid, "lines[0].on_hand")
		lv, err := b.svc.Adjust(ctx, b.admin, b.pointA, stock.Adjustment{Reason: "shipped defectives",
			Lines: []stock.Count{{PartID: b.motor, OnHand: ptr(5), Defective: ptr(0)}}})
		require.NoError(t, err)
		require.Equal(t, []int{5, 2, 3, 0}, []int{lv[0].OnHand, lv[0].Reserved, lv[0].Available, lv[0].Defective})
	})
}

func TestNodeScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	scoped := tenants.Principal{TenantID: b.admin.TenantID, KeyID: "key_scoped", Roles: []string{tenants.RoleNodeManager}, NodeID: b.centerA}
	_, err := b.svc.Receive(ctx, scoped, b.pointA, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: b.motor, Quantity: 1}}})
	require.NoError(t, err)
	_, err = b.svc.Receive(ctx, scoped, b.pointB, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: b.motor, Quantity: 1}}})
	requireCode(t, err, tenants.CodeNotFound, "")
	_, _, err = b.svc.ListStock(ctx, scoped, b.pointB, stock.StockFilter{})
	requireCode(t, err, tenants.CodeNotFound, "")
	_, err = b.svc.CreateLoaner(ctx, scoped, stock.NewLoaner{NodeID: b.pointB, Category: "washer", Serial: "L-B"})
	requireCode(t, err, tenants.CodeInvalid, "node_id")
	lb, err := b.svc.CreateLoaner(ctx, b.admin, stock.NewLoaner{NodeID: b.pointB, Category: "washer", Serial: "L-B"})
	require.NoError(t, err)
	_, err = b.svc.GetLoaner(ctx, scoped, lb.ID)
	requireCode(t, err, tenants.CodeNotFound, "")
	ls, _, err := b.svc.ListLoaners(ctx, scoped, stock.LoanerFilter{})
	require.NoError(t, err)
	require.Empty(t, ls)
}

func TestLoaners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	l1, err := b.svc.CreateLoaner(ctx, b.admin, stock.NewLoaner{NodeID: b.pointA, Category: "washer", ModelID: b.washer, Serial: "LN-1"})
	require.NoError(t, err)
	require.Equal(t, stock.LoanerAvailable, l1.Status)
	_, err = b.svc.CreateLoaner(ctx, b.admin, stock.NewLoaner{NodeID: b.pointA, Category: "washer", Serial: "LN-1"})
	requireConstraint(t, err, tenants.CodeConflict, "loaners_tenant_id_serial_key")
	_, err = b.svc.CreateLoaner(ctx, b.admin, stock.NewLoaner{NodeID: b.pointA, Category: "washer", ModelID: b.fridge, Serial: "LN-X"})
	requireCode(t, err, tenants.CodeInvalid, "model_id")

	today := time.Now().In(mustZone(t)).Format(time.DateOnly)
	t1, t2 := b.ticket(t, b.pointA), b.ticket(t, b.pointA)
	inTx := func(fn func(tx pg.TenantTx) error) error {
		return pg.Translate(pg.InTenantTx(ctx, b.db, b.admin.TenantID, fn))
	}
	var loan stock.Loan
	require.NoError(t, inTx(func(tx pg.TenantTx) error {
		var err error
		loan, err = stock.Lend(ctx, tx, time.Now(), "", b.pointA, t1, "", "washer", today, "key_test")
		return err
	}))
	require.Equal(t, l1.ID, loan.LoanerID)
	require.Equal(t, today, loan.DueOn)
	require.False(t, loan.Overdue)

	err = inTx(func(tx pg.TenantTx) error {
		_, err := stock.Lend(ctx, tx, time.Now(), "", b.pointA, t2, "", "washer", today, "key_test")
		return err
	})
	requireCode(t, err, tenants.CodeConflict, "")
	require.Contains(t, err.Error(), "no loaner of category washer available at the node")
	err = inTx(func(tx pg.TenantTx) error {
		_, err := stock.Lend(ctx, tx, time.Now(), "", b.pointA, t2, "", "washer", "2020-01-01", "key_test")
		return err
	})
	requireCode(t, err, tenants.CodeInvalid, "due_on")

	// Overdue once the tenant's today passes the due date.
	b.svc.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	over, _, err := b.svc.ListLoaners(ctx, b.admin, stock.LoanerFilter{Overdue: true})
	require.NoError(t, err)
	require.Len(t, over, 1)
	require.True(t, over[0].Overdue)
	require.Equal(t, t1, *over[0].TicketID)
	b.svc.Now = nil
	over, _, err = b.svc.ListLoaners(ctx, b.admin, stock.LoanerFilter{Overdue: true})
	require.NoError(t, err)
	require.Empty(t, over)

	var back stock.Loan
	require.NoError(t, inTx(func(tx pg.TenantTx) error {
		var err error
		back, err = stock.ReturnLoan(ctx, tx, time.Now(), t1, stock.ConditionDamaged, "key_test")
		return err
	}))
	require.NotNil(t, back.ReturnedAt)
	require.Equal(t, "damaged", *back.Condition)
	err = inTx(func(tx pg.TenantTx) error {
		_, err := stock.ReturnLoan(ctx, tx, time.Now(), t1, stock.ConditionGood, "key_test")
		return err
	})
	requireCode(t, err, tenants.CodeConflict, "")

	got, err := b.svc.GetLoaner(ctx, b.admin, l1.ID)
	require.NoError(t, err)
	require.Equal(t, stock.LoanerRetired, got.Status, "returned damaged: retired")
	require.Len(t, got.Loans, 1)
	require.Equal(t, t1, got.Loans[0].TicketID)

	require.NoError(t, inTx(func(tx pg.TenantTx) error {
		l, err := stock.TicketLoan(ctx, tx, time.Now(), t1)
		require.NoError(t, err)
		require.NotNil(t, l)
		require.Equal(t, l1.ID, l.LoanerID)
		none, err := stock.TicketLoan(ctx, tx, time.Now(), t2)
		require.NoError(t, err)
		require.Nil(t, none)
		return nil
	}))

	// A good return makes the loaner available again.
	l2, err := b.svc.CreateLoaner(ctx, b.admin, stock.NewLoaner{NodeID: b.pointA, Category: "washer", Serial: "LN-2"})
	require.NoError(t, err)
	require.NoError(t, inTx(func(tx pg.TenantTx) error {
		if _, err := stock.Lend(ctx, tx, time.Now(), "", b.pointA, t2, l2.ID, "", today, "key_test"); err != nil {
			return err
		}
		_, err := stock.ReturnLoan(ctx, tx, time.Now(), t2, stock.ConditionGood, "key_test")
		return err
	}))
	avail, _, err := b.svc.ListLoaners(ctx, b.admin, stock.LoanerFilter{Status: "available", NodeID: b.pointA})
	require.NoError(t, err)
	require.Len(t, avail, 1)
	require.Equal(t, l2.ID, avail[0].ID)
	err = inTx(func(tx pg.TenantTx) error {
		_, err := stock.Lend(ctx, tx, time.Now(), "", b.pointB, t2, l2.ID, "", today, "key_test")
		return err
	})
	requireCode(t, err, tenants.CodeInvalid, "loaner_id")
}

func TestOtherTenantSeesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := domaintest.New(t)
	a := newTenant(t, e.App, e.Tx, e.Admin)
	other := a.another(t, e)
	_, err := a.svc.Receive(ctx, a.admin, a.pointA, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: a.motor, Quantity: 2}}})
	require.NoError(t, err)
	_, err = a.svc.CreateLoaner(ctx, a.admin, stock.NewLoaner{NodeID: a.pointA, Category: "washer", Serial: "LN-A"})
	require.NoError(t, err)
	tkt := a.ticket(t, a.pointA)
	_, err = a.apply(t, stock.Requisition{NodeID: a.pointA, TicketID: tkt, ModelID: a.washer, Op: stock.OpReserve,
		Lines: []stock.Line{{PartID: a.motor, Quantity: 1}}, Actor: "key_test", Loc: "lines"})
	require.NoError(t, err)

	_, _, err = other.svc.ListStock(ctx, other.admin, a.pointA, stock.StockFilter{})
	requireCode(t, err, tenants.CodeNotFound, "")
	_, _, err = other.svc.ListMoves(ctx, other.admin, a.pointA, stock.MoveFilter{})
	requireCode(t, err, tenants.CodeNotFound, "")
	ls, _, err := other.svc.ListLoaners(ctx, other.admin, stock.LoanerFilter{})
	require.NoError(t, err)
	require.Empty(t, ls)

	// Even with the application's own tenant filter pointed at tenant A,
	// row-level security keeps B's transactions blind.
	restore := pg.OverrideTenantFilterForTest(other.admin.TenantID, a.admin.TenantID)
	defer restore()
	require.NoError(t, pg.InTenantTx(ctx, a.db, other.admin.TenantID, func(tx pg.TenantTx) error {
		parts, err := stock.TicketParts(ctx, tx, tkt)
		require.NoError(t, err)
		require.Empty(t, parts)
		for _, table := range []string{"part_stock", "stock_moves", "ticket_parts", "loaners", "loaner_loans"} {
			var n int
			require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n))
			require.Zero(t, n, table)
		}
		return nil
	}))
}

func ptr[T any](v T) *T { return &v }

func mustZone(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	return loc
}

func TestSeedDemo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	pt, err := b.a.Network.CreateNode(ctx, b.admin, network.NewNode{NodeFields: network.NodeFields{ExternalCode: "RP-W", Name: "Washers",
		Categories: []string{"washer"}}, Tier: "repair_point", ParentID: b.centerA, Status: "active"})
	require.NoError(t, err)

	got, err := b.svc.SeedDemo(ctx, b.admin)
	require.NoError(t, err)
	require.Equal(t, stock.DemoStock{Points: 3, StockRows: 3, Loaners: 2}, got, "only RP-W services a category: its 3 washer parts and 2 loaners")
	ls, _, err := b.svc.ListStock(ctx, b.admin, pt.ID, stock.StockFilter{})
	require.NoError(t, err)
	var parts []string
	for _, l := range ls {
		parts = append(parts, l.PartID)
		require.GreaterOrEqual(t, l.OnHand, 1)
		require.LessOrEqual(t, l.OnHand, 6)
	}
	require.ElementsMatch(t, []string{b.motor, b.pump, b.seal}, parts)
	moves, _, err := b.svc.ListMoves(ctx, b.admin, pt.ID, stock.MoveFilter{})
	require.NoError(t, err)
	require.Len(t, moves, 3)
	loaners, _, err := b.svc.ListLoaners(ctx, b.admin, stock.LoanerFilter{NodeID: pt.ID})
	require.NoError(t, err)
	require.Len(t, loaners, 2)
	require.Equal(t, "washer", loaners[0].Category)
	require.Equal(t, b.washer, *loaners[0].ModelID)

	again, err := b.svc.SeedDemo(ctx, b.admin)
	require.NoError(t, err)
	require.Equal(t, stock.DemoStock{Points: 3}, again, "idempotent")
}

func TestConcurrentReservationsNeverOversell(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Concurrent transactions: this test commits, in a database of its own.
	db := pgtest.NewDB(t)
	a, err := app.NewServices(app.Config{}, db.App, nil)
	require.NoError(t, err)
	ten, key, err := (&identity.Service{DB: db.App}).CreateTenant(ctx, identity.NewTenant{Name: "Stock race", Slug: "stock-race"}, "test")
	require.NoError(t, err)
	b := newTenant(t, a, db.App, tenants.Principal{TenantID: ten.ID, KeyID: key.ID, Roles: []string{tenants.RoleTenantAdmin}})
	_, err = b.svc.Receive(ctx, b.admin, b.pointA, stock.Receipt{Lines: []stock.ReceiptLine{{PartID: b.motor, Quantity: 3}, {PartID: b.pump, Quantity: 100}}})
	require.NoError(t, err)
	const n = 12
	tickets := make([]string, n)
	for i := range tickets {
		tickets[i] = b.ticket(t, b.pointA)
	}
	results := make([]stock.Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Half the tickets list the parts in the other order: locks are
			// still taken in part order, so no deadlock.
			lines := []stock.Line{{PartID: b.motor, Quantity: 1}, {PartID: b.pump, Quantity: 1}}
			if i%2 == 1 {
				lines[0], lines[1] = lines[1], lines[0]
			}
			results[i], errs[i] = b.apply(t, stock.Requisition{NodeID: b.pointA, TicketID: tickets[i], ModelID: b.washer,
				Op: stock.OpReserve, Lines: lines, Actor: "key_test", Loc: "lines"})
		})
	}
	wg.Wait()
	reserved, short := 0, 0
	for i := range n {
		require.NoError(t, errs[i])
		if partOf(results[i].Parts, b.motor).Reserved == 1 {
			reserved++
		}
		short += len(results[i].Shortages)
		require.Equal(t, 1, partOf(results[i].Parts, b.pump).Reserved)
	}
	require.Equal(t, 3, reserved)
	require.Equal(t, n-3, short)
	m := b.level(t, b.pointA, b.motor)
	require.Equal(t, []int{3, 3, 0}, []int{m.OnHand, m.Reserved, m.Available})
	require.Equal(t, n, b.level(t, b.pointA, b.pump).Reserved)
}
