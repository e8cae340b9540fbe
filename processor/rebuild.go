package processor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/beckon-chat/beckon/internal/streams"
)

// rebuild gives the partition a fresh engine holding every open session as
// of the message before next. It re-reads the partition from the checkpoint
// (the first event of the oldest session open when it was written): what
// was acked before is applied silently, since its invitations are stored
// already; what was delivered but never acked is applied normally, and its
// invitations go out with the batch (the invitations stream drops those
// already stored, by id).
//
// It returns false, leaving the partition cold, when next is acked already:
// an instance that went further has applied it — a message it had in
// flight, delivered again here — and the checkpoint it wrote describes a
// later position, so that a rebuild from it would miss the sessions open at
// next that it saw end. Such a message is passed over; the first one past
// the ack floor rebuilds.
func (p *partition) rebuild(ctx context.Context, next uint64) (bool, error) {
	start := time.Now()
	// The checkpoint first, then the ack floor: a checkpoint is written
	// after its batch's ack, so the one read here describes a position at
	// or before the floor read after it, and so before next.
	from, err := p.loadCheckpoint(ctx)
	if err != nil {
		return false, err
	}
	info, err := p.cons.Info(ctx)
	if err != nil {
		return false, fmt.Errorf("rebuild: consumer info: %w", err)
	}
	acked := info.AckFloor.Stream
	p.ackedSeen = acked
	if next <= acked {
		p.warm = false
		p.log.Debug("acked message passed over", "seq", next, "acked", acked)
		return false, nil
	}
	p.eng = New(p.r.cfg.Rules)
	p.eng.CopyEventStrings() // events borrow their message's bytes (apply)
	p.invs = p.invs[:0]
	p.warm = true
	p.lastSeq = 0
	if from >= next {
		return true, nil // no open session started before the delivered message
	}
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{streams.PartitionFilter(p.id)},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	if from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	oc, err := p.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("rebuild: ordered consumer: %w", err)
	}
	n := 0
	// The message before next is in the stream, so an empty fetch means a
	// slow server, not the end: keep asking, for a while.
	deadline := time.Now().Add(time.Minute)
	for done := false; !done; {
		batch, err := oc.Fetch(p.r.cfg.MaxBatch, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return false, fmt.Errorf("rebuild: fetch: %w", err)
		}
		got := 0
		for m := range batch.Messages() {
			if done {
				break // the fetch's rest is abandoned with the ordered consumer
			}
			got++
			md, err := m.Metadata()
			if err != nil {
				return false, fmt.Errorf("rebuild: metadata: %w", err)
			}
			seq := md.Sequence.Stream
			if seq >= next {
				done = true
				continue
			}
			keep := len(p.invs)
			p.apply(seq, m.Data())
			if seq <= acked {
				p.invs = p.invs[:keep] // published before the restart
			}
			n++
			if seq+1 == next || md.NumPending == 0 {
				done = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return false, fmt.Errorf("rebuild: fetch: %w", err)
		}
		if got == 0 && !done {
			if time.Now().After(deadline) {
				return false, fmt.Errorf("rebuild: no message of partition %d after %d within a minute; want up to %d", p.id, p.lastSeq, next-1)
			}
			if err := ctx.Err(); err != nil {
				return false, fmt.Errorf("rebuild: %w", err)
			}
		}
	}
	p.r.metrics.rebuilds.Inc()
	p.log.Info("rebuilt open sessions", "from", from, "acked", acked, "next", next,
		"events", n, "visitors", p.eng.Visitors(), "took", time.Since(start).Round(time.Millisecond))
	return true, nil
}

// loadCheckpoint returns the stream sequence a rebuild starts from; 0 means
// the start of the stream.
func (p *partition) loadCheckpoint(ctx context.Context) (uint64, error) {
	e, err := p.r.kv.Get(ctx, streams.CheckpointKey(p.id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("rebuild: read checkpoint: %w", err)
	}
	from, err := strconv.ParseUint(string(e.Value()), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("rebuild: checkpoint %q: %w", e.Value(), err)
	}
	return from, nil
}

// saveCheckpoint records, after an ack up to stream sequence acked, where a
// rebuild would have to start: the first event of the oldest open session,
// or past everything applied. Only an engine whose every message is acked
// writes one — a batch that ends with an older redelivery acks less than
// it applied — so that a checkpoint never describes a position past the ack
// floor (see rebuild).
func (p *partition) saveCheckpoint(ctx context.Context, acked uint64) {
	if time.Since(p.checkpoint) < p.r.cfg.CheckpointEvery || p.eng == nil || p.lastSeq > acked {
		return
	}
	from, ok := p.eng.OldestOpenPosition()
	if !ok {
		from = p.lastSeq + 1
	}
	if from == p.saved {
		p.checkpoint = time.Now()
		return
	}
	if _, err := p.r.kv.Put(ctx, streams.CheckpointKey(p.id), []byte(strconv.FormatUint(from, 10))); err != nil {
		// A stale checkpoint only makes a rebuild re-read more.
		p.log.Warn("checkpoint not saved", "err", err)
		return
	}
	p.saved, p.checkpoint = from, time.Now()
}
