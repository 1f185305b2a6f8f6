package network

// Parsing: the file's structure is checked up front (CreateImport refuses a
// malformed file); field values are checked per row by the job.

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
)

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
