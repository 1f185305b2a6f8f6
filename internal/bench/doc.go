// Package bench is ServiceNet's performance benchmark suite, run by
// `make bench`. It has no production code: the benchmarks live in its
// _test.go files and run against a real PostgreSQL (DATABASE_URL, as for the
// tests) and the real HTTP stack (internal/apitest).
//
// # What is measured
//
// BenchmarkWriteThroughput puts two write paths side by side against the same
// database, each driven by exactly 16 concurrent clients (explicit
// goroutines, so the figure does not depend on GOMAXPROCS):
//
//   - raw_pgx_insert: the floor of what the database can do. Each operation
//     is one transaction, BEGIN; INSERT one row; COMMIT, through a pgx pool of
//     16 connections as the application role, into a plain table about as
//     wide as api_keys (no RLS, no foreign keys, no triggers). Reported as
//     tx/s.
//   - http_idempotent_post: the product path. Each operation is
//     POST /v1/api-keys with the tenant admin key as bearer credential and a
//     fresh Idempotency-Key, over real HTTP (keep-alive, 16 connections) to
//     the real router: authentication (key lookup and, at most once a minute,
//     last_used_at), Casbin authorization, the idempotency record (begin and
//     complete), the tenant-scoped insert under row-level security, and JSON
//     in and out. Every response must be 201. Reported as req/s.
//   - ratio: http_idempotent_post req/s ÷ raw_pgx_insert tx/s, reported as
//     the metric "http/raw".
//
// A summary line with the three figures is also printed, e.g.
//
//	write-throughput: raw_pgx=12345 tx/s http_post=2345 req/s ratio=0.19 (16 clients)
//
// BenchmarkAuthenticatedGET measures GET /v1/me the same way (16 clients,
// admin key): the cost of the read path with authentication and
// authorization, reported as req/s.
//
// Other benchmarks in this package describe themselves in their doc
// comments.
//
// # How to read it
//
// For these concurrent benchmarks ns/op is wall time divided by operations,
// i.e. the inverse of the throughput, not the latency of one operation; read
// tx/s and req/s instead. The ratio is the fraction of the database's raw
// single-row write rate that the full API path achieves: everything the
// API adds (round trips for authentication and idempotency, RLS, HTTP and
// JSON, Go CPU in the same process as the load generator) shows up as a
// ratio below 1. It is the number to watch across issues: a change that
// lowers it adds cost to every write. Absolute figures depend on the machine
// and on PostgreSQL settings (the local cluster from deploy/localpg.sh runs
// with fsync and synchronous_commit off), so compare runs from the same
// machine and setup.
package bench
