package api

import (
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/tenants/tickets"
)

const apiDescription = `ServiceNet is the after-sales service network API for home-appliance brands:
the brand's repair network, entitlements, tickets, claims and payouts.

## Authentication
Send an API key as ` + "`Authorization: Bearer sn_live_...`" + ` (or ` + "`sn_test_...`" + `).
A key belongs to one tenant (brand) and carries roles; the tenant always comes
from the key, never from the URL or body. Platform operations take the
operator token instead.

## Errors
Every error is ` + "`application/problem+json`" + ` (RFC 9457) with a stable ` + "`code`" + `;
validation errors list each offending field in ` + "`errors[].location`" + `
(` + "`body.name`" + `, ` + "`query.limit`" + `, ` + "`header.Idempotency-Key`" + `). Objects of another
tenant, or outside the caller's scope, answer 404.

## Languages
Texts meant for people (problem titles, details and field messages, including
the request validation's own, dispatch reasons, entitlement trace lines,
promise notes, SLA breaches and their escalation, reconciliation findings,
event and timeline summaries) are written in the language of
` + "`Accept-Language`" + ` (` + "`zh-CN`" + ` or ` + "`en`" + `), else the tenant's ` + "`default_language`" + `,
else ` + "`en`" + `; the response says which in ` + "`Content-Language`" + `. Beside each such
text, a ` + "`*_i18n`" + ` field (` + "`detail_i18n`" + `, ` + "`errors[].message_i18n`" + `, ` + "`reason_i18n`" + `, ` + "`summary_i18n`" + `)
carries it as a stable message ` + "`code`" + ` (the ` + "`MessageCode`" + ` values) and its
` + "`params`" + `: switch on codes and build your own text from the params, never parse
the text. A parameter may itself be a message (` + "`{\"code\": ..., \"params\": ...}`" + `).
Code families: ` + "`problem.*`" + ` and ` + "`auth.*`" + ` (problems), ` + "`validation.*`" + ` (the request's
schema: required, lengths, formats, enums, parameters), ` + "`dispatch.*`" + `, ` + "`entitlement.*`" + `
(trace lines R1-R9 and promise notes), ` + "`sla.*`" + ` and ` + "`escalation.*`" + `, ` + "`reconcile.*`" + `,
` + "`event.*`" + ` (` + "`event.<type>`" + `, and ` + "`event.ticket.<action>`" + ` on the timeline).
Texts not yet in the catalog have no ` + "`*_i18n`" + ` field and are English.

## Idempotency
Every POST accepts an ` + "`Idempotency-Key`" + ` header. A retry with the same key
within 24 hours replays the first response (marked ` + "`Idempotent-Replayed: true`" + `), as stored: in
the first request's language (its ` + "`Content-Language`" + `), whatever the retry's ` + "`Accept-Language`" + `;
the same key with a different body is 422 ` + "`idempotency_key_reused`" + `.

## Pagination
Lists take ` + "`limit`" + ` (1–200, default 50) and an opaque ` + "`cursor`" + `; pass the
response's ` + "`next_cursor`" + ` to get the next page. No ` + "`next_cursor`" + ` means the last page.

## Concurrency
Updatable resources return an ` + "`ETag`" + `; send it back in ` + "`If-Match`" + ` to update
only if nobody changed the resource meanwhile (412 otherwise).

## Rate limits
Each credential has a request budget, a token bucket. Every answer carries the IETF
` + "`RateLimit-Policy`" + ` (` + "`\"credential\";q=<requests>;w=<seconds to refill>`" + `) and ` + "`RateLimit`" + `
(` + "`\"credential\";r=<requests left>;t=<seconds until full>`" + `) headers; beyond the budget the
API answers 429 with ` + "`Retry-After`" + `. Requests whose credential is missing or refused
are budgeted per client address the same way.

## Outages
Every request has a deadline (10 seconds by default). When the database is
unreachable, overloaded or does not answer in time, the API answers 503
` + "`database_unavailable`" + ` with ` + "`Retry-After`" + `, never a hang and never a 500; a row held
too long by another change is 503 ` + "`unavailable`" + `. Retry after the delay; a POST
retried with the same ` + "`Idempotency-Key`" + ` acts at most once.`

// Arrays are not nullable unless a field says so (nullable:"true"): the
// server sends [] for an empty list (see jsonFormat), and a request's null
// array is refused. Huma reads this package-wide setting whenever it builds a
// schema, so it is set once, before any server is built: writing it in
// apiConfig raced with schema building when servers start in parallel.
func init() { huma.DefaultArrayNullable = false }

func apiConfig(version string) huma.Config {
	cfg := huma.DefaultConfig("ServiceNet API", version)
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaName)
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[tickets.SLA](), reflect.TypeFor[slaName]())
	cfg.Formats = map[string]huma.Format{"application/json": jsonFormat, "json": jsonFormat}
	cfg.OpenAPIPath = ""  // the published documents are served by specHandler
	cfg.CreateHooks = nil // no $schema in bodies, no Link: describedBy headers
	cfg.DocsPath = ""     // /docs is served from the binary (docs.go), not from a CDN
	cfg.RejectUnknownQueryParameters = true
	cfg.Info.Description = apiDescription
	cfg.Transformers = append(cfg.Transformers, localize)
	cfg.Info.Contact = &huma.Contact{Name: "ServiceNet API support", Email: "api@servicenet.dev", URL: "https://servicenet.dev/support"}
	cfg.Info.License = &huma.License{Name: "Proprietary", URL: "https://servicenet.dev/terms"}
	cfg.Servers = []*huma.Server{{
		URL:         "{scheme}://{host}",
		Description: "Your ServiceNet deployment; `make run` serves on http://localhost:8080.",
		Variables: map[string]*huma.ServerVariable{
			"scheme": {Default: "http", Enum: []string{"http", "https"}, Description: "http for a local server, https in production."},
			"host":   {Default: "localhost:8080", Description: "Host and port of the deployment."},
		},
	}}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"apiKey": {Type: "http", Scheme: "bearer", BearerFormat: "sn_live_... / sn_test_... API key",
			Description: "A tenant API key. Create keys with createApiKey; the secret is shown once."},
		"operatorToken": {Type: "http", Scheme: "bearer",
			Description: "The platform operator token (SERVICENET_OPERATOR_TOKEN)."},
	}
	cfg.Tags = []*huma.Tag{
		{Name: "Health", Description: "Liveness and readiness probes."},
		{Name: "Identity", Description: "Who the caller is, and the tenant's own settings."},
		{Name: "API keys", Description: "Credentials of a tenant: issue (secret shown once), list, revoke."},
		{Name: "Events", Description: "The tenant's append-only event feed, in commit order."},
		{Name: "Network", Description: "The brand's service network: the node tree (manufacturer, service centers, specialist depots, repair points), coverage, status and the candidate query."},
		{Name: "Technicians", Description: "Licensed technicians of the network's nodes: skills, licences, shifts and limits."},
		{Name: "Network imports", Description: "Bulk onboarding of nodes and technicians from JSON Lines or CSV, run as a background job."},
		{Name: "Catalog", Description: "The brand's product catalog: product models with warranty terms, parts and their compatible models, versioned price lists and the quotes priced from them."},
		{Name: "Storefronts", Description: "The brand's retail partners (marketplace shops, own stores, dealers). Each has its own API keys (role storefront) that see only the units it sold."},
		{Name: "Customers", Description: "The brand's customers, deduplicated by phone, with addresses (GB/T 2260 region codes). Storefront keys see only the customers they created or sold a unit to."},
		{Name: "Units", Description: "Registered units (serial, model, owner, purchase and installation dates, channel, invoice, price) and their service history. Storefront keys see only the units they sold."},
		{Name: "Coverage plans", Description: "Extended warranties and protection plans (accidental damage, swap instead of repair, no-reason repair) with their terms, as the brand sells them."},
		{Name: "Contracts", Description: "Coverage plans sold for units: dated windows computed from the purchase, states pending, active, expired, cancelled and consumed, and their history."},
		{Name: "Entitlements", Description: "Who pays what: the entitlement engine's decision for a unit, a fault and a date, with its trace."},
		{Name: "Claims", Description: "Warranty, protection-plan and reimbursement claims: submitted with versions, adjudicated by a job (entitlement engine, duplicate and consistency checks, per-line decisions, automatic decisions within the tenant's policy), then decided by reviewers: submitted → under_review → approved | rejected | needs_info → paid, or withdrawn."},
		{Name: "Complaints", Description: "Customers' complaints against a ticket, node or technician: category and severity, a resolution deadline by severity (critical 4 h, high 24 h, medium 48 h, low 72 h) that escalates one level when missed (dispatcher, node manager, brand), investigation, resolution and the customer's rating of it: open → investigating → resolved → closed; a rating of 1-2 reopens."},
		{Name: "Swaps", Description: "Unit swaps: the depreciation fee by rule, the replacement model (same model, else a similar one priced no higher), the approval chain by amount (automatic, node manager, brand) and the hand-over."},
		{Name: "Payouts", Description: "Compensation owed to customers (e.g. the no-reason repair plan's satisfaction payment), due in business days; a payout not made by its deadline is flagged missed and stays payable."},
		{Name: "Holidays", Description: "The tenant's holiday calendar: business days (payout deadlines) are Monday to Friday in the tenant's time zone, less these days."},
		{Name: "Service levels", Description: "The tenant's SLA policy (route, first contact, response, completion and callback deadlines, escalation), the breaches its timers recorded (escalated to the dispatcher, then the node manager, then the brand) and the daily reconciliation of completed tickets' sign-offs and ratings and of the invoices promised to customers."},
		{Name: "Quality", Description: "Service quality: KPI scorecards per node (and subtree), technician, region (GB/T 2260 prefix), category and the network for a day, week, month or range, each figure with its numerator and denominator, read from rollups the quality_fold job folds from the event feed every minute; rankings of a region's nodes; node grading by a versioned policy (weighted indicators, thresholds, minimum volume, consequences) into proposals a person approves or rejects, appeals within a window, and each node's grade history. The monthly job closes each month with a scorecard.ready event and grades it."},
		{Name: "Webhooks", Description: "Signed deliveries (Standard Webhooks) of the tenant's events to its endpoints, or a storefront's: retries with backoff, delivery log, replay, secret rotation."},
		{Name: "Notifications", Description: "Messages to customers (the sign-off code first): the tenant's notification gateway (its SMS provider's HTTPS endpoint, signed like webhooks, retried with backoff) or, without one, the notification.requested event for tenants that deliver messages themselves."},
		{Name: "Tickets", Description: "Service tickets from intake to callback: verification, triage and remote guidance, explained dispatch, appointments, on-site diagnosis with the entitlement decision and the price list, completion with the service promises' waivers, sign-off by one-time code, follow-up callbacks and SLA clocks."},
		{Name: "Stock", Description: "Node parts stock and loaner units: stock levels per node and part (on hand, reserved for tickets, defective parts held for the brand), receipts, count corrections and the movement log; loaner units nodes lend while a customer's unit is carried in, with their loan history and overdue loans. Tickets reserve, issue, use and return parts and lend loaners through their own actions."},
		{Name: "Privacy", Description: "Need-to-know for customers' personal data: technicians and node keys see a customer's name, phones and addresses (and a ticket's contact and service address) only for their open jobs and the tenant's grace period after; elsewhere the same objects come back masked (138****8000, 北京市朝阳区****) with masked true. The fields that can be masked: Customer name, phones, addresses[].line and postal_code; Ticket contact.name, contact.phone, address.line, latitude and longitude. The policy sets the grace period and the retention after which closed tickets are masked at rest."},
		{Name: "Test clocks", Description: "Test mode only (sn_test_ keys; live keys get 404): clocks frozen at a time that test tickets, contracts and payouts are attached to. Attached objects take the clock's time; advancing the clock (never backwards) fires what fell due on the way through the real jobs: contract windows (pending, active, expired), the tickets' SLA and callback timers and payout deadlines, as Stripe's test clocks do."},
		{Name: "Audit", Description: "The append-only audit log: every write with old and new values, every read of unmasked personal data, exports and erasures, by key, role and operation."},
		{Name: "Platform", Description: "Operator-only: create and inspect tenants (brands)."},
	}
	return cfg
}
