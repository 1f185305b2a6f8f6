package api

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2/validation"

	"github.com/servicenet/servicenet/internal/i18n"
)

// humaMessage maps one message Huma writes itself (a validation error, a
// parameter it cannot parse, a body it cannot read) to a catalog code: the
// message's format (a validation.Msg* variable, or a literal of Huma's
// source) and the names of the code's params, one per verb of the format in
// order. Huma builds its messages with fmt (ErrorFormatter), so the format
// is also the pattern that gives the params back.
type humaMessage struct {
	name   string  // the validation package's variable, "" for a literal
	format *string // the variable itself, so a changed text still matches
	code   string
	params []string
}

func lit(s string) *string { return &s }

// humaMessages is every message of Huma's validation package (the test walks
// the package's variables: a Huma upgrade that adds one fails it until it
// is mapped here and in the catalog), then the literals of Huma's validator
// and parameter parser.
var humaMessages = []humaMessage{
	{"MsgUnexpectedProperty", &validation.MsgUnexpectedProperty, "validation.unexpected_property", nil},
	{"MsgExpectedRFC3339DateTime", &validation.MsgExpectedRFC3339DateTime, "validation.date_time", nil},
	{"MsgExpectedRFC1123DateTime", &validation.MsgExpectedRFC1123DateTime, "validation.date_time_rfc1123", nil},
	{"MsgExpectedRFC3339Date", &validation.MsgExpectedRFC3339Date, "validation.date", nil},
	{"MsgExpectedRFC3339Time", &validation.MsgExpectedRFC3339Time, "validation.time", nil},
	{"MsgExpectedRFC5322Email", &validation.MsgExpectedRFC5322Email, "validation.email", []string{"Error"}},
	{"MsgExpectedRFC5890Hostname", &validation.MsgExpectedRFC5890Hostname, "validation.hostname", nil},
	{"MsgExpectedRFC2673IPv4", &validation.MsgExpectedRFC2673IPv4, "validation.ipv4", nil},
	{"MsgExpectedRFC2373IPv6", &validation.MsgExpectedRFC2373IPv6, "validation.ipv6", nil},
	{"MsgExpectedRFCIPAddr", &validation.MsgExpectedRFCIPAddr, "validation.ip", nil},
	{"MsgExpectedRFC3986URI", &validation.MsgExpectedRFC3986URI, "validation.uri", []string{"Error"}},
	{"MsgExpectedRFC4122UUID", &validation.MsgExpectedRFC4122UUID, "validation.uuid", []string{"Error"}},
	{"MsgExpectedRFC6570URITemplate", &validation.MsgExpectedRFC6570URITemplate, "validation.uri_template", nil},
	{"MsgExpectedRFC6901JSONPointer", &validation.MsgExpectedRFC6901JSONPointer, "validation.json_pointer", nil},
	{"MsgExpectedRFC6901RelativeJSONPointer", &validation.MsgExpectedRFC6901RelativeJSONPointer, "validation.relative_json_pointer", nil},
	{"MsgExpectedRegexp", &validation.MsgExpectedRegexp, "validation.regex", []string{"Error"}},
	{"MsgExpectedMatchAtLeastOneSchema", &validation.MsgExpectedMatchAtLeastOneSchema, "validation.any_of", nil},
	{"MsgExpectedMatchExactlyOneSchema", &validation.MsgExpectedMatchExactlyOneSchema, "validation.one_of_none", nil},
	{"MsgExpectedNotMatchSchema", &validation.MsgExpectedNotMatchSchema, "validation.not", nil},
	{"MsgExpectedPropertyNameInObject", &validation.MsgExpectedPropertyNameInObject, "validation.discriminator_missing", nil},
	{"MsgExpectedBoolean", &validation.MsgExpectedBoolean, "validation.boolean", nil},
	{"MsgExpectedDuration", &validation.MsgExpectedDuration, "validation.duration", []string{"Error"}},
	{"MsgExpectedNumber", &validation.MsgExpectedNumber, "validation.number", nil},
	{"MsgExpectedInteger", &validation.MsgExpectedInteger, "validation.integer", nil},
	{"MsgExpectedString", &validation.MsgExpectedString, "validation.string", nil},
	{"MsgExpectedBase64String", &validation.MsgExpectedBase64String, "validation.base64", nil},
	{"MsgExpectedArray", &validation.MsgExpectedArray, "validation.array", nil},
	{"MsgExpectedObject", &validation.MsgExpectedObject, "validation.object", nil},
	{"MsgExpectedArrayItemsUnique", &validation.MsgExpectedArrayItemsUnique, "validation.unique_items", nil},
	{"MsgExpectedOneOf", &validation.MsgExpectedOneOf, "validation.enum", []string{"Values"}},
	{"MsgExpectedMinimumNumber", &validation.MsgExpectedMinimumNumber, "validation.minimum", []string{"Min"}},
	{"MsgExpectedExclusiveMinimumNumber", &validation.MsgExpectedExclusiveMinimumNumber, "validation.exclusive_minimum", []string{"Min"}},
	{"MsgExpectedMaximumNumber", &validation.MsgExpectedMaximumNumber, "validation.maximum", []string{"Max"}},
	{"MsgExpectedExclusiveMaximumNumber", &validation.MsgExpectedExclusiveMaximumNumber, "validation.exclusive_maximum", []string{"Max"}},
	{"MsgExpectedNumberBeMultipleOf", &validation.MsgExpectedNumberBeMultipleOf, "validation.multiple_of", []string{"Factor"}},
	{"MsgExpectedMinLength", &validation.MsgExpectedMinLength, "validation.min_length", []string{"Min"}},
	{"MsgExpectedMaxLength", &validation.MsgExpectedMaxLength, "validation.max_length", []string{"Max"}},
	{"MsgExpectedBePattern", &validation.MsgExpectedBePattern, "validation.pattern_description", []string{"Description"}},
	{"MsgExpectedMatchPattern", &validation.MsgExpectedMatchPattern, "validation.pattern", []string{"Pattern"}},
	{"MsgExpectedMinItems", &validation.MsgExpectedMinItems, "validation.min_items", []string{"Min"}},
	{"MsgExpectedMaxItems", &validation.MsgExpectedMaxItems, "validation.max_items", []string{"Max"}},
	{"MsgExpectedMinProperties", &validation.MsgExpectedMinProperties, "validation.min_properties", []string{"Min"}},
	{"MsgExpectedMaxProperties", &validation.MsgExpectedMaxProperties, "validation.max_properties", []string{"Max"}},
	{"MsgExpectedRequiredProperty", &validation.MsgExpectedRequiredProperty, "validation.required_property", []string{"Property"}},
	{"MsgExpectedDependentRequiredProperty", &validation.MsgExpectedDependentRequiredProperty, "validation.dependent_required", []string{"Property", "Present"}},

	// Literals of huma's validate.go and huma.go (parameters and bodies).
	{"", lit("expected value to match exactly one schema but matched multiple"), "validation.one_of_many", nil},
	{"", lit("write only property is non-zero"), "validation.write_only", nil},
	{"", lit("unknown query parameter"), "validation.unknown_query_parameter", nil},
	{"", lit("required %s parameter is missing"), "validation.required_parameter", []string{"In"}},
	{"", lit("invalid integer"), "validation.parameter_integer", nil},
	{"", lit("invalid float"), "validation.parameter_number", nil},
	{"", lit("invalid floating value"), "validation.parameter_number", nil},
	{"", lit("invalid boolean"), "validation.parameter_boolean", nil},
	{"", lit("invalid date/time for format %s"), "validation.parameter_time", []string{"Format"}},
	{"", lit("invalid url.URL value"), "validation.parameter_url", nil},
	{"", lit("invalid value: %s"), "validation.parameter_value", []string{"Error"}},
	{"", lit("unparsable value"), "validation.parameter_value_unparsable", nil},

	// Problem details (the msg of huma.NewError).
	{"", lit("validation failed"), "problem.validation_failed", nil},
	{"", lit("request body is required"), "validation.body_required", nil},
	{"", lit("request body is too large limit=%d bytes"), "validation.body_too_large", []string{"Limit"}},
	{"", lit("request body read timeout"), "validation.body_read_timeout", nil},
	{"", lit("unable to marshal response"), "validation.not_acceptable", nil},
}

type humaPattern struct {
	re *regexp.Regexp
	m  *humaMessage
	// fixed is the length of the format's literal text: longer wins when
	// two formats match ("expected string to be %s" also matches
	// "expected string to be RFC 5322 email: …").
	fixed int
}

var (
	humaOnce     sync.Once
	humaExact    map[string]*humaMessage
	humaPatterns []humaPattern
)

// verb is a fmt verb as Huma's formats use them.
var verb = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[vdsqfgtx]`)

func compileHumaMessages() {
	humaExact = map[string]*humaMessage{}
	for i := range humaMessages {
		m := &humaMessages[i]
		f := *m.format
		if !verb.MatchString(f) {
			humaExact[f] = m
			continue
		}
		lits := verb.Split(f, -1)
		var b strings.Builder
		b.WriteString(`\A`)
		fixed := 0
		for j, l := range lits {
			if j > 0 {
				b.WriteString(`(.+?)`)
			}
			b.WriteString(regexp.QuoteMeta(l))
			fixed += len(l)
		}
		b.WriteString(`\z`)
		humaPatterns = append(humaPatterns, humaPattern{re: regexp.MustCompile(`(?s)` + b.String()), m: m, fixed: fixed})
	}
	slices.SortStableFunc(humaPatterns, func(a, b humaPattern) int { return b.fixed - a.fixed })
}

// humaMsg is the catalog message of a text Huma wrote, or nil when the text
// is none of Huma's known messages (a decoder's error, say).
func humaMsg(text string) *i18n.Message {
	humaOnce.Do(compileHumaMessages)
	if m, ok := humaExact[text]; ok {
		msg := i18n.M(m.code)
		return &msg
	}
	for _, p := range humaPatterns {
		sub := p.re.FindStringSubmatch(text)
		if sub == nil || len(sub)-1 != len(p.m.params) {
			continue
		}
		kv := make([]any, 0, 2*len(p.m.params))
		for i, name := range p.m.params {
			kv = append(kv, name, sub[i+1])
		}
		msg := i18n.M(p.m.code, kv...)
		return &msg
	}
	return nil
}
