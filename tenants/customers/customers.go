// Package customers owns the brand's customers (deduplicated by phone), their
// registered units with service history, and the storefronts (retail
// partners) units are sold through.
//
// A storefront key (role storefront, bound to one storefront) sees only the
// units whose storefront is its own, and only the customers it created or
// who own one of those units; anything else is not found (see scope.go).
package customers

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Event types of the customers context.
const (
	TypeStorefrontCreated = "storefront.created"
	TypeStorefrontUpdated = "storefront.updated"
	TypeCustomerCreated   = "customer.created"
	TypeCustomerUpdated   = "customer.updated"
	TypeUnitRegistered    = "unit.registered"
	TypeUnitUpdated       = "unit.updated"
	TypeServiceRecorded   = "unit.service_recorded"
)

// Service is the customers context's entry point. Each exported method runs
// in one tenant-scoped transaction. Build it with NewService.
type Service struct {
	DB  pg.DB
	Now func() time.Time

	jobs              JobRelations
	purchaseDateMoved func(ctx context.Context, tx pg.TenantTx, unitID string, now time.Time, actor string) error
}

// Deps are the Service's dependencies; every one is required.
type Deps struct {
	// Jobs says which customers and units a technician's or node key's
	// jobs touch (need-to-know): tickets.ServedTx.
	Jobs JobRelations
	// PurchaseDateMoved is called inside UpdateUnit's transaction after a
	// unit's purchase date changed, at now, for actor: the plans sold for
	// the unit count their windows from it as the warranty does, and the
	// warranty context moves them (warranty.RedateUnitContractsTx).
	PurchaseDateMoved func(ctx context.Context, tx pg.TenantTx, unitID string, now time.Time, actor string) error
}

// NewService returns the customers service over db. It fails when db or a
// dependency is missing.
func NewService(db pg.DB, d Deps) (*Service, error) {
	switch {
	case db == nil:
		return nil, errors.New("customers: NewService needs a database")
	case d.Jobs == nil:
		return nil, errors.New("customers: Deps.Jobs is required")
	case d.PurchaseDateMoved == nil:
		return nil, errors.New("customers: Deps.PurchaseDateMoved is required")
	}
	return &Service{DB: db, jobs: d.Jobs, purchaseDateMoved: d.PurchaseDateMoved}, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// StorefrontContact is who to call at a storefront.
type StorefrontContact struct {
	Name  string `json:"name,omitempty" maxLength:"100" doc:"Contact person." example:"张敏"`
	Phone string `json:"phone,omitempty" maxLength:"32" doc:"Contact phone." example:"+86 571 8502 2088"`
	Email string `json:"email,omitempty" maxLength:"200" format:"email" doc:"Contact email." example:"service@haier-tmall.example.cn"`
}

var (
	codePattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	basisPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

func validateContact(v *tenants.Validation, loc string, c StorefrontContact) {
	if len([]rune(c.Name)) > 100 {
		v.AddMsg(loc+".name", i18n.M("common.max_length", "Max", 100), c.Name)
	}
	if len(c.Phone) > 32 {
		v.AddMsg(loc+".phone", i18n.M("common.max_length", "Max", 32), c.Phone)
	}
	if c.Email != "" && (len(c.Email) > 200 || !emailPattern.MatchString(c.Email)) {
		v.AddMsg(loc+".email", i18n.M("customers.email"), c.Email)
	}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// isDate reports whether s is a real YYYY-MM-DD date.
func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}
