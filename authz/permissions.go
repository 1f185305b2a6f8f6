package authz

// Permission names what an operation does. Every API operation declares
// exactly one; the OpenAPI document carries it as x-permission.
type Permission string

// Pseudo-permissions that are not decided by the role policy.
const (
	// Public operations need no credential (health, readiness).
	Public Permission = "public"
	// Operator operations need the platform operator's token.
	Operator Permission = "platform.operator"
)

// Tenant permissions, granted to roles in policy.csv.
const (
	MeRead       Permission = "me.read"
	TenantRead   Permission = "tenant.read"
	TenantUpdate Permission = "tenant.update"
	// TenantTestDataDelete deletes the tenant's test data (test keys only).
	TenantTestDataDelete Permission = "tenant.test_data.delete"
	APIKeysCreate        Permission = "api_keys.create"
	APIKeysList          Permission = "api_keys.list"
	APIKeysRead          Permission = "api_keys.read"
	APIKeysRevoke        Permission = "api_keys.revoke"
	EventsList           Permission = "events.list"
	NetworkRead          Permission = "network.read"
	NetworkWrite         Permission = "network.write"
	NetworkImport        Permission = "network.import"
	// Catalog: product models, parts, price lists and quotes, coverage plans.
	CatalogRead  Permission = "catalog.read"
	CatalogWrite Permission = "catalog.write"
	// Pricing a job against the price list (stores a quote).
	QuotesCreate Permission = "quotes.create"
	// Customers and their registered units (with service history). Storefront
	// keys are limited to the units they sold.
	UnitsRead  Permission = "units.read"
	UnitsWrite Permission = "units.write"
	// Storefronts: the brand's retail partners.
	StorefrontsRead  Permission = "storefronts.read"
	StorefrontsWrite Permission = "storefronts.write"
	// Contracts attach coverage plans to units. Storefront keys see only theirs.
	ContractsRead  Permission = "contracts.read"
	ContractsWrite Permission = "contracts.write"
	// Entitlement decisions (previews; nothing is written).
	EntitlementsDecide Permission = "entitlements.decide"
	// Claims: storefronts and agents submit (repair points submit
	// reimbursement claims); reviewers decide the ones adjudication leaves
	// for a person.
	ClaimsRead   Permission = "claims.read"
	ClaimsSubmit Permission = "claims.submit"
	ClaimsReview Permission = "claims.review"
	// Unit swaps and their approval chain.
	SwapsRead    Permission = "swaps.read"
	SwapsRequest Permission = "swaps.request"
	SwapsApprove Permission = "swaps.approve"
	// Compensation payouts.
	PayoutsRead  Permission = "payouts.read"
	PayoutsWrite Permission = "payouts.write"
	// Webhook endpoints and deliveries (storefront keys: their own).
	WebhooksManage Permission = "webhooks.manage"
	// The tenant's notification gateways (its SMS provider's endpoint).
	NotificationsManage Permission = "notifications.manage"
	// Service tickets. Storefront keys see and open only theirs; node-scoped
	// keys see their subtree's; technician keys only the tickets assigned to
	// them.
	TicketsRead   Permission = "tickets.read"
	TicketsCreate Permission = "tickets.create"
	// Call-center work: intake completion, triage, remote guidance,
	// callbacks, reopening.
	TicketsTriage Permission = "tickets.triage"
	// Dispatching to nodes and technicians, overrides and reassignment.
	TicketsDispatch Permission = "tickets.dispatch"
	// Field work: accept/reject, appointments, check-in, diagnosis, parts,
	// carry-in, completion and sign-off.
	TicketsWork   Permission = "tickets.work"
	TicketsCancel Permission = "tickets.cancel"
	// The centre's reduction of a customer's charges on a ticket (seed 000:
	// 根据中心批示处理), borne by the brand: the call centre, the
	// dispatchers and the tenant admin, never the network that is paid.
	TicketsReduce Permission = "tickets.reduce"
	// The tenant's SLA policy and the reconciliation findings.
	SLARead  Permission = "sla.read"
	SLAWrite Permission = "sla.write"
	// Node parts stock and loaner units.
	StockRead  Permission = "stock.read"
	StockWrite Permission = "stock.write"
	// Complaints against tickets, nodes and technicians.
	ComplaintsRead    Permission = "complaints.read"
	ComplaintsFile    Permission = "complaints.file"
	ComplaintsResolve Permission = "complaints.resolve"
	// Service quality: scorecards and rankings (read), the grading policy
	// and grading runs (policy), deciding grade proposals and appeals
	// (decide), and a node's appeal against its grade (appeal).
	QualityRead   Permission = "quality.read"
	QualityPolicy Permission = "quality.policy"
	QualityDecide Permission = "quality.decide"
	QualityAppeal Permission = "quality.appeal"
	// The audit log (who changed and read what) and data-subject requests
	// (export and erasure of one customer's personal data).
	AuditRead      Permission = "audit.read"
	SubjectsExport Permission = "subjects.export"
	SubjectsErase  Permission = "subjects.erase"
	// The care-reminder policy (intervals after installation or purchase).
	CareRead  Permission = "care.read"
	CareWrite Permission = "care.write"
	// Test clocks (test mode only): create, advance, attach test objects.
	TestClocksRead  Permission = "test_clocks.read"
	TestClocksWrite Permission = "test_clocks.write"
)

// Permissions lists every tenant permission.
var Permissions = []Permission{
	MeRead, TenantRead, TenantUpdate, TenantTestDataDelete, APIKeysCreate, APIKeysList, APIKeysRead, APIKeysRevoke, EventsList,
	NetworkRead, NetworkWrite, NetworkImport,
	CatalogRead, CatalogWrite, QuotesCreate, UnitsRead, UnitsWrite, StorefrontsRead, StorefrontsWrite,
	ContractsRead, ContractsWrite, EntitlementsDecide,
	ClaimsRead, ClaimsSubmit, ClaimsReview, SwapsRead, SwapsRequest, SwapsApprove, PayoutsRead, PayoutsWrite,
	WebhooksManage, NotificationsManage,
	TicketsRead, TicketsCreate, TicketsTriage, TicketsDispatch, TicketsWork, TicketsCancel, TicketsReduce,
	SLARead, SLAWrite, StockRead, StockWrite, ComplaintsRead, ComplaintsFile, ComplaintsResolve,
	QualityRead, QualityPolicy, QualityDecide, QualityAppeal,
	AuditRead, SubjectsExport, SubjectsErase, TestClocksRead, TestClocksWrite, CareRead, CareWrite,
}
