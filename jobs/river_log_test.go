package jobs

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

// River's "Producer job counts" lines go to debug; its other lines keep
// their level, through With and WithGroup too.
func TestRiverLoggerQuietsProducerCounts(t *testing.T) {
	var out bytes.Buffer
	log := riverLogger(slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))).With("client", "c1")
	ctx := context.Background()
	log.InfoContext(ctx, "producer: Producer job counts", "num_completed_jobs", 3)
	assert.Empty(t, out.String(), "the counts at info are dropped when debug is off")
	log.InfoContext(ctx, "client: River client started")
	assert.Contains(t, out.String(), `"level":"INFO","msg":"client: River client started","client":"c1"`)

	out.Reset()
	debug := riverLogger(slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))).WithGroup("river")
	debug.InfoContext(ctx, "producer: Producer job counts", "num_completed_jobs", 3)
	assert.Contains(t, out.String(), `"level":"DEBUG","msg":"producer: Producer job counts","river":{"num_completed_jobs":3}`)

	assert.Nil(t, riverLogger(nil))
}
