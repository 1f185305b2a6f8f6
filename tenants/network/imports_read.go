package network

// Reading imports back: one import with its first errors, or the list.

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

const importColumns = `id, format, charset, state, file_sha256, total_rows, processed_rows, counts, failure, failure_code,
	failure_params, created_by, created_at, started_at, finished_at`

func scanImport(row pgx.Row) (Import, error) {
	var (
		im     Import
		code   *string
		params map[string]any
	)
	err := row.Scan(&im.ID, &im.Format, &im.Charset, &im.State, &im.FileSHA256, &im.TotalRows, &im.ProcessedRows, &im.Counts,
		&im.Failure, &code, &params, &im.CreatedBy, &im.CreatedAt, &im.StartedAt, &im.FinishedAt)
	if code != nil {
		im.FailureI18n = &i18n.Message{Code: *code, Params: params}
	}
	return im, err
}

func getImport(ctx context.Context, tx pg.TenantTx, id string) (Import, error) {
	if !tenants.ValidID(tenants.PrefixImport, id) {
		return Import{}, tenants.NotFound("import")
	}
	im, err := scanImport(tx.QueryRow(ctx, `SELECT `+importColumns+` FROM network_imports WHERE tenant_id = $1 AND id = $2`,
		tx.TenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Import{}, tenants.NotFound("import")
	}
	return im, err
}

func importReader(p tenants.Principal) error {
	if p.NodeID != "" {
		return tenants.NotFound("import")
	}
	return nil
}

// GetImport returns an import with its first page of per-row errors.
func (s *Service) GetImport(ctx context.Context, p tenants.Principal, id string) (Import, error) {
	if err := importReader(p); err != nil {
		return Import{}, err
	}
	return s.loadImport(ctx, p.TenantID, id)
}

// ListImports lists the tenant's imports, newest first.
func (s *Service) ListImports(ctx context.Context, p tenants.Principal, limit int, cursor string) ([]Import, string, error) {
	if err := importReader(p); err != nil {
		return nil, "", err
	}
	page, err := pg.NewKeyset("imports", cursor, limit)
	if err != nil {
		return nil, "", err
	}
	out, err := pg.QueryRows(ctx, s.DB, p.TenantID, func(r pgx.CollectableRow) (Import, error) { return scanImport(r) }, `SELECT `+importColumns+` FROM network_imports
			WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
		page.AfterOr("imp_~"), page.Fetch()) // newest first: the first page starts after every id
	if err != nil {
		return nil, "", err
	}
	out, next := pg.Page(page, out, func(im Import) string { return im.ID })
	return out, next, nil
}

// loadImport reads an import and its first page of errors.
func (s *Service) loadImport(ctx context.Context, tenantID, id string) (Import, error) {
	var im Import
	err := pg.InTenantTx(ctx, s.DB, tenantID, func(tx pg.TenantTx) error {
		var err error
		if im, err = getImport(ctx, tx, id); err != nil {
			return err
		}
		im.Errors, im.ErrorsNextCursor, err = listImportErrors(ctx, tx, id, 0, tenants.DefaultPageLimit)
		return err
	})
	return im, pg.Translate(err)
}
