package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
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
	ClaimAdjudicationSweepArgs{}.Kind(),
	TicketReconciliationArgs{}.Kind(),
	TicketSLASweepArgs{}.Kind(),
	ClaimDeadlineSweepArgs{}.Kind(),
	QualityFoldArgs{}.Kind(),
	QualityMonthlyArgs{}.Kind(),
}

// singletonMiddleware lets one copy of a job of the listed kinds and args
// work at a time, across every process: it holds a session advisory lock,
// keyed on the kind and the encoded args, on a session of its own while the
// job works. A copy that finds the lock taken snoozes for a second and runs
// after the copy holding it (it may have been inserted for changes that
// copy has already passed). When a process dies, Postgres ends its session
// and the lock goes with it, unlike a running job row, which waits for
// River's rescuer: so a dead copy never holds the others back.
//
// The session is a connection opened for the job (conf: the pool's), not
// one of the pool's: a job that held a pooled connection while its work
// waited for another deadlocked a pool no larger than the singletons
// running at once (a pool of 8 stopped for good when the 8 periodic jobs
// of a start ran together; SERVICENET_DB_MAX_CONNS allows that). A job
// closes its session when it ends, which releases the lock; a periodic
// job runs every few seconds at most, so the connection's cost (a login)
// is small beside the job's own.
type singletonMiddleware struct {
	river.MiddlewareDefaults
	conf  *pgx.ConnConfig
	kinds map[string]bool
}

// newSingletonMiddleware opens its sessions with db's settings; a client
// without a pool (an insert-only one, over a transaction) runs no job.
func newSingletonMiddleware(db *pgxpool.Pool, kinds map[string]bool) *singletonMiddleware {
	m := &singletonMiddleware{kinds: kinds}
	if db != nil {
		m.conf = db.Config().ConnConfig
	}
	return m
}

func (m *singletonMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	if !m.kinds[job.Kind] {
		return doInner(ctx)
	}
	if m.conf == nil {
		return errors.New("jobs: a singleton job needs a client over a pool")
	}
	c, err := pgx.ConnectConfig(ctx, m.conf.Copy())
	if err != nil {
		return err
	}
	// Closing the session releases its lock, whatever the job did.
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = c.Close(cctx)
	}()
	var got bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended('river.singleton:' || $1 || ':' || $2, 0))`,
		job.Kind, string(job.EncodedArgs)).Scan(&got); err != nil {
		return err
	}
	if !got {
		// Another copy is working; this one may have been inserted for
		// changes that copy has already passed, so it runs after it.
		return river.JobSnooze(time.Second)
	}
	return doInner(ctx)
}
