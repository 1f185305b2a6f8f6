package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/jobs"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
)

// importRunBudget bounds BenchmarkImportRunMemory: a 200 MB file is about
// 550,000 rows, more than the job writes in a few minutes on the shared
// machine. The figure is the peak over the run (or its first
// importRunBudget, reported with the rows it got through). Set
// SERVICENET_BENCH_IMPORT_MINUTES to let it run longer.
func importRunBudget() time.Duration {
	if m, err := strconv.ParseFloat(os.Getenv("SERVICENET_BENCH_IMPORT_MINUTES"), 64); err == nil && m > 0 {
		return time.Duration(m * float64(time.Minute))
	}
	return 3 * time.Minute
}

// childRSSMB is a process's resident memory in MiB (Linux).
func childRSSMB(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// BenchmarkImportRunMemory runs the network_import job of a 200 MB JSON
// Lines file (a manufacturer and about 550,000 technicians, stored the way
// createNetworkImport stores an upload) in a child `servicenet serve -mode
// worker` process, and samples that process's resident memory every 100 ms:
// reported is its peak above the idle figure measured before the job was
// queued (target < 150 MB), and the rows the job wrote per second. The run
// is bounded by importRunBudget: the import is streamed and checkpointed,
// so memory does not grow with the rows done and the figure over the budget
// stands for the whole run.
func BenchmarkImportRunMemory(b *testing.B) {
	const size = 200 << 20
	ctx := context.Background()
	db := pgtest.NewDB(b)
	bin := filepath.Join(b.TempDir(), "servicenet")
	build := exec.Command("go", "build", "-o", bin, "github.com/servicenet/servicenet/cmd/servicenet")
	build.Stderr = os.Stderr
	require.NoError(b, build.Run())

	idn := &identity.Service{DB: db.App}
	rc, err := jobs.NewClient(db.App, jobs.Deps{}, jobs.Options{}) // inserts only
	require.NoError(b, err)
	svc, err := network.NewService(db.App, network.Deps{EnqueueImport: jobs.NetworkImportEnqueuer(rc)})
	require.NoError(b, err)

	for i := range b.N {
		ten, key, err := idn.CreateTenant(ctx, identity.NewTenant{Name: "Import memory", Slug: fmt.Sprintf("import-memory-%d", i)}, "bench")
		require.NoError(b, err)
		p := tenants.Principal{TenantID: ten.ID, KeyID: key.ID}

		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(b, err)
		addr := ln.Addr().String()
		require.NoError(b, ln.Close())
		var logs strings.Builder
		cmd := exec.Command(bin, "serve", "-mode", "worker")
		cmd.Env = append(os.Environ(), "DATABASE_URL="+db.OwnerURL, "SERVICENET_ADDR="+addr, "SERVICENET_LOG_LEVEL=warn")
		cmd.Stderr = &logs
		require.NoError(b, cmd.Start())
		stop := func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}
		require.Eventually(b, func() bool {
			resp, err := http.Get("http://" + addr + "/readyz") //nolint:noctx
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, 60*time.Second, 50*time.Millisecond, "the worker did not become ready: %s", &logs)
		time.Sleep(2 * time.Second) // settled: periodic jobs ran on start
		idle, err := childRSSMB(cmd.Process.Pid)
		require.NoError(b, err)

		im, err := svc.UploadImport(ctx, p, network.FormatJSONL, "", &technicianFile{left: size})
		require.NoError(b, err)
		b.ResetTimer()
		start, peak := time.Now(), idle
		var state string
		var done, total int
		for time.Since(start) < importRunBudget() {
			time.Sleep(100 * time.Millisecond)
			rss, err := childRSSMB(cmd.Process.Pid)
			require.NoError(b, err, "the worker died: %s", &logs)
			peak = max(peak, rss)
			require.NoError(b, pg.InTenantTx(ctx, db.App, ten.ID, func(tx pg.TenantTx) error {
				return tx.QueryRow(ctx, `SELECT state, processed_rows, total_rows FROM network_imports WHERE tenant_id = $1 AND id = $2`,
					tx.TenantID, im.ID).Scan(&state, &done, &total)
			}))
			if network.ImportState(state).Finished() {
				break
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		stop()
		require.NotEqual(b, string(network.ImportFailed), state, "%s", &logs)
		above := peak - idle
		b.ReportMetric(above, "rss-above-idle-MB")
		b.ReportMetric(float64(done)/elapsed.Seconds(), "rows/s")
		fmt.Printf("import-run-memory: 200 MB (%d rows) import job in a worker process: %s after %.0f s, %d rows written (%.0f rows/s); resident memory %.0f MB idle, peak %.0f MB above it (target < 150)\n",
			total, state, elapsed.Seconds(), done, float64(done)/elapsed.Seconds(), idle, above)
	}
}
