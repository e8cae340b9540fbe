package ingest

import (
	"net/http"
	"strings"
)

// origins is the CORS policy: which browser origins may send beacons for
// which widget. Browsers send the Origin header on sendBeacon and fetch
// POSTs; a request without one (curl, a server) is not a browser's
// cross-site request and is allowed.
type origins struct {
	any      bool                       // demo mode: every origin, every widget
	byWidget map[string]map[string]bool // widget → allowed origins ("*": any)
	known    map[string]bool            // allowed for at least one widget
}

func newOrigins(allowed map[string][]string, any bool) origins {
	o := origins{any: any, byWidget: make(map[string]map[string]bool), known: make(map[string]bool)}
	for widget, list := range allowed {
		set := make(map[string]bool, len(list))
		for _, origin := range list {
			origin = normalizeOrigin(origin)
			set[origin] = true
			o.known[origin] = true
		}
		o.byWidget[widget] = set
	}
	return o
}

// normalizeOrigin lowers the case and drops a trailing slash: browsers
// serialize origins that way, people write them otherwise.
func normalizeOrigin(origin string) string {
	return strings.TrimSuffix(strings.ToLower(origin), "/")
}

func (o origins) allows(widget, origin string) bool {
	if o.any {
		return true
	}
	set := o.byWidget[widget]
	return set["*"] || set[normalizeOrigin(origin)]
}

// mayAsk is whether origin may talk to ingest at all, before the widget is
// known: for preflights and for the CORS headers of any answer.
func (o origins) mayAsk(origin string) bool {
	return o.any || o.known["*"] || o.known[normalizeOrigin(origin)]
}

// cors adds the CORS headers for the request's origin when it may talk to
// ingest, so that a fetch()-based tracker can read the answers, errors
// included. Credentials are allowed because sendBeacon sends cookies.
func (s *Service) cors(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" || !s.origins.mayAsk(origin) {
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	// The tracker reads Retry-After of a 429 or 503 to pace its retries.
	h.Set("Access-Control-Expose-Headers", "Retry-After")
}

// preflight answers OPTIONS: a tracker that posts with a JSON content
// type, unlike sendBeacon's text/plain, asks first.
func (s *Service) preflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin != "" && !s.origins.mayAsk(origin) {
		s.fail(w, r, &originError{origin: origin})
		return
	}
	s.cors(w, r)
	h := w.Header()
	h.Set("Allow", "POST, OPTIONS")
	if origin != "" {
		h.Set("Access-Control-Allow-Methods", "POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "86400")
	}
	s.metrics.request(http.StatusNoContent)
	w.WriteHeader(http.StatusNoContent)
}
