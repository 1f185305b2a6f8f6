package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// Seed 000 (六.1): 如果用户不填意见和签名,不要强迫用户签名 — a customer
// who will not sign is not made to. The technician records that the
// customer declined: the sign-off is recorded (when, by whom, declined,
// no rating) and on the timeline, and the daily reconciliation does not
// flag the ticket as no_signoff: the outcome is in, not missing. The
// customer is asked in their own channel first (七.2 warns of 满意非用户所
// 签): before the sign-off code was sent to the customer, a refusal is a
// conflict at declined and nothing changes.
func TestRolledBackTicketSignoffDeclined(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "DCL-0001", 100)
	tk, tech := p.onSite(t, tk)
	p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair"}, true)
	tk = p.complete(t, tech, tk.ID)
	callbackDue := *tk.SLA.CallbackDueAt

	p.now = p.now.Add(5 * time.Minute)
	_, err := p.Tickets.SignOff(p.Ctx, tech, tk.ID, tickets.SignOffInput{Declined: true}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "the customer was never asked: %v", err)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Len(t, te.Fields, 1)
	require.Equal(t, "declined", te.Fields[0].Location)
	unasked, err := p.Tickets.Get(p.Ctx, tech, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tk.Version, unasked.Version, "nothing changed")
	require.Nil(t, unasked.Signoff.SignedOffAt)

	_, err = p.Tickets.SendSignoffCode(p.Ctx, tech, tk.ID, 0)
	require.NoError(t, err)
	tk, err = p.Tickets.SignOff(p.Ctx, tech, tk.ID, tickets.SignOffInput{Declined: true}, 0)
	require.NoError(t, err)
	so := tk.Signoff
	require.True(t, so.Declined)
	require.NotNil(t, so.SignedOffAt)
	require.WithinDuration(t, p.now, *so.SignedOffAt, time.Second)
	require.NotNil(t, so.RecordedBy)
	require.Equal(t, tech.Subject(), *so.RecordedBy)
	require.Nil(t, so.Rating)
	require.Nil(t, so.Comment)
	require.False(t, so.ConfirmedByCode)
	require.Equal(t, tickets.State("completed"), tk.State, "the ticket is not held back")
	require.WithinDuration(t, callbackDue, *tk.SLA.CallbackDueAt, 0, "the callback stays as the completion set it")

	tl, err := p.Tickets.Timeline(p.Ctx, p.Admin, tk.ID)
	require.NoError(t, err)
	last := tl[len(tl)-1]
	require.Equal(t, "signed_off", last.Action)
	require.Equal(t, true, last.Detail["declined"])
	require.Equal(t, tech.Subject(), last.Actor)

	_, err = p.Tickets.SignOff(p.Ctx, tech, tk.ID, tickets.SignOffInput{Rating: 5}, 0)
	require.Equal(t, tenants.CodeConflict, tenants.ErrorCode(err), "recorded once: %v", err)

	_, err = p.Tickets.Reconcile(p.Ctx, p.Tenant, p.now.In(p.start.Location()).Format(time.DateOnly))
	require.NoError(t, err)
	fs, _, err := p.Tickets.ListFindings(p.Ctx, p.Admin, tickets.FindingFilter{})
	require.NoError(t, err)
	for _, f := range fs {
		require.NotEqual(t, tk.ID, f.TicketID, "a declined sign-off is a recorded outcome: %+v", f)
	}
}

// A sign-off is a rating or the customer's refusal to sign, exactly one:
// both, or neither, is 422 naming the field, and nothing changes; a
// declined sign-off has no code to confirm, and no comment (seed 000:
// 不填意见和签名 — a customer who declines gives neither opinion nor
// signature, and a comment the technician typed would pass for the
// customer's, 七.2: 满意非用户所签).
func TestRolledBackTicketSignoffRatingOrDeclined(t *testing.T) {
	p := newPaths(t)
	tk := p.open(t, "DCL-0002", 100)
	tk, tech := p.onSite(t, tk)
	p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair"}, true)
	tk = p.complete(t, tech, tk.ID)
	_, err := p.Tickets.SendSignoffCode(p.Ctx, tech, tk.ID, 0)
	require.NoError(t, err)
	before, err := p.Tickets.Get(p.Ctx, tech, tk.ID)
	require.NoError(t, err)

	for _, c := range []struct {
		name  string
		in    tickets.SignOffInput
		field string
	}{
		{"Both", tickets.SignOffInput{Rating: 5, Declined: true}, "declined"},
		{"Neither", tickets.SignOffInput{}, "rating"},
		{"NeitherWithACode", tickets.SignOffInput{Code: p.codes.code(tk.ID)}, "rating"},
		{"DeclinedWithACode", tickets.SignOffInput{Declined: true, Code: p.codes.code(tk.ID)}, "code"},
		{"DeclinedWithAComment", tickets.SignOffInput{Declined: true, Comment: "用户不愿签字"}, "comment"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := p.Tickets.SignOff(p.Ctx, tech, tk.ID, c.in, 0)
			requireField(t, err, c.field)
			after, err := p.Tickets.Get(p.Ctx, tech, tk.ID)
			require.NoError(t, err)
			require.Equal(t, before.Version, after.Version, "nothing changed")
			require.Nil(t, after.Signoff.SignedOffAt)
			require.Equal(t, before.Signoff.AttemptsLeft, after.Signoff.AttemptsLeft)
		})
	}
}

// Seed 000: 用户不满意则跟踪服务直至用户满意为止 — a customer not
// satisfied is followed up until satisfied. The follow-up the tickets
// have is the callback (回访): unsatisfied there reopens and re-dispatches
// the ticket, satisfied closes it. A rating of 1 or 2 is a customer not
// satisfied: the callback is brought forward to the policy's
// uncertain_callback_minutes (180) after the sign-off, from the 72 hours
// after the completion; a rating of 3 to 5 leaves it where it was.
func TestRolledBackTicketLowRatingBringsTheCallbackForward(t *testing.T) {
	for _, c := range []struct {
		name     string
		rating   int
		followUp bool
	}{
		{"Rating1", 1, true}, {"Rating2", 2, true}, {"Rating3", 3, false}, {"Rating4", 4, false}, {"Rating5", 5, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPaths(t)
			tk := p.open(t, "DCL-010"+string(rune('0'+c.rating)), 100)
			tk, tech := p.onSite(t, tk)
			p.diagnose(t, tech, tk.ID, tickets.WorkInput{ServiceKind: "repair"}, true)
			tk = p.complete(t, tech, tk.ID)
			completed := *tk.CompletedAt
			require.WithinDuration(t, completed.Add(72*time.Hour), *tk.SLA.CallbackDueAt, 0)

			p.now = completed.Add(10 * time.Minute)
			tk, err := p.Tickets.SignOff(p.Ctx, tech, tk.ID, tickets.SignOffInput{Rating: c.rating}, 0)
			require.NoError(t, err)
			require.Equal(t, tickets.State("completed"), tk.State)
			tl, err := p.Tickets.Timeline(p.Ctx, p.Admin, tk.ID)
			require.NoError(t, err)
			var last tickets.TimelineEntry
			for _, x := range tl {
				if x.Action == "signed_off" {
					last = x
				}
			}
			require.Equal(t, "signed_off", last.Action)
			if !c.followUp {
				require.WithinDuration(t, completed.Add(72*time.Hour), *tk.SLA.CallbackDueAt, 0, "no follow-up")
				require.NotContains(t, last.Detail, "callback_due_at")
				return
			}
			due := p.now.Add(180 * time.Minute)
			require.WithinDuration(t, due, *tk.SLA.CallbackDueAt, 0)
			require.WithinDuration(t, due, *tk.FollowUp.DueAt, 0)
			require.NotNil(t, last.Reason)
			require.Contains(t, *last.Reason, "not satisfied")
			require.Contains(t, last.Detail, "callback_due_at")
		})
	}
}
