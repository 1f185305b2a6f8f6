package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// NodeIDParam is the {node_id} path parameter (exported: Huma fills only exported embedded structs).
type NodeIDParam struct {
	NodeID string `path:"node_id" maxLength:"64" doc:"Node ID." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
}

type nodeOutput struct {
	ETag string `header:"ETag" doc:"The node's version; send it in If-Match to update."`
	Body network.Node
}

func (o *nodeOutput) answer(n network.Node) { o.ETag, o.Body = etag(n.Version), n }

type createdNodeOutput struct {
	Location string `header:"Location"`
	ETag     string `header:"ETag"`
	Body     network.Node
}

func (o *createdNodeOutput) answer(x network.Node) {
	o.Location, o.ETag, o.Body = "/v1/network/nodes/"+x.ID, etag(x.Version), x
}

type listNodesInput struct {
	PageParams
	Tier        string `query:"tier" enum:"manufacturer,service_center,specialist_depot,repair_point" doc:"Only nodes of this tier."`
	Status      string `query:"status" enum:"probation,active,suspended,terminated" doc:"Only nodes in this status."`
	ParentID    string `query:"parent_id" maxLength:"64" doc:"Only the direct children of this node."`
	SubtreeOf   string `query:"subtree_of" maxLength:"64" doc:"Only this node and everything under it."`
	RegionCode  string `query:"region_code" pattern:"^[1-9][0-9]{5}$" doc:"Only nodes covering this GB/T 2260 code (directly or through its city or province)."`
	Category    string `query:"category" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Only nodes servicing this product category."`
	ServiceKind string `query:"service_kind" enum:"install,repair,maintenance,carry_in,remote" doc:"Only nodes offering this kind of service."`
}

type nodeList struct {
	Data       []network.Node `json:"data"`
	NextCursor string         `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
}

type listNodesOutput struct{ Body nodeList }

func (o *listNodesOutput) answerPage(xs []network.Node, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type updateNodeInput struct {
	NodeIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; the update is refused (412) if the node changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    network.NodeUpdate
}

type moveNodeInput struct {
	NodeIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the node changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    struct {
		ParentID string `json:"parent_id" maxLength:"64" doc:"The new parent: a node of a higher tier, not inside the moved subtree." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	}
}

type changeNodeStatusInput struct {
	NodeIDParam
	IfMatch string `header:"If-Match" doc:"ETag of your last read; refused (412) if the node changed since. Optional: without it the change applies to whatever version is current (last write wins). Strict: a weak or \"v0\" tag is 412, a malformed one 400."`
	Body    struct {
		Status string `json:"status" enum:"probation,active,suspended,terminated" doc:"The new status." example:"active"`
		Reason string `json:"reason" minLength:"1" maxLength:"500" doc:"Why: kept in the node's status history." example:"passed the 3-month probation review"`
	}
}

type statusHistoryOutput struct {
	Body struct {
		Data []network.StatusChange `json:"data"`
	}
}

func (o *statusHistoryOutput) answerList(xs []network.StatusChange) { o.Body.Data = xs }

type subtreeInput struct {
	NodeIDParam
	PageParams
	Depth int `query:"depth" minimum:"0" maximum:"3" default:"0" doc:"Levels below the node to include; 0 for all."`
}

type subtreeOutput struct {
	Body struct {
		Data       []network.SubtreeNode `json:"data"`
		NextCursor string                `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
	}
}

func (o *subtreeOutput) answerPage(xs []network.SubtreeNode, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type coverageInput struct {
	RegionCode  string `query:"region_code" required:"true" pattern:"^[1-9][0-9]{5}$" doc:"GB/T 2260 code of the job's address, usually a district." example:"370212"`
	Category    string `query:"category" required:"true" enum:"washer,refrigerator,air_conditioner,tv,water_heater,kitchen,small_appliance,phone,laptop,camera,tablet" doc:"Product category of the unit." example:"washer"`
	ServiceKind string `query:"service_kind" required:"true" enum:"install,repair,maintenance,carry_in,remote" doc:"Kind of service." example:"repair"`
	Tier        string `query:"tier" enum:"manufacturer,service_center,specialist_depot,repair_point" doc:"Only candidates of this tier (e.g. escalate a hard fault to depots)."`
	Limit       int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"Maximum number of candidates."`
}

type coverageOutput struct {
	Body struct {
		Data []network.Candidate `json:"data"`
	}
}

func (s *Server) registerNodes() {
	tags := []string{"Network"}
	register(s, authz.NetworkWrite, huma.Operation{
		OperationID: "createNode", Method: http.MethodPost, Path: "/v1/network/nodes",
		Summary: "Add a node to the network", Tags: tags,
		Description: "Adds a service center, specialist depot or repair point under a node of a higher tier, or the " +
			"tenant's one manufacturer root. Coverage, categories and service kinds decide which jobs the node can take; " +
			"a node-scoped key adds nodes only inside its subtree, serving only regions (or regions within them), " +
			"categories and service kinds its own node serves (403 naming each value beyond them): the brand " +
			"authorises what a node serves, and a node passes it down.",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusUnprocessableEntity}, MaxBodyBytes: 256 << 10,
	}, func(ctx context.Context, in *struct{ Body network.NewNode }) (*createdNodeOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[createdNodeOutput](s.deps.Network.CreateNode(ctx, p, in.Body))
	})

	register(s, authz.NetworkRead, huma.Operation{
		OperationID: "listNodes", Method: http.MethodGet, Path: "/v1/network/nodes",
		Summary: "List network nodes", Tags: tags,
		Description: "Nodes in the caller's scope, oldest first, filtered by tier, status, parent, subtree, covered region, category and service kind.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listNodesInput) (*listNodesOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listNodesOutput](s.deps.Network.ListNodes(ctx, p, network.NodeFilter{Tier: in.Tier, Status: in.Status,
			ParentID: in.ParentID, SubtreeOf: in.SubtreeOf, RegionCode: in.RegionCode, Category: in.Category,
			ServiceKind: in.ServiceKind, Limit: in.limit(), Cursor: in.Cursor}))
	})

	register(s, authz.NetworkRead, huma.Operation{
		OperationID: "getNode", Method: http.MethodGet, Path: "/v1/network/nodes/{node_id}",
		Summary: "Get a node", Tags: tags,
		Description: "A node with its coverage, capacity and status. Nodes outside the caller's scope are not found.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *NodeIDParam) (*nodeOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[nodeOutput](s.deps.Network.GetNode(ctx, p, in.NodeID))
	})

	register(s, authz.NetworkWrite, huma.Operation{
		OperationID: "updateNode", Method: http.MethodPatch, Path: "/v1/network/nodes/{node_id}",
		Summary: "Update a node", Tags: tags,
		Description: "Changes a node's attributes; absent fields stay as they are. Tier, parent and status change " +
			"through moveNode and changeNodeStatus. A node-bound key may not change its own node's grade, coverage, " +
			"categories or service kinds (403): the brand grades its nodes and authorises what they serve; on the " +
			"nodes under it, it may add only regions, categories and service kinds its own node serves (403 naming " +
			"each value beyond them), and may always narrow them. Send the ETag of your last read in If-Match.",
		Errors: []int{http.StatusNotFound, http.StatusPreconditionFailed, http.StatusUnprocessableEntity}, MaxBodyBytes: 256 << 10,
	}, func(ctx context.Context, in *updateNodeInput) (*nodeOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[nodeOutput](withIfVersion(in.IfMatch, func(v int) (network.Node, error) {
			return s.deps.Network.UpdateNode(ctx, p, in.NodeID, in.Body, v)
		}))
	})

	register(s, authz.NetworkWrite, huma.Operation{
		OperationID: "moveNode", Method: http.MethodPost, Path: "/v1/network/nodes/{node_id}/move",
		Metadata: map[string]any{locationsKey: map[string]string{"id": "path.id"}},
		Summary:  "Move a node and its subtree", Tags: tags,
		Description: "Puts the node, with everything under it, under a new parent of a higher tier. Moving a node " +
			"under itself or its own subtree is refused (422), as is a parent of the same or a lower tier.",
		Errors: []int{http.StatusNotFound, http.StatusPreconditionFailed, http.StatusUnprocessableEntity}, MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *moveNodeInput) (*nodeOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[nodeOutput](withIfVersion(in.IfMatch, func(v int) (network.Node, error) {
			return s.deps.Network.MoveNode(ctx, p, in.NodeID, in.Body.ParentID, v)
		}))
	})

	register(s, authz.NetworkWrite, huma.Operation{
		OperationID: "changeNodeStatus", Method: http.MethodPost, Path: "/v1/network/nodes/{node_id}/status",
		Summary: "Change a node's status", Tags: tags,
		Description: "Promotes, suspends, reinstates or terminates a node, with a reason kept in its history: " +
			"probation → active | suspended | terminated; active → suspended | terminated; suspended → active | terminated; " +
			"terminated is final (409 otherwise). Terminating a node with children not terminated, or technicians who " +
			"have not left, is refused (409): move them first.",
		Errors: []int{http.StatusNotFound, http.StatusPreconditionFailed, http.StatusUnprocessableEntity}, MaxBodyBytes: 4 << 10,
	}, func(ctx context.Context, in *changeNodeStatusInput) (*nodeOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return reply[nodeOutput](withIfVersion(in.IfMatch, func(v int) (network.Node, error) {
			return s.deps.Network.ChangeNodeStatus(ctx, p, in.NodeID, network.NodeStatus(in.Body.Status), in.Body.Reason, v)
		}))
	})

	register(s, authz.NetworkRead, huma.Operation{
		OperationID: "listNodeStatusChanges", Method: http.MethodGet, Path: "/v1/network/nodes/{node_id}/status-history",
		Summary: "List a node's status changes", Tags: tags,
		Description: "Every status the node has had, oldest first, with who changed it and why.",
		Errors:      []int{http.StatusNotFound},
	}, func(ctx context.Context, in *NodeIDParam) (*statusHistoryOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyList[statusHistoryOutput](s.deps.Network.StatusHistory(ctx, p, in.NodeID))
	})

	register(s, authz.NetworkRead, huma.Operation{
		OperationID: "listNodeSubtree", Method: http.MethodGet, Path: "/v1/network/nodes/{node_id}/subtree",
		Summary: "List a node's subtree", Tags: tags,
		Description: "The node and everything under it in depth-first tree order, each with its depth below the node.",
		Errors:      []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *subtreeInput) (*subtreeOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[subtreeOutput](s.deps.Network.Subtree(ctx, p, in.NodeID, in.Depth, in.limit(), in.Cursor))
	})

	register(s, authz.NetworkRead, huma.Operation{
		OperationID: "findCoveringNodes", Method: http.MethodGet, Path: "/v1/network/coverage",
		Summary: "Find nodes that can take a job", Tags: tags,
		Description: "Active nodes with capacity that cover the region (directly, or through its city or province), " +
			"service the category and offer the service kind: the candidates dispatch chooses from. Repair points " +
			"come first, then depots, service centers and the manufacturer; better grades first within a tier.",
		Errors: []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *coverageInput) (*coverageOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		limit := in.Limit
		if limit <= 0 {
			limit = tenants.DefaultPageLimit
		}
		cs, err := s.deps.Network.Candidates(ctx, p, network.CandidateQuery{RegionCode: in.RegionCode,
			Category: in.Category, ServiceKind: in.ServiceKind, Tier: in.Tier, Limit: limit})
		if err != nil {
			return nil, err
		}
		out := &coverageOutput{}
		out.Body.Data = cs
		return out, nil
	})
}
