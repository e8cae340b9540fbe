package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

// Publisher stores invitations durably; Publish returns only once every
// invitation is stored. The sink implements it.
type Publisher interface {
	Publish(ctx context.Context, invs []schemas.Invitation) error
}

// RunnerConfig is the settings of a Runner.
type RunnerConfig struct {
	// JetStream is the connection to the events stream (required).
	JetStream jetstream.JetStream
	// Rules are the rules the engines evaluate (required).
	Rules *rules.Set
	// Publisher stores the invitations (required).
	Publisher Publisher
	// Partitions is the events stream's partition count (required).
	Partitions int
	// Only lists the partitions this runner processes; empty means all.
	Only []int
	// MaxBatch is the most messages processed between two acks (default 1000).
	MaxBatch int
	// CheckpointEvery is how often a partition records how far back a
	// rebuild must re-read (default 1s).
	CheckpointEvery time.Duration
	// RestartBackoff is how long a partition that failed (NATS unreachable
	// for longer than its timeouts, say) waits before it starts again,
	// rebuilding its state; it doubles up to a minute on repeated failures.
	// Default 1s; negative stops the whole runner on the first failure.
	RestartBackoff time.Duration
	// Logger receives the runner's logs (default slog.Default()).
	Logger *slog.Logger
	// Registerer receives the runner's metrics; nil means none.
	Registerer prometheus.Registerer
}

func (c *RunnerConfig) setDefaults() error {
	if c.JetStream == nil || c.Rules == nil || c.Publisher == nil {
		return errors.New("processor: JetStream, Rules and Publisher are required")
	}
	if c.Partitions < 1 {
		return fmt.Errorf("processor: partitions=%d, want at least 1", c.Partitions)
	}
	if len(c.Only) == 0 {
		for p := range c.Partitions {
			c.Only = append(c.Only, p)
		}
	}
	for _, p := range c.Only {
		if p < 0 || p >= c.Partitions {
			return fmt.Errorf("processor: partition %d out of range 0-%d", p, c.Partitions-1)
		}
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 1000
	}
	if c.CheckpointEvery <= 0 {
		c.CheckpointEvery = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RestartBackoff == 0 {
		c.RestartBackoff = time.Second
	}
	return nil
}

// Runner feeds engines from the events stream, one per partition, and
// publishes their invitations: one durable pull consumer per partition,
// messages applied in stream order, and an ack of the whole batch (AckAll)
// only after the batch's invitations are stored. A runner that starts, or
// takes a partition over from another instance, first rebuilds the state of
// the open sessions by re-reading the partition from a checkpoint, so that it
// publishes no invitation twice and loses none (DESIGN "Reliability model").
type Runner struct {
	cfg     RunnerConfig
	kv      jetstream.KeyValue
	metrics *runnerMetrics
}

// NewRunner checks the configuration and prepares the checkpoint bucket.
func NewRunner(ctx context.Context, cfg RunnerConfig) (*Runner, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	kv, err := cfg.JetStream.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      streams.CheckpointBucket,
		Description: "beckon processors: where each partition's rebuild starts",
		History:     1,
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("processor: checkpoint bucket %s: %w", streams.CheckpointBucket, err)
	}
	return &Runner{cfg: cfg, kv: kv, metrics: newRunnerMetrics(cfg.Registerer)}, nil
}

// Run processes the partitions until ctx is done, then finishes the batches
// in flight and returns. A partition that fails starts again after
// RestartBackoff, from a rebuilt state: its unacknowledged messages come
// back, so nothing is lost. With a negative RestartBackoff, Run returns the
// first error that stops a partition.
func (r *Runner) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for _, p := range r.cfg.Only {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := r.cfg.Logger.With("partition", p)
			backoff := r.cfg.RestartBackoff
			for {
				part := &partition{id: p, r: r, log: log}
				err := part.run(ctx)
				if err == nil || ctx.Err() != nil {
					return
				}
				if backoff < 0 {
					cancel(fmt.Errorf("partition %d: %w", p, err))
					return
				}
				r.metrics.restarts.Inc()
				log.Error("partition failed; restarting", "err", err, "in", backoff)
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, time.Minute)
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("processor: %w", err)
	}
	return nil
}

// partition is one partition's consumer, engine and position. Only its own
// goroutine touches it.
type partition struct {
	id     int
	r      *Runner
	log    *slog.Logger
	cons   jetstream.Consumer
	stream jetstream.Stream

	eng         *Engine
	warm        bool   // the engine holds every event before lastSeq
	lastSeq     uint64 // stream sequence of the last message applied
	lastDeliver uint64 // consumer sequence of the last message delivered to us
	lastFirst   bool   // ... and whether that was its first delivery
	ackedSeen   uint64 // the consumer's ack floor when last rebuilt
	invs        []schemas.Invitation
	checkpoint  time.Time
	saved       uint64 // the rebuild start last written
}

func (p *partition) run(ctx context.Context) error {
	js := p.r.cfg.JetStream
	cons, err := js.Consumer(ctx, streams.EventsStream, streams.ConsumerName(p.id))
	if err != nil {
		return fmt.Errorf("consumer %s: %w", streams.ConsumerName(p.id), err)
	}
	p.cons = cons
	if p.stream, err = js.Stream(ctx, streams.EventsStream); err != nil {
		return fmt.Errorf("stream %s: %w", streams.EventsStream, err)
	}
	it, err := cons.Messages(
		jetstream.PullMaxMessages(p.r.cfg.MaxBatch),
		jetstream.PullPriorityGroup(streams.PriorityGroup),
	)
	if err != nil {
		return fmt.Errorf("consume partition %d: %w", p.id, err)
	}
	// The iterator's Next blocks; a reader goroutine turns it into a channel
	// so that the loop can take whatever has arrived as one batch. On
	// shutdown Drain stops pulling and lets the buffered messages through.
	msgs := make(chan jetstream.Msg, p.r.cfg.MaxBatch)
	go func() {
		defer close(msgs)
		for {
			m, err := it.Next()
			if err != nil {
				if !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					p.log.Warn("fetch", "err", err)
				}
				return
			}
			msgs <- m
		}
	}()
	stop := context.AfterFunc(ctx, it.Drain)
	defer stop()
	// Publishing and acking the last batches must outlive ctx: shutdown
	// drains in-flight work rather than dropping it.
	work := context.WithoutCancel(ctx)
	batch := make([]jetstream.Msg, 0, p.r.cfg.MaxBatch)
	for m := range msgs {
		batch = append(batch[:0], m)
	fill:
		for len(batch) < p.r.cfg.MaxBatch {
			select {
			case m, ok := <-msgs:
				if !ok {
					break fill
				}
				batch = append(batch, m)
			default:
				break fill
			}
		}
		if err := p.process(work, batch); err != nil {
			it.Stop()
			for range msgs {
			}
			return err
		}
	}
	p.unpin(work)
	return nil
}

// unpin hands the partition over at once on a clean stop, instead of after
// the pinned TTL: a deploy's successor takes over without a pause.
func (p *partition) unpin(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := p.r.cfg.JetStream.Stream(ctx, streams.EventsStream)
	if err == nil {
		err = s.UnpinConsumer(ctx, streams.ConsumerName(p.id), streams.PriorityGroup)
	}
	if err != nil {
		p.log.Debug("unpin", "err", err)
	}
}

// process applies a batch, publishes its invitations and acks it.
func (p *partition) process(ctx context.Context, batch []jetstream.Msg) error {
	start := time.Now()
	var last jetstream.Msg
	for _, m := range batch {
		md, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("message metadata: %w", err)
		}
		last = m
		p.r.metrics.lag.WithLabelValues(strconv.Itoa(p.id)).Set(float64(md.NumPending))
		seq := md.Sequence.Stream
		delivered := func() { p.lastDeliver, p.lastFirst = md.Sequence.Consumer, md.NumDelivered == 1 }
		if p.warm && seq <= p.lastSeq || !p.warm && seq <= p.ackedSeen {
			delivered()
			continue // applied before: a redelivery; or acked before (see rebuild)
		}
		stale, err := p.stale(ctx, seq, md.Sequence.Consumer, md.NumDelivered)
		if err != nil {
			return err
		}
		if stale {
			rebuilt, err := p.rebuild(ctx, seq)
			if err != nil {
				return err
			}
			if !rebuilt {
				delivered()
				continue // applied and acked by an instance further on
			}
		}
		delivered()
		p.apply(seq, m.Data())
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	var acked uint64
	if last != nil {
		if err := last.DoubleAck(ctx); err != nil {
			return fmt.Errorf("ack: %w", err)
		}
		if md, err := last.Metadata(); err == nil {
			acked = md.Sequence.Stream
		}
	}
	p.r.metrics.batchSeconds.Observe(time.Since(start).Seconds())
	p.r.metrics.visitors.WithLabelValues(strconv.Itoa(p.id)).Set(float64(p.eng.Visitors()))
	p.saveCheckpoint(ctx, acked)
	return nil
}

// stale reports whether the engine must be rebuilt before applying the
// message of stream sequence seq, delivered as consumer sequence dseq for
// the numDelivered-th time: on the first message, and when the partition
// holds messages between the last one applied and this one — another
// instance took them while the pin was away. First deliveries come in
// stream order, so a first delivery right after the last one delivered here,
// itself a first delivery, is the partition's next message; anything else
// — a gap in the delivery sequence, or a redelivery on either side, which
// goes back in the stream while the first deliveries it interleaves with
// may have gone to another instance — is checked against the stream.
func (p *partition) stale(ctx context.Context, seq, dseq, numDelivered uint64) (bool, error) {
	if !p.warm {
		return true, nil
	}
	if dseq == p.lastDeliver+1 && numDelivered == 1 && p.lastFirst {
		return false, nil
	}
	next, err := p.stream.GetMsg(ctx, p.lastSeq+1, jetstream.WithGetMsgSubject(streams.PartitionFilter(p.id)))
	if err != nil {
		return false, fmt.Errorf("next message after %d: %w", p.lastSeq, err)
	}
	return next.Sequence != seq, nil
}

func (p *partition) apply(seq uint64, data []byte) {
	var ev schemas.Event
	if err := schemas.UnmarshalEventBorrowed(data, &ev); err != nil {
		p.r.metrics.poison.Inc()
		p.log.Warn("undecodable event skipped", "seq", seq, "err", err)
		p.lastSeq = seq
		return
	}
	if err := ev.Validate(true); err != nil {
		p.r.metrics.poison.Inc()
		p.log.Warn("invalid event skipped", "seq", seq, "err", err)
		p.lastSeq = seq
		return
	}
	p.eng.SetPosition(seq)
	p.invs = p.eng.Apply(&ev, p.invs)
	p.lastSeq = seq
	p.r.metrics.events.Inc()
}

func (p *partition) flush(ctx context.Context) error {
	if len(p.invs) == 0 {
		return nil
	}
	if err := p.r.cfg.Publisher.Publish(ctx, p.invs); err != nil {
		return fmt.Errorf("publish invitations: %w", err)
	}
	p.invs = p.invs[:0]
	return nil
}
