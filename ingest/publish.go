package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/schemas"
)

// batch is one request's working memory, pooled so that the steady state
// allocates little beyond the decoded strings and the messages themselves.
type batch struct {
	dec     schemas.Decoder
	body    bytes.Buffer
	events  []schemas.Event
	isArray bool // the body was a JSON array: errors name the index
	out     bytes.Buffer
	enc     *msgpack.Encoder
	ends    []int
	futs    []jetstream.PubAckFuture
	scratch []byte
}

func newBatch() *batch {
	b := &batch{}
	b.enc = msgpack.NewEncoder(&b.out)
	return b
}

func (b *batch) reset() {
	b.body.Reset()
	clear(b.events)
	b.events = b.events[:0]
	b.isArray = false
	b.out.Reset()
	b.ends = b.ends[:0]
	clear(b.futs)
	b.futs = b.futs[:0]
}

// prepare keeps the client's clock as ClientTS (SPEC §6: event time is
// ingest's) and gives every event an id.
func prepare(b *batch) {
	for i := range b.events {
		ev := &b.events[i]
		if ev.ClientTS == 0 {
			ev.ClientTS = ev.TS
		}
		ev.TS = 0
		if ev.ID == "" {
			ev.ID = assignID(ev, &b.scratch)
		}
	}
}

// assignID names an event that came without an id. When the client said
// when it made the event, the id is derived from the event's content and
// that time, so that a retried request is de-duplicated by JetStream like
// one with client ids; two events identical down to the millisecond count
// once. Without a client time there is nothing stable to derive from: the
// id is random, and a retry after a lost ack stores the event twice.
func assignID(ev *schemas.Event, scratch *[]byte) string {
	if ev.ClientTS == 0 {
		return nuid.Next()
	}
	b := (*scratch)[:0]
	for _, s := range [...]string{string(ev.Type), ev.WidgetID, ev.VisitorID, ev.URL, ev.Name, ev.Title, ev.Referrer} {
		b = append(b, s...)
		b = append(b, 0)
	}
	b = strconv.AppendInt(b, ev.ClientTS, 10)
	*scratch = b
	sum := sha256.Sum256(b)
	// 16 bytes in URL-safe base64 are 22 characters of [A-Za-z0-9_-]: a
	// valid event id.
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// publish stamps the batch's events with ingest's clock, publishes each to
// its visitor's partition and waits until JetStream has stored all of them.
func (s *Service) publish(ctx context.Context, b *batch) error {
	if !s.nc.IsConnected() {
		return fmt.Errorf("%w: NATS connection %s", ErrUnavailable, s.nc.Status())
	}
	start := time.Now()
	err := s.send(b)
	if err == nil {
		err = s.await(ctx, b)
	}
	s.metrics.publish.Observe(time.Since(start).Seconds())
	return err
}

// send stamps, encodes and publishes under s.mu, so that this Service's
// messages reach every partition in the order of their times. The
// connection writes them in that order too: one request's events are
// stored in request order.
func (s *Service) send(b *batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := s.now()
	for i := range b.events {
		b.events[i].TS = ts
		if err := b.events[i].EncodeMsgpack(b.enc); err != nil {
			return fmt.Errorf("ingest: encode event %d: %w", i, err)
		}
		b.ends = append(b.ends, b.out.Len())
	}
	// One allocation for all the payloads: the publisher keeps each message
	// until its ack (to retry it), so they cannot live in pooled memory.
	data := bytes.Clone(b.out.Bytes())
	start := 0
	for i := range b.events {
		ev := &b.events[i]
		end := b.ends[i]
		p := streams.Partition(ev.WidgetID, ev.VisitorID, s.cfg.Partitions)
		m := &nats.Msg{
			Subject: streams.EventSubject(p, ev.WidgetID, ev.VisitorID),
			Data:    data[start:end:end],
			Header:  nats.Header{jetstream.MsgIDHeader: []string{ev.ID}},
		}
		start = end
		f, err := s.pub.PublishMsgAsync(m)
		if err != nil {
			return fmt.Errorf("%w: publish: %v", ErrUnavailable, err)
		}
		b.futs = append(b.futs, f)
	}
	return nil
}

// await waits for every ack of the batch. A publish not acked in time is
// dropped by the publisher's own timeout (set to the same AckTimeout), so
// nothing is left pending after a 503.
func (s *Service) await(ctx context.Context, b *batch) error {
	timer := time.NewTimer(s.cfg.AckTimeout)
	defer timer.Stop()
	for i, f := range b.futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("%w: event %d: %v", ErrUnavailable, i, err)
		case <-timer.C:
			return fmt.Errorf("%w: no acknowledgement within %v", ErrUnavailable, s.cfg.AckTimeout)
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
		}
	}
	return nil
}
