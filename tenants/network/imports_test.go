package network

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/internal/pgtest"
	"github.com/servicenet/servicenet/tenants"
)

func fileProblems(t *testing.T, err error) []string {
	t.Helper()
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, tenants.CodeInvalid, te.Code)
	var out []string
	for _, f := range te.Fields {
		require.Equal(t, "file", f.Location)
		out = append(out, f.Message)
	}
	return out
}

func TestParseImportRefusesMalformedFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, format, file string
		want               []string
	}{
		{"InvalidJSON", FormatJSONL, "{\"type\":\"node\"}\n\n{oops\n", []string{"line 3: invalid JSON"}},
		{"NotAnObject", FormatJSONL, "\"node\"\n", []string{"line 1: expected a JSON object"}},
		{"NoType", FormatJSONL, "{\"external_code\":\"X\"}\n", []string{`line 1: type must be "node" or "technician"`}},
		{"EveryBadLine", FormatJSONL, "x\ny\n{\"type\":\"node\"}\n", []string{"line 1: invalid JSON", "line 2: invalid JSON"}},
		{"OnlyBlankLines", FormatJSONL, "\n  \n", []string{"the file has no rows"}},
		{"NotUTF8", FormatJSONL, "{\"type\":\"node\",\"name\":\"\xff\"}\n", []string{notUTF8.(*tenants.Error).Fields[0].Message}},
		{"UnknownColumn", FormatCSV, "type,external_code,foo\nnode,X,1\n", []string{`header: unknown column "foo"`}},
		{"DuplicateColumn", FormatCSV, "type,external_code,name,name\nnode,X,a,b\n", []string{`header: duplicate column "name"`}},
		{"MissingColumns", FormatCSV, "name\nX\n", []string{"header: missing column type", "header: missing column external_code"}},
		{"FieldCount", FormatCSV, "type,external_code\nnode,X,extra\nnode,Y\nnode\n", []string{"line 2: wrong number of fields (expected 2)", "line 4: wrong number of fields (expected 2)"}},
		{"BareQuote", FormatCSV, "type,external_code\nnode,X\"Y\n", []string{`line 2, column 7: a " in a field that is not quoted (quote the whole field and double the quotes inside it)`}},
		{"RowType", FormatCSV, "type,external_code\nnode,X\ndepot,Y\n", []string{`line 3: type must be "node" or "technician"`}},
		{"NoRows", FormatCSV, "type,external_code\n", []string{"the file has no rows"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseImport(tc.format, []byte(tc.file), true)
			got := fileProblems(t, err)
			for i := range got {
				got[i], _, _ = strings.Cut(got[i], " (columns:")
			}
			require.Equal(t, tc.want, got)
		})
	}
}

// The CSV reader's errors are catalog messages with their line and column,
// so a Chinese reader sees no English.
func TestCSVErrorsInEveryLanguage(t *testing.T) {
	t.Parallel()
	_, err := parseImport(FormatCSV, []byte("type,external_code\nnode,X\nnode,\"Y\n"), true)
	var te *tenants.Error
	require.ErrorAs(t, err, &te)
	require.Len(t, te.Fields, 1)
	m := te.Fields[0].Msg
	require.Equal(t, "import.csv.quote", m.Code)
	require.Equal(t, `line 3, column 9: a quoted field is not closed, or a " inside it is not doubled`, m.Render(i18n.English))
	require.Equal(t, `第 3 行第 9 列：带引号的字段未闭合，或其中的 " 未写成两个`, m.Render(i18n.Chinese))
}

func TestParseImportReadsRows(t *testing.T) {
	t.Parallel()
	t.Run("JSONLValuesOfTheWrongTypeAreRowErrors", func(t *testing.T) {
		p, err := parseImport(FormatJSONL, []byte(
			`{"type":"node","external_code":"A","daily_capacity":"lots"}`+"\n"+
				`{"type":"node","external_code":"B","contact":{"phone":5}}`+"\n"+
				`{"type":"technician","external_code":"T","skills":[{"category":"tv","level":"high"}]}`+"\n"+
				`{"type":"technician","external_code":"U","hobby":"golf"}`+"\n"), true)
		require.NoError(t, err)
		require.Equal(t, 4, p.total)
		require.Equal(t, []ImportError{rowError(1, "daily_capacity", i18n.M("import.expected_got", "Want", i18n.M("import.kind.whole_number"),
			"Got", i18n.M("import.kind.string")))}, p.nodes[0].errs)
		require.Equal(t, "expected a whole number, got a string", p.nodes[0].errs[0].Message)
		require.Equal(t, "应为整数，实际为字符串", p.nodes[0].errs[0].MessageI18n.Render(i18n.Chinese))
		require.Equal(t, "contact.phone", p.nodes[1].errs[0].Field)
		require.Equal(t, "skills.level", p.techs[0].errs[0].Field)
		require.Equal(t, []ImportError{rowError(4, "hobby", i18n.M("import.unknown_field"))}, p.techs[1].errs)
		require.Equal(t, "unknown field", p.techs[1].errs[0].Message)
	})
	t.Run("WithoutRowsOnlyCounts", func(t *testing.T) {
		p, err := parseImport(FormatJSONL, []byte("{\"type\":\"node\",\"daily_capacity\":\"x\"}\n{\"type\":\"technician\"}\n"), false)
		require.NoError(t, err)
		require.Equal(t, 2, p.total)
		require.Empty(t, p.nodes)
	})
	t.Run("CSVColumnsBecomeFields", func(t *testing.T) {
		p, err := parseImport(FormatCSV, []byte("\xef\xbb\xbf"+
			"type,external_code,name,tier,parent_code,contact_name,region_code,latitude,longitude,coverage,categories,daily_capacity,node_code,phone,skills,licence_number,licence_issued_on,licence_expires_on,shifts,daily_job_limit,home_region_code\n"+
			"node,RP-1,\"Point, one\",repair_point,SD-1,王,370212,36.1,120.4, 370212 ; 370202 ,washer,12,,,,,,,,,\n"+
			"technician,T-1,Li,,,,,36.2,120.5,,,,RP-1,+86 138,washer:3;tv:1,L-1,2025-01-01,2028-01-01,1-3@08:00-12:00;7@10:00-16:00,6,370212\n"+
			"node,RP-2,Two,repair_point,SD-1,,,,,,,x,,,washer:1,,,,,,\n"+
			"technician,T-2,Li,,,,,,,,,,RP-1,1,washer,,,,8-9@x,,\n"), true)
		require.NoError(t, err)
		n := p.nodes[0]
		require.Equal(t, 2, n.row)
		require.Empty(t, n.errs)
		require.Equal(t, impNodeRow{Type: "node", ExternalCode: "RP-1", Name: "Point, one", Tier: "repair_point", ParentCode: "SD-1",
			Contact: Contact{Name: "王"}, Address: Address{RegionCode: "370212"}, Location: &Point{Latitude: 36.1, Longitude: 120.4},
			Coverage: []string{"370212", "370202"}, Categories: []string{"washer"}, DailyCapacity: 12}, n.in)
		tc := p.techs[0]
		require.Empty(t, tc.errs)
		six := 6
		require.Equal(t, impTechRow{Type: "technician", ExternalCode: "T-1", NodeCode: "RP-1", Name: "Li", Phone: "+86 138",
			Skills:  []Skill{{Category: "washer", Level: 3}, {Category: "tv", Level: 1}},
			Licence: &LicenceInput{Number: "L-1", IssuedOn: "2025-01-01", ExpiresOn: "2028-01-01"},
			Shifts: []Shift{{Weekday: 1, Start: "08:00", End: "12:00"}, {Weekday: 2, Start: "08:00", End: "12:00"},
				{Weekday: 3, Start: "08:00", End: "12:00"}, {Weekday: 7, Start: "10:00", End: "16:00"}},
			DailyJobLimit: &six, Home: &Home{RegionCode: "370212", Location: &Point{Latitude: 36.2, Longitude: 120.5}}}, tc.in)
		var fields []string
		for _, e := range p.nodes[1].errs {
			fields = append(fields, e.Field)
		}
		require.Equal(t, []string{"daily_capacity", "skills"}, fields, "a number that is not one; a technician column on a node row")
		fields = nil
		for _, e := range p.techs[1].errs {
			fields = append(fields, e.Field)
		}
		require.Equal(t, []string{"skills", "shifts"}, fields)
	})
}

func TestParseShiftSpec(t *testing.T) {
	t.Parallel()
	for spec, want := range map[string][]Shift{
		"6@09:00-12:00":   {{Weekday: 6, Start: "09:00", End: "12:00"}},
		"1-2@08:00-18:00": {{Weekday: 1, Start: "08:00", End: "18:00"}, {Weekday: 2, Start: "08:00", End: "18:00"}},
		"5-5@08:00-09:00": {{Weekday: 5, Start: "08:00", End: "09:00"}},
		"3-1@08:00-18:00": nil,
		"1@08:00":         nil,
		"08:00-18:00":     nil,
		"a-b@08:00-18:00": nil,
		"1-9@08:00-18:00": nil, // longer than a week
		"0-6@08:00-18:00": {{0, "08:00", "18:00"}, {1, "08:00", "18:00"}, {2, "08:00", "18:00"}, {3, "08:00", "18:00"},
			{4, "08:00", "18:00"}, {5, "08:00", "18:00"}, {6, "08:00", "18:00"}}, // weekday 0 fails validation later
	} {
		got, ok := parseShiftSpec(spec)
		require.Equal(t, want != nil, ok, spec)
		require.Equal(t, want, got, spec)
	}
}

func TestCSVField(t *testing.T) {
	t.Parallel()
	for loc, want := range map[string]string{
		"address.region_code": "region_code",
		"contact.phone":       "contact_phone",
		"location":            "latitude",
		"home.location":       "latitude",
		"home.region_code":    "home_region_code",
		"licence.expires_on":  "licence_expires_on",
		"skills[2].level":     "skills",
		"shifts[0].end":       "shifts",
		"shifts[1]":           "shifts",
		"coverage[3]":         "coverage[3]",
		"daily_capacity":      "daily_capacity",
	} {
		require.Equal(t, want, csvField(loc), loc)
	}
}

// demoRows decodes a generated file.
func demoRows(t testing.TB, file []byte) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(file), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(l, &m))
		rows = append(rows, m)
	}
	return rows
}

func TestDemoNetworkIsShapedLikeABrandNetwork(t *testing.T) {
	t.Parallel()
	file := DemoNetwork(1)
	require.True(t, bytes.Equal(file, DemoNetwork(1)), "deterministic")
	require.False(t, bytes.Equal(file, DemoNetwork(2)))
	tiers := map[string]int{}
	codes := map[string]bool{}
	var expired, soon, missing, techs int
	skills := map[float64]int{}
	ref := DemoReferenceDate.Format(time.DateOnly)
	soonLimit := DemoReferenceDate.AddDate(0, 0, 90).Format(time.DateOnly)
	for _, r := range demoRows(t, file) {
		if r["type"] == "node" {
			tiers[r["tier"].(string)]++
			for _, c := range r["coverage"].([]any) {
				codes[c.(string)] = true
			}
			codes[r["address"].(map[string]any)["region_code"].(string)] = true
			continue
		}
		techs++
		for _, s := range r["skills"].([]any) {
			skills[s.(map[string]any)["level"].(float64)]++
		}
		l, ok := r["licence"].(map[string]any)
		switch {
		case !ok:
			missing++
		case l["expires_on"].(string) < ref:
			expired++
		case l["expires_on"].(string) <= soonLimit:
			soon++
		}
	}
	require.Equal(t, map[string]int{"manufacturer": 1, "service_center": 6, "specialist_depot": 40, "repair_point": 312}, tiers)
	require.Equal(t, 1500, techs)
	require.Greater(t, expired, 50)
	require.Greater(t, soon, 50)
	require.Greater(t, missing, 5)
	require.Len(t, skills, 5, "every level from 1 to 5 occurs")

	// Every region code is a real one.
	var list []string
	for c := range codes {
		list = append(list, c)
	}
	tx := pgtest.Tx(t)
	var known int
	require.NoError(t, tx.QueryRow(context.Background(), `SELECT count(*) FROM regions WHERE code = ANY($1)`, list).Scan(&known))
	require.Equal(t, len(list), known)
	require.Greater(t, len(list), 40)

	large := LargeNetwork(7, 2000, 5000)
	rows := demoRows(t, large)
	require.Len(t, rows, 7000)
	nodes := 0
	for _, r := range rows {
		if r["type"] == "node" {
			nodes++
		}
	}
	require.Equal(t, 2000, nodes)
}

// importBundle is a service over a test database of its own (imports commit
// and open their own transactions) with one tenant.
type importBundle struct {
	svc      *Service
	db       *pgtest.DB
	tenantID string
	p        tenants.Principal
	enqueued []string
}

func setupImports(t *testing.T) *importBundle {
	t.Helper()
	db := pgtest.NewDB(t)
	// The tenant row is written here, not by identity.CreateTenant: identity
	// reads technicians through this package (TechnicianUnderTx).
	tenantID := tenants.NewID(tenants.PrefixTenant)
	_, err := db.App.Exec(context.Background(), `INSERT INTO tenants (id, name, slug) VALUES ($1, 'Import brand', 'import-brand')`, tenantID)
	require.NoError(t, err)
	b := &importBundle{db: db, tenantID: tenantID, p: tenants.Principal{TenantID: tenantID, KeyID: tenants.NewID(tenants.PrefixAPIKey), Roles: []string{tenants.RoleTenantAdmin}}}
	b.svc = &Service{DB: db.App, enqueueImport: func(ctx context.Context, tx pgx.Tx, tenantID, importID string) error {
		b.enqueued = append(b.enqueued, importID)
		return nil
	}}
	return b
}

func (b *importBundle) count(t *testing.T, sql string) int {
	t.Helper()
	var n int
	require.NoError(t, pg.InTenantTx(context.Background(), b.svc.DB, b.tenantID, func(tx pg.TenantTx) error {
		return tx.QueryRow(context.Background(), sql, tx.TenantID).Scan(&n)
	}))
	return n
}

func TestRunImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ImportsTheDemoNetworkAndIsIdempotent", func(t *testing.T) {
		t.Parallel()
		b := setupImports(t)
		im, err := b.svc.CreateImport(ctx, b.p, FormatJSONL, DemoNetwork(1))
		require.NoError(t, err)
		require.Equal(t, ImportQueued, im.State)
		require.Equal(t, 1859, im.TotalRows)
		require.Equal(t, b.p.KeyID, im.CreatedBy)
		require.Equal(t, []string{im.ID}, b.enqueued, "the job is scheduled with the import")

		done, err := b.svc.RunImport(ctx, b.tenantID, im.ID)
		require.NoError(t, err)
		require.Equal(t, ImportSucceeded, done.State, "%v", done.Errors)
		require.Equal(t, ImportCounts{Nodes: ImportTally{Created: 359}, Technicians: ImportTally{Created: 1500}}, done.Counts)
		require.Equal(t, 1859, done.ProcessedRows)
		require.NotNil(t, done.StartedAt)
		require.NotNil(t, done.FinishedAt)
		expired := b.count(t, `SELECT count(*) FROM technicians WHERE tenant_id = $1 AND licence_expired_at IS NOT NULL`)
		require.Positive(t, expired, "licences already expired are marked at once")
		events := b.count(t, `SELECT count(*) FROM events WHERE tenant_id = $1`)

		// The job running again (a retry, or the seed's queued job) does nothing.
		again, err := b.svc.RunImport(ctx, b.tenantID, im.ID)
		require.NoError(t, err)
		require.Equal(t, done.Counts, again.Counts)
		require.Equal(t, done.FinishedAt, again.FinishedAt)
		require.Equal(t, events, b.count(t, `SELECT count(*) FROM events WHERE tenant_id = $1`))
		// FailImport leaves a finished import alone.
		require.NoError(t, b.svc.FailImport(ctx, b.tenantID, im.ID, ImportFailure(errors.New("late failure"))))
		got, err := b.svc.GetImport(ctx, b.p, im.ID)
		require.NoError(t, err)
		require.Equal(t, ImportSucceeded, got.State)
		require.Nil(t, got.Failure)
	})

	t.Run("FailImportMarksAnUnfinishedImport", func(t *testing.T) {
		t.Parallel()
		b := setupImports(t)
		im, err := b.svc.CreateImport(ctx, b.p, FormatCSV, []byte("type,external_code,name,tier\nnode,MFR,Brand,manufacturer\n"))
		require.NoError(t, err)
		require.NoError(t, b.svc.FailImport(ctx, b.tenantID, im.ID, ImportFailure(errors.New("connection reset"))))
		got, err := b.svc.RunImport(ctx, b.tenantID, im.ID)
		require.NoError(t, err)
		require.Equal(t, ImportFailed, got.State)
		// Stored as its code (the cause stays out: it is for the log) and
		// English text; read in the reader's language.
		require.Equal(t, &i18n.Message{Code: "import.failed.retries"}, got.FailureI18n)
		require.Equal(t, i18n.Render(i18n.English, "import.failed.retries", nil), *got.Failure)
		got.Localize(i18n.Chinese)
		require.Equal(t, i18n.Render(i18n.Chinese, "import.failed.retries", nil), *got.Failure)
		require.Contains(t, *got.Failure, "processed_rows")
		require.Equal(t, 0, b.count(t, `SELECT count(*) FROM nodes WHERE tenant_id = $1`), "a failed import is not run")
		require.Equal(t, 1, b.count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND type = 'network_import.finished'`))
	})

	t.Run("NothingIsStoredWhenTheJobCannotBeScheduled", func(t *testing.T) {
		t.Parallel()
		b := setupImports(t)
		b.svc.enqueueImport = func(context.Context, pgx.Tx, string, string) error { return errors.New("queue down") }
		_, err := b.svc.CreateImport(ctx, b.p, FormatJSONL, DemoNetwork(1))
		require.Error(t, err)
		require.Equal(t, 0, b.count(t, `SELECT count(*) FROM network_imports WHERE tenant_id = $1`))
	})

	t.Run("NodeScopedKeysCannotImport", func(t *testing.T) {
		t.Parallel()
		b := setupImports(t)
		p := b.p
		p.NodeID = "nod_01jd3zq8w6v7t3y2k9x4n5m6pc"
		_, err := b.svc.CreateImport(ctx, p, FormatJSONL, DemoNetwork(1))
		require.Equal(t, tenants.CodeForbidden, tenants.ErrorCode(err))
		_, err = b.svc.GetImport(ctx, p, "imp_01jd3zq8w6v7t3y2k9x4n5m6pc")
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err))
	})

	t.Run("UnknownImport", func(t *testing.T) {
		t.Parallel()
		b := setupImports(t)
		_, err := b.svc.RunImport(ctx, b.tenantID, "imp_01jd3zq8w6v7t3y2k9x4n5m6pc")
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err))
		_, err = b.svc.GetImport(ctx, b.p, "not-an-id")
		require.Equal(t, tenants.CodeNotFound, tenants.ErrorCode(err))
	})
}

// TestImportFailure: a failed import is told by the domain error that
// stopped it (its catalog message, or its English text when it has none),
// else by import.failed.retries; the cause of an unexpected error stays out.
func TestImportFailure(t *testing.T) {
	t.Parallel()
	m := i18n.M("network.file_no_rows")
	require.Equal(t, m, ImportFailure(tenants.ErrorMsg(tenants.CodeInvalid, m)))
	require.Equal(t, i18n.M("import.text", "Text", "no luck"), ImportFailure(tenants.Errorf(tenants.CodeInvalid, "no luck")))
	got := ImportFailure(errors.New("dial tcp 10.0.0.1:5432: connection refused"))
	require.Equal(t, i18n.M("import.failed.retries"), got)
	for _, lang := range i18n.Languages {
		require.NotContains(t, got.Render(lang), "10.0.0.1")
	}
}
