package jobs

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Inserter is what the transactional enqueuers need of a River client: its
// insert methods that join the caller's transaction. *river.Client[pgx.Tx]
// and *Deferred implement it.
type Inserter interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	InsertManyFastTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) (int, error)
}

// Deferred is an Inserter whose River client is attached after it is made.
// It breaks the one cycle in the application's wiring: the River client
// needs its workers, the workers call the domain services, and the services
// need enqueuers that insert through the client. The composition root
// (internal/app) builds the services over a Deferred, the client over the
// services, then Attach closes the loop before any request or job can run.
// Inserting before Attach is an error, never a silently skipped job.
type Deferred struct {
	rc atomic.Pointer[river.Client[pgx.Tx]]
}

// errNotAttached is a wiring bug: a job inserted through a Deferred whose
// client was never attached.
var errNotAttached = errors.New("jobs: no River client attached to the enqueuer")

// Attach sets the client every insert goes through. It fails when rc is nil
// or a client is already attached.
func (d *Deferred) Attach(rc *river.Client[pgx.Tx]) error {
	if rc == nil {
		return errors.New("jobs: Attach needs a River client")
	}
	if !d.rc.CompareAndSwap(nil, rc) {
		return errors.New("jobs: a River client is already attached")
	}
	return nil
}

// Attached reports whether a client is attached.
func (d *Deferred) Attached() bool { return d.rc.Load() != nil }

// InsertTx inserts through the attached client.
func (d *Deferred) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	rc := d.rc.Load()
	if rc == nil {
		return nil, errNotAttached
	}
	return rc.InsertTx(ctx, tx, args, opts)
}

// InsertManyTx inserts through the attached client.
func (d *Deferred) InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	rc := d.rc.Load()
	if rc == nil {
		return nil, errNotAttached
	}
	return rc.InsertManyTx(ctx, tx, params)
}

// InsertManyFastTx inserts through the attached client.
func (d *Deferred) InsertManyFastTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) (int, error) {
	rc := d.rc.Load()
	if rc == nil {
		return 0, errNotAttached
	}
	return rc.InsertManyFastTx(ctx, tx, params)
}
