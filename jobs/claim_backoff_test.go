package jobs

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A failing adjudication waits 1 s, then twice as long after each failure,
// at most 10 min; a success forgets it; a full backoff forgets the waits
// that are over.
func TestClaimAdjudicationBackoff(t *testing.T) {
	w := &ClaimAdjudicationSweepWorker{}
	boom := errors.New("boom")
	require.False(t, w.waiting("k"))

	waits := func(want time.Duration) {
		t.Helper()
		before := time.Now()
		w.record("k", boom)
		after := time.Now()
		next := w.backoff["k"].next
		require.False(t, next.Before(before.Add(want)), "waits %v", want)
		require.False(t, next.After(after.Add(want)), "waits %v", want)
		require.True(t, w.waiting("k"))
	}
	waits(time.Second)
	waits(2 * time.Second)
	waits(4 * time.Second)
	for range 12 {
		w.record("k", boom)
	}
	waits(10 * time.Minute)

	w.record("k", nil)
	require.False(t, w.waiting("k"), "a success forgets the failures")
	w.record("k", boom)
	require.Equal(t, 1, w.backoff["k"].failures)

	// Full: the entries whose wait is over go, the others stay.
	for i := range claimBackoffLimit - 1 {
		w.backoff["old"+strconv.Itoa(i)] = claimRetry{failures: 1, next: time.Now().Add(-time.Second)}
	}
	w.record("new", boom)
	require.Len(t, w.backoff, 2)
	require.True(t, w.waiting("k"))
	require.True(t, w.waiting("new"))
}
