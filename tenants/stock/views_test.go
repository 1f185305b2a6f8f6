package stock_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/stock"
)

// A stocktake records the difference as an adjust move with its reason; a
// lent loaner is listed by status, category, node and overdue, shows its
// ticket and loans; and the tenant's feed has the stock events in order.
func TestStocktakeLoanerViewsAndEvents(t *testing.T) {
	t.Parallel()
	e := domaintest.New(t)
	b := newTenant(t, e.App, e.Tx, e.Admin)
	ctx := context.Background()
	manager := e.As(tenants.Principal{NodeID: b.centerA}, tenants.RoleNodeManager)

	_, err := b.svc.Receive(ctx, manager, b.pointA, stock.Receipt{Note: "DN-1",
		Lines: []stock.ReceiptLine{{PartID: b.motor, Quantity: 3}, {PartID: b.seal, Quantity: 10}}})
	require.NoError(t, err)
	lv, err := b.svc.Adjust(ctx, manager, b.pointA, stock.Adjustment{Reason: "月度盘点", Lines: []stock.Count{{PartID: b.motor, OnHand: ptr(2)}}})
	require.NoError(t, err)
	require.Equal(t, 2, lv[0].OnHand)
	moves, _, err := b.svc.ListMoves(ctx, manager, b.pointA, stock.MoveFilter{PartID: b.motor})
	require.NoError(t, err)
	require.Len(t, moves, 2)
	require.Equal(t, []stock.MoveKind{stock.MoveReceive, "adjust"}, []stock.MoveKind{moves[0].Kind, moves[1].Kind})
	require.Equal(t, -1, moves[1].Quantity, "the adjust move is the difference")
	require.Equal(t, "月度盘点", *moves[1].Note)

	loaner, err := b.svc.CreateLoaner(ctx, manager, stock.NewLoaner{NodeID: b.pointA, Category: "washer", ModelID: b.washer, Serial: "LN-1"})
	require.NoError(t, err)
	tkt := b.ticket(t, b.pointA)
	require.NoError(t, pg.InTenantTx(ctx, b.db, b.admin.TenantID, func(tx pg.TenantTx) error {
		_, err := stock.Lend(ctx, tx, time.Now(), "", b.pointA, tkt, "", "washer", time.Now().In(mustZone(t)).Format(time.DateOnly), "key_test")
		return err
	}))
	list := func(f stock.LoanerFilter) []string {
		t.Helper()
		ls, _, err := b.svc.ListLoaners(ctx, manager, f)
		require.NoError(t, err)
		var ids []string
		for _, l := range ls {
			ids = append(ids, l.ID)
		}
		return ids
	}
	require.Empty(t, list(stock.LoanerFilter{Overdue: true}), "due today is not overdue")
	b.svc.Now = func() time.Time { return time.Now().Add(48 * time.Hour) }
	require.Equal(t, []string{loaner.ID}, list(stock.LoanerFilter{Overdue: true, NodeID: b.pointA}))
	require.Empty(t, list(stock.LoanerFilter{Overdue: true, NodeID: b.pointB}))
	require.Equal(t, []string{loaner.ID}, list(stock.LoanerFilter{Status: "lent", Category: "washer"}))
	require.Empty(t, list(stock.LoanerFilter{Status: "lent", Category: "refrigerator"}))
	require.Empty(t, list(stock.LoanerFilter{Status: "available"}))

	got, err := b.svc.GetLoaner(ctx, manager, loaner.ID)
	require.NoError(t, err)
	require.Equal(t, stock.LoanerLent, got.Status)
	require.Equal(t, tkt, *got.TicketID)
	require.True(t, got.Overdue)
	require.Len(t, got.Loans, 1)
	require.Equal(t, tkt, got.Loans[0].TicketID)
	require.Nil(t, got.Loans[0].ReturnedAt)
	b.svc.Now = nil

	var types []string
	require.NoError(t, pg.InTenantTx(ctx, b.db, b.admin.TenantID, func(tx pg.TenantTx) error {
		rows, err := tx.Query(ctx, `SELECT type FROM events WHERE tenant_id = $1 AND (type LIKE 'stock.%' OR type LIKE 'loaner.%') ORDER BY seq`, tx.TenantID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			types = append(types, s)
		}
		return rows.Err()
	}))
	require.Equal(t, []string{"stock.received", "stock.adjusted", "loaner.created", "loaner.lent"}, types)
}
