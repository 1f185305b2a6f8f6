package pg

import "context"

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
