// Package dispatch: placeholder until the dispatch branch lands (lead's scaffolding; deleted at merge).
package dispatch

import (
	"context"
	"errors"
	"time"

	"github.com/servicenet/servicenet/internal/pg"
)

type Request struct {
	RegionCode                       string
	Latitude, Longitude              *float64
	Category, ServiceKind            string
	RequiredLevel                    int
	HardFault                        bool
	WindowStart, WindowEnd           *time.Time
	ExcludeNodes, ExcludeTechnicians []string
	NodeID, TechnicianID             string
	ScopePath                        *string
}

type Decision struct {
	NodeID       string `json:"node_id,omitempty"`
	TechnicianID string `json:"technician_id,omitempty"`
	Tier         string `json:"tier,omitempty"`
	Reason       string `json:"reason"`
}

func Decide(ctx context.Context, tx pg.TenantTx, now time.Time, r Request) (Decision, error) {
	return Decision{}, errors.New("dispatch: not built")
}
