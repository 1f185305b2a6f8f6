// Package payouts owns compensation payouts, due in business days of the
// tenant's zone and holiday calendar.
package payouts

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Service is the payouts context's entry point. Each exported method runs in
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
