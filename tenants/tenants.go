// Package tenants is ServiceNet's shared vocabulary: opaque prefixed IDs, the
// Principal a request acts as, and the one Error type whose codes every layer
// speaks. Everything a tenant owns lives in a sub-package per bounded context
// (tenants/identity, tenants/events, ...); those packages depend on this one
// and never on each other's internals, and none of them knows about HTTP.
package tenants
