package api

import (
	"encoding/csv"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/tenants/quality"
)

// csvMediaType is the media type of every CSV download.
const csvMediaType = "text/csv; charset=utf-8"

// utf8BOM starts every CSV download: without it spreadsheet programs
// (Excel in particular) read UTF-8 as the local code page and garble
// Chinese names.
const utf8BOM = "\uFEFF"

// DownloadParams let a report be downloaded as CSV: format=csv, or an
// Accept header that prefers text/csv to application/json.
type DownloadParams struct {
	Format string `query:"format" enum:"json,csv" doc:"csv answers text/csv (see the operation's description); json answers JSON; without it the Accept header decides: text/csv preferred to application/json answers CSV."`
	accept string
}

// Resolve keeps the Accept header for the negotiation (it is not a
// documented parameter: OpenAPI ignores Accept parameters).
func (d *DownloadParams) Resolve(ctx huma.Context) []error {
	d.accept = ctx.Header("Accept")
	return nil
}

// csv reports whether the caller asked for CSV.
func (d *DownloadParams) csv() bool {
	switch d.Format {
	case "csv":
		return true
	case "json":
		return false
	}
	return prefersCSV(d.accept)
}

// prefersCSV reports whether accept ranks text/csv above application/json
// (an equal rank goes to the one listed first).
func prefersCSV(accept string) bool {
	csvQ, jsonQ := -1.0, -1.0
	csvAt, jsonAt := 0, 0
	for i, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				q = f
			}
		}
		switch mt {
		case "text/csv":
			if q > csvQ {
				csvQ, csvAt = q, i
			}
		case "application/json", "application/*", "*/*":
			if q > jsonQ {
				jsonQ, jsonAt = q, i
			}
		}
	}
	if csvQ <= 0 {
		return false
	}
	return csvQ > jsonQ || (csvQ == jsonQ && csvAt < jsonAt)
}

// csvName is a download's file name: parts joined by "-", the empty ones
// left out, and ".csv" ("scorecard-node-nod_…-2026-11-01.csv").
func csvName(parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), "-") + ".csv"
}

// downloadOutput writes JSON or CSV itself, so that a CSV download is
// written row by row to the connection instead of built in memory first.
type downloadOutput struct {
	Body func(huma.Context)
}

// download answers v as JSON, or, when csv, as a CSV file named filename
// whose rows writeRows writes (after the byte-order mark and header).
func download(v any, asCSV bool, filename string, writeRows func(w *csv.Writer)) *downloadOutput {
	return &downloadOutput{Body: func(hc huma.Context) {
		if !asCSV {
			hc.SetHeader("Content-Type", "application/json")
			hc.SetStatus(http.StatusOK)
			_ = jsonFormat.Marshal(hc.BodyWriter(), v)
			return
		}
		hc.SetHeader("Content-Type", csvMediaType)
		// filename is built from validated ids, codes and dates: no quoting needed.
		hc.SetHeader("Content-Disposition", `attachment; filename="`+filename+`"`)
		hc.SetStatus(http.StatusOK)
		bw := hc.BodyWriter()
		if _, err := bw.Write([]byte(utf8BOM)); err != nil {
			return
		}
		w := csv.NewWriter(bw) // flushes to the connection every 4 KiB
		writeRows(w)
		w.Flush()
	}}
}

// downloadResponses documents the 200 of a download operation: schema as
// JSON, or CSV described by columns.
func (s *Server) downloadResponses(body reflect.Type, what, columns, example string) map[string]*huma.Response {
	ref := s.api.OpenAPI().Components.Schemas.Schema(body, true, "")
	return map[string]*huma.Response{"200": {
		Description: "The " + what + " as JSON, or as CSV (format=csv or Accept: text/csv).",
		Headers: map[string]*huma.Param{"Content-Disposition": {
			Description: "CSV only: attachment with a file name.",
			Schema:      &huma.Schema{Type: "string", Examples: []any{`attachment; filename="ranking.csv"`}},
		}},
		Content: map[string]*huma.MediaType{
			"application/json": {Schema: ref},
			"text/csv": {
				Schema: &huma.Schema{Type: "string", Description: "UTF-8 with a byte-order mark, RFC 4180, a header row then " +
					"one row per line item. Columns: " + columns + "."},
				Example: utf8BOM + example,
			},
		},
	}}
}

// Scorecard CSV: one row per count, KPI, complaint cell and breach clock.
const scorecardColumns = "scope,id,period_from,period_to,kind,name,value,numerator,denominator,unit"

func writeScorecardCSV(sc quality.Scorecard) func(w *csv.Writer) {
	return func(w *csv.Writer) {
		head := []string{sc.Scope, sc.ID, sc.Period.From, sc.Period.To}
		row := func(kind, name, value, num, den, unit string) {
			_ = w.Write(append(head[:4:4], kind, name, value, num, den, unit))
		}
		_ = w.Write(strings.Split(scorecardColumns, ","))
		row("count", "tickets", itoa(sc.Tickets), "", "", "count")
		row("count", "cancelled", itoa(sc.Cancelled), "", "", "count")
		for _, k := range sc.KPIs {
			row("kpi", k.Name, kpiValue(k.Value), itoa(k.Numerator), itoa(k.Denominator), k.Unit)
		}
		for _, c := range sc.Complaints {
			row("complaint", c.Category+"/"+c.Severity, itoa(c.Count), "", "", "count")
		}
		for _, b := range sc.Breaches {
			row("breach", string(b.Clock), itoa(b.Count), "", "", "count")
		}
	}
}

// Ranking CSV: one row per node, best first.
const rankingColumns = "rank,node_id,node_name,tickets,kpi,value,numerator,denominator,unit,region,period_from,period_to"

func writeRankingCSV(r quality.Ranking) func(w *csv.Writer) {
	return func(w *csv.Writer) {
		_ = w.Write(strings.Split(rankingColumns, ","))
		for _, e := range r.Entries {
			rank := ""
			if e.Rank > 0 {
				rank = strconv.Itoa(e.Rank)
			}
			_ = w.Write([]string{rank, e.NodeID, e.NodeName, itoa(e.Tickets), r.KPI, kpiValue(e.KPI.Value),
				itoa(e.KPI.Numerator), itoa(e.KPI.Denominator), e.KPI.Unit, r.Region, r.Period.From, r.Period.To})
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// kpiValue is a KPI value as the JSON shows it; empty for null.
func kpiValue(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}
