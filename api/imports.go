package api

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/authz"
	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/network"
)

// importFormats maps the accepted request media types to import formats.
var importFormats = map[string]string{
	"application/x-ndjson":  network.FormatJSONL,
	"application/jsonl":     network.FormatJSONL,
	"application/jsonlines": network.FormatJSONL,
	"text/csv":              network.FormatCSV,
}

const (
	importJSONLExample = `{"type":"node","external_code":"MFR","name":"示例家电","tier":"manufacturer","status":"active","coverage":["370000"],"categories":["washer"],"service_kinds":["repair"],"daily_capacity":0}
{"type":"node","external_code":"SC-QD","name":"青岛服务中心","tier":"service_center","parent_code":"MFR","status":"active","coverage":["370200"],"categories":["washer"],"service_kinds":["repair","install"],"daily_capacity":80}
{"type":"technician","external_code":"T-QD-0001","node_code":"SC-QD","name":"李师傅","phone":"+86 138 0532 0001","skills":[{"category":"washer","level":4}],"licence":{"number":"SD-2025-0001","issued_on":"2025-02-01","expires_on":"2028-01-31"},"shifts":[{"weekday":1,"start":"08:00","end":"18:00"}],"daily_job_limit":8,"home":{"region_code":"370212"}}
`
	importCSVExample = `type,external_code,name,tier,parent_code,status,coverage,categories,service_kinds,daily_capacity,node_code,phone,skills,licence_number,licence_issued_on,licence_expires_on,shifts
node,MFR,示例家电,manufacturer,,active,370000,washer,repair,0,,,,,,,
node,SC-QD,青岛服务中心,service_center,MFR,active,370200,washer,repair;install,80,,,,,,,
technician,T-QD-0001,李师傅,,,,,,,,SC-QD,+86 138 0532 0001,washer:4,SD-2025-0001,2025-02-01,2028-01-31,1-5@08:00-18:00
`
)

// createImportInput has no body field: Huma then leaves the body unread, and
// the handler streams it (see UploadImport).
type createImportInput struct {
	Charset     string `query:"charset" maxLength:"32" doc:"The file's character set, when not given as the charset parameter of Content-Type: utf-8, gbk (also gb2312, cp936) or gb18030, case-insensitive. Absent: detected (UTF-8 when the file starts as valid UTF-8, else GB18030)." example:"gbk"`
	contentType string
	length      int64
	body        io.Reader
}

// Resolve captures the request's Content-Type, which picks the file format,
// its length when declared, and its body, which the handler reads as it
// arrives. The body gets the operation's read timeout (Huma sets one only
// for the bodies it reads itself).
func (in *createImportInput) Resolve(ctx huma.Context) []error {
	in.contentType = ctx.Header("Content-Type")
	in.length = -1
	if n, err := strconv.ParseInt(ctx.Header("Content-Length"), 10, 64); err == nil {
		in.length = n
	}
	in.body = ctx.BodyReader()
	_ = ctx.SetReadDeadline(time.Now().Add(importReadTimeout))
	return nil
}

// importReadTimeout is how long an upload may take to arrive.
const importReadTimeout = 2 * time.Minute

// errBodyTooLarge is what limitedBody returns past its limit.
var errBodyTooLarge = errors.New("api: request body too large")

// limitedBody reads at most n bytes of r, then fails with errBodyTooLarge.
type limitedBody struct {
	r io.Reader
	n int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	if l.n < 0 {
		return k, errBodyTooLarge
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = bodyReadError{err}
	}
	return k, err
}

// bodyReadError is a failure to read the request body: the client went
// away or stalled past the read deadline. It is the client's problem, not
// the database's (an unexpected EOF would otherwise look like a dropped
// database connection).
type bodyReadError struct{ err error }

func (e bodyReadError) Error() string { return "reading the request body: " + e.err.Error() }

func tooLarge(limit int64) error {
	return newProblem(http.StatusRequestEntityTooLarge, "", "").withMsg("api.import.too_large", "Limit", limit, "MiB", limit>>20)
}

// importCharset is the file's declared character set: the charset parameter
// of Content-Type or the charset query parameter ("" when neither: the
// service detects it). An unsupported one, or two that differ, is a 422
// naming where it was declared.
func importCharset(header, query string) (string, error) {
	h, ok := network.ParseCharset(header)
	if !ok {
		return "", tenants.InvalidMsg("header.Content-Type", i18n.M("api.import.unsupported_charset", "Charsets", network.Charsets), header)
	}
	q, ok := network.ParseCharset(query)
	if !ok {
		return "", tenants.InvalidMsg("query.charset", i18n.M("api.import.unsupported_charset", "Charsets", network.Charsets), query)
	}
	if h != "" && q != "" && h != q {
		return "", tenants.InvalidMsg("query.charset", i18n.M("api.import.charset_differs", "Header", header), query)
	}
	if h != "" {
		return h, nil
	}
	return q, nil
}

// ImportIDParam is the {import_id} path parameter (exported: Huma fills only
// exported embedded structs).
type ImportIDParam struct {
	ImportID string `path:"import_id" maxLength:"64" doc:"Import ID." example:"imp_01jd3zq8w6v7t3y2k9x4n5m6pf"`
}

type importOutput struct{ Body network.Import }

type createdImportOutput struct {
	Location string `header:"Location"`
	Body     network.Import
}

type listImportsOutput struct {
	Body struct {
		Data       []network.Import `json:"data"`
		NextCursor string           `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
	}
}

func (o *listImportsOutput) answerPage(xs []network.Import, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

type listImportErrorsInput struct {
	ImportIDParam
	PageParams
}

type listImportErrorsOutput struct {
	Body struct {
		Data       []network.ImportError `json:"data"`
		NextCursor string                `json:"next_cursor,omitempty" doc:"Cursor for the next page; absent on the last page."`
	}
}

func (o *listImportErrorsOutput) answerPage(xs []network.ImportError, next string) {
	o.Body.Data, o.Body.NextCursor = xs, next
}

const importPath = "/v1/network/imports"

func (s *Server) registerImports() {
	tags := []string{"Network imports"}
	// The files are UTF-8 text: a string, not format binary (which Huma
	// documents with a contentMediaType that OpenAPI 3.0 does not allow).
	file := func(example string) *huma.MediaType {
		return &huma.MediaType{Schema: &huma.Schema{Type: "string"}, Example: example}
	}
	register(s, authz.NetworkImport, huma.Operation{
		OperationID: "createNetworkImport", Method: http.MethodPost, Path: importPath,
		Summary: "Import nodes and technicians from a file", Tags: tags,
		Description: "Uploads a JSON Lines (`application/x-ndjson` or `application/jsonl`) or CSV (`text/csv`) file of " +
			"nodes and technicians, up to 64 MiB (413 beyond), and answers 202 with the queued import; a background job imports it. " +
			"The file is stored as it arrives, so an upload may be as slow as the network (up to 2 minutes). A tenant may have " +
			"3 uploads in progress at once; a fourth is refused with 429 and Retry-After. " +
			"Follow progress, counts and per-row errors with getNetworkImport.\n\n" +
			"Each row is an object's full desired state, matched on its `external_code`: a new code creates, a known " +
			"code updates only what differs, an identical row changes nothing, so importing the same file again " +
			"changes nothing. A node names its parent by `parent_code` (the parent may come anywhere in the file or " +
			"already exist); a technician names its node by `node_code`. A node's `status` applies when it is created " +
			"(change it later with changeNodeStatus); a changed parent moves the node with its subtree; its tier " +
			"cannot change. Bad rows are reported with their line number and field, and the good rows are imported. " +
			"The job writes the rows in batches of 1,000, each committed with its checkpoint (node rows tier by tier, " +
			"then technicians), so processed_rows grows as it goes and an import interrupted by a restart resumes " +
			"where it stopped.\n\n" +
			"Character set: UTF-8 (with or without a byte order mark), GBK or GB18030 (CSV saved by Chinese Excel). " +
			"Declare it with the charset parameter of Content-Type (`text/csv; charset=gbk`) or the `charset` query " +
			"parameter; undeclared, a file whose first 64 KiB are valid UTF-8 is read as UTF-8, any other as GB18030. " +
			"An unsupported charset is refused with 422 naming it.\n\n" +
			"JSON Lines: one object per line with `type` `node` (external_code, name, tier, parent_code, status, " +
			"grade, contact{}, address{}, location{}, coverage[], categories[], service_kinds[], daily_capacity) or " +
			"`technician` (external_code, node_code, name, phone, status, skills[{category, level}], " +
			"licence{number, issued_on, expires_on}, shifts[{weekday, start, end}], daily_job_limit, " +
			"home{region_code, location}).\n\n" +
			"CSV: a header row naming some of the columns type, external_code, name, tier, parent_code, status, grade, " +
			"contact_name, contact_phone, region_code, address_line, latitude, longitude, coverage, categories, " +
			"service_kinds, daily_capacity, node_code, phone, skills, licence_number, licence_issued_on, " +
			"licence_expires_on, shifts, daily_job_limit, home_region_code; lists are separated by `;`, skills are " +
			"`washer:3;tv:2`, shifts are `1-5@08:00-18:00;6@09:00-12:00`.\n\n" +
			"A file that cannot be read as rows (invalid JSON on a line, an unknown CSV column, a row that is neither " +
			"a node nor a technician, no rows) is refused with 422 naming the line, and nothing is created.",
		DefaultStatus:   http.StatusAccepted,
		Errors:          []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity},
		BodyReadTimeout: importReadTimeout,
		Metadata: map[string]any{handlerTimeoutKey: importReadTimeout, streamedBodyKey: true,
			locationsKey: map[string]string{"file": "body", "format": "header.Content-Type"}},
		RequestBody: &huma.RequestBody{
			Description: "The file: JSON Lines or CSV, UTF-8, GBK or GB18030, at most 64 MiB.",
			Required:    true,
			Content: map[string]*huma.MediaType{
				"application/jsonl": file(importJSONLExample),
				"text/csv":          file(importCSVExample),
			},
		},
	}, func(ctx context.Context, in *createImportInput) (*createdImportOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		mt, params, _ := mime.ParseMediaType(in.contentType)
		format, ok := importFormats[mt]
		if !ok {
			return nil, newProblem(http.StatusUnsupportedMediaType, "", "").withMsg("network.import_media_type")
		}
		charset, err := importCharset(params["charset"], in.Charset)
		if err != nil {
			return nil, err
		}
		limit := s.cfg.MaxImportBytes
		if in.length > limit {
			return nil, tooLarge(limit)
		}
		im, err := s.deps.Network.UploadImport(ctx, p, format, charset, &limitedBody{r: in.body, n: limit})
		if errors.Is(err, errBodyTooLarge) {
			return nil, tooLarge(limit)
		}
		if bre := (bodyReadError{}); errors.As(err, &bre) {
			return nil, newProblem(http.StatusBadRequest, "", "").withMsg("problem.upload_interrupted")
		}
		if err != nil {
			return nil, err
		}
		return &createdImportOutput{Location: importPath + "/" + im.ID, Body: im}, nil
	})
	// Huma documents the RawBody's own media type without an example, and
	// answers an empty body 400 before the handler sees it; an empty file is
	// the handler's 422 like any other file without rows.
	if op := s.api.OpenAPI().Paths[importPath].Post; op != nil {
		op.RequestBody.Content["application/x-ndjson"] = file(importJSONLExample)
		op.RequestBody.Required = false
	}

	register(s, authz.NetworkImport, huma.Operation{
		OperationID: "listNetworkImports", Method: http.MethodGet, Path: importPath,
		Summary: "List network imports", Tags: tags,
		Description: "The tenant's imports, newest first, with their state and counts.",
		Errors:      []int{http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *PageParams) (*listImportsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listImportsOutput](s.deps.Network.ListImports(ctx, p, in.limit(), in.Cursor))
	})

	register(s, authz.NetworkImport, huma.Operation{
		OperationID: "getNetworkImport", Method: http.MethodGet, Path: importPath + "/{import_id}",
		Summary: "Get a network import", Tags: tags,
		Description: "An import's state (queued, running, succeeded, completed_with_errors, failed), progress " +
			"(processed_rows of total_rows, updated while it runs), counts of created, updated, unchanged and failed " +
			"rows per type, and the first per-row errors; listNetworkImportErrors pages through all of them.",
		Errors: []int{http.StatusNotFound},
	}, func(ctx context.Context, in *ImportIDParam) (*importOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		im, err := s.deps.Network.GetImport(ctx, p, in.ImportID)
		if err != nil {
			return nil, err
		}
		return &importOutput{Body: im}, nil
	})

	register(s, authz.NetworkImport, huma.Operation{
		OperationID: "listNetworkImportErrors", Method: http.MethodGet, Path: importPath + "/{import_id}/errors",
		Summary: "List a network import's row errors", Tags: tags,
		Description: "Every per-row error of an import, in row order: the line number, the field and what is wrong.",
		Errors:      []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *listImportErrorsInput) (*listImportErrorsOutput, error) {
		p, _ := tenants.PrincipalFrom(ctx)
		return replyPage[listImportErrorsOutput](s.deps.Network.ListImportErrors(ctx, p, in.ImportID, in.limit(), in.Cursor))
	})
}
