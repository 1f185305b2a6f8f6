package tickets_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/tickets"
)

// A technician takes a job (accept, assign, 改派 of a scheduled one) only
// with a service licence valid on the day the job is to be done, as
// dispatch and booking judge it (DESIGN: a valid licence, no dispatch
// without one): the appointment's day, else the day of the customer's
// preferred window while it is ahead, else today. A licence ending the day
// before the window's day, still valid today, is 422 at technician_id
// naming the day (dispatch's licence_invalid), and nothing changes; one
// ending on the window's day takes the job.
func TestTakingAJobNeedsTheLicenceValidOnTheWindowsDay(t *testing.T) {
	for _, act := range []string{"Accept", "Assign", "ReassignScheduled"} {
		for _, c := range []struct {
			name      string
			expiresIn int // days after the window's day
			refused   bool
		}{{"ExpiresTheDayBeforeRefused", -1, true}, {"ExpiresOnTheDayAccepted", 0, false}} {
			t.Run(act+"/"+c.name, func(t *testing.T) {
				e := newMoneyEnv(t)
				tk := e.openRepair(t, e.unit(t, 1500, false)) // preferred window: e.start, two or more days ahead
				tk, err := e.Tickets.Triage(e.Ctx, e.Admin, tk.ID, tickets.TriageInput{Mode: "on_site"}, 0)
				require.NoError(t, err)
				require.Equal(t, tickets.State("dispatched"), tk.State, "%v", tk.StateReason)
				require.NotNil(t, tk.TechnicianID, "no technician proposed: %v", tk.StateReason)

				day := time.Date(e.start.Year(), e.start.Month(), e.start.Day(), 0, 0, 0, 0, time.UTC) // e.start is in Shanghai, the demo's zone
				expires := day.AddDate(0, 0, c.expiresIn).Format(time.DateOnly)
				require.Greater(t, expires, domaintest.Today(0), "valid today")
				other, err := e.Network.CreateTechnician(e.Ctx, e.Admin, network.NewTechnician{ExternalCode: "LIC-DAY-2", NodeID: *tk.NodeID,
					Name: "证将到期师傅", Phone: "+86 136 0000 9401", Skills: []network.Skill{{Category: "washer", Level: 4}},
					Licence: &network.LicenceInput{Number: "LIC-DAY-2", IssuedOn: domaintest.Today(-300), ExpiresOn: expires}, Shifts: everyDay()})
				require.NoError(t, err)
				require.Equal(t, network.LicenceValid, other.Licence.Status, "valid today")

				dispatcher := e.As(tenants.Principal{}, tenants.RoleDispatcher)
				switch act {
				case "Accept": // the node accepts on behalf of another of its technicians
					tk, err = e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
					require.NoError(t, err)
				case "Assign":
				case "ReassignScheduled":
					_, err = e.Tickets.Accept(e.Ctx, e.Admin, tk.ID, tickets.AcceptInput{}, 0)
					require.NoError(t, err)
					tk, err = e.Tickets.Schedule(e.Ctx, e.Admin, tk.ID, tickets.ScheduleInput{Window: twoHours(e.start)}, 0)
					require.NoError(t, err)
				}
				var got tickets.Ticket
				if act == "Accept" {
					got, err = e.Tickets.Accept(e.Ctx, e.Admin, tk.ID, tickets.AcceptInput{TechnicianID: other.ID}, 0)
				} else {
					got, err = e.Tickets.Assign(e.Ctx, dispatcher, tk.ID, tickets.AssignInput{TechnicianID: other.ID, Reason: "原师傅请假"}, 0)
				}
				if !c.refused {
					require.NoError(t, err)
					require.Equal(t, other.ID, *got.TechnicianID)
					return
				}
				require.Equal(t, tenants.CodeInvalid, tenants.ErrorCode(err), "%v", err)
				require.Equal(t, []string{"technician_id"}, domaintest.Fields(t, err))
				require.Contains(t, err.Error(), day.Format(time.DateOnly), "names the window's day")
				after, err := e.Tickets.Get(e.Ctx, e.Admin, tk.ID)
				require.NoError(t, err)
				require.Equal(t, tk.Version, after.Version, "nothing changed")
				require.NotEqual(t, other.ID, *after.TechnicianID)
			})
		}
	}
}
