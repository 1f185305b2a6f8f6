package network

// Network imports: bulk loads of nodes and technicians from a JSON Lines or
// CSV file, run by a job with progress, counts and per-row errors. This file
// holds the import's public shape; the others hold one step each: upload
// (imports_upload.go), parsing (imports_parse.go, _jsonl, _csv, _charset),
// the run and its lease (imports_run.go, _lease), the file's index
// (imports_index.go), row validation (imports_validate.go), writing rows
// (imports_apply.go), per-row errors (imports_errors.go) and reading imports
// back (imports_read.go).

import (
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
)

// Import file formats.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

// MaxImportBytes is the largest import file accepted.
const MaxImportBytes = 64 << 20

// importChunk is how many rows one set-based statement writes.
const importChunk = 1000

// ImportState is where an import stands.
type ImportState string

// Import states: queued until the job picks it up, running while it works,
// then one of the three final states.
const (
	ImportQueued              ImportState = "queued"
	ImportRunning             ImportState = "running"
	ImportSucceeded           ImportState = "succeeded"
	ImportCompletedWithErrors ImportState = "completed_with_errors"
	ImportFailed              ImportState = "failed"
)

// Finished reports whether the import has reached a final state.
func (s ImportState) Finished() bool {
	return s == ImportSucceeded || s == ImportCompletedWithErrors || s == ImportFailed
}

// ImportTally counts what an import did with the rows of one type.
type ImportTally struct {
	Created   int `json:"created" doc:"Rows that created an object." example:"300"`
	Updated   int `json:"updated" doc:"Rows that changed an existing object (or moved a node)." example:"2"`
	Unchanged int `json:"unchanged" doc:"Rows identical to the stored object: nothing was written." example:"40"`
	Failed    int `json:"failed" doc:"Rows refused with per-row errors." example:"1"`
}

// ImportCounts are an import's results by row type.
type ImportCounts struct {
	Nodes       ImportTally `json:"nodes"`
	Technicians ImportTally `json:"technicians"`
}

// Import is a bulk import of nodes and technicians and its progress.
type Import struct {
	ID            string       `json:"id" example:"imp_01jd3zq8w6v7t3y2k9x4n5m6pf"`
	Format        string       `json:"format" enum:"jsonl,csv" example:"jsonl"`
	Charset       string       `json:"charset" enum:"utf-8,gbk,gb18030" doc:"The file's character set, as declared (the charset parameter of Content-Type, or the charset query parameter) or detected (UTF-8 when the file starts as valid UTF-8, else GB18030)." example:"utf-8"`
	State         ImportState  `json:"state" enum:"queued,running,succeeded,completed_with_errors,failed" example:"running"`
	FileSHA256    string       `json:"file_sha256" doc:"SHA-256 of the uploaded file, hex." example:"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"`
	TotalRows     int          `json:"total_rows" doc:"Data rows in the file." example:"1847"`
	ProcessedRows int          `json:"processed_rows" doc:"Rows handled so far; equals total_rows once finished." example:"1000"`
	Counts        ImportCounts `json:"counts"`
	Failure       *string      `json:"failure,omitempty" doc:"Why a failed import failed, in the response's Content-Language when failure_i18n is present (otherwise English). The batches it committed before (processed_rows) stay written; importing the file again completes it." example:"The import failed on every attempt. The rows counted in processed_rows were imported: upload the file again to complete it, or contact support with the import ID."`
	// FailureI18n is Failure as a catalog code and parameters.
	FailureI18n      *i18n.Message `json:"failure_i18n,omitempty" doc:"Failure as a stable message code and its parameters (import.failed.*); absent for imports that failed before failures had codes."`
	CreatedBy        string        `json:"created_by" doc:"Key ID that uploaded the file." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	CreatedAt        time.Time     `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	StartedAt        *time.Time    `json:"started_at,omitempty" example:"2026-11-01T09:30:01+08:00"`
	FinishedAt       *time.Time    `json:"finished_at,omitempty" example:"2026-11-01T09:30:09+08:00"`
	Errors           []ImportError `json:"errors,omitempty" doc:"The first per-row errors, by row; listNetworkImportErrors has them all."`
	ErrorsNextCursor string        `json:"errors_next_cursor,omitempty" doc:"Cursor for listNetworkImportErrors when there are more errors than shown."`
}

// Localize writes the import's failure in lang, when it has a code (its
// row errors localize themselves).
func (im *Import) Localize(lang string) {
	if im.FailureI18n != nil {
		f := im.FailureI18n.Render(lang)
		im.Failure = &f
	}
}
