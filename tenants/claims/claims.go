// Package claims owns warranty, protection-plan and reimbursement claims:
// submission with versions, the adjudication job's decisions per line, and
// the people who decide what the job leaves open.
package claims

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Service is the claims context's entry point. Each exported method runs in
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
