package tickets

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// ActDamageApologyRequested is the timeline action (and
// ticket.damage_apology_requested event) of the apology an upheld
// property_damage complaint's compensation asks of the technician. No
// endpoint takes it; the complaint's resolution does.
const ActDamageApologyRequested Action = "damage_apology_requested"

// DamageApology is the damage an upheld property_damage complaint
// compensated, for the apology it owes.
type DamageApology struct {
	// ComplaintID is the complaint whose compensation asks for it.
	ComplaintID string
	// Item is the damaged item the center assessed ("" when it named none).
	Item string
	// PayoutID and Amount are the compensation paid.
	PayoutID string
	Amount   tenants.Money
}

// ApologiseForDamageTx asks, in the caller's transaction, the ticket's
// technician to apologise for the customer's property the service damaged
// (seed 000: 给用户家损坏东西应照价赔偿,并表示歉意): it opens an
// apologise_damage task (assignee technician, the ticket's node and
// technician, due at once) for the window of the ticket's visit (its
// appointment, else the last one agreed, else now), tied to
// d.ComplaintID, with the ticket's timeline entry and
// ticket.damage_apology_requested event. Once per complaint: called again
// for the same complaint it opens nothing and returns "". The caller
// calls it once per compensation, so every compensated damage is
// apologised for, a second one on the same ticket too. Refused,
// CompleteTask sends the node manager. A ticket that does not exist is not
// found. It returns the task's id.
func ApologiseForDamageTx(ctx context.Context, tx pg.TenantTx, actor, ticketID string, d DamageApology, now time.Time) (string, error) {
	t, err := getTicket(ctx, tx, scope{}, ticketID, "FOR UPDATE OF t")
	if err != nil {
		return "", err
	}
	var window *time.Time
	var asked bool
	if err := tx.QueryRow(ctx, `SELECT `+visitWindowSQL+`,
		EXISTS (SELECT 1 FROM ticket_tasks WHERE tenant_id = $1 AND ticket_id = $2 AND kind = $4 AND complaint_id = $5)`,
		tx.TenantID, t.ID, t.Appointment.Start, TaskApologiseDamage, d.ComplaintID).Scan(&window, &asked); err != nil {
		return "", err
	}
	if asked {
		return "", nil
	}
	if window == nil {
		window = &now
	}
	what := "the customer's property"
	if d.Item != "" {
		what += " (" + d.Item + ")"
	}
	reason := fmt.Sprintf("property_damage complaint %s upheld: the service damaged %s, compensated at its value (%s, payout %s); "+
		"apologise to the customer for the damage (照价赔偿,并表示歉意); if the apology is refused the node manager visits",
		d.ComplaintID, what, d.Amount.Text(), d.PayoutID)
	b := &pgx.Batch{}
	id := queueComplaintTask(b, tx.TenantID, &t, TaskApologiseDamage, window.Truncate(time.Microsecond), reason, now, &d.ComplaintID)
	detail := map[string]any{"source": d.ComplaintID, "payout_id": d.PayoutID, "amount": d.Amount,
		"tasks": []string{TaskApologiseDamage}, "task_id": id}
	data := ticketEventData(&t, t.State, t.State)
	data["source"], data["tasks"], data["task_id"] = d.ComplaintID, []string{TaskApologiseDamage}, id
	if d.Item != "" {
		detail["damaged_item"], data["damaged_item"] = d.Item, d.Item
	}
	queueSave(b, tx.TenantID, &t, false)
	if err := queueTrail(b, tx, t.ID, []step{{action: ActDamageApologyRequested, from: t.State, to: t.State,
		reason: "the technician is asked to apologise for the damage: " + reason, detail: detail}}, actor, now, data); err != nil {
		return "", err
	}
	return id, tx.SendBatch(ctx, b).Close()
}
