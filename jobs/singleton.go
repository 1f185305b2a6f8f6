package jobs

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// periodicKinds are the kinds PeriodicJobs enqueues: singletonMiddleware
// runs one copy of each (per args) at a time.
var periodicKinds = []string{
	IdempotencySweepArgs{}.Kind(),
	LicenceExpiryArgs{}.Kind(),
	PrivacyRetentionArgs{}.Kind(),
	ContractLifecycleArgs{}.Kind(),
	CareRemindersArgs{}.Kind(),
	WebhookDispatchArgs{}.Kind(),
	TicketReconciliationArgs{}.Kind(),
	TicketSLASweepArgs{}.Kind(),
	QualityFoldArgs{}.Kind(),
	QualityMonthlyArgs{}.Kind(),
}

// singletonMiddleware lets one copy of a job of the listed kinds and args
// work at a time, across every process: it holds a session advisory lock,
// keyed on the kind and the encoded args, on a connection of its own while
// the job works. A copy that finds the lock taken snoozes for a second and
// runs after the copy holding it (it may have been inserted for changes that
// copy has already passed). When a process dies, Postgres ends its session and the lock goes
// with it, unlike a running job row, which waits for River's rescuer: so a
// dead copy never holds the others back.
type singletonMiddleware struct {
	river.MiddlewareDefaults
	db    *pgxpool.Pool
	kinds map[string]bool
}

func (m *singletonMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	if !m.kinds[job.Kind] {
		return doInner(ctx)
	}
	c, err := m.db.Acquire(ctx)
	if err != nil {
		return err
	}
	const key = `hashtextextended('river.singleton:' || $1 || ':' || $2, 0)`
	var got bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+key+`)`, job.Kind, string(job.EncodedArgs)).Scan(&got); err != nil {
		c.Conn().Close(context.Background()) // the lock may be held: never return this session to the pool
		c.Release()
		return err
	}
	if !got {
		c.Release()
		// Another copy is working; this one may have been inserted for
		// changes that copy has already passed, so it runs after it.
		return river.JobSnooze(time.Second)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := c.Exec(uctx, `SELECT pg_advisory_unlock(`+key+`)`, job.Kind, string(job.EncodedArgs)); err != nil {
			c.Conn().Close(uctx) // closing the session releases its locks
		}
		c.Release()
	}()
	return doInner(ctx)
}
