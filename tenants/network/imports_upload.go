package network

// Uploading a file: read as it arrives, checked, stored in chunks and
// queued in one transaction.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// CreateImport is UploadImport of a file held in memory.
func (s *Service) CreateImport(ctx context.Context, p tenants.Principal, format string, file []byte) (Import, error) {
	if len(file) > MaxImportBytes {
		return Import{}, tenants.InvalidMsg("file", i18n.M("network.file_too_large", "Max", MaxImportBytes), nil)
	}
	return s.UploadImport(ctx, p, format, "", bytes.NewReader(file))
}

// MaxConcurrentUploads is how many uploads one tenant may have in progress
// at once, across every replica; one more is refused (CodeRateLimited).
const MaxConcurrentUploads = 3

// importChunkBytes is the size of the chunks an uploaded file is stored in.
const importChunkBytes = 1 << 20

// UploadImport reads file as it arrives, checking that it is well-formed
// (format FormatJSONL or FormatCSV; charset one of Charsets, or "" to
// detect it with detectCharset) and storing it in chunks, and commits it
// as a queued import with its job, in one transaction. Memory does not grow
// with the file: what is held is one chunk and one line. A malformed file is
// refused (CodeInvalid, location "file", naming the line) and nothing is
// stored; an error of file's own reader (the caller's size limit, a client
// gone away) is returned as it is, wrapped. A tenant with
// MaxConcurrentUploads uploads in progress is refused (CodeRateLimited)
// before anything is read. Row values are checked by the job, which reports
// bad rows per row. The caller bounds the file's size.
func (s *Service) UploadImport(ctx context.Context, p tenants.Principal, format, charset string, file io.Reader) (Import, error) {
	if p.NodeID != "" {
		return Import{}, tenants.ErrorMsg(tenants.CodeForbidden, i18n.M("network.node_key_import"))
	}
	if format != FormatJSONL && format != FormatCSV {
		return Import{}, tenants.InvalidMsg("format", i18n.M("network.import_media_type"), format)
	}
	declared, ok := ParseCharset(charset)
	if !ok {
		return Import{}, invalidCharset("charset", charset)
	}
	var out Import
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		if err := takeUploadSlot(ctx, tx); err != nil {
			return err
		}
		id := tenants.NewID(tenants.PrefixImport)
		if _, err := tx.Exec(ctx, `INSERT INTO network_imports (tenant_id, id, format, file_sha256, created_by)
			VALUES ($1, $2, $3, '', $4)`, tx.TenantID, id, format, p.Subject()); err != nil {
			return err
		}
		sum := sha256.New()
		chunks := &chunkWriter{ctx: ctx, tx: tx, importID: id}
		raw := bufio.NewReaderSize(io.TeeReader(file, io.MultiWriter(sum, chunks)), sniffBytes)
		cs := declared
		if cs == "" {
			cs = detectCharset(raw)
		}
		parsed, err := readImport(format, cs, raw, false, nil)
		if err != nil {
			return err
		}
		if err := chunks.flush(); err != nil {
			return err
		}
		out, err = scanImport(tx.QueryRow(ctx, `UPDATE network_imports SET file_sha256 = $3, total_rows = $4, charset = $5
			WHERE tenant_id = $1 AND id = $2 RETURNING `+importColumns,
			tx.TenantID, id, hex.EncodeToString(sum.Sum(nil)), parsed.total, cs))
		if err != nil {
			return err
		}
		return s.enqueueImport(ctx, tx.Tx, p.TenantID, id)
	})
	return out, pg.Translate(err)
}

// takeUploadSlot takes one of the tenant's MaxConcurrentUploads upload
// slots for the rest of tx: a transaction-scoped advisory lock, so the
// limit holds across replicas and a slot is freed when the upload commits,
// rolls back or its connection dies.
func takeUploadSlot(ctx context.Context, tx pg.TenantTx) error {
	for slot := 1; slot <= MaxConcurrentUploads; slot++ {
		var got bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('network_import_upload:' || $1), $2)`,
			tx.TenantID, slot).Scan(&got); err != nil {
			return err
		}
		if got {
			return nil
		}
	}
	return tenants.ErrorMsg(tenants.CodeRateLimited, i18n.M("network.uploads_in_progress", "Count", MaxConcurrentUploads))
}

// chunkWriter stores what is written to it as the import's chunks.
type chunkWriter struct {
	ctx      context.Context
	tx       pg.TenantTx
	importID string
	buf      []byte
	seq      int
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, importChunkBytes)
		}
		k := min(len(p), importChunkBytes-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == importChunkBytes {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.tx.Exec(w.ctx, `INSERT INTO network_import_chunks (tenant_id, import_id, seq, data) VALUES ($1, $2, $3, $4)`,
		w.tx.TenantID, w.importID, w.seq, w.buf)
	w.seq++
	w.buf = w.buf[:0]
	return err
}

// chunkReader reads an import's stored chunks back in order, one at a time,
// each in a short transaction of its own: a run reads the file while its
// batches commit.
type chunkReader struct {
	ctx      context.Context
	db       pg.DB
	tenantID string
	importID string
	next     int
	cur      []byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		err := pg.InTenantTx(r.ctx, r.db, r.tenantID, func(tx pg.TenantTx) error {
			return tx.QueryRow(r.ctx, `SELECT data FROM network_import_chunks WHERE tenant_id = $1 AND import_id = $2 AND seq = $3`,
				tx.TenantID, r.importID, r.next).Scan(&r.cur)
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, io.EOF
		}
		if err != nil {
			return 0, err
		}
		r.next++
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
