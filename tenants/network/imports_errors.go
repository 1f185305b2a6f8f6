package network

// Per-row errors: what a row got wrong, as a catalog message, stored with
// the import and listed in row order in the reader's language.

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// ImportError is a problem with one row of an import file.
type ImportError struct {
	Row     int    `json:"row" doc:"Line number in the file (the CSV header is line 1)." example:"17"`
	Field   string `json:"field" doc:"The offending field: a JSON path for JSON Lines (coverage[2], licence.expires_on), a column name for CSV." example:"coverage[2]"`
	Message string `json:"message" doc:"What is wrong." example:"unknown GB/T 2260 region code"`
}

// ListImportErrors lists an import's per-row errors in row order.
func (s *Service) ListImportErrors(ctx context.Context, p tenants.Principal, id string, limit int, cursor string) ([]ImportError, string, error) {
	if err := importReader(p); err != nil {
		return nil, "", err
	}
	after := 0
	if cursor != "" {
		key, err := tenants.DecodeCursor("import_errors", cursor)
		if err != nil {
			return nil, "", err
		}
		if after, err = strconv.Atoi(key); err != nil {
			return nil, "", tenants.MalformedCursor(cursor)
		}
	}
	var (
		out  []ImportError
		next string
	)
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if _, err := getImport(ctx, tx, id); err != nil {
			return err
		}
		var err error
		out, next, err = listImportErrors(ctx, tx, id, after, limit)
		return err
	})
	if out == nil {
		out = []ImportError{}
	}
	return out, next, pg.Translate(err)
}

func listImportErrors(ctx context.Context, tx pg.TenantTx, id string, afterSeq, limit int) ([]ImportError, string, error) {
	rows, err := tx.Query(ctx, `SELECT seq, row_number, field, message FROM network_import_errors
		WHERE tenant_id = $1 AND import_id = $2 AND seq > $3 ORDER BY seq LIMIT $4`, tx.TenantID, id, afterSeq, limit+1)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	var (
		out  []ImportError
		seqs []int
	)
	for rows.Next() {
		var (
			e   ImportError
			seq int
		)
		if err := rows.Scan(&seq, &e.Row, &e.Field, &e.Message); err != nil {
			return nil, "", err
		}
		out, seqs = append(out, e), append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	seqs, next := tenants.NextPage("import_errors", seqs, limit, strconv.Itoa)
	return out[:len(seqs)], next, nil // out and seqs run in step
}

// maxErrorsPerRow bounds the errors kept of one row; an error's seq is its
// row times maxErrorsPerRow plus its rank, so that errors list in row order
// whichever phase wrote them.
const maxErrorsPerRow = 1000

func (r *impRun) insertErrors(ctx context.Context, tx pg.TenantTx, errs []ImportError) error {
	if len(errs) == 0 {
		return nil
	}
	type rec struct {
		Seq int64 `json:"seq"`
		ImportError
	}
	recs := make([]rec, 0, len(errs))
	rank, prev := 0, -1
	for _, e := range errs {
		if e.Row != prev {
			rank, prev = 0, e.Row
		}
		if rank < maxErrorsPerRow {
			recs = append(recs, rec{Seq: int64(e.Row)*maxErrorsPerRow + int64(rank), ImportError: e})
		}
		rank++
	}
	data, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO network_import_errors (tenant_id, import_id, seq, row_number, field, message)
		SELECT $1, $2, r.seq, r.row, r.field, r.message
		FROM jsonb_to_recordset($3::jsonb) AS r(seq bigint, "row" int, field text, message text)`,
		tx.TenantID, r.importID, data)
	return err
}

// rowErrors turns validation problems into per-row errors; CSV rows name
// their columns.
func (r *impRun) rowErrors(row int, fes []tenants.FieldError) []ImportError {
	out := make([]ImportError, 0, len(fes))
	for _, fe := range fes {
		field := fe.Location
		if r.format == FormatCSV {
			field = csvField(field)
		}
		msg := fe.Message
		if s, ok := fe.Value.(string); ok && s != "" && len(s) <= 80 {
			msg += " (got " + strconv.Quote(s) + ")"
		}
		out = append(out, ImportError{Row: row, Field: field, Message: msg})
	}
	return out
}
