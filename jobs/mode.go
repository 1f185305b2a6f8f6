package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/servicenet/servicenet/internal/pg"
)

// modeMiddleware carries test mode through River. A job inserted by a
// test-mode transaction (a request made with an sn_test_ key, or a job that
// is itself in test mode) is stamped {"livemode": false} in its metadata,
// beside its args; the job then works in test mode, so every transaction
// it runs sees test data only, and the jobs it inserts are test jobs too.
// Jobs without the stamp (every live job, periodic jobs) work in live mode.
// The stamp is put on at insert, where the mode is known, so no enqueuer
// can forget it, and it is read back before the worker runs.
type modeMiddleware struct {
	river.MiddlewareDefaults
}

// jobMode is the part of a job's metadata this middleware owns.
type jobMode struct {
	Livemode *bool `json:"livemode,omitempty"`
}

func (modeMiddleware) InsertMany(ctx context.Context, many []*rivertype.JobInsertParams, doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	if !pg.Livemode(ctx) {
		for _, p := range many {
			md := map[string]any{}
			if len(p.Metadata) > 0 {
				if err := json.Unmarshal(p.Metadata, &md); err != nil {
					return nil, fmt.Errorf("jobs: metadata of %s: %w", p.Kind, err)
				}
			}
			md["livemode"] = false
			b, err := json.Marshal(md)
			if err != nil {
				return nil, err
			}
			p.Metadata = b
		}
	}
	return doInner(ctx)
}

func (modeMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	return doInner(pg.WithLivemode(ctx, JobLivemode(job)))
}

// JobLivemode is the mode a job works in: false for a job inserted in test
// mode.
func JobLivemode(job *rivertype.JobRow) bool {
	var m jobMode
	if len(job.Metadata) == 0 || json.Unmarshal(job.Metadata, &m) != nil || m.Livemode == nil {
		return true
	}
	return *m.Livemode
}

// modes are the modes a periodic sweep visits for each tenant.
var modes = []bool{true, false}
