package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
	"github.com/servicenet/servicenet/tenants/network"
)

const (
	importNodes       = 10_000
	importTechnicians = 50_000
)

// BenchmarkNetworkImport imports the 10,000-node / 50,000-technician file
// (network.LargeNetwork, 36 MB of JSON Lines) the way createNetworkImport and
// its job do: CreateImport (the upload's structure check and the stored
// file), then RunImport (what the network_import job runs). Reported as
// rows/s for
//
//   - first: into an empty tenant, every row created;
//   - again: the same file into the tenant that already has it, every row
//     unchanged and nothing written.
func BenchmarkNetworkImport(b *testing.B) {
	ctx := context.Background()
	db := pgtest.NewDB(b)
	idn := &identity.Service{DB: db.App}
	// The job is run here, not queued.
	svc, err := network.NewService(db.App, network.Deps{EnqueueImport: func(context.Context, pgx.Tx, string, string) error { return nil }})
	require.NoError(b, err)
	file := network.LargeNetwork(1, importNodes, importTechnicians)
	const rows = importNodes + importTechnicians
	tenantNo := 0
	newTenant := func(b *testing.B) tenants.Principal {
		tenantNo++
		ten, key, err := idn.CreateTenant(ctx, identity.NewTenant{Name: "Import bench", Slug: fmt.Sprintf("import-bench-%d", tenantNo)}, "bench")
		require.NoError(b, err)
		return tenants.Principal{TenantID: ten.ID, KeyID: key.ID}
	}
	importOnce := func(b *testing.B, p tenants.Principal) network.Import {
		im, err := svc.CreateImport(ctx, p, network.FormatJSONL, file)
		require.NoError(b, err)
		im, err = svc.RunImport(ctx, p.TenantID, im.ID)
		require.NoError(b, err)
		require.Equal(b, network.ImportSucceeded, im.State, "%v", im.Errors)
		return im
	}
	var first, again float64

	b.Run("first", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			p := newTenant(b)
			b.StartTimer()
			im := importOnce(b, p)
			require.Equal(b, importNodes, im.Counts.Nodes.Created)
			require.Equal(b, importTechnicians, im.Counts.Technicians.Created)
		}
		first = float64(rows*b.N) / b.Elapsed().Seconds()
		b.ReportMetric(first, "rows/s")
	})
	b.Run("again", func(b *testing.B) {
		b.StopTimer()
		p := newTenant(b)
		importOnce(b, p)
		b.StartTimer()
		for range b.N {
			im := importOnce(b, p)
			require.Equal(b, importNodes, im.Counts.Nodes.Unchanged)
			require.Equal(b, importTechnicians, im.Counts.Technicians.Unchanged)
		}
		again = float64(rows*b.N) / b.Elapsed().Seconds()
		b.ReportMetric(again, "rows/s")
	})
	b.Logf("network-import: %d nodes + %d technicians: first=%.0f rows/s again=%.0f rows/s", importNodes, importTechnicians, first, again)
}
