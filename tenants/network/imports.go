package network

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
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

// ImportError is a problem with one row of an import file.
type ImportError struct {
	Row     int    `json:"row" doc:"Line number in the file (the CSV header is line 1)." example:"17"`
	Field   string `json:"field" doc:"The offending field: a JSON path for JSON Lines (coverage[2], licence.expires_on), a column name for CSV." example:"coverage[2]"`
	Message string `json:"message" doc:"What is wrong." example:"unknown GB/T 2260 region code"`
}

// Import is a bulk import of nodes and technicians and its progress.
type Import struct {
	ID               string        `json:"id" example:"imp_01jd3zq8w6v7t3y2k9x4n5m6pf"`
	Format           string        `json:"format" enum:"jsonl,csv" example:"jsonl"`
	Charset          string        `json:"charset" enum:"utf-8,gbk,gb18030" doc:"The file's character set, as declared (the charset parameter of Content-Type, or the charset query parameter) or detected (UTF-8 when the file starts as valid UTF-8, else GB18030)." example:"utf-8"`
	State            ImportState   `json:"state" enum:"queued,running,succeeded,completed_with_errors,failed" example:"running"`
	FileSHA256       string        `json:"file_sha256" doc:"SHA-256 of the uploaded file, hex." example:"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"`
	TotalRows        int           `json:"total_rows" doc:"Data rows in the file." example:"1847"`
	ProcessedRows    int           `json:"processed_rows" doc:"Rows handled so far; equals total_rows once finished." example:"1000"`
	Counts           ImportCounts  `json:"counts"`
	Failure          *string       `json:"failure,omitempty" doc:"Why a failed import failed. The batches it committed before (processed_rows) stay written; importing the file again completes it." example:"the import failed on every attempt"`
	CreatedBy        string        `json:"created_by" doc:"Key ID that uploaded the file." example:"key_01jd3zq8w6v7t3y2k9x4n5m6pa"`
	CreatedAt        time.Time     `json:"created_at" example:"2026-11-01T09:30:00+08:00"`
	StartedAt        *time.Time    `json:"started_at,omitempty" example:"2026-11-01T09:30:01+08:00"`
	FinishedAt       *time.Time    `json:"finished_at,omitempty" example:"2026-11-01T09:30:09+08:00"`
	Errors           []ImportError `json:"errors,omitempty" doc:"The first per-row errors, by row; listNetworkImportErrors has them all."`
	ErrorsNextCursor string        `json:"errors_next_cursor,omitempty" doc:"Cursor for listNetworkImportErrors when there are more errors than shown."`
}

// ---------------------------------------------------------------------------
// Parsing: the file's structure is checked up front (CreateImport refuses a
// malformed file); field values are checked per row by the job.

// impNodeRow is a node row as the file states it.
type impNodeRow struct {
	Type          string   `json:"type"`
	ExternalCode  string   `json:"external_code"`
	Name          string   `json:"name"`
	Tier          string   `json:"tier"`
	ParentCode    string   `json:"parent_code"`
	Status        string   `json:"status"`
	Grade         string   `json:"grade"`
	Contact       Contact  `json:"contact"`
	Address       Address  `json:"address"`
	Location      *Point   `json:"location"`
	Coverage      []string `json:"coverage"`
	Categories    []string `json:"categories"`
	ServiceKinds  []string `json:"service_kinds"`
	DailyCapacity int      `json:"daily_capacity"`
}

// impTechRow is a technician row as the file states it.
type impTechRow struct {
	Type          string        `json:"type"`
	ExternalCode  string        `json:"external_code"`
	NodeCode      string        `json:"node_code"`
	Name          string        `json:"name"`
	Phone         string        `json:"phone"`
	Status        string        `json:"status"`
	Skills        []Skill       `json:"skills"`
	Licence       *LicenceInput `json:"licence"`
	Shifts        []Shift       `json:"shifts"`
	DailyJobLimit *int          `json:"daily_job_limit"`
	Home          *Home         `json:"home"`
}

// impParsed is a parsed file: its rows in file order, and the problems found
// while reading values (a number that is not a number), per row.
type impParsed struct {
	format string
	nodes  []*impNode
	techs  []*impTech
	total  int
	// visit, when set, receives each row as it is read instead of nodes
	// and techs; its first error stops the read (err).
	visit *impVisitor
	err   error
}

// impVisitor receives the rows of a file as they are read.
type impVisitor struct {
	// fn receives each row wanted (one of n and t is set).
	fn func(n *impNode, t *impTech) error
	// want, when set, picks the rows to decode and visit by type and tier
	// (a string, or "" when it is not one); the others are only counted.
	want func(node bool, tier string) bool
	// headOnly visits rows with only their external code and tier, undecoded.
	headOnly bool
}

func (p *impParsed) wanted(node bool, tier string) bool {
	return p.visit == nil || p.visit.want == nil || p.visit.want(node, tier)
}

func (p *impParsed) headOnly() bool { return p.visit != nil && p.visit.headOnly }

// add keeps a row read (one of n and t is set).
func (p *impParsed) add(n *impNode, t *impTech) {
	switch {
	case p.err != nil:
	case p.visit != nil:
		p.err = p.visit.fn(n, t)
	case n != nil:
		p.nodes = append(p.nodes, n)
	default:
		p.techs = append(p.techs, t)
	}
}

type impNode struct {
	row  int
	in   impNodeRow
	errs []ImportError
	// Resolved by the run.
	id, parentID string
	existing     *impExisting
	move, moved  bool
	failed       bool
}

type impTech struct {
	row  int
	in   impTechRow
	errs []ImportError
	// Resolved by the run.
	id, nodeID string
	failed     bool
}

// malformed is the error CreateImport returns for a file it cannot read.
func malformed(problems []tenants.FieldError) error {
	return tenants.ErrorMsg(tenants.CodeInvalid, i18n.M("network.file_malformed")).With(problems...)
}

const maxFileProblems = 20

type impProblems struct{ list []tenants.FieldError }

func (p *impProblems) add(m i18n.Message) {
	if len(p.list) < maxFileProblems {
		p.list = append(p.list, tenants.FieldMsg("file", m, nil))
	}
}

// parseImport reads a whole file. It fails (CodeInvalid, location "file")
// when the file cannot be read as rows at all: invalid JSON or CSV syntax,
// unknown CSV columns, a row that is neither a node nor a technician, or no
// rows. Without rows, it only checks that (and counts the rows): rows are
// then not decoded into their fields.
func parseImport(format string, file []byte, rows bool) (*impParsed, error) {
	return readImport(format, CharsetUTF8, bytes.NewReader(file), rows, nil)
}

// maxLineBytes bounds one line of a JSON Lines file, so that reading a file
// holds at most this much of it (a node or technician row is under 4 KiB).
const maxLineBytes = 1 << 20

// readErr is an error of the reader under a parse (the client went away,
// the body is too large, the staging write failed): not the file's fault,
// returned as it is.
type readErr struct{ err error }

func (e readErr) Error() string { return e.err.Error() }
func (e readErr) Unwrap() error { return e.err }

var notUTF8 = malformed([]tenants.FieldError{tenants.FieldMsg("file", i18n.M("network.file_not_utf8"), nil)})

// readImport is parseImport over a stream in the given character set (see
// decodeCharset), read once and never held whole: what it keeps is the
// parsed rows (none without rows, none with visit, which receives each row
// as it is read) and one line.
func readImport(format, charset string, r io.Reader, rows bool, visit *impVisitor) (*impParsed, error) {
	r, err := decodeCharset(charset, r)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, maxLineBytes) // ReadSlice's limit is its buffer
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	var p *impParsed
	switch format {
	case FormatJSONL:
		p, err = parseJSONL(br, rows, visit)
	case FormatCSV:
		p, err = parseCSV(br, rows, visit)
	default:
		return nil, tenants.InvalidMsg("format", i18n.M("network.import_media_type"), format)
	}
	var re readErr
	if errors.As(err, &re) {
		return nil, re.err
	}
	if err != nil {
		return nil, err
	}
	if p.total == 0 {
		return nil, malformed([]tenants.FieldError{tenants.FieldMsg("file", i18n.M("network.file_no_rows"), nil)})
	}
	return p, nil
}

var rowTypes = `"node" or "technician"`

func parseJSONL(br *bufio.Reader, rows bool, visit *impVisitor) (*impParsed, error) {
	p := &impParsed{format: FormatJSONL, visit: visit}
	var probs impProblems
	line := 0
	for {
		raw, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, malformed([]tenants.FieldError{tenants.FieldMsg("file", i18n.M("network.line_too_long", "Line", line+1, "Max", maxLineBytes), nil)})
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, readErr{err}
		}
		eof := err != nil
		if len(raw) == 0 && eof {
			break
		}
		line++
		if !utf8.Valid(raw) {
			return nil, notUTF8
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 {
			p.jsonLine(raw, line, rows, &probs)
			if p.err != nil {
				return nil, readErr{p.err}
			}
		}
		if eof {
			break
		}
	}
	if len(probs.list) > 0 {
		return nil, malformed(probs.list)
	}
	return p, nil
}

// jsonLine reads one non-blank line (raw is only valid until the next read).
func (p *impParsed) jsonLine(raw []byte, line int, rows bool, probs *impProblems) {
	var head struct {
		Type         any `json:"type"`
		ExternalCode any `json:"external_code"`
		Tier         any `json:"tier"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		if te := (*json.UnmarshalTypeError)(nil); errors.As(err, &te) {
			probs.add(i18n.M("network.import_not_object", "Line", line))
		} else {
			probs.add(i18n.M("network.import_invalid_json", "Line", line))
		}
		return
	}
	p.total++
	str := func(v any) string { s, _ := v.(string); return s }
	switch head.Type {
	case "node":
		if rows && p.wanted(true, str(head.Tier)) {
			n := &impNode{row: line}
			if p.headOnly() {
				n.in.ExternalCode, n.in.Tier = str(head.ExternalCode), str(head.Tier)
			} else if err := decodeStrict(raw, &n.in); err != nil {
				n.errs = append(n.errs, jsonFieldError(line, err))
			}
			p.add(n, nil)
		}
	case "technician":
		if rows && p.wanted(false, "") {
			t := &impTech{row: line}
			if p.headOnly() {
				t.in.ExternalCode = str(head.ExternalCode)
			} else if err := decodeStrict(raw, &t.in); err != nil {
				t.errs = append(t.errs, jsonFieldError(line, err))
			}
			p.add(nil, t)
		}
	default:
		probs.add(i18n.M("network.import_row_type", "Line", line, "Types", rowTypes))
	}
}

func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// jsonFieldError names the field a decoding error is about. The decoder
// reports the first problem of a line and carries on with the others.
func jsonFieldError(row int, err error) ImportError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := "a " + te.Type.Kind().String()
		switch te.Type.Kind() {
		case reflect.Int:
			want = "a whole number"
		case reflect.Float64:
			want = "a number"
		case reflect.Slice:
			want = "an array"
		case reflect.Struct, reflect.Pointer:
			want = "an object"
		}
		field := te.Field
		if field == "" {
			field = "row"
		}
		return ImportError{Row: row, Field: field, Message: "expected " + want + ", got " + te.Value}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return ImportError{Row: row, Field: strings.Trim(name, `"`), Message: "unknown field"}
	}
	return ImportError{Row: row, Field: "row", Message: "cannot read the row: " + err.Error()}
}

// csvColumns are the columns a CSV file may have; type and external_code are
// required.
var csvColumns = []string{
	"type", "external_code", "name", "tier", "parent_code", "status", "grade", "contact_name", "contact_phone",
	"region_code", "address_line", "latitude", "longitude", "coverage", "categories", "service_kinds", "daily_capacity",
	"node_code", "phone", "skills", "licence_number", "licence_issued_on", "licence_expires_on", "shifts",
	"daily_job_limit", "home_region_code",
}

// Columns that only one row type may fill.
var (
	csvNodeOnly = []string{"tier", "parent_code", "grade", "contact_name", "contact_phone", "region_code",
		"address_line", "coverage", "categories", "service_kinds", "daily_capacity"}
	csvTechOnly = []string{"node_code", "phone", "skills", "licence_number", "licence_issued_on", "licence_expires_on",
		"shifts", "daily_job_limit", "home_region_code"}
)

func parseCSV(in io.Reader, rows bool, visit *impVisitor) (*impParsed, error) {
	p := &impParsed{format: FormatCSV, visit: visit}
	var probs impProblems
	r := csv.NewReader(in)
	r.ReuseRecord = !rows
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, malformed([]tenants.FieldError{tenants.FieldMsg("file", i18n.M("network.file_no_rows"), nil)})
	}
	var pe *csv.ParseError
	if err != nil && !errors.As(err, &pe) {
		return nil, readErr{err}
	}
	if err != nil {
		return nil, malformed([]tenants.FieldError{tenants.FieldMsg("file", i18n.M("network.file_header", "Reason", csvErrText(err)), nil)})
	}
	if !validUTF8(header) {
		return nil, notUTF8
	}
	header = slices.Clone(header)
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch {
		case !slices.Contains(csvColumns, h):
			probs.add(i18n.M("network.import_unknown_column", "Column", strconv.Quote(h), "Columns", strings.Join(csvColumns, ", ")))
		case col[h] != 0:
			probs.add(i18n.M("network.import_duplicate_column", "Column", strconv.Quote(h)))
		default:
			col[h] = i + 1 // 1-based so the zero value means absent
		}
	}
	for _, req := range []string{"type", "external_code"} {
		if col[req] == 0 {
			probs.add(i18n.M("network.import_missing_column", "Column", req))
		}
	}
	if len(probs.list) > 0 {
		return nil, malformed(probs.list)
	}
	r.FieldsPerRecord = len(header)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				probs.add(i18n.M("network.import_line_error", "Line", pe.Line, "Reason", csvErrText(pe.Err)))
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					continue
				}
			} else {
				return nil, readErr{err}
			}
			break
		}
		if !validUTF8(rec) {
			return nil, notUTF8
		}
		line, _ := r.FieldPos(0)
		get := func(name string) string {
			if i := col[name]; i > 0 {
				return strings.TrimSpace(rec[i-1])
			}
			return ""
		}
		p.total++
		switch get("type") {
		case "node":
			if rows && p.wanted(true, get("tier")) {
				n := &impNode{row: line}
				if p.headOnly() {
					n.in.ExternalCode, n.in.Tier = get("external_code"), get("tier")
				} else {
					n.in, n.errs = csvNode(line, get)
				}
				p.add(n, nil)
			}
		case "technician":
			if rows && p.wanted(false, "") {
				t := &impTech{row: line}
				if p.headOnly() {
					t.in.ExternalCode = get("external_code")
				} else {
					t.in, t.errs = csvTech(line, get)
				}
				p.add(nil, t)
			}
		default:
			probs.add(i18n.M("network.import_row_type", "Line", line, "Types", rowTypes))
		}
		if p.err != nil {
			return nil, readErr{p.err}
		}
	}
	if len(probs.list) > 0 {
		return nil, malformed(probs.list)
	}
	return p, nil
}

func validUTF8(rec []string) bool {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return false
		}
	}
	return true
}

func csvErrText(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return strings.TrimPrefix(err.Error(), "csv: ")
}

// csvRow collects value errors of one CSV row.
type csvRow struct {
	row  int
	get  func(string) string
	errs []ImportError
}

func (c *csvRow) fail(field, msg string) {
	c.errs = append(c.errs, ImportError{Row: c.row, Field: field, Message: msg})
}

func (c *csvRow) list(name string) []string {
	v := c.get(name)
	if v == "" {
		return nil
	}
	parts := strings.Split(v, ";")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func (c *csvRow) int(name string) (int, bool) {
	v := c.get(name)
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		c.fail(name, "expected a whole number")
		return 0, false
	}
	return n, true
}

func (c *csvRow) point() *Point {
	lat, lon := c.get("latitude"), c.get("longitude")
	if lat == "" && lon == "" {
		return nil
	}
	la, err1 := strconv.ParseFloat(lat, 64)
	lo, err2 := strconv.ParseFloat(lon, 64)
	if err1 != nil || err2 != nil {
		c.fail("latitude", "latitude and longitude must both be decimal degrees")
		return nil
	}
	return &Point{Latitude: la, Longitude: lo}
}

func (c *csvRow) notFor(kind string, cols []string) {
	for _, name := range cols {
		if c.get(name) != "" {
			c.fail(name, "not a column of "+kind+" rows")
		}
	}
}

func csvNode(row int, get func(string) string) (impNodeRow, []ImportError) {
	c := &csvRow{row: row, get: get}
	n := impNodeRow{Type: "node", ExternalCode: get("external_code"), Name: get("name"), Tier: get("tier"),
		ParentCode: get("parent_code"), Status: get("status"), Grade: get("grade"),
		Contact:  Contact{Name: get("contact_name"), Phone: get("contact_phone")},
		Address:  Address{RegionCode: get("region_code"), Line: get("address_line")},
		Location: c.point(), Coverage: c.list("coverage"), Categories: c.list("categories"),
		ServiceKinds: c.list("service_kinds")}
	n.DailyCapacity, _ = c.int("daily_capacity")
	c.notFor("node", csvTechOnly)
	return n, c.errs
}

func csvTech(row int, get func(string) string) (impTechRow, []ImportError) {
	c := &csvRow{row: row, get: get}
	t := impTechRow{Type: "technician", ExternalCode: get("external_code"), NodeCode: get("node_code"),
		Name: get("name"), Phone: get("phone"), Status: get("status")}
	for _, s := range c.list("skills") {
		cat, lvl, ok := strings.Cut(s, ":")
		n, err := strconv.Atoi(strings.TrimSpace(lvl))
		if !ok || err != nil {
			c.fail("skills", "expected category:level items separated by ';', e.g. washer:3;refrigerator:2")
			t.Skills = nil
			break
		}
		t.Skills = append(t.Skills, Skill{Category: strings.TrimSpace(cat), Level: n})
	}
	if num, iss, exp := get("licence_number"), get("licence_issued_on"), get("licence_expires_on"); num != "" || iss != "" || exp != "" {
		t.Licence = &LicenceInput{Number: num, IssuedOn: iss, ExpiresOn: exp}
	}
	for _, s := range c.list("shifts") {
		shifts, ok := parseShiftSpec(s)
		if !ok {
			c.fail("shifts", "expected weekday[-weekday]@HH:MM-HH:MM items separated by ';', e.g. 1-5@08:00-18:00;6@09:00-12:00")
			t.Shifts = nil
			break
		}
		t.Shifts = append(t.Shifts, shifts...)
	}
	if n, ok := c.int("daily_job_limit"); ok {
		t.DailyJobLimit = &n
	}
	if home, loc := get("home_region_code"), c.point(); home != "" || loc != nil {
		t.Home = &Home{RegionCode: home, Location: loc}
	}
	c.notFor("technician", csvNodeOnly)
	return t, c.errs
}

// parseShiftSpec reads "1-5@08:00-18:00" into one shift per weekday.
func parseShiftSpec(s string) ([]Shift, bool) {
	days, hours, ok := strings.Cut(s, "@")
	if !ok {
		return nil, false
	}
	start, end, ok := strings.Cut(hours, "-")
	if !ok {
		return nil, false
	}
	from, to, isRange := strings.Cut(days, "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(from))
	b := a
	var err2 error
	if isRange {
		b, err2 = strconv.Atoi(strings.TrimSpace(to))
	}
	if err1 != nil || err2 != nil || b < a || b-a > 6 {
		return nil, false
	}
	var out []Shift
	for d := a; d <= b; d++ {
		out = append(out, Shift{Weekday: d, Start: strings.TrimSpace(start), End: strings.TrimSpace(end)})
	}
	return out, true
}

// csvField turns a JSON-path location of a validation problem into the CSV
// column it came from.
func csvField(loc string) string {
	for _, m := range [][2]string{
		{"contact.name", "contact_name"}, {"contact.phone", "contact_phone"}, {"contact.email", "contact_name"},
		{"address.region_code", "region_code"}, {"address.line", "address_line"}, {"address.postal_code", "address_line"},
		{"home.region_code", "home_region_code"}, {"home.location", "latitude"}, {"location", "latitude"},
		{"licence.number", "licence_number"}, {"licence.issued_on", "licence_issued_on"},
		{"licence.expires_on", "licence_expires_on"}, {"licence", "licence_number"},
		{"skills", "skills"}, {"shifts", "shifts"},
	} {
		if loc == m[0] || strings.HasPrefix(loc, m[0]+".") || strings.HasPrefix(loc, m[0]+"[") {
			return m[1]
		}
	}
	return loc
}

// ---------------------------------------------------------------------------
// Creating and reading imports.

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

const importColumns = `id, format, charset, state, file_sha256, total_rows, processed_rows, counts, failure, created_by,
	created_at, started_at, finished_at`

func scanImport(row pgx.Row) (Import, error) {
	var im Import
	err := row.Scan(&im.ID, &im.Format, &im.Charset, &im.State, &im.FileSHA256, &im.TotalRows, &im.ProcessedRows, &im.Counts,
		&im.Failure, &im.CreatedBy, &im.CreatedAt, &im.StartedAt, &im.FinishedAt)
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
	var im Import
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		if im, err = getImport(ctx, tx, id); err != nil {
			return err
		}
		im.Errors, im.ErrorsNextCursor, err = listImportErrors(ctx, tx, id, 0, tenants.DefaultPageLimit)
		return err
	})
	return im, pg.Translate(err)
}

// ListImports lists the tenant's imports, newest first.
func (s *Service) ListImports(ctx context.Context, p tenants.Principal, limit int, cursor string) ([]Import, string, error) {
	if err := importReader(p); err != nil {
		return nil, "", err
	}
	before, err := tenants.PageAfter("imports", cursor)
	if err != nil {
		return nil, "", err
	}
	if before == "" {
		before = "imp_~" // the first page: sorts after every id (newest first)
	}
	out, err := pg.QueryRows(ctx, s.DB, p.TenantID, func(r pgx.CollectableRow) (Import, error) { return scanImport(r) }, `SELECT `+importColumns+` FROM network_imports
			WHERE tenant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
		before, limit+1)
	if err != nil {
		return nil, "", err
	}
	out, next := tenants.NextPage("imports", out, limit, func(im Import) string { return im.ID })
	return out, next, nil
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
