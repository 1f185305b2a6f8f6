package pg

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Modes: every tenant row is live data or test data (its livemode column),
// and a transaction sees the rows of one mode only. The mode is set
// transaction-locally beside the tenant (app.livemode) by InTenantTx,
// InTenantRead, SetTenant and a Unit's joins, from the context: a request
// made with an sn_test_ key carries test mode (the API puts it there from
// the key), a job carries the mode of the transaction that enqueued it.
// Row-level security compares the setting with each row's livemode, and
// new rows take it as their default, so test and live data never meet
// whether or not a query remembers to filter.

type modeKey struct{}

// WithLivemode returns ctx carrying the mode transactions begun with it
// run in: live (true) or test (false).
func WithLivemode(ctx context.Context, live bool) context.Context {
	return context.WithValue(ctx, modeKey{}, live)
}

// Livemode is the mode of ctx: live unless WithLivemode said test.
func Livemode(ctx context.Context) bool {
	live, ok := ctx.Value(modeKey{}).(bool)
	return !ok || live
}

// ModeName is "live" or "test".
func ModeName(live bool) string {
	if live {
		return "live"
	}
	return "test"
}

func modeSetting(live bool) string {
	if live {
		return "true"
	}
	return "false"
}

// TenantMode is a tenant in one of its modes: the scope of one
// transaction's row-level security.
type TenantMode struct {
	TenantID string
	Live     bool
}

// TenantsWithWork asks which active tenants, in which mode, have work of a
// kind (the database function tenants_with_work: claims_awaiting_adjudication,
// tickets_sla_due by dueBy, webhook_dispatch_pending, quality_fold_pending)
// in one statement on db, outside any tenant's scope, and since when each
// has waited (a question's own measure, see the function). The function
// scopes itself to each tenant and mode in turn under the same row-level
// security as every read, and answers with IDs, modes and times only.
func TenantsWithWork(ctx context.Context, db Querier, work string, dueBy *time.Time) (out []TenantWork, err error) {
	rows, err := db.Query(ctx, `SELECT tenant_id, livemode, since FROM tenants_with_work($1, $2)`, work, dueBy)
	if err != nil {
		return nil, Translate(err)
	}
	out, err = pgx.CollectRows(rows, pgx.RowToStructByPos[TenantWork])
	return out, Translate(err)
}

// TenantWork is a tenant, in one of its modes, with work, and since when
// it has waited.
type TenantWork struct {
	TenantMode
	Since time.Time
}
