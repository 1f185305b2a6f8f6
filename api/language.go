package api

import (
	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
)

// language negotiates the response's language once the tenant is known:
// the best supported language of Accept-Language, else the tenant's
// default_language, else English. It records it in the context for the
// transformer (localize) and says it in Content-Language.
func (s *Server) language(ctx huma.Context, next func(huma.Context)) {
	p, _ := tenants.PrincipalFrom(ctx.Context())
	lang := i18n.Negotiate(ctx.Header("Accept-Language"), p.Language)
	ctx.SetHeader("Content-Language", lang)
	next(huma.WithContext(ctx, i18n.WithLanguage(ctx.Context(), lang)))
}

// languageOf is the language negotiated for ctx, or, before negotiation
// (a failed authentication), Accept-Language's best else English.
func languageOf(ctx huma.Context) string {
	if l := i18n.Language(ctx.Context()); l != "" {
		return l
	}
	return i18n.Negotiate(ctx.Header("Accept-Language"), "")
}

// localize is the transformer that renders every message-carrying text of a
// response (problems, dispatch reasons, trace lines) in the negotiated
// language.
func localize(ctx huma.Context, _ string, v any) (any, error) {
	lang := languageOf(ctx)
	ctx.SetHeader("Content-Language", lang)
	return i18n.LocalizeAll(v, lang), nil
}
