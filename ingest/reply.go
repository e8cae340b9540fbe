package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/beckon-chat/beckon/schemas"
)

// retryAfterUnavailable is the Retry-After of a 503, in seconds: NATS
// reconnects within a couple of seconds when it can.
const retryAfterUnavailable = "2"

// Problem is the JSON body of every 4xx and 5xx answer.
type Problem struct {
	Error string `json:"error"`           // what is wrong, for people
	Field string `json:"field,omitempty"` // the JSON field at fault
	Index *int   `json:"index,omitempty"` // the event's position in a batch body
}

// rateError is ErrRateLimited with the wait before a retry succeeds.
type rateError struct{ wait time.Duration }

func (e *rateError) Error() string {
	return fmt.Sprintf("%v: retry in %v", ErrRateLimited, e.wait)
}
func (e *rateError) Unwrap() error { return ErrRateLimited }

// originError is an Origin that no widget allows (a preflight).
type originError struct{ origin string }

func (e *originError) Error() string {
	return fmt.Sprintf("origin %q is not allowed to send beacons", e.origin)
}
func (e *originError) Unwrap() error { return ErrOriginNotAllowed }

var errMethodNotAllowed = errors.New("ingest: method not allowed")

func errMethod(got, want string) error {
	return fmt.Errorf("%w: %s, use %s", errMethodNotAllowed, got, want)
}

// problemOf maps an error to its status, metric reason and body: the one
// place that decides what each failure answers.
func problemOf(err error) (status int, reason string, p Problem) {
	p.Error = err.Error()
	var be *schemas.BatchError
	if errors.As(err, &be) {
		i := be.Index
		p.Index = &i
	}
	var fe *schemas.FieldError
	if errors.As(err, &fe) {
		p.Field = fe.Field
		p.Error = fe.Reason
		if fe.Field != "" {
			p.Error = fe.Field + " " + fe.Reason
		}
	}
	switch {
	case errors.Is(err, ErrOriginNotAllowed):
		return http.StatusForbidden, "origin", p
	case errors.Is(err, schemas.ErrSyntax):
		return http.StatusBadRequest, "syntax", p
	case errors.Is(err, schemas.ErrMissing):
		return http.StatusBadRequest, "missing", p
	case errors.Is(err, schemas.ErrInvalid):
		return http.StatusBadRequest, "invalid", p
	case errors.Is(err, ErrPayloadTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large", p
	case errors.Is(err, ErrTooManyEvents):
		return http.StatusRequestEntityTooLarge, "too_many_events", p
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests, "rate_limited", p
	case errors.Is(err, errMethodNotAllowed):
		return http.StatusMethodNotAllowed, "method", p
	case errors.Is(err, ErrUnavailable):
		p.Error = "events not stored, retry later"
		return http.StatusServiceUnavailable, "unavailable", p
	}
	return http.StatusInternalServerError, "internal", Problem{Error: "internal error"}
}

// fail answers a failed request with its status and a JSON Problem.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, reason, p := problemOf(err)
	h := w.Header()
	switch status {
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", retryAfterUnavailable)
	case http.StatusTooManyRequests:
		wait := time.Second
		if re := (*rateError)(nil); errors.As(err, &re) {
			wait = max(wait, re.wait)
		}
		h.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
	case http.StatusInternalServerError:
		s.log.Error("request failed", "err", err)
	}
	s.cors(w, r)
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	s.metrics.rejected(reason)
	s.metrics.request(status)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}
