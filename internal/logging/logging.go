// Package logging builds the JSON slog logger and carries request-scoped
// fields (request id, tenant, key, operation) so every log line written with
// a request's context names the request, including lines written by the
// domain and database layers.
package logging

import (
	"context"
	"io"
	"log/slog"
	"sync"
)

// New returns a JSON logger whose lines include the fields attached to the
// context passed to the *Context logging methods.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(&handler{Handler: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})})
}

type fieldsKey struct{}

// fields is a mutable, request-scoped attribute set.
type fields struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

// WithFields returns ctx carrying a fresh attribute set seeded with attrs.
// Call once per request or job.
func WithFields(ctx context.Context, attrs ...slog.Attr) context.Context {
	return context.WithValue(ctx, fieldsKey{}, &fields{attrs: attrs})
}

// Add attaches attrs to the request's attribute set (no-op without one).
func Add(ctx context.Context, attrs ...slog.Attr) {
	if f, ok := ctx.Value(fieldsKey{}).(*fields); ok {
		f.mu.Lock()
		f.attrs = append(f.attrs, attrs...)
		f.mu.Unlock()
	}
}

// Get returns the value of a request field, or "".
func Get(ctx context.Context, key string) string {
	if f, ok := ctx.Value(fieldsKey{}).(*fields); ok {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, a := range f.attrs {
			if a.Key == key {
				return a.Value.String()
			}
		}
	}
	return ""
}

type handler struct{ slog.Handler }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	if f, ok := ctx.Value(fieldsKey{}).(*fields); ok {
		f.mu.Lock()
		r.AddAttrs(f.attrs...)
		f.mu.Unlock()
	}
	return h.Handler.Handle(ctx, r)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &handler{Handler: h.Handler.WithAttrs(attrs)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{Handler: h.Handler.WithGroup(name)}
}
