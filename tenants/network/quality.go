package network

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/events"
)

// NodeRef is what the quality context needs of a node.
type NodeRef struct {
	ID     string
	Path   string
	Grade  *string
	Status NodeStatus
}

// NodeInScopeTx reads node id if it lies in the principal's scope (its
// subtree for a node-bound key); otherwise it is not found.
func NodeInScopeTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) (NodeRef, error) {
	sc, err := ResolveScope(ctx, tx, p)
	if err != nil {
		return NodeRef{}, err
	}
	n, err := getNode(ctx, tx, sc, id, "")
	if err != nil {
		return NodeRef{}, err
	}
	return NodeRef{ID: n.ID, Path: pathText(n), Grade: n.Grade, Status: n.Status}, nil
}

// SubtreeIDsTx lists the ids of the nodes in the subtree at id (id itself
// included).
func SubtreeIDsTx(ctx context.Context, tx pg.TenantTx, id string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT n.id FROM nodes n, nodes r WHERE r.tenant_id = $1 AND r.id = $2
		AND n.tenant_id = $1 AND n.path <@ r.path`, tx.TenantID, id)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// GradedNodesTx lists every node that is not terminated, with its grade,
// in id order (the nodes a grading run considers).
func GradedNodesTx(ctx context.Context, tx pg.TenantTx) ([]NodeRef, error) {
	rows, err := tx.Query(ctx, `SELECT id, path::text, grade, status FROM nodes
		WHERE tenant_id = $1 AND status <> 'terminated' AND parent_id IS NOT NULL ORDER BY id`, tx.TenantID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (NodeRef, error) {
		var n NodeRef
		err := r.Scan(&n.ID, &n.Path, &n.Grade, &n.Status)
		return n, err
	})
}

// SetGradeTx sets a node's grade inside the caller's transaction (a grading
// decision), bumping its version, with a node.updated event. The caller
// records the grade history.
func SetGradeTx(ctx context.Context, tx pg.TenantTx, actor, id, grade string) (old *string, err error) {
	var version int
	err = tx.QueryRow(ctx, `WITH o AS (SELECT grade FROM nodes WHERE tenant_id = $1 AND id = $2 FOR UPDATE)
		UPDATE nodes n SET grade = $3, version = version + 1, updated_at = now() FROM o
		WHERE n.tenant_id = $1 AND n.id = $2 RETURNING o.grade, n.version`, tx.TenantID, id, grade).Scan(&old, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, tenants.NotFound("node")
	}
	if err != nil {
		return nil, err
	}
	return old, events.Append(ctx, tx, events.New{Type: TypeNodeUpdated, SubjectID: id, Actor: actor,
		Data: map[string]any{"changed": []string{"grade"}, "version": version}})
}

// SuspendNodeTx suspends node id inside the caller's transaction (a
// grading decision: dispatch sends a suspended node no work), with reason
// in its status history; a node already suspended or terminated is left
// as it is (changed false).
func SuspendNodeTx(ctx context.Context, tx pg.TenantTx, actor, id, reason string) (changed bool, err error) {
	n, err := getNode(ctx, tx, Scope{}, id, "FOR UPDATE")
	if err != nil {
		return false, err
	}
	if n.Status == StatusSuspended || n.Status == StatusTerminated {
		return false, nil
	}
	_, err = setStatusTx(ctx, tx, n, StatusSuspended, reason, actor)
	return err == nil, err
}

// RestoreNodeStatusTx reactivates node id inside the caller's transaction
// when it is still suspended for cause (its status reason begins with it:
// nothing has changed its status since), with reason; otherwise it is
// left as it is (changed false).
func RestoreNodeStatusTx(ctx context.Context, tx pg.TenantTx, actor, id, cause, reason string) (changed bool, err error) {
	n, err := getNode(ctx, tx, Scope{}, id, "FOR UPDATE")
	if err != nil {
		return false, err
	}
	if n.Status != StatusSuspended || n.StatusReason == nil || !strings.HasPrefix(*n.StatusReason, cause) {
		return false, nil
	}
	_, err = setStatusTx(ctx, tx, n, StatusActive, reason, actor)
	return err == nil, err
}

// TechnicianNodeTx returns the node of technician id if the technician lies
// in the principal's scope; otherwise it is not found.
func TechnicianNodeTx(ctx context.Context, tx pg.TenantTx, p tenants.Principal, id string) (string, error) {
	sc, err := ResolveScope(ctx, tx, p)
	if err != nil {
		return "", err
	}
	t, err := getTechnician(ctx, tx, sc, id, "", "")
	if err != nil {
		return "", err
	}
	return t.NodeID, nil
}

// NodeNamesTx maps the given node ids to their names; ids that are not
// nodes of the tenant are left out.
func NodeNamesTx(ctx context.Context, tx pg.TenantTx, ids []string) (map[string]string, error) {
	names := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return names, nil
	}
	rows, err := tx.Query(ctx, `SELECT id, name FROM nodes WHERE tenant_id = $1 AND id = ANY($2)`, tx.TenantID, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		names[id] = name
	}
	return names, rows.Err()
}
