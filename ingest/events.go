package ingest

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/beckon-chat/beckon/schemas"
)

// serveEvents is POST /v1/events: one event object or an array of them.
// navigator.sendBeacon sends its string body as text/plain, so the body is
// read as JSON whatever the Content-Type says.
func (s *Service) serveEvents(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
	case http.MethodOptions:
		s.preflight(w, r)
		return
	default:
		w.Header().Set("Allow", "POST, OPTIONS")
		s.fail(w, r, errMethod(r.Method, "POST"))
		return
	}
	b := s.pool.Get().(*batch)
	defer s.release(b)
	err := s.read(w, r, b)
	if err == nil {
		err = s.accept(r, b)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.cors(w, r)
	s.metrics.accepted.Add(float64(len(b.events)))
	s.metrics.request(http.StatusNoContent)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) release(b *batch) {
	if b.body.Cap() > 2*int(s.cfg.MaxBodyBytes) {
		return // let an odd large buffer go rather than pin it in the pool
	}
	b.reset()
	s.pool.Put(b)
}

// read reads and decodes the body, capped at MaxBodyBytes.
func (s *Service) read(w http.ResponseWriter, r *http.Request, b *batch) error {
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	if _, err := b.body.ReadFrom(body); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return fmt.Errorf("%w: the body exceeds %d bytes", ErrPayloadTooLarge, mbe.Limit)
		}
		return &schemas.FieldError{Reason: "cannot read the body: " + err.Error(), Err: schemas.ErrSyntax}
	}
	data := b.body.Bytes()
	b.isArray = firstNonSpace(data) == '['
	events, err := b.dec.DecodeBatch(data, b.events)
	b.events = events
	if err != nil {
		return err
	}
	if len(b.events) == 0 {
		return &schemas.FieldError{Reason: "the body holds no events", Err: schemas.ErrMissing}
	}
	return nil
}

// accept checks a decoded batch — size, SPEC §1, origin, rate — and
// publishes it. Checks come before any publish: a request is stored whole
// or not at all (up to a failure of NATS itself, which the client's retry
// with the same ids repairs).
func (s *Service) accept(r *http.Request, b *batch) error {
	if n := len(b.events); n > s.cfg.MaxBatch {
		return fmt.Errorf("%w: %d events, at most %d per request", ErrTooManyEvents, n, s.cfg.MaxBatch)
	}
	origin := r.Header.Get("Origin")
	for i := range b.events {
		ev := &b.events[i]
		err := ev.Validate(false)
		if err == nil && ev.Type == schemas.Tick {
			err = &schemas.FieldError{Field: "type", Reason: "must be page_view, heartbeat, event or leave (tick is ingest's own)", Err: schemas.ErrInvalid}
		}
		if err == nil && origin != "" && !s.origins.allows(ev.WidgetID, origin) {
			err = &schemas.FieldError{Field: "widget_id", Reason: fmt.Sprintf("origin %q is not allowed for widget %q", origin, ev.WidgetID), Err: ErrOriginNotAllowed}
		}
		if err != nil {
			if b.isArray {
				return &schemas.BatchError{Index: i, Err: err}
			}
			return err
		}
	}
	if s.limits != nil {
		if ok, wait := s.limits.allow(clientIP(r, s.cfg.TrustProxyHeaders), s.cfg.Clock(), len(b.events)); !ok {
			return &rateError{wait: wait}
		}
	}
	prepare(b)
	err := s.publish(r.Context(), b)
	if err != nil {
		s.log.Warn("events not stored", "events", len(b.events), "err", err)
	}
	return err
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}
