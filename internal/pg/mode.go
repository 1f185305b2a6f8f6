package pg

import (
	"context"
	"strconv"
	"strings"

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

// TenantModes asks one of the database's cross-tenant questions (fn, a
// SECURITY DEFINER function returning (tenant_id, livemode) rows, such as
// claims_awaiting_adjudication: which active tenants, in which mode, have
// work of a kind), with args, in one statement on db, outside any tenant's
// scope. The function scopes itself to each tenant and mode in turn under
// the same row-level security as every read, and answers with IDs and
// modes only.
func TenantModes(ctx context.Context, db Querier, fn string, args ...any) ([]TenantMode, error) {
	params := make([]string, len(args))
	for i := range args {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	rows, err := db.Query(ctx, `SELECT tenant_id, livemode FROM `+pgx.Identifier{fn}.Sanitize()+`(`+strings.Join(params, ", ")+`)`, args...)
	if err != nil {
		return nil, Translate(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[TenantMode])
	return out, Translate(err)
}
