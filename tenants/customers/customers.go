// Package customers owns the brand's customers (deduplicated by phone), their
// registered units with service history, and the storefronts (retail
// partners) units are sold through.
package customers

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Service is the customers context's entry point. Each exported method runs
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
