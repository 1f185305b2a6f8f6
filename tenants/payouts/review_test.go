package payouts_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants/payouts"
)

// Business days through the tenant's calendar in the database, including
// the wider read calendar.Load makes when more holidays fall in a row than
// its first read window covers: 45 weekdays of holidays after a Monday
// push one business day past all of them (the day itself never counts).
// Paying twice is a conflict and the amount paid is the one scheduled.
func TestReviewRolledBackBusinessDaysThroughALongHolidayRun(t *testing.T) {
	e := domaintest.New(t)
	model, _ := e.Product(t, "XQG-R1", "washer", 12, "control_board", 30000)
	unit := e.Unit(t, model, "WSH-REVIEW-1", -400, "+86 139 0000 0911")

	monday, err := time.Parse(time.DateOnly, domaintest.Today(-120))
	require.NoError(t, err)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, -1)
	}
	// From Tuesday on, 45 weekdays are holidays (nine weeks, the last one
	// the Monday nine weeks later): the next business day is that Tuesday.
	d := monday
	for n := 0; n < 45; {
		d = d.AddDate(0, 0, 1)
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		_, _, err := e.Payouts.PutHoliday(e.Ctx, e.Admin, d.Format(time.DateOnly), "长假")
		require.NoError(t, err)
		n++
	}
	want := monday.AddDate(0, 0, 7*9+1)
	require.Equal(t, time.Tuesday, want.Weekday())

	p, err := e.Payouts.CreatePayout(e.Ctx, e.Admin, payouts.NewPayout{UnitID: unit, Amount: domaintest.CNY(10000),
		Reason: "满意金", From: monday.Format(time.DateOnly), BusinessDays: 1})
	require.NoError(t, err)
	require.Equal(t, want.Format(time.DateOnly), p.DueOn)
	require.Equal(t, payouts.PayerBrand, p.Payer, "no contract: the brand owes it")

	p2, err := e.Payouts.CreatePayout(e.Ctx, e.Admin, payouts.NewPayout{UnitID: unit, Amount: domaintest.CNY(10000),
		Reason: "满意金", From: monday.Format(time.DateOnly), BusinessDays: 2})
	require.NoError(t, err)
	require.Equal(t, want.AddDate(0, 0, 1).Format(time.DateOnly), p2.DueOn)

	paid, err := e.Payouts.MarkPaid(e.Ctx, e.Admin, p.ID, "ALIPAY-1", p.Version)
	require.NoError(t, err)
	require.Equal(t, int64(10000), paid.Amount.Amount)
	_, err = e.Payouts.MarkPaid(e.Ctx, e.Admin, p.ID, "ALIPAY-2", 0)
	require.Error(t, err, "a paid payout is not paid again")
}
