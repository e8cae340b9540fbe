package ingest

import (
	"net/http"
	"strconv"

	"github.com/beckon-chat/beckon/schemas"
)

// transparentGIF is the smallest 1×1 transparent GIF.
var transparentGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// servePixel is GET /v1/pixel.gif: a page view from a page without script
// (a <noscript><img>), its fields in the query string as Snowplow's pixel
// tracker sends them. The url defaults to the Referer header, which is the
// page that shows the image.
func (s *Service) servePixel(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.fail(w, r, errMethod(r.Method, "GET"))
		return
	}
	if r.Method == http.MethodHead { // link checkers and prefetchers: no page view
		s.pixelHeaders(w, r)
		w.WriteHeader(http.StatusOK)
		return
	}
	q := r.URL.Query()
	ev := schemas.Event{
		ID:        q.Get("id"),
		Type:      schemas.EventType(q.Get("type")),
		WidgetID:  q.Get("widget_id"),
		VisitorID: q.Get("visitor_id"),
		URL:       q.Get("url"),
		Referrer:  q.Get("referrer"),
		Title:     q.Get("title"),
		Name:      q.Get("name"),
	}
	if ev.Type == "" {
		ev.Type = schemas.PageView
	}
	if ev.URL == "" {
		ev.URL = r.Referer()
	}
	b := s.pool.Get().(*batch)
	defer s.release(b)
	b.events = append(b.events, ev)
	if err := s.accept(r, b); err != nil {
		s.fail(w, r, err)
		return
	}
	s.metrics.accepted.Inc()
	s.metrics.request(http.StatusOK)
	s.pixelHeaders(w, r)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(transparentGIF)
}

// pixelHeaders forbids caching, so that every page view fetches the pixel.
func (s *Service) pixelHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "image/gif")
	h.Set("Content-Length", strconv.Itoa(len(transparentGIF)))
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate, max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	s.cors(w, r)
}
