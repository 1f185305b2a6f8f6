package network

// Per-row errors: what a row got wrong, as a catalog message, stored with
// the import and listed in row order in the reader's language.

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// ImportError is a problem with one row of an import file. Its text is a
// catalog message (MessageI18n), rendered in the reader's language when
// listed (Localize); errors stored before messages had codes have only
// their English Message.
type ImportError struct {
	Row     int    `json:"row" doc:"Line number in the file (the CSV header is line 1)." example:"17"`
	Field   string `json:"field" doc:"The offending field: a JSON path for JSON Lines (coverage[2], licence.expires_on), a column name for CSV." example:"coverage[2]"`
	Message string `json:"message" doc:"What is wrong, in the response's Content-Language when message_i18n is present (otherwise English)." example:"unknown GB/T 2260 region code"`
	// MessageI18n is Message as a catalog code and parameters.
	MessageI18n *i18n.Message `json:"message_i18n,omitempty" doc:"Message as a stable message code and its parameters; absent for errors recorded before row errors had codes."`
}

// rowError is the error m about field of row (English until Localize
// renders it in the reader's language).
func rowError(row int, field string, m i18n.Message) ImportError {
	return ImportError{Row: row, Field: field, Message: m.Render(i18n.English), MessageI18n: &m}
}

// Localize writes the error's message in lang, when it has a code.
func (e *ImportError) Localize(lang string) {
	if e.MessageI18n != nil {
		e.Message = e.MessageI18n.Render(lang)
	}
}

// ListImportErrors lists an import's per-row errors in row order.
func (s *Service) ListImportErrors(ctx context.Context, p tenants.Principal, id string, limit int, cursor string) ([]ImportError, string, error) {
	if err := importReader(p); err != nil {
		return nil, "", err
	}
	page, err := pg.NewKeyset("import_errors", cursor, limit)
	if err != nil {
		return nil, "", err
	}
	after := 0
	if !page.First() {
		if after, err = strconv.Atoi(page.After); err != nil {
			return nil, "", tenants.MalformedCursor(cursor)
		}
	}
	var (
		out  []ImportError
		next string
	)
	err = pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
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
	rows, err := tx.Query(ctx, `SELECT seq, row_number, field, message, message_code, message_params FROM network_import_errors
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
			e      ImportError
			seq    int
			code   *string
			params map[string]any
		)
		if err := rows.Scan(&seq, &e.Row, &e.Field, &e.Message, &code, &params); err != nil {
			return nil, "", err
		}
		if code != nil {
			e.MessageI18n = &i18n.Message{Code: *code, Params: params}
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
	_, err = tx.Exec(ctx, `INSERT INTO network_import_errors (tenant_id, import_id, seq, row_number, field, message,
			message_code, message_params)
		SELECT $1, $2, r.seq, r.row, r.field, r.message, r.message_i18n->>'code', r.message_i18n->'params'
		FROM jsonb_to_recordset($3::jsonb) AS r(seq bigint, "row" int, field text, message text, message_i18n jsonb)`,
		tx.TenantID, r.importID, data)
	return err
}

// rowErrors turns validation problems into per-row errors; CSV rows name
// their columns, and a short offending text is quoted (import.got).
func (r *impRun) rowErrors(row int, fes []tenants.FieldError) []ImportError {
	out := make([]ImportError, 0, len(fes))
	for _, fe := range fes {
		field := fe.Location
		if r.format == FormatCSV {
			field = csvField(field)
		}
		msg := i18n.M("import.text", "Text", fe.Message) // a problem without a code: its English text
		if fe.Msg != nil {
			msg = *fe.Msg
		}
		if s, ok := fe.Value.(string); ok && s != "" && len(s) <= 80 {
			msg = i18n.M("import.got", "Problem", msg, "Value", strconv.Quote(s))
		}
		out = append(out, rowError(row, field, msg))
	}
	return out
}
