// Package swaps owns unit swaps: the depreciation fee, the replacement
// model, the approval chain by amount and the fulfilment.
package swaps

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Service is the swaps context's entry point. Each exported method runs in
// one tenant-scoped transaction.
type Service struct {
	DB  *pgxpool.Pool
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
