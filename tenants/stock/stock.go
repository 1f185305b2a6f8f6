// Package stock owns the network nodes' parts stock and loaner units: stock
// levels per node and part (on hand, reserved for tickets, defective parts
// held for the brand), the movement log, the requisition lines of service
// tickets (reserve, issue, use, return, return defective) and loaners lent
// to customers while their unit is carried in.
//
// The tickets context calls the in-transaction functions (Apply,
// TicketParts, Lend, ReturnLoan, TicketLoan) from its actions, inside the
// ticket's transaction; Service is the API's entry point for stock
// receipts, count corrections, the movement log and the loaner register.
// Node-scoped principals see and change only their subtree's nodes.
package stock

import (
	"context"
	"time"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// Service is the stock context's entry point for the API. Each exported
// method runs in one tenant-scoped transaction.
type Service struct {
	DB  pg.DB
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// MaxLines bounds the lines of a receipt, adjustment or requisition.
const MaxLines = 100

// Line is a quantity of one part.
type Line struct {
	PartID   string `json:"part_id" maxLength:"64" doc:"The part." example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	Quantity int    `json:"quantity" minimum:"1" maximum:"100" doc:"How many." example:"1"`
}

// Level is a node's stock of one part.
type Level struct {
	NodeID     string    `json:"node_id" doc:"The node keeping the stock." example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	PartID     string    `json:"part_id" example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	PartNumber string    `json:"part_number" doc:"The brand's part number." example:"0021800078A"`
	Name       string    `json:"name" doc:"The part's name." example:"变频电机 (BLDC)"`
	OnHand     int       `json:"on_hand" doc:"Good parts on the node's shelf, reserved ones included." example:"5"`
	Reserved   int       `json:"reserved" doc:"Parts on the shelf set aside for tickets." example:"2"`
	Available  int       `json:"available" doc:"on_hand less reserved: what a ticket can reserve now." example:"3"`
	Defective  int       `json:"defective" doc:"Defective parts taken back from units, held for the brand." example:"1"`
	Version    int       `json:"version" doc:"Increases with every change of the row." example:"4"`
	UpdatedAt  time.Time `json:"updated_at" example:"2026-11-30T10:00:00+08:00"`
}

// MoveKind is what a stock movement did.
type MoveKind string

// Movement kinds.
const (
	MoveReceive         MoveKind = "receive"
	MoveAdjust          MoveKind = "adjust"
	MoveAdjustDefective MoveKind = "adjust_defective"
	MoveReserve         MoveKind = "reserve"
	MoveRelease         MoveKind = "release"
	MoveIssue           MoveKind = "issue"
	MoveUse             MoveKind = "use"
	MoveReturn          MoveKind = "return"
	MoveReturnDefective MoveKind = "return_defective"
)

// Move is one entry of a node's movement log.
type Move struct {
	ID       string    `json:"id" example:"stm_01jd3zq8w6v7t3y2k9x4n5m6pq"`
	NodeID   string    `json:"node_id" example:"nod_01jd3zq8w6v7t3y2k9x4n5m6pc"`
	PartID   string    `json:"part_id" example:"prt_01jd3zq8w6v7t3y2k9x4n5m6pd"`
	TicketID *string   `json:"ticket_id" doc:"The ticket the movement was for; null for receipts and adjustments." example:"tkt_01jd3zq8w6v7t3y2k9x4n5m6pt"`
	Kind     MoveKind  `json:"kind" enum:"receive,adjust,adjust_defective,reserve,release,issue,use,return,return_defective" doc:"receive and return add to on_hand; issue takes from on_hand and reserved; reserve and release move between available and reserved; use records a part fitted; return_defective and adjust_defective change the defective count; adjust corrects on_hand after a count." example:"issue"`
	Quantity int       `json:"quantity" doc:"How many; for adjust and adjust_defective the signed change." example:"1"`
	Note     *string   `json:"note" doc:"The receipt's note or the adjustment's reason." example:"月度盘点"`
	Actor    string    `json:"actor" doc:"Who moved it: an API key ID." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pk"`
	At       time.Time `json:"at" example:"2026-11-30T10:00:00+08:00"`
}

// nodeInScope checks that nodeID names a node the principal may see
// (not_found otherwise).
func nodeInScope(ctx context.Context, tx pg.TenantTx, p tenants.Principal, nodeID string) error {
	_, err := network.NodeInScopeTx(ctx, tx, p, nodeID)
	return err
}
