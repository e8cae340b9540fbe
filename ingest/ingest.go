// Package ingest is Beckon's HTTP beacon API: it decodes and validates the
// tracker's beacons, stamps them with its own clock and publishes them to
// their visitor's partition of the events stream, answering only once
// JetStream has stored them; and it ticks every partition so that quiet
// partitions' timers fire.
package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/beckon-chat/beckon/internal/streams"
)

// Config is the ingest service's settings. Only JetStream and Partitions are
// required; New applies the defaults of the others.
type Config struct {
	// JetStream is the client of the NATS deployment holding the events
	// stream (required). Ingest publishes through its own JetStream context
	// on the same connection, so that its ack timeout and in-flight limit
	// are its own. Connect with nats.MaxReconnects(-1): ingest answers 503
	// while the connection is down and recovers when it is back, but a
	// closed connection stays closed.
	JetStream jetstream.JetStream
	// Partitions is the events stream's partition count (required), as
	// returned by streams.EnsureEvents.
	Partitions int
	// Logger receives operational messages (default: slog.Default()).
	Logger *slog.Logger
	// Registerer receives the beckon_ingest_* metrics; nil means no metrics.
	Registerer prometheus.Registerer
	// Clock is the event time source (default time.Now); tests fake it.
	Clock func() time.Time
	// MaxBodyBytes caps a request body (default 64 KiB: the browser's
	// keepalive budget, so a tracker never needs more).
	MaxBodyBytes int64
	// MaxBatch caps the events of one request (default 100).
	MaxBatch int
	// RateLimit is the events per second allowed to one client IP (default
	// 100); a negative value disables rate limiting.
	RateLimit float64
	// RateBurst is how many events one client IP may send at once (default
	// 10 × MaxBatch); it must be at least MaxBatch.
	RateBurst int
	// AckTimeout is how long a request waits for JetStream to store its
	// events before answering 503 (default 2s).
	AckTimeout time.Duration
	// MaxPendingAcks bounds the publishes awaiting JetStream's ack across
	// all requests (default 16384); past it publishing stalls briefly and
	// then answers 503.
	MaxPendingAcks int
	// AllowedOrigins lists, per widget id, the browser origins (such as
	// "https://www.acme.example") allowed to send its beacons; "*" allows
	// any. Requests without an Origin header (curl, servers) are allowed.
	AllowedOrigins map[string][]string
	// AllowAnyOrigin accepts beacons from any origin for every widget: the
	// demo mode of `beckon serve`, not for production.
	AllowAnyOrigin bool
	// TickInterval is how often Run publishes a tick to every partition
	// (default 250ms), which bounds how late a timer fires in a quiet
	// partition.
	TickInterval time.Duration
	// TrustProxyHeaders takes the client IP of rate limiting from the last
	// X-Forwarded-For entry (or X-Real-IP), the one that the load balancer
	// in front of ingest adds. Set it only behind such a proxy: otherwise a
	// client chooses its own IP.
	TrustProxyHeaders bool
}

// Defaults of Config.
const (
	DefaultMaxBodyBytes   = 64 << 10
	DefaultMaxBatch       = 100
	DefaultRateLimit      = 100
	DefaultAckTimeout     = 2 * time.Second
	DefaultMaxPendingAcks = 16384
	DefaultTickInterval   = 250 * time.Millisecond
)

// withDefaults is the one place that applies defaults and validates.
func (c Config) withDefaults() (Config, error) {
	if c.JetStream == nil {
		return c, fmt.Errorf("%w: JetStream is required", ErrInvalidConfig)
	}
	if c.Partitions < 1 {
		return c, fmt.Errorf("%w: Partitions=%d, want at least 1 (see streams.EnsureEvents)", ErrInvalidConfig, c.Partitions)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.RateBurst <= 0 {
		c.RateBurst = 10 * c.MaxBatch
	}
	if c.RateLimit > 0 && c.RateBurst < c.MaxBatch {
		return c, fmt.Errorf("%w: RateBurst=%d is less than MaxBatch=%d, so a full batch would never pass", ErrInvalidConfig, c.RateBurst, c.MaxBatch)
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.MaxPendingAcks <= 0 {
		c.MaxPendingAcks = DefaultMaxPendingAcks
	}
	if c.TickInterval <= 0 {
		c.TickInterval = DefaultTickInterval
	}
	return c, nil
}

// Service is the ingest role: an http.Handler for beacons (Handler) and the
// ticker (Run). It is safe for concurrent use.
type Service struct {
	cfg     Config
	nc      *nats.Conn
	pub     jetstream.JetStream
	log     *slog.Logger
	origins origins
	limits  *limiters
	metrics *metrics
	pool    sync.Pool // *batch

	// mu orders time stamps with publishes: whoever takes the clock reading
	// publishes before the next reader, so that one Service's events and
	// ticks reach each partition with non-decreasing ts.
	mu     sync.Mutex
	lastTS int64
}

// New checks the configuration and returns a Service.
func New(cfg Config) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	nc := cfg.JetStream.Conn()
	pub, err := jetstream.New(nc,
		jetstream.WithPublishAsyncTimeout(cfg.AckTimeout),
		jetstream.WithPublishAsyncMaxPending(cfg.MaxPendingAcks))
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Service{
		cfg:     cfg,
		nc:      nc,
		pub:     pub,
		log:     cfg.Logger.With("component", "ingest"),
		origins: newOrigins(cfg.AllowedOrigins, cfg.AllowAnyOrigin),
		limits:  newLimiters(cfg.RateLimit, cfg.RateBurst),
		metrics: m,
	}
	s.pool.New = func() any { return newBatch() }
	return s, nil
}

// Handler serves the beacon API: POST /v1/events and GET /v1/pixel.gif.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/events", s.serveEvents)
	mux.HandleFunc("/v1/pixel.gif", s.servePixel)
	return mux
}

// Ready reports whether ingest can store events now: NATS connected and
// both streams present. It suits a readiness probe.
func (s *Service) Ready(ctx context.Context) error {
	if !s.nc.IsConnected() {
		return fmt.Errorf("%w: NATS %s", ErrUnavailable, s.nc.Status())
	}
	return streams.Check(ctx, s.pub)
}

// now returns the next event time: the clock, but never earlier than a time
// already handed out, because a wall clock can step back. Hold s.mu.
func (s *Service) now() int64 {
	ms := s.cfg.Clock().UnixMilli()
	if ms < s.lastTS {
		ms = s.lastTS
	}
	s.lastTS = ms
	return ms
}
