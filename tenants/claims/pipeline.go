package claims

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/pg"
)

// pipelined sends the statements queued on b in the round trip of next, a
// call that sends one statement of its own on tx (River's job insert,
// another context's read), instead of in a round trip of their own: b is
// deferred (pg.TenantTx.Defer), so on a request's unit its statements go
// at the head of next's round trip and their callbacks run before next's
// result is read; elsewhere Defer sends them at once. When next sent
// nothing on tx, b is flushed before pipelined returns: either way every
// callback of b has run by then, so they may read values the caller
// needs.
//
// bErr is the first error of b's callbacks (as SendBatch(b).Close() would
// report it; a later statement's callback still runs, and does not fail
// the transaction by itself), nextErr next's. A caller checks bErr first:
// after a failed statement of b, next fails on the aborted transaction.
func pipelined(ctx context.Context, tx pg.TenantTx, b *pgx.Batch, next func() error) (bErr, nextErr error) {
	ran := 0
	for _, qq := range b.QueuedQueries {
		fn := qq.Fn
		qq.Fn = func(br pgx.BatchResults) error {
			ran++
			var err error
			if fn != nil {
				err = fn(br)
			} else {
				_, err = br.Exec()
			}
			if err != nil && bErr == nil {
				bErr = err
			}
			return nil
		}
	}
	if err := tx.Defer(ctx, b); err != nil && bErr == nil {
		bErr = err
	}
	nextErr = next()
	if ran < len(b.QueuedQueries) {
		// next sent nothing: flush the deferred statements now.
		if err := tx.SendBatch(ctx, &pgx.Batch{}).Close(); err != nil && bErr == nil {
			bErr = err
		}
	}
	return bErr, nextErr
}
