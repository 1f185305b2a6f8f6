package api

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// The API reference at /docs is Stoplight Elements 9.0.25 (Apache-2.0),
// served from the binary: it renders without a connection to anywhere but
// this server, and its "try it" sends requests to the address the page was
// loaded from (boot.js rewrites the spec's servers to window.location.origin).
// To move to another version, replace docs/elements/ with the files of the
// npm package @stoplight/elements at that version and change elementsVersion.
const elementsVersion = "9.0.25"

//go:embed docs/index.html docs/boot.js docs/elements/web-components.min.js docs/elements/styles.min.css
var docsFiles embed.FS

// docsPolicy lets the page load only this server's scripts, styles and API.
var docsPolicy = strings.Join([]string{
	"default-src 'none'",
	"base-uri 'none'",
	"connect-src 'self'",
	"form-action 'none'",
	"frame-ancestors 'none'",
	"img-src 'self' data:",
	"font-src 'self' data:",
	"script-src 'self'",
	"style-src 'self' 'unsafe-inline'", // Elements sets inline styles
}, "; ")

// docsHandler serves /docs and its assets.
func docsHandler() http.Handler {
	index, _ := docsFiles.ReadFile("docs/index.html")
	assets := map[string]string{
		"/docs/assets/boot.js":               "docs/boot.js",
		"/docs/assets/web-components.min.js": "docs/elements/web-components.min.js",
		"/docs/assets/styles.min.css":        "docs/elements/styles.min.css",
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeProblemHTTP(w, r, newProblem(http.StatusMethodNotAllowed, "", "").withMsg("problem.method_not_allowed"))
			return
		}
		w.Header().Set("Content-Security-Policy", docsPolicy)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.URL.Path == "/docs" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
			_, _ = w.Write(index)
			return
		}
		name, ok := assets[r.URL.Path]
		if !ok {
			writeProblemHTTP(w, r, newProblem(http.StatusNotFound, "", "").withMsg("problem.no_such_endpoint"))
			return
		}
		body, err := fs.ReadFile(docsFiles, name)
		if err != nil {
			writeProblemHTTP(w, r, newProblem(http.StatusNotFound, "", "").withMsg("problem.no_such_endpoint"))
			return
		}
		switch {
		case strings.HasSuffix(name, ".js"):
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		case strings.HasSuffix(name, ".css"):
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
		}
		// Elements' files change only with elementsVersion; boot.js with the binary.
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("ETag", `"elements-`+elementsVersion+`-`+name+`"`)
		_, _ = w.Write(body)
	})
}
