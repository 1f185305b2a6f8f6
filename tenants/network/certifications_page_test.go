package network_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// TestNetworkCertificationsArePaged: the network's training and
// certification list answers a page at a time with a next_cursor, soonest
// expiry first and those that do not expire last, so a network with more
// than 500 records lists every one once (it stopped at 500, with no
// cursor, dropping the records that do not expire); a cursor the list did
// not make is invalid at cursor.
func TestNetworkCertificationsArePaged(t *testing.T) {
	tr := newTree(t)
	tech, err := tr.Network.CreateTechnician(tr.Ctx, tr.Admin, network.NewTechnician{ExternalCode: "T-1", NodeID: tr.point.ID,
		Name: "李师傅", Phone: "+86 138 0532 0000"})
	require.NoError(t, err)
	// 520 records: every 5th does not expire, the others expire on one of
	// 7 days (many share a day, so the ID orders them).
	require.NoError(t, pg.InTenantTx(tr.Ctx, tr.Network.DB, tr.Tenant, func(tx pg.TenantTx) error {
		_, err := tx.Exec(tr.Ctx, `INSERT INTO technician_certifications (tenant_id, id, technician_id, course, kind, completed_on,
				result, expires_on, created_by)
			SELECT $1, 'crt_' || lpad(i::text, 26, '0'), $2, 'washer-advanced', 'certification', '2026-01-01', 'passed',
				CASE WHEN i % 5 = 0 THEN NULL ELSE date '2027-01-01' + i % 7 END, 'test'
			FROM generate_series(1, 520) i`, tx.TenantID, tech.ID)
		return err
	}))
	type rec struct {
		id  string
		exp string // "" for none
	}
	var want []rec
	for i := 1; i <= 520; i++ {
		r := rec{id: "crt_" + pad(i)}
		if i%5 != 0 {
			r.exp = time.Date(2027, 1, 1+i%7, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
		}
		want = append(want, r)
	}
	slices.SortFunc(want, func(a, b rec) int {
		switch {
		case a.exp == b.exp:
			return strings.Compare(a.id, b.id)
		case a.exp == "":
			return 1
		case b.exp == "":
			return -1
		}
		return strings.Compare(a.exp, b.exp)
	})
	var wantIDs []string
	for _, r := range want {
		wantIDs = append(wantIDs, r.id)
	}

	all := func(p tenants.Principal, f network.CertificationFilter) []string {
		t.Helper()
		var got []string
		for range 200 {
			cs, next, err := tr.Network.ListNetworkCertifications(tr.Ctx, p, f)
			require.NoError(t, err)
			require.LessOrEqual(t, len(cs), tenants.PageLimit(f.Limit))
			for _, c := range cs {
				got = append(got, c.ID)
			}
			if next == "" {
				return got
			}
			f.Cursor = next
		}
		t.Fatal("no last page")
		return nil
	}
	require.Equal(t, wantIDs, all(tr.Admin, network.CertificationFilter{Limit: 200}),
		"every record once, those that do not expire last (failed before: the first 500)")
	require.Equal(t, wantIDs, all(tr.Admin, network.CertificationFilter{Limit: 7}))
	require.Equal(t, wantIDs, all(tr.As(tenants.Principal{NodeID: tr.depot.ID}, tenants.RoleNodeManager), network.CertificationFilter{Limit: 50}))
	require.Empty(t, all(tr.As(tenants.Principal{NodeID: tr.center.ID}, tenants.RoleNodeManager),
		network.CertificationFilter{Limit: 50, TechnicianID: "tec_01jd3zq8w6v7t3y2k9x4n5m6pa"}))
	cs, next, err := tr.Network.ListNetworkCertifications(tr.Ctx, tr.Admin, network.CertificationFilter{})
	require.NoError(t, err)
	require.Len(t, cs, tenants.DefaultPageLimit)
	require.NotEmpty(t, next)

	for _, bad := range []string{"bm90LWEtY3Vyc29y", tenants.EncodeCursor("network_certifications", "2027-13-01|crt_x"),
		tenants.EncodeCursor("network_certifications", "0000-01-01|crt_x"), tenants.EncodeCursor("network_certifications", "2027-01-01|"),
		tenants.EncodeCursor("network_certifications", "crt_x")} {
		_, _, err := tr.Network.ListNetworkCertifications(tr.Ctx, tr.Admin, network.CertificationFilter{Cursor: bad})
		require.Equal(t, []string{"cursor"}, domaintest.Fields(t, err), bad)
	}
}

func pad(i int) string {
	s := "00000000000000000000000000" + strconv.Itoa(i)
	return s[len(s)-26:]
}
