// Package catalog owns the brand's product catalog: product models with
// their warranty terms, parts, versioned price lists and the quotes priced
// from them.
package catalog

import (
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Service is the catalog context's entry point. Each exported method runs in
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
