// Package sink publishes invitation commands to the invitations stream
// through watermill: one JetStream message per invitation, msgpack body, on
// the visitor's subject, de-duplicated by the invitation id.
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vmihailenco/msgpack/v5"
	"golang.org/x/sync/errgroup"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/schemas"
)

// Config configures a Sink. Zero values take the defaults noted.
type Config struct {
	// Conn is the NATS connection to publish on (required). The sink does
	// not own it: Close leaves it open. Give it nats.MaxReconnects(-1) so
	// that a NATS restart is ridden out by the retries below.
	Conn *nats.Conn
	// Logger receives retries and failures; nil means slog.Default().
	Logger *slog.Logger
	// Registerer registers the sink's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// MaxRetries is how many times a failed publish is retried before Publish
	// gives up with ErrRetriesExhausted. Default 10; negative retries until
	// the context is done.
	MaxRetries int
	// InitialBackoff is the wait before the first retry; it doubles on each
	// retry up to MaxBackoff. Default 100ms.
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between retries. Default 5s.
	MaxBackoff time.Duration
	// AckTimeout bounds one attempt's wait for JetStream's acknowledgement,
	// and so how long Publish can overrun a cancelled context. Default 5s.
	AckTimeout time.Duration
}

func (c *Config) setDefaults() error {
	if c.Conn == nil {
		return errors.New("sink: Config.Conn is required")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 10
	}
	if c.InitialBackoff <= 0 {
		c.InitialBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.MaxBackoff < c.InitialBackoff {
		c.MaxBackoff = c.InitialBackoff
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 5 * time.Second
	}
	return nil
}

// Sink publishes invitations. It is safe for concurrent use.
type Sink struct {
	cfg     Config
	pub     message.Publisher
	closed  atomic.Bool
	metrics metrics
}

type metrics struct {
	published prometheus.Counter
	retries   prometheus.Counter
	seconds   prometheus.Histogram
}

// New returns a Sink that publishes on cfg.Conn.
func New(cfg Config) (*Sink, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	pub, err := wmnats.NewPublisherWithNatsConn(cfg.Conn, wmnats.PublisherPublishConfig{
		Marshaler: &wmnats.NATSMarshaler{},
		// The topic is already the full subject beckon.invitations.<w>.<v>.
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{
			// The stream is created by streams.EnsureInvitations, with the
			// de-duplication window that TrackMsgId relies on.
			AutoProvision:  false,
			TrackMsgId:     true, // Nats-Msg-Id = message UUID = invitation id
			ConnectOptions: []nats.JSOpt{nats.MaxWait(cfg.AckTimeout)},
		},
	}, watermill.NewSlogLogger(cfg.Logger))
	if err != nil {
		return nil, fmt.Errorf("sink: publisher: %w", err)
	}
	s := &Sink{cfg: cfg, pub: pub, metrics: metrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beckon_invitations_published_total",
			Help: "Invitations acknowledged by the invitations stream (duplicates included).",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "beckon_sink_publish_retries_total",
			Help: "Invitation publish attempts that failed and were retried.",
		}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "beckon_sink_publish_seconds",
			Help:    "Time to store one invitation, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}),
	}}
	if r := cfg.Registerer; r != nil {
		for _, c := range []prometheus.Collector{s.metrics.published, s.metrics.retries, s.metrics.seconds} {
			if err := r.Register(c); err != nil {
				return nil, fmt.Errorf("sink: metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Publish stores every invitation in the invitations stream — each
// visitor's in order — and returns once all are acknowledged. A failed
// attempt is retried with exponential backoff; an invitation that was
// stored but whose ack was lost is dropped by the stream's de-duplication
// when retried. Publish returns
// early with the context's error, or ErrRetriesExhausted; a visitor's
// invitations before the failed one are stored.
func (s *Sink) Publish(ctx context.Context, invs []schemas.Invitation) error {
	if s.closed.Load() {
		return ErrClosed
	}
	// Check them all first, so that a bad one publishes none.
	for i := range invs {
		if err := check(&invs[i]); err != nil {
			return err
		}
	}
	if len(invs) == 1 {
		return s.publishOne(ctx, &invs[0])
	}
	// Invitations for different visitors go out at once, each waiting for
	// its own ack; one visitor's keep their order. A processor's batch
	// holds many visitors' invitations, and one round trip each in turn
	// would make the sink the processor's limit.
	var order []string
	byVisitor := make(map[string][]*schemas.Invitation)
	for i := range invs {
		k := invs[i].WidgetID + "." + invs[i].VisitorID
		if _, ok := byVisitor[k]; !ok {
			order = append(order, k)
		}
		byVisitor[k] = append(byVisitor[k], &invs[i])
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxConcurrent)
	for _, k := range order {
		g.Go(func() error {
			for _, inv := range byVisitor[k] {
				if err := s.publishOne(gctx, inv); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// maxConcurrent bounds the publishes of one Publish call in flight at once.
const maxConcurrent = 64

func (s *Sink) publishOne(ctx context.Context, inv *schemas.Invitation) error {
	body, err := msgpack.Marshal(inv)
	if err != nil {
		return fmt.Errorf("sink: encode invitation %q: %w", inv.InvitationID, err)
	}
	start := time.Now()
	if err := s.publish(ctx, inv, body); err != nil {
		return err
	}
	s.metrics.seconds.Observe(time.Since(start).Seconds())
	s.metrics.published.Inc()
	return nil
}

func check(inv *schemas.Invitation) error {
	if inv.InvitationID == "" {
		return fmt.Errorf("%w: invitation_id is empty", ErrInvalidInvitation)
	}
	if err := schemas.ValidateID("widget_id", inv.WidgetID); err != nil {
		return fmt.Errorf("%w %q: %w", ErrInvalidInvitation, inv.InvitationID, err)
	}
	if err := schemas.ValidateID("visitor_id", inv.VisitorID); err != nil {
		return fmt.Errorf("%w %q: %w", ErrInvalidInvitation, inv.InvitationID, err)
	}
	return nil
}

// publish makes one invitation's attempts.
func (s *Sink) publish(ctx context.Context, inv *schemas.Invitation, body []byte) error {
	subject := streams.InvitationSubject(inv.WidgetID, inv.VisitorID)
	wait := s.cfg.InitialBackoff
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sink: publish %q: %w", inv.InvitationID, err)
		}
		// A fresh message per attempt: watermill messages carry ack state.
		err := s.pub.Publish(subject, message.NewMessage(inv.InvitationID, body))
		if err == nil {
			return nil
		}
		if s.closed.Load() {
			return ErrClosed
		}
		if s.cfg.MaxRetries >= 0 && attempt >= s.cfg.MaxRetries {
			s.cfg.Logger.Error("sink: giving up", "invitation_id", inv.InvitationID, "attempts", attempt+1, "err", err)
			return fmt.Errorf("%w: invitation %q after %d attempts: %w", ErrRetriesExhausted, inv.InvitationID, attempt+1, err)
		}
		s.metrics.retries.Inc()
		s.cfg.Logger.Warn("sink: publish failed, retrying", "invitation_id", inv.InvitationID, "attempt", attempt+1, "backoff", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sink: publish %q: %w", inv.InvitationID, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, s.cfg.MaxBackoff)
	}
}

// Close stops the sink: later Publish calls fail with ErrClosed. It does not
// close the NATS connection, which the caller owns (watermill's
// Publisher.Close would).
func (s *Sink) Close() error {
	s.closed.Store(true)
	return nil
}
