// Package i18n owns the texts ServiceNet writes for people: a catalog of
// messages, each under a stable code with named parameters, translated in
// locales/active.<language>.json (files a translator edits; the English file
// is the source, every code must be in every file). A context records the
// caller's language; Render writes a message in it.
//
// Domain packages build Messages (code + params) and keep them; the API
// renders them at response time, so a stored decision is read in whichever
// language the reader asks for.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Supported languages (BCP 47), the first the fallback of last resort.
const (
	English = "en"
	Chinese = "zh-CN"
)

// Languages are the languages ServiceNet speaks.
var Languages = []string{English, Chinese}

// Message is a text as data: a stable code from the catalog and the values
// of its parameters. Its rendering depends on the reader's language.
type Message struct {
	Code   string         `json:"code" doc:"Stable message code from the catalog (see the API description): switch on it, never on the rendered text." example:"dispatch.best_node"`
	Params map[string]any `json:"params,omitempty" doc:"The message's parameters by name: what the text is made of, for integrators that write their own text."`
}

// M returns the message code with params given as name, value pairs.
func M(code string, kv ...any) Message {
	m := Message{Code: code}
	if len(kv) > 0 {
		m.Params = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m.Params[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	return m
}

// Render writes m in lang.
func (m Message) Render(lang string) string { return Render(lang, m.Code, m.Params) }

//go:embed locales/*.json
var localeFS embed.FS

// Files are the catalog files by language.
var Files = map[string]string{English: "locales/active.en.json", Chinese: "locales/active.zh-CN.json"}

var (
	loadOnce   sync.Once
	localizers map[string]*goi18n.Localizer
	loadErr    error
)

func load() {
	bundle := goi18n.NewBundle(language.English)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	localizers = map[string]*goi18n.Localizer{}
	for _, lang := range Languages {
		if _, err := bundle.LoadMessageFileFS(localeFS, Files[lang]); err != nil {
			loadErr = err
			return
		}
		localizers[lang] = goi18n.NewLocalizer(bundle, lang)
	}
}

// Load parses the catalog; a broken file is an error at start, not at a
// request.
func Load() error {
	loadOnce.Do(load)
	return loadErr
}

// Codes lists every message code of the catalog, sorted (the English file
// is the source).
func Codes() ([]string, error) {
	b, err := localeFS.ReadFile(Files[English])
	if err != nil {
		return nil, err
	}
	var c map[string]json.RawMessage
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	codes := make([]string, 0, len(c))
	for code := range c {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	return codes, nil
}

// Has reports whether code is in the catalog.
func Has(code string) bool {
	if Load() != nil {
		return false
	}
	_, err := localizers[English].Localize(&goi18n.LocalizeConfig{MessageID: code})
	var nf *goi18n.MessageNotFoundErr
	return !errors.As(err, &nf)
}

// Render writes the message code with params in lang (English when lang is
// not supported). A code missing from the catalog renders as the code itself
// (the catalog test keeps that from shipping).
func Render(lang, code string, params map[string]any) string {
	if Load() != nil {
		return code
	}
	l := localizers[lang]
	if l == nil {
		l = localizers[English]
	}
	s, err := l.Localize(&goi18n.LocalizeConfig{MessageID: code, TemplateData: nested(lang, params)})
	if err != nil && s == "" {
		return code
	}
	return s
}

// Negotiate picks the response language: the best supported language of
// the Accept-Language header, else the tenant's default, else English. A
// header naming only unsupported languages ("fr") falls back like no header.
func Negotiate(acceptLanguage, tenantDefault string) string {
	fallback := English
	if slices.Contains(Languages, tenantDefault) {
		fallback = tenantDefault
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return fallback
	}
	for _, t := range tags { // ordered by q
		if t == language.Und {
			continue
		}
		_, i, conf := matcher.Match(t)
		if conf != language.No {
			return Languages[i]
		}
	}
	return fallback
}

var matcher = language.NewMatcher([]language.Tag{language.English, language.MustParse(Chinese)})

type langKey struct{}

// WithLanguage records the caller's language in ctx.
func WithLanguage(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, langKey{}, lang)
}

// Language is the caller's language recorded in ctx, or "".
func Language(ctx context.Context) string {
	l, _ := ctx.Value(langKey{}).(string)
	return l
}

// Join renders messages in lang as one text: English sentences and clauses
// are joined as written, Chinese ones too (each message carries its own
// punctuation and spacing).
func Join(lang string, ms []Message) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Render(lang))
	}
	return b.String()
}

// ListSeparator is the catalog code of the separator between the items of
// a list param.
const ListSeparator = "problem.list_separator"

// nested renders the params that are messages themselves (a tier's name, an
// object's name), as built or as read back from JSON ({"code": ...}), and
// lists of messages (a technician's shifts), joined with the language's
// ListSeparator.
func nested(lang string, params map[string]any) map[string]any {
	var out map[string]any
	for k, v := range params {
		var text string
		if m, ok := asMessage(v); ok {
			text = m.Render(lang)
		} else if ms, ok := asMessages(v); ok {
			parts := make([]string, len(ms))
			for i, m := range ms {
				parts[i] = m.Render(lang)
			}
			text = strings.Join(parts, Render(lang, ListSeparator, nil))
		} else {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(params))
			for k, v := range params {
				out[k] = v
			}
		}
		out[k] = text
	}
	if out == nil {
		return params
	}
	return out
}

// asMessage reads v as a message, as built or as read back from JSON.
func asMessage(v any) (Message, bool) {
	switch v := v.(type) {
	case Message:
		return v, true
	case *Message:
		return *v, v != nil
	case map[string]any:
		c, ok := v["code"].(string)
		if !ok || len(v) > 2 {
			return Message{}, false
		}
		p, _ := v["params"].(map[string]any)
		return Message{Code: c, Params: p}, true
	}
	return Message{}, false
}

// asMessages reads v as a non-empty list of messages, as built or as read
// back from JSON.
func asMessages(v any) ([]Message, bool) {
	switch v := v.(type) {
	case []Message:
		return v, len(v) > 0
	case []any:
		out := make([]Message, 0, len(v))
		for _, e := range v {
			m, ok := asMessage(e)
			if !ok {
				return nil, false
			}
			out = append(out, m)
		}
		return out, len(out) > 0
	}
	return nil, false
}
