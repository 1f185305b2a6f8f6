package network

// The file's index (phase 0) and the look-ups a batch needs: the first row
// of each external code, the nodes already in the network, unknown regions.

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"
	"github.com/servicenet/servicenet/internal/pg"
)

// index records the rows' external codes (phaseIndex). A code's first row
// wins: batches run in file order, and a later row's insert does nothing.
func (r *impRun) index(ctx context.Context, tx pg.TenantTx, nodes []*impNode, techs []*impTech) error {
	type rec struct {
		Kind string `json:"kind"`
		Code string `json:"code"`
		Row  int    `json:"row"`
		Tier string `json:"tier"`
	}
	seen := map[[2]string]bool{}
	var recs []rec
	add := func(kind, code string, row int, tier string) {
		if code == "" || seen[[2]string{kind, code}] {
			return
		}
		seen[[2]string{kind, code}] = true
		recs = append(recs, rec{kind, code, row, tier})
	}
	for _, n := range nodes {
		add("node", n.in.ExternalCode, n.row, n.in.Tier)
	}
	for _, t := range techs {
		add("technician", t.in.ExternalCode, t.row, "")
	}
	if len(recs) == 0 {
		return nil
	}
	data, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO network_import_codes (tenant_id, import_id, kind, external_code, row_number, tier)
		SELECT $1, $2, r.kind, r.code, r.row, r.tier FROM jsonb_to_recordset($3::jsonb) AS r(kind text, code text, "row" int, tier text)
		ON CONFLICT DO NOTHING`, tx.TenantID, r.importID, data)
	return err
}

// impIndexed is a code's first row in the file.
type impIndexed struct {
	row    int
	tier   Tier
	failed bool
}

func (r *impRun) loadIndex(ctx context.Context, tx pg.TenantTx, kind string, codes []string) (map[string]impIndexed, error) {
	rows, err := tx.Query(ctx, `SELECT external_code, row_number, tier, failed FROM network_import_codes
		WHERE tenant_id = $1 AND import_id = $2 AND kind = $3 AND external_code = ANY($4)`, tx.TenantID, r.importID, kind, codes)
	if err != nil {
		return nil, err
	}
	out := map[string]impIndexed{}
	var (
		code string
		e    impIndexed
	)
	_, err = pgx.ForEachRow(rows, []any{&code, &e.row, &e.tier, &e.failed}, func() error { out[code] = e; return nil })
	return out, err
}

// loadNodes reads the network's nodes of the given external codes.
func loadNodesByCode(ctx context.Context, tx pg.TenantTx, codes []string) (map[string]*impExisting, error) {
	rows, err := tx.Query(ctx, `SELECT id, external_code, tier, coalesce(parent_id, ''), status
		FROM nodes WHERE tenant_id = $1 AND external_code = ANY($2)`, tx.TenantID, codes)
	if err != nil {
		return nil, err
	}
	out := map[string]*impExisting{}
	var e impExisting
	_, err = pgx.ForEachRow(rows, []any{&e.id, &e.code, &e.tier, &e.parentID, &e.status}, func() error {
		c := e
		out[e.code] = &c
		return nil
	})
	return out, err
}

// unknownRegions returns which of codes are not GB/T 2260 region codes.
func unknownRegions(ctx context.Context, tx pg.TenantTx, codes []string) (map[string]bool, error) {
	rows, err := tx.Query(ctx, `SELECT c FROM unnest($1::text[]) AS c WHERE NOT EXISTS (SELECT FROM regions WHERE code = c)`, codes)
	if err != nil {
		return nil, err
	}
	unknown, err := pgx.CollectRows(rows, pgx.RowTo[string])
	out := map[string]bool{}
	for _, c := range unknown {
		out[c] = true
	}
	return out, err
}

// codeSet collects distinct non-empty codes.
type codeSet struct {
	seen map[string]bool
	list []string
}

func (s *codeSet) add(c string) {
	if c == "" || s.seen[c] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[c] = true
	s.list = append(s.list, c)
}

func (s *codeSet) addRegion(c string) {
	if RegionLevel(c) != 0 {
		s.add(c)
	}
}

// markFailed records in the index that these node rows were not imported,
// for the rows that name them as parent or node.
func (r *impRun) markFailed(ctx context.Context, tx pg.TenantTx, failed []*impNode) error {
	if len(failed) == 0 {
		return nil
	}
	codes := make([]string, len(failed))
	rows := make([]int32, len(failed))
	for i, n := range failed {
		codes[i], rows[i] = n.in.ExternalCode, int32(n.row)
	}
	_, err := tx.Exec(ctx, `UPDATE network_import_codes c SET failed = true
		FROM unnest($3::text[], $4::int[]) AS f(code, row_number)
		WHERE c.tenant_id = $1 AND c.import_id = $2 AND c.kind = 'node' AND c.external_code = f.code AND c.row_number = f.row_number`,
		tx.TenantID, r.importID, codes, rows)
	return err
}

// impExisting is a node already in the network.
type impExisting struct {
	id, parentID string
	tier         Tier
	status       NodeStatus
	code         string
}
