// Package webhooks owns webhook endpoints and the signed deliveries of the
// tenant's events to them (Standard Webhooks).
package webhooks

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Service is the webhooks context's entry point. Each exported method runs
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
