// Package warranty owns coverage plans and the contracts that attach them to
// units, and answers entitlement questions with the pure engine in
// warranty/entitlement.
package warranty

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Service is the warranty context's entry point. Each exported method runs
// in one tenant-scoped transaction.
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
