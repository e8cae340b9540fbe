package gateway

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// TrackerHandler serves the tracker script, GET /v1/tracker.js.
func TrackerHandler() http.Handler {
	js, err := static.ReadFile("static/tracker.js")
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		// Short: sites embed the tag once and should get fixes soon.
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(js)
	})
}

// DemoHandler serves the demo shop "Acme Shop" at /: /, /pricing,
// /products and /checkout, each a page that loads the tracker from the
// same origin.
func DemoHandler() http.Handler {
	demo, err := fs.Sub(static, "static/demo")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(demo)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Pretty URLs (/pricing) map to pages (pricing.html), so rules can
		// say "current_url contains /pricing" as people write them.
		p := path.Clean(r.URL.Path)
		if p != "/" && path.Ext(p) == "" {
			if _, err := fs.Stat(demo, strings.TrimPrefix(p, "/")+".html"); err == nil {
				http.ServeFileFS(w, r, demo, strings.TrimPrefix(p, "/")+".html")
				return
			}
		}
		files.ServeHTTP(w, r)
	})
}
