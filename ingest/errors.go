package ingest

import "errors"

// Errors that callers branch on. The handler maps each to its HTTP status
// in one place (statusOf); New returns ErrInvalidConfig.
var (
	// ErrInvalidConfig is a Config that New cannot run with.
	ErrInvalidConfig = errors.New("ingest: invalid configuration")
	// ErrPayloadTooLarge is a body past Config.MaxBodyBytes (413).
	ErrPayloadTooLarge = errors.New("ingest: payload too large")
	// ErrTooManyEvents is a batch past Config.MaxBatch (413).
	ErrTooManyEvents = errors.New("ingest: too many events in one request")
	// ErrRateLimited is a client past its events-per-second budget (429).
	ErrRateLimited = errors.New("ingest: rate limit exceeded")
	// ErrOriginNotAllowed is a browser Origin that the event's widget does
	// not allow (403).
	ErrOriginNotAllowed = errors.New("ingest: origin not allowed")
	// ErrUnavailable is JetStream not acknowledging the events in time, or
	// NATS disconnected (503): the client retries.
	ErrUnavailable = errors.New("ingest: event store unavailable")
)
