package api

import (
	"encoding/json"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/logging"
)

func writeProblemHTTP(w http.ResponseWriter, r *http.Request, p *Problem) {
	p.RequestID = logging.Get(r.Context(), "request_id")
	p.Instance = r.URL.Path
	lang := i18n.Negotiate(r.Header.Get("Accept-Language"), "")
	p.Localize(lang)
	w.Header().Set("Content-Language", lang)
	for name, values := range p.headers {
		w.Header()[name] = values
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeProblem(ctx huma.Context, p *Problem) {
	p.RequestID = logging.Get(ctx.Context(), "request_id")
	p.Instance = ctx.URL().Path
	lang := languageOf(ctx)
	p.Localize(lang)
	ctx.SetHeader("Content-Language", lang)
	for name, values := range p.headers {
		for _, v := range values {
			ctx.SetHeader(name, v)
		}
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}
