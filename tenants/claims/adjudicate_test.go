package claims_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
)

// Adjudication's amounts, checked against the rules in DESIGN.md
// (the seeds' rules) and the default claim policy: auto-approval up to
// 2,000.00, parts at most 20% above the price list.
type testBundle struct {
	svc      *claims.Service
	admin    tenants.Principal
	washer   string // model: 12 months' manufacturer warranty
	board    string // control board fitting the washer, 300.00
	customer string
	ext      string // a two-year extended warranty plan for washers
	today    time.Time
	cus      *customers.Service
	cat      *catalog.Service
	war      *warranty.Service

	mu       sync.Mutex
	approved []claims.Claim // as the OnApproved hook saw them
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	ten, key, err := (&identity.Service{DB: db.App}).CreateTenant(ctx, identity.NewTenant{Name: "Claims", Slug: "claims-adj"}, "test")
	require.NoError(t, err)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	b := &testBundle{admin: tenants.Principal{TenantID: ten.ID, KeyID: key.ID, Roles: []string{tenants.RoleTenantAdmin}},
		today: time.Now().In(shanghai)}
	b.cus, err = customers.NewService(db.App, customers.Deps{Jobs: tickets.ServedTx, PurchaseDateMoved: warranty.RedateUnitContractsTx})
	require.NoError(t, err)
	b.war, err = warranty.NewService(db.App, warranty.Deps{Jobs: tickets.ServedTx})
	require.NoError(t, err)
	notify, err := notifications.NewService(db.App, notifications.Deps{ // deliveries not enqueued
		EnqueueDelivery:    func(context.Context, pgx.Tx, string, string, time.Time, int) error { return nil },
		EnqueueClockExpiry: func(context.Context, pgx.Tx, string, string, string, time.Time) error { return nil },
		Log:                slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	b.svc, err = claims.NewService(db.App, claims.Deps{
		OnApproved: func(_ context.Context, _ pg.TenantTx, c claims.Claim) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.approved = append(b.approved, c)
			return nil
		},
		TicketState: func(context.Context, pg.TenantTx, string, string) (claims.Ticket, bool, error) {
			return claims.Ticket{}, false, nil
		},
		TicketByNumber: func(context.Context, pg.TenantTx, string, string) (claims.Ticket, bool, error) {
			return claims.Ticket{}, false, nil
		},
		TicketClock:   func(context.Context, pg.TenantTx, string) (*string, error) { return nil, nil },
		Notifications: notify,
	})
	require.NoError(t, err)

	cat := &catalog.Service{DB: db.App}
	b.cat = cat
	m, err := cat.CreateProductModel(ctx, b.admin, catalog.NewProductModel{ModelNumber: "EG100", Category: "washer", Name: "EG100",
		RetailPrice: tenants.Money{Amount: 399900, Currency: "CNY"}, WarrantyMonths: 12})
	require.NoError(t, err)
	b.washer = m.ID
	p, err := cat.CreatePart(ctx, b.admin, catalog.NewPart{PartNumber: "CB-01", Name: "主控板", Category: "control_board",
		Price: tenants.Money{Amount: 30000, Currency: "CNY"}, CompatibleModelIDs: []string{b.washer}})
	require.NoError(t, err)
	b.board = p.ID
	c, _, err := b.cus.CreateCustomer(ctx, b.admin, customers.NewCustomer{Name: "王丽", Phones: []string{"13800138000"}})
	require.NoError(t, err)
	b.customer = c.ID
	pl, err := b.war.CreatePlan(ctx, b.admin, warranty.NewPlan{Code: "EXT-2Y", Name: "两年延保", Kind: "extended_warranty",
		EligibleCategories: []string{"washer"}, DurationMonths: 24, Price: tenants.Money{Amount: 19900, Currency: "CNY"}})
	require.NoError(t, err)
	b.ext = pl.ID
	return b
}

// day is the tenant's date (Asia/Shanghai) days from today.
func (b *testBundle) day(days int) string { return b.today.AddDate(0, 0, days).Format(time.DateOnly) }

// unit registers a washer bought on purchased.
func (b *testBundle) unit(t *testing.T, serial, purchased string) string {
	t.Helper()
	u, err := b.cus.RegisterUnit(context.Background(), b.admin, customers.NewUnit{ModelID: b.washer, Serial: serial,
		CustomerID: b.customer, PurchaseDate: purchased, PurchasePrice: tenants.Money{Amount: 399900, Currency: "CNY"}})
	require.NoError(t, err)
	return u.ID
}

func labor(amount int64) claims.NewClaimLine {
	return claims.NewClaimLine{Kind: claims.LineLabor, Description: "上门维修", Requested: tenants.Money{Amount: amount, Currency: "CNY"}}
}

func (b *testBundle) boardLine(amount int64) claims.NewClaimLine {
	return claims.NewClaimLine{Kind: claims.LinePart, PartID: b.board, Quantity: 1, Requested: tenants.Money{Amount: amount, Currency: "CNY"}}
}

// adjudicated files a claim, adjudicates it and returns
// the claim as it then stands.
func (b *testBundle) adjudicated(t *testing.T, kind claims.Kind, unit, ref, cause string, lines ...claims.NewClaimLine) claims.Claim {
	t.Helper()
	return b.adjudicatedOn(t, b.day(-1), kind, unit, ref, cause, lines...)
}

// adjudicatedOn is adjudicated for a fault repaired on a date.
func (b *testBundle) adjudicatedOn(t *testing.T, on string, kind claims.Kind, unit, ref, cause string, lines ...claims.NewClaimLine) claims.Claim {
	t.Helper()
	ctx := context.Background()
	c, created, err := b.svc.SubmitClaim(ctx, b.admin, claims.NewClaim{Kind: kind, UnitID: unit, Reference: ref,
		ClaimSubmission: claims.ClaimSubmission{Fault: claims.ClaimFault{Cause: cause}, OccurredOn: on, Lines: lines}})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, claims.StateSubmitted, c.State)
	require.NoError(t, b.svc.Adjudicate(ctx, b.admin.TenantID, c.ID, 1))
	c, err = b.svc.GetClaim(ctx, b.admin, c.ID)
	require.NoError(t, err)
	return c
}

func amount(m *tenants.Money) int64 {
	if m == nil {
		return -1
	}
	return m.Amount
}

func flagCodes(c claims.Claim) []string {
	out := []string{}
	for _, f := range c.Flags {
		out = append(out, f.Code)
	}
	return out
}

func TestAdjudicationAmounts(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("InWarrantyRepairIsPaidByTheBrandInFull", func(t *testing.T) {
		// Rule 2: within the model's 12 months the manufacturer repairs
		// free: the brand owes the labour 100.00 and the board at its
		// price 300.00; 400.00 is within the 2,000.00 limit.
		c := b.adjudicated(t, claims.KindWarranty, b.unit(t, "SN-W-1", b.day(-100)), "W-1", "performance",
			labor(10000), b.boardLine(30000))
		require.Equal(t, claims.StateApproved, c.State, "%v", c.Reasons)
		require.Empty(t, flagCodes(c))
		require.NotNil(t, c.Decision)
		require.EqualValues(t, "manufacturer_warranty", c.Decision.Basis)
		require.Empty(t, c.Decision.ContractID, "the brand pays, not a plan")
		require.Nil(t, c.Decision.Compensation)
		for i, want := range []int64{10000, 30000} {
			require.Equal(t, want, amount(c.Lines[i].Calculated), "line %d", i)
			require.Equal(t, want, amount(c.Lines[i].Approved), "line %d", i)
			require.Equal(t, claims.DecisionApproved, c.Lines[i].Decision)
		}
		require.Equal(t, int64(40000), amount(c.TotalApproved))
		b.mu.Lock()
		defer b.mu.Unlock()
		require.Condition(t, func() bool {
			for _, a := range b.approved {
				if a.ID == c.ID {
					return true
				}
			}
			return false
		}, "the approval called the OnApproved hook")
	})

	t.Run("PowerSurgeUnderTheExtendedWarrantyIsPaidByThePlan", func(t *testing.T) {
		// Rule 4: the extended warranty starts the day after the 12
		// months end; a power surge is repaired free, no parts or labour
		// fee: the plan owes 100.00 + 300.00.
		unit := b.unit(t, "SN-E-1", b.day(-430))
		k, err := b.war.CreateContract(context.Background(), b.admin, warranty.NewContract{UnitID: unit, PlanID: b.ext, SoldOn: b.day(-420)})
		require.NoError(t, err)
		c := b.adjudicated(t, claims.KindExtendedWarranty, unit, "E-1", "power_surge", labor(10000), b.boardLine(30000))
		require.Equal(t, claims.StateApproved, c.State, "%v", c.Reasons)
		require.EqualValues(t, "extended_warranty", c.Decision.Basis)
		require.Equal(t, k.ID, c.Decision.ContractID, "the plan pays")
		require.Equal(t, int64(10000), amount(c.Lines[0].Approved))
		require.Equal(t, int64(30000), amount(c.Lines[1].Approved))
		require.Equal(t, int64(40000), amount(c.TotalApproved))
	})

	t.Run("OutOfWarrantyTheCustomerPaysAndTheClaimIsRejected", func(t *testing.T) {
		// Rule 2: past the 12 months, with no plan, charges follow the
		// price list and the customer pays: nothing is owed.
		c := b.adjudicated(t, claims.KindWarranty, b.unit(t, "SN-O-1", b.day(-430)), "O-1", "performance",
			labor(10000), b.boardLine(30000))
		require.Equal(t, claims.StateRejected, c.State, "%v", c.Reasons)
		require.EqualValues(t, "out_of_warranty", c.Decision.Basis)
		for i := range c.Lines {
			require.Zero(t, amount(c.Lines[i].Calculated), "line %d", i)
			require.Equal(t, claims.DecisionRejected, c.Lines[i].Decision, "line %d", i)
		}
		require.Contains(t, *c.StateReason, "auto-rejected")
	})

	t.Run("UserDamageIsNeverFreeEvenInWarranty", func(t *testing.T) {
		// Rule 1: damage caused by the user is never free.
		c := b.adjudicated(t, claims.KindWarranty, b.unit(t, "SN-H-1", b.day(-100)), "H-1", "human_damage", labor(10000))
		require.Equal(t, claims.StateRejected, c.State, "%v", c.Reasons)
		require.Zero(t, amount(c.Lines[0].Calculated))
		require.Contains(t, *c.StateReason, "human_damage")
	})

	t.Run("APartAboveTheMarkupCapIsCappedAndLeftForAReviewer", func(t *testing.T) {
		// The policy's cap: the board may ask at most 300.00 + 20% =
		// 360.00; asking 400.00 is flagged, the brand owes 360.00, and a
		// person decides.
		c := b.adjudicated(t, claims.KindWarranty, b.unit(t, "SN-M-1", b.day(-100)), "M-1", "performance", b.boardLine(40000))
		require.Equal(t, claims.StateUnderReview, c.State)
		require.Equal(t, []string{"markup_above_cap"}, flagCodes(c))
		require.NotNil(t, c.Flags[0].Line)
		require.Equal(t, 0, *c.Flags[0].Line)
		require.Equal(t, int64(36000), amount(c.Lines[0].Calculated))
		require.Nil(t, c.Lines[0].Approved, "nothing is approved before a person decides")
		require.Equal(t, claims.DecisionPending, c.Lines[0].Decision)
	})

	t.Run("AboveTheAutoApprovalLimitWaitsForAReviewer", func(t *testing.T) {
		// 2,500.00 owed by the brand is above the 2,000.00 limit.
		c := b.adjudicated(t, claims.KindWarranty, b.unit(t, "SN-L-1", b.day(-100)), "L-1", "performance", labor(250000))
		require.Equal(t, claims.StateUnderReview, c.State)
		require.Empty(t, flagCodes(c))
		require.Equal(t, int64(250000), amount(c.Lines[0].Calculated))
		require.Nil(t, c.Lines[0].Approved)
		require.Contains(t, strings.Join(c.Reasons, "\n"), "above the auto-approval limit")
	})

	t.Run("TheSameFaultAgainWithinTheWindowIsADuplicate", func(t *testing.T) {
		// The policy's 30-day window: a second live claim for the same
		// unit and fault cause is flagged, not paid twice.
		unit := b.unit(t, "SN-D-1", b.day(-100))
		first := b.adjudicated(t, claims.KindWarranty, unit, "D-1", "performance", labor(10000))
		require.Equal(t, claims.StateApproved, first.State)
		again := b.adjudicated(t, claims.KindWarranty, unit, "D-2", "performance", labor(10000))
		require.Equal(t, claims.StateUnderReview, again.State)
		require.Equal(t, []string{"duplicate"}, flagCodes(again))
		require.Contains(t, again.Flags[0].Detail, first.ID)
		require.Equal(t, int64(10000), amount(again.Lines[0].Calculated))
		require.Nil(t, again.Lines[0].Approved)
	})

	t.Run("TheJobAgainChangesNothing", func(t *testing.T) {
		c := b.adjudicated(t, claims.KindWarranty, b.unit(t, "SN-R-1", b.day(-100)), "R-1", "performance", labor(10000))
		require.NoError(t, b.svc.Adjudicate(context.Background(), b.admin.TenantID, c.ID, 1))
		again, err := b.svc.GetClaim(context.Background(), b.admin, c.ID)
		require.NoError(t, err)
		require.Equal(t, c.Revision, again.Revision)
	})

	t.Run("ThePriceListInEffectOnTheDaySetsTheCap", func(t *testing.T) {
		// From today the price list lists the board at 250.00: a repair
		// today may ask at most 250.00 + 20% = 300.00 for it, so 320.00 is
		// capped at 300.00 and flagged. (The earlier claims, repaired
		// yesterday, were capped on the part's own price.)
		_, err := b.cat.CreatePriceList(context.Background(), b.admin, catalog.NewPriceList{EffectiveFrom: b.day(0),
			Labor: []catalog.LaborRate{{Category: "washer", ServiceKind: "repair", Amount: tenants.Money{Amount: 8000, Currency: "CNY"}}},
			Parts: []catalog.PartPrice{{PartID: b.board, Price: tenants.Money{Amount: 25000, Currency: "CNY"}}}})
		require.NoError(t, err)
		c := b.adjudicatedOn(t, b.day(0), claims.KindWarranty, b.unit(t, "SN-P-1", b.day(-100)), "P-1", "performance", b.boardLine(32000))
		require.Equal(t, claims.StateUnderReview, c.State)
		require.Equal(t, []string{"markup_above_cap"}, flagCodes(c))
		require.Equal(t, int64(30000), amount(c.Lines[0].Calculated))
		y := b.adjudicated(t, claims.KindWarranty, b.unit(t, "SN-P-2", b.day(-100)), "P-2", "performance", b.boardLine(32000))
		require.Equal(t, claims.StateApproved, y.State, "yesterday the part's own 300.00 + 20%% allows 320.00: %v", y.Flags)
		require.Equal(t, int64(32000), amount(y.Lines[0].Approved))
	})
}
