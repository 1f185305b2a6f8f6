package network

// Parsing JSON Lines files: one object per line, decoded strictly.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
)

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
		field := te.Field
		if field == "" {
			field = "row"
		}
		return rowError(row, field, i18n.M("import.expected_got", "Want", goKind(te.Type.Kind()), "Got", jsonKind(te.Value)))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return rowError(row, strings.Trim(name, `"`), i18n.M("import.unknown_field"))
	}
	return rowError(row, "row", i18n.M("import.unreadable_row"))
}

// goKind names what a Go value of kind k is read from (import.kind.*).
func goKind(k reflect.Kind) i18n.Message {
	switch k {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return i18n.M("import.kind.whole_number")
	case reflect.Float64, reflect.Float32:
		return i18n.M("import.kind.number")
	case reflect.Slice, reflect.Array:
		return i18n.M("import.kind.array")
	case reflect.Struct, reflect.Pointer, reflect.Map:
		return i18n.M("import.kind.object")
	case reflect.Bool:
		return i18n.M("import.kind.bool")
	}
	return i18n.M("import.kind.string")
}

// jsonKind names the JSON value the decoder found (its UnmarshalTypeError
// Value: "string", "number", "number 1.5", "object", "array", "bool").
func jsonKind(value string) i18n.Message {
	kind, _, _ := strings.Cut(value, " ")
	switch kind {
	case "number", "object", "array", "bool", "string":
		return i18n.M("import.kind." + kind)
	}
	return i18n.M("import.kind.other", "Value", value)
}
