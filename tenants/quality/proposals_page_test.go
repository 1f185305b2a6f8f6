package quality_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/domaintest"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
	"github.com/servicenet/servicenet/tenants/quality"
)

// TestProposalListsArePaged: the grade and level proposal lists answer a
// page at a time with a next_cursor, so a tenant with more than 500
// proposals reads every one of them once (they stopped at 500, with no
// cursor); a node-bound key pages through its subtree's only; a cursor the
// list did not make is invalid at cursor.
func TestProposalListsArePaged(t *testing.T) {
	e := domaintest.New(t)
	// Node B's subtree: B and 20 depots under it, each with one proposal
	// of each kind (every 26th), the others of nodes elsewhere.
	node := func(in network.NewNode) network.Node {
		n, err := e.Network.CreateNode(e.Ctx, e.Admin, in)
		require.NoError(t, err)
		return n
	}
	root := node(network.NewNode{NodeFields: network.NodeFields{ExternalCode: "MFR", Name: "总部"}, Tier: network.TierManufacturer, Status: "active"})
	b := node(network.NewNode{NodeFields: network.NodeFields{ExternalCode: "SC-B", Name: "B 服务中心", Grade: "B",
		Address: network.Address{RegionCode: "370212", Line: "海尔路1号"}, Coverage: []string{"370200"},
		Categories: []string{"washer"}, ServiceKinds: []string{"repair"}, DailyCapacity: 10},
		Tier: network.TierServiceCenter, ParentID: root.ID, Status: "active"})
	var depots []string
	for i := range 20 {
		depots = append(depots, node(network.NewNode{NodeFields: network.NodeFields{ExternalCode: "SD-" + strconv.Itoa(i), Name: "专修"},
			Tier: network.TierSpecialistDepot, ParentID: b.ID}).ID)
	}
	// 520 proposals of each kind: 510 of one run (one created_at, ordered
	// by ID), 10 of an older run.
	require.NoError(t, pg.InTenantTx(e.Ctx, e.Quality.DB, e.Tenant, func(tx pg.TenantTx) error {
		for _, q := range strings.Split(`
			INSERT INTO grading_policies (tenant_id, version, policy, actor) VALUES ($1, 1, '{}', 'test');
			INSERT INTO level_policies (tenant_id, version, policy, actor) VALUES ($1, 1, '{}', 'test');
			INSERT INTO grading_runs (tenant_id, id, period_from, period_to, policy_version, actor, created_at) VALUES
				($1, 'grr_00000000000000000000000001', '2026-10-01', '2026-10-31', 1, 'test', now() - interval '1 month'),
				($1, 'grr_00000000000000000000000002', '2026-11-01', '2026-11-30', 1, 'test', now());
			INSERT INTO level_runs (tenant_id, id, period_from, period_to, policy_version, actor, created_at) VALUES
				($1, 'lvr_00000000000000000000000001', '2026-10-01', '2026-10-31', 1, 'test', now() - interval '1 month'),
				($1, 'lvr_00000000000000000000000002', '2026-11-01', '2026-11-30', 1, 'test', now());
			INSERT INTO grade_proposals (tenant_id, id, run_id, node_id, period_from, period_to, policy_version, score, indicators,
				tickets, proposed_grade, consequence, created_at)
			SELECT $1, 'grp_' || lpad(i::text, 26, '0'), CASE WHEN i <= 10 THEN 'grr_00000000000000000000000001' ELSE 'grr_00000000000000000000000002' END,
				CASE WHEN i % 26 = 0 THEN ($2::text[])[i / 26] ELSE 'nod_' || i END, '2026-11-01', '2026-11-30', 1, 80, '[]', 10, 'A', 'none',
				CASE WHEN i <= 10 THEN now() - interval '1 month' ELSE now() END
			FROM generate_series(1, 520) i;
			INSERT INTO level_proposals (tenant_id, id, run_id, technician_id, node_id, category, period_from, period_to, policy_version,
				score, indicators, tickets, proposed_level, consequence, created_at)
			SELECT $1, 'lvp_' || lpad(i::text, 26, '0'), CASE WHEN i <= 10 THEN 'lvr_00000000000000000000000001' ELSE 'lvr_00000000000000000000000002' END,
				'tec_' || i, CASE WHEN i % 26 = 0 THEN ($2::text[])[i / 26] ELSE 'nod_' || i END, 'washer', '2026-11-01', '2026-11-30', 1, 80, '[]', 10, 3, 'none',
				CASE WHEN i <= 10 THEN now() - interval '1 month' ELSE now() END
			FROM generate_series(1, 520) i`, ";") {
			args := []any{tx.TenantID}
			if strings.Contains(q, "$2") {
				args = append(args, depots)
			}
			if _, err := tx.Exec(e.Ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	}))
	// The newest run's proposals by ID, then the older run's.
	var want, wantB []string
	for _, r := range [][2]int{{11, 520}, {1, 10}} {
		for i := r[0]; i <= r[1]; i++ {
			want = append(want, pad(i))
			if i%26 == 0 {
				wantB = append(wantB, pad(i))
			}
		}
	}
	nodeB := e.As(tenants.Principal{NodeID: b.ID}, tenants.RoleNodeManager)

	type lister func(p tenants.Principal, limit int, cursor string) ([]string, string, error)
	grades := func(p tenants.Principal, limit int, cursor string) ([]string, string, error) {
		ps, next, err := e.Quality.ListProposals(e.Ctx, p, quality.ProposalFilter{Limit: limit, Cursor: cursor})
		ids := []string{}
		for _, pr := range ps {
			ids = append(ids, pr.ID[4:])
		}
		return ids, next, err
	}
	levels := func(p tenants.Principal, limit int, cursor string) ([]string, string, error) {
		ps, next, err := e.Quality.ListLevelProposals(e.Ctx, p, quality.LevelProposalFilter{Limit: limit, Cursor: cursor})
		ids := []string{}
		for _, pr := range ps {
			ids = append(ids, pr.ID[4:])
		}
		return ids, next, err
	}
	for name, list := range map[string]lister{"GradeProposals": grades, "LevelProposals": levels} {
		t.Run(name, func(t *testing.T) {
			all := func(p tenants.Principal, limit int) []string {
				t.Helper()
				var got []string
				cursor := ""
				for range 100 {
					ids, next, err := list(p, limit, cursor)
					require.NoError(t, err)
					require.LessOrEqual(t, len(ids), limit)
					got = append(got, ids...)
					if next == "" {
						return got
					}
					cursor = next
				}
				t.Fatal("no last page")
				return nil
			}
			require.Equal(t, want, all(e.Admin, 200), "every proposal once, newest first (failed before: the first 500)")
			require.Equal(t, want, all(e.Admin, 7))
			require.Equal(t, wantB, all(nodeB, 3), "a node-bound key pages through its subtree's")
			ids, _, err := list(e.Admin, 0, "")
			require.NoError(t, err)
			require.Len(t, ids, tenants.DefaultPageLimit)

			for _, bad := range []string{"bm90LWEtY3Vyc29y", tenants.EncodeCursor("grade_proposals_x", "y"),
				tenants.EncodeCursor(map[string]string{"GradeProposals": "grade_proposals", "LevelProposals": "level_proposals"}[name], "not-a-time|x")} {
				_, _, err := list(e.Admin, 10, bad)
				require.Equal(t, []string{"cursor"}, domaintest.Fields(t, err), bad)
			}
		})
	}
}

func pad(i int) string {
	s := "00000000000000000000000000" + strconv.Itoa(i)
	return s[len(s)-26:]
}
