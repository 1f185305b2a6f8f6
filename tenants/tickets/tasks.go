package tickets

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Follow-up task kinds, from the seeds' visit standard.
const (
	// TaskCallCustomer: running late, call the customer (the seed: 1-2
	// minutes before the agreed time) to apologise and explain.
	TaskCallCustomer = "call_customer"
	// TaskApologise: apologise for arriving late.
	TaskApologise = "apologise"
	// TaskApologiseDamage: apologise for the customer's property the
	// service damaged, which an upheld property_damage complaint
	// compensated (seed 000: 照价赔偿,并表示歉意); one per compensating
	// complaint (Task.ComplaintID). A kind of its own: refused, it sends
	// the node manager but never touches the late promise.
	TaskApologiseDamage = "apologise_damage"
	// TaskGift: more than 15 minutes late, apologise and give a small gift.
	TaskGift = "gift"
	// TaskManagerVisit: the apology was refused, or the customer would not
	// let the technician in: the node manager visits in person.
	TaskManagerVisit = "manager_visit"
	// TaskReachCustomer: the customer was not home, or the phone on the
	// ticket was wrong or unobtainable before the visit; find out why and
	// reach them to agree a new time.
	TaskReachCustomer = "reach_customer"
)

// Task states.
const (
	TaskOpen    = "open"
	TaskDone    = "done"
	TaskRefused = "refused"
)

// Task is a follow-up the seeds prescribe, tracked on the ticket: who
// should do it, by when, and who did it.
type Task struct {
	ID           string     `json:"id" example:"tsk_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	TicketID     string     `json:"ticket_id" example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	Kind         string     `json:"kind" enum:"call_customer,apologise,apologise_damage,gift,manager_visit,reach_customer" doc:"call_customer: running late, call the customer (1-2 minutes before the window); apologise: apologise for arriving late; apologise_damage: apologise for the customer's property the service damaged, opened when an upheld property_damage complaint compensates it (one per such complaint, complaint_id); gift: more than 15 minutes late, a small gift; manager_visit: an apology or entry was refused, the node manager visits; reach_customer: the customer was not home, or a contact attempt before the visit found the phone wrong or unobtainable (verify it with the dispatcher or information officer, else reach the customer another way), reach them." example:"apologise"`
	WindowStart  time.Time  `json:"window_start" doc:"The appointment window the task belongs to (for apologise_damage, the window of the ticket's visit)." example:"2026-12-01T09:00:00+08:00"`
	Reason       string     `json:"reason" doc:"Why the task exists." example:"technician arrived 16 minutes late (more than 15): apologise sincerely and give a small gift"`
	Assignee     string     `json:"assignee" enum:"technician,node_manager,agent" doc:"Who should do it." example:"technician"`
	DueAt        time.Time  `json:"due_at" doc:"Do it by then." example:"2026-12-01T09:16:00+08:00"`
	State        string     `json:"state" enum:"open,done,refused" doc:"open; done; refused: the customer refused it (an apology refused sends the node manager and the late promise's action becomes manager_visit)." example:"open"`
	Note         *string    `json:"note,omitempty" doc:"What was done." example:"已电话致歉，客户表示理解"`
	NodeID       *string    `json:"node_id,omitempty" doc:"The ticket's node when the task was opened." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pn"`
	TechnicianID *string    `json:"technician_id,omitempty" doc:"The ticket's technician when the task was opened." example:"tec_01jd3zq8w6v7t3y2k9x4n5m6pr"`
	ComplaintID  *string    `json:"complaint_id,omitempty" doc:"The upheld property_damage complaint whose compensation asked for it: on apologise_damage, and on the manager_visit its refusal opened." example:"cmp_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	CompletedBy  *string    `json:"completed_by,omitempty" doc:"The API key that completed it." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	CompletedAt  *time.Time `json:"completed_at,omitempty" example:"2026-12-01T09:20:00+08:00"`
	CreatedAt    time.Time  `json:"created_at" example:"2026-12-01T09:00:00+08:00"`
}

// CompleteTaskInput completes a task.
type CompleteTaskInput struct {
	Outcome string `json:"outcome" enum:"done,refused" doc:"done; refused: the customer refused it (apologise, apologise_damage and gift only). A refused apology opens the node manager's visit (a refused apologise_damage its own, for the same complaint)." example:"done"`
	Note    string `json:"note,omitempty" maxLength:"1000" doc:"What was done." example:"已电话致歉，客户表示理解"`
}

// TaskResult is a completed task and the ticket's new version.
type TaskResult struct {
	Task    Task `json:"task"`
	Version int  `json:"ticket_version" doc:"The ticket's version after the change (its ETag is \"v<version>\")." example:"7"`
}

var taskAssignee = map[string]string{TaskCallCustomer: "technician", TaskApologise: "technician", TaskApologiseDamage: "technician",
	TaskGift: "technician", TaskManagerVisit: "node_manager", TaskReachCustomer: "agent"}

// taskDue is how long after it opens a task is due.
var taskDue = map[string]time.Duration{TaskCallCustomer: 0, TaskApologise: 0, TaskApologiseDamage: 0, TaskGift: 0,
	TaskManagerVisit: 24 * time.Hour, TaskReachCustomer: 2 * time.Hour}

// queueTask queues opening a task of kind for the ticket's window (once:
// a second one of the same kind and window is ignored).
func queueTask(b *pgx.Batch, tenantID string, t *Ticket, kind string, window time.Time, reason string, now time.Time) {
	queueComplaintTask(b, tenantID, t, kind, window, reason, now, nil)
}

// queueComplaintTask is queueTask for a task complaint asked for (nil:
// none): once per kind, window and complaint. It returns the new task's
// id (unused when one was there already).
func queueComplaintTask(b *pgx.Batch, tenantID string, t *Ticket, kind string, window time.Time, reason string, now time.Time,
	complaint *string) string {
	args := newTaskArgs(tenantID, t, kind, window, reason, now, complaint)
	b.Queue(insertTask+` VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`, args...)
	return args[1].(string)
}

// insertTask inserts a task with newTaskArgs's twelve values.
const insertTask = `INSERT INTO ticket_tasks (tenant_id, id, ticket_id, kind, window_start, reason, assignee, due_at, node_id,
	technician_id, created_at, complaint_id)`

// newTaskArgs are insertTask's values for a new task of kind on t: its
// assignee and due time are the kind's.
func newTaskArgs(tenantID string, t *Ticket, kind string, window time.Time, reason string, now time.Time, complaint *string) []any {
	return []any{tenantID, tenants.NewID(tenants.PrefixTicketTask), t.ID, kind, window, reason, taskAssignee[kind],
		now.Add(taskDue[kind]), t.NodeID, t.TechnicianID, now, complaint}
}

const taskColumns = `id, ticket_id, kind, window_start, reason, assignee, due_at, state, note, node_id, technician_id,
	completed_by, completed_at, created_at, complaint_id`

func scanTask(r pgx.Row) (Task, error) {
	var k Task
	err := r.Scan(&k.ID, &k.TicketID, &k.Kind, &k.WindowStart, &k.Reason, &k.Assignee, &k.DueAt, &k.State, &k.Note,
		&k.NodeID, &k.TechnicianID, &k.CompletedBy, &k.CompletedAt, &k.CreatedAt, &k.ComplaintID)
	return k, err
}

// Tasks returns a ticket's follow-up tasks, oldest first.
func (s *Service) Tasks(ctx context.Context, p tenants.Principal, id string) ([]Task, error) {
	return ofTicket(ctx, s, p, id, func(ctx context.Context, tx pg.TenantTx) ([]Task, error) {
		rows, err := tx.Query(ctx, `SELECT `+taskColumns+` FROM ticket_tasks WHERE tenant_id = $1 AND ticket_id = $2
			ORDER BY created_at, id`, tx.TenantID, id)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Task, error) { return scanTask(r) })
	})
}

// CompleteTask records who did an open task and how it went, on the
// ticket's timeline and as a ticket.task_completed event. An apology the
// customer refused opens the node manager's visit and, from then on, the
// late promise's action is the manager's visit (on a completed ticket's
// settled late_arrival promise too). An apology for damage the customer
// refused opens the node manager's visit for the same complaint and
// leaves the late promise alone. A task done already is
// conflict; an unknown task (or one of another ticket) is not_found.
func (s *Service) CompleteTask(ctx context.Context, p tenants.Principal, ticketID, taskID string, in CompleteTaskInput, ifVersion int) (TaskResult, error) {
	if in.Outcome != TaskDone && in.Outcome != TaskRefused {
		return TaskResult{}, tenants.InvalidMsg("outcome", i18n.M("common.one_of", "Values", "done, refused"), in.Outcome)
	}
	if !tenants.ValidID(tenants.PrefixTicketTask, taskID) {
		return TaskResult{}, tenants.NotFound("task")
	}
	var out Task
	t, err := s.act(ctx, p, ticketID, ifVersion, ActTaskCompleted, func(c *change) error {
		t := c.T
		k, err := scanTask(c.tx.QueryRow(ctx, `SELECT `+taskColumns+` FROM ticket_tasks
			WHERE tenant_id = $1 AND ticket_id = $2 AND id = $3 FOR UPDATE`, c.tx.TenantID, t.ID, taskID))
		if errors.Is(err, pgx.ErrNoRows) {
			return tenants.NotFound("task")
		} else if err != nil {
			return err
		}
		if k.State != TaskOpen {
			return tenants.ErrorMsg(tenants.CodeConflict, i18n.M("tickets.task_already", "State", k.State))
		}
		if in.Outcome == TaskRefused && k.Kind != TaskApologise && k.Kind != TaskApologiseDamage && k.Kind != TaskGift {
			return tenants.InvalidMsg("outcome", i18n.M("tickets.refusable_remedies"), in.Outcome)
		}
		out, err = scanTask(c.tx.QueryRow(ctx, `UPDATE ticket_tasks SET state = $4, note = $5, completed_by = $6, completed_at = $7
			WHERE tenant_id = $1 AND ticket_id = $2 AND id = $3 RETURNING `+taskColumns,
			c.tx.TenantID, t.ID, taskID, in.Outcome, nullIfEmpty(in.Note), c.p.Subject(), c.now))
		if err != nil {
			return err
		}
		detail := map[string]any{"task_id": k.ID, "kind": k.Kind, "outcome": in.Outcome}
		if in.Outcome == TaskRefused && k.Kind == TaskApologiseDamage {
			// seed 000's escalation (若道歉不接受,再由售后经理上门道歉), for
			// the damage: the manager's own visit, tied to the complaint
			b := &pgx.Batch{}
			queueComplaintTask(b, c.tx.TenantID, t, TaskManagerVisit, k.WindowStart,
				"the customer refused the technician's apology for the damage to their property: the node manager visits to apologise in person",
				c.now, k.ComplaintID)
			if err := c.tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			detail["opened"] = []string{TaskManagerVisit}
		}
		if in.Outcome == TaskRefused && k.Kind == TaskApologise {
			b := &pgx.Batch{}
			queueTask(b, c.tx.TenantID, t, TaskManagerVisit, k.WindowStart,
				"the customer refused the technician's apology: the node manager visits to apologise in person", c.now)
			if err := c.tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			detail["opened"] = []string{TaskManagerVisit}
			// A completion that settled the late promise owes the manager's
			// visit from now on, not the apology the customer refused (as
			// the engine decides at a completion; an upheld late_arrival
			// complaint records it the same way, WaiveChargesTx).
			if comp := t.Completion; comp != nil {
				for i := range comp.Waivers {
					if w := &comp.Waivers[i]; w.Code == PromiseLateArrival && (w.Action == "apology" || w.Action == "apology_and_gift") {
						detail["promise_action"] = map[string]any{"from": w.Action, "to": "manager_visit"}
						w.Action = "manager_visit"
					}
				}
			}
		}
		c.data["task_id"], c.data["kind"], c.data["outcome"] = k.ID, k.Kind, in.Outcome
		c.note("", detail)
		return nil
	})
	if err != nil {
		return TaskResult{}, err
	}
	return TaskResult{Task: out, Version: t.Version}, nil
}
