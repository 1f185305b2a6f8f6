// Package replicas counts the API replicas serving on one database, so that
// each can enforce its share (1/n) of a limit meant for all of them: n
// replicas behind a load balancer then hold a credential to its configured
// rate with no database write per request, only one small upsert per replica
// per second.
package replicas

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/servicenet/servicenet/tenants"
)

// Renewal period and how long a replica that stopped renewing still counts
// (a crashed replica's share is given back to the others after Stale).
const (
	Period = time.Second
	Stale  = 3 * time.Second
)

// Registry is this replica's row in api_replicas and its view of the others.
type Registry struct {
	DB  *pgxpool.Pool
	Log *slog.Logger
	// ID names this replica; empty: host, pid and a random suffix.
	ID string

	n atomic.Int64
}

// Count is how many replicas were live at the last renewal, at least 1
// (before the first renewal, or when the database cannot say, the last
// count stands).
func (r *Registry) Count() int {
	if n := r.n.Load(); n > 1 {
		return int(n)
	}
	return 1
}

// Start renews once (so Count is right before the first request), then
// every Period until ctx ends; stop waits for the loop, which removes the
// replica's row on its way out.
func (r *Registry) Start(ctx context.Context) (stop func()) {
	if r.ID == "" {
		host, _ := os.Hostname()
		id := tenants.NewID("r")
		r.ID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), id[len(id)-8:])
	}
	if err := r.renew(ctx); err != nil {
		r.warn(ctx, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(Period)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if err := r.renew(ctx); err != nil && ctx.Err() == nil {
					r.warn(ctx, err)
				}
			case <-ctx.Done():
				dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				_, _ = r.DB.Exec(dctx, `DELETE FROM api_replicas WHERE id = $1`, r.ID)
				cancel()
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

func (r *Registry) warn(ctx context.Context, err error) {
	if r.Log != nil {
		r.Log.WarnContext(ctx, "renewing this replica's share of the rate limits", "error", err.Error())
	}
}

// renew marks this replica live, forgets long-gone ones and counts the live.
func (r *Registry) renew(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, Period)
	defer cancel()
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO api_replicas (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET seen_at = now()`, r.ID)
	b.Queue(`DELETE FROM api_replicas WHERE seen_at < now() - make_interval(secs => $1)`, 10*Stale.Seconds())
	var n int64
	b.Queue(`SELECT count(*) FROM api_replicas WHERE seen_at > now() - make_interval(secs => $1)`, Stale.Seconds()).
		QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	if err := r.DB.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	r.n.Store(n)
	return nil
}
