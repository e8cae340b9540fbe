// Package gateway is Beckon's reference widget gateway: it holds browsers'
// Server-Sent Events connections and delivers each visitor the invitations
// published for it, and it serves the tracker script and the demo shop.
//
// One ordered JetStream consumer per gateway process reads every
// invitation; a hub dispatches them by (widget, visitor) to the connected
// streams, so the NATS cost does not grow with the number of browsers.
package gateway

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/beckon-chat/beckon/internal/visitortoken"
)

// Config configures a Gateway. Zero values take the defaults noted.
type Config struct {
	// JetStream is the client of the NATS deployment holding the
	// invitations stream (required). Connect with nats.MaxReconnects(-1):
	// the consumer rides out a NATS restart, a closed connection does not.
	JetStream jetstream.JetStream
	// Secret verifies visitor tokens; the same secret as the token endpoint
	// of ingest (required, at least visitortoken.MinSecretLen bytes).
	Secret []byte
	// AllowedOrigins are the browser origins whose pages may open streams.
	// Empty allows any: a stream needs a signed token anyway.
	AllowedOrigins []string
	// Logger receives operational messages; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the beckon_gateway_* metrics; nil means none.
	Registerer prometheus.Registerer
	// FreshWindow is how old an invitation a new stream (one without
	// Last-Event-ID) still receives: the visitor's latest invitation, if it
	// was published this recently, so one that raced the page load is not
	// lost. Default 60s.
	FreshWindow time.Duration
	// ReplayWindow is how old an invitation a resumed stream (with
	// Last-Event-ID) still receives: everything after that id and at most
	// this old, up to MaxReplay of them. Default 5m: older invitations are
	// stale for a visitor who has moved on.
	ReplayWindow time.Duration
	// MaxReplay caps the invitations replayed to one resumed stream.
	// Default 20.
	MaxReplay int
	// KeepAlive is the interval of SSE comments that keep proxies from
	// closing an idle stream. Default 15s.
	KeepAlive time.Duration
	// ClientBuffer is how many invitations may wait for one slow stream;
	// past it the stream is closed (and the browser resumes it with
	// Last-Event-ID) rather than stalling delivery to everyone. Default 16.
	ClientBuffer int
	// WriteTimeout bounds one write to a stream; a browser that does not
	// read for this long is dropped. Default 10s.
	WriteTimeout time.Duration
	// ReadyTimeout is how long a request waits for Run's consumer to start
	// before answering 503. Default 5s.
	ReadyTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() error {
	if c.JetStream == nil {
		return fmt.Errorf("%w: JetStream is required", ErrInvalidConfig)
	}
	if len(c.Secret) < visitortoken.MinSecretLen {
		return fmt.Errorf("%w: Secret must be at least %d bytes", ErrInvalidConfig, visitortoken.MinSecretLen)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.FreshWindow, 60*time.Second)
	def(&c.ReplayWindow, 5*time.Minute)
	def(&c.KeepAlive, 15*time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.ReadyTimeout, 5*time.Second)
	if c.MaxReplay <= 0 {
		c.MaxReplay = 20
	}
	if c.ClientBuffer <= 0 {
		c.ClientBuffer = 16
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Gateway delivers invitations to browsers. Run it, and serve Handler.
type Gateway struct {
	cfg     Config
	log     *slog.Logger
	hub     *hub
	metrics *metrics

	ready     chan struct{} // closed when the consumer runs
	stream    jetstream.Stream
	done      chan struct{} // closed by Close: every stream ends
	closeOnce sync.Once
}

// New checks the configuration and returns a Gateway.
func New(cfg Config) (*Gateway, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Gateway{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "gateway"),
		hub:     newHub(),
		metrics: m,
		ready:   make(chan struct{}),
		done:    make(chan struct{}),
	}, nil
}

// Close ends every open stream, makes new ones fail with 503 and stops Run.
// Call it before http.Server.Shutdown, which would otherwise wait for the
// never-idle event streams (or register it with RegisterOnShutdown).
func (g *Gateway) Close() {
	g.closeOnce.Do(func() { close(g.done) })
}
