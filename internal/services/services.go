// Package services names the domain services one ServiceNet process is
// built from. The composition root (internal/app) fills a Set, and the HTTP
// API (api.Deps) is handed the same Set, so the list is written once.
package services

import (
	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/tenants/audit"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/claims"
	"github.com/servicenet/servicenet/tenants/complaints"
	"github.com/servicenet/servicenet/tenants/customers"
	"github.com/servicenet/servicenet/tenants/idempotency"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/notifications"
	"github.com/servicenet/servicenet/tenants/payouts"
	"github.com/servicenet/servicenet/tenants/privacy"
	"github.com/servicenet/servicenet/tenants/quality"
	"github.com/servicenet/servicenet/tenants/stock"
	"github.com/servicenet/servicenet/tenants/subjects"
	"github.com/servicenet/servicenet/tenants/swaps"
	"github.com/servicenet/servicenet/tenants/testclocks"
	"github.com/servicenet/servicenet/tenants/tickets"
	"github.com/servicenet/servicenet/tenants/warranty"
	"github.com/servicenet/servicenet/tenants/webhooks"
)

// Set is every domain service of a process, with the authorizer and the
// idempotency store. The API may hold a zero Set while it only produces
// the OpenAPI document.
type Set struct {
	Identity    *identity.Service
	Idempotency *idempotency.Store
	Network     *network.Service
	Catalog     *catalog.Service
	Customers   *customers.Service
	Warranty    *warranty.Service
	Claims      *claims.Service
	Complaints  *complaints.Service
	Swaps       *swaps.Service
	Stock       *stock.Service
	Payouts     *payouts.Service
	Webhooks    *webhooks.Service
	Tickets     *tickets.Service
	// Quality keeps the KPI rollups, scorecards and grading.
	Quality *quality.Service
	// Notifications delivers customer messages (sign-off codes) through
	// the tenant's notification gateway or the event feed.
	Notifications *notifications.Service
	Audit         *audit.Service
	Privacy       *privacy.Service
	Subjects      *subjects.Service
	TestClocks    *testclocks.Service
	Authz         *authz.Authorizer
}
