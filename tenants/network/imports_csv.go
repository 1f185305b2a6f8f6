package network

// Parsing CSV files: the header, the rows, and each row's values into the
// row types (lists, numbers, skills, shifts).

import (
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
)

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
	r := csv.NewReader(in)
	r.ReuseRecord = !rows
	col, width, err := csvHeader(r)
	if err != nil {
		return nil, err
	}
	r.FieldsPerRecord = width
	var probs impProblems
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, readErr{err}
			}
			probs.add(csvProblem(pe, width))
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				continue
			}
			break
		}
		if !validUTF8(rec) {
			return nil, notUTF8
		}
		line, _ := r.FieldPos(0)
		p.csvRecord(rec, line, col, rows, &probs)
		if p.err != nil {
			return nil, readErr{p.err}
		}
	}
	if len(probs.list) > 0 {
		return nil, malformed(probs.list)
	}
	return p, nil
}

// csvHeader reads the header row: the column of each name (1-based, so the
// zero value means absent) and how many fields every row has. A header
// with unknown, duplicate or missing columns makes the file malformed.
func csvHeader(r *csv.Reader) (col map[string]int, width int, err error) {
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, 0, malformed([]tenants.FieldError{tenants.FieldMsg("file", i18n.M("network.file_no_rows"), nil)})
	}
	var pe *csv.ParseError
	if err != nil && !errors.As(err, &pe) {
		return nil, 0, readErr{err}
	}
	if err != nil {
		return nil, 0, malformed([]tenants.FieldError{tenants.FieldMsg("file", i18n.M("network.file_header", "Reason", csvProblem(pe, 0)), nil)})
	}
	if !validUTF8(header) {
		return nil, 0, notUTF8
	}
	var probs impProblems
	col = map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		switch {
		case !slices.Contains(csvColumns, h):
			probs.add(i18n.M("network.import_unknown_column", "Column", strconv.Quote(h), "Columns", strings.Join(csvColumns, ", ")))
		case col[h] != 0:
			probs.add(i18n.M("network.import_duplicate_column", "Column", strconv.Quote(h)))
		default:
			col[h] = i + 1
		}
	}
	for _, req := range []string{"type", "external_code"} {
		if col[req] == 0 {
			probs.add(i18n.M("network.import_missing_column", "Column", req))
		}
	}
	if len(probs.list) > 0 {
		return nil, 0, malformed(probs.list)
	}
	return col, len(header), nil
}

// csvRecord reads one data row (rec, at line) by its columns (col).
func (p *impParsed) csvRecord(rec []string, line int, col map[string]int, rows bool, probs *impProblems) {
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
}

func validUTF8(rec []string) bool {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return false
		}
	}
	return true
}

// csvProblem tells what encoding/csv could not read (import.csv.*), by line
// and column; width is how many fields every row has (0 for the header).
func csvProblem(pe *csv.ParseError, width int) i18n.Message {
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		return i18n.M("import.csv.field_count", "Line", pe.Line, "Expected", width)
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return i18n.M("import.csv.bare_quote", "Line", pe.Line, "Column", pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return i18n.M("import.csv.quote", "Line", pe.Line, "Column", pe.Column)
	}
	return i18n.M("import.csv.unreadable", "Line", pe.Line, "Column", pe.Column)
}

// csvRow collects value errors of one CSV row.
type csvRow struct {
	row  int
	get  func(string) string
	errs []ImportError
}

func (c *csvRow) fail(field string, m i18n.Message) {
	c.errs = append(c.errs, rowError(c.row, field, m))
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
		c.fail(name, i18n.M("import.expected", "Want", i18n.M("import.kind.whole_number")))
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
		c.fail("latitude", i18n.M("import.lat_lon"))
		return nil
	}
	return &Point{Latitude: la, Longitude: lo}
}

func (c *csvRow) notFor(kind string, cols []string) {
	for _, name := range cols {
		if c.get(name) != "" {
			c.fail(name, i18n.M("import.not_a_column", "Type", kind))
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
			c.fail("skills", i18n.M("import.skills_format"))
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
			c.fail("shifts", i18n.M("import.shifts_format"))
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
