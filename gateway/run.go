package gateway

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/schemas"
)

// Run reads the invitations stream until ctx is done or Close is called,
// dispatching to the open streams, and then closes them. It waits for the
// stream to exist (streams.EnsureInvitations creates it), so roles can
// start in any order. It returns nil when stopped, an error only if the
// consumer cannot be set up.
func (g *Gateway) Run(ctx context.Context) error {
	select {
	case <-g.done:
		return ErrClosed
	default:
	}
	defer g.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-g.done:
			cancel()
		case <-ctx.Done():
		}
	}()

	stream, err := g.awaitStream(ctx)
	if err != nil {
		return nil // stopped while waiting
	}
	g.stream = stream
	// An ordered consumer is ephemeral, flow-controlled and recreates itself
	// from the last sequence it delivered after a NATS restart, so the live
	// feed has no gap. It starts at new messages: what came before is each
	// stream's backlog (FreshWindow, Last-Event-ID).
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{streams.InvitationsPrefix + ".>"},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("gateway: invitations consumer: %w", err)
	}
	cc, err := cons.Consume(g.dispatch, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		g.log.Warn("gateway: invitations consumer", "err", err)
	}))
	if err != nil {
		return fmt.Errorf("gateway: consume invitations: %w", err)
	}
	close(g.ready)
	g.log.Info("gateway: delivering invitations")
	<-ctx.Done()
	cc.Stop()
	return nil
}

// awaitStream looks the invitations stream up, retrying until it exists.
func (g *Gateway) awaitStream(ctx context.Context) (jetstream.Stream, error) {
	wait := 100 * time.Millisecond
	for {
		stream, err := g.cfg.JetStream.Stream(ctx, streams.InvitationsStream)
		if err == nil {
			return stream, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		g.log.Warn("gateway: waiting for the invitations stream", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// dispatch hands one invitation to the streams of its visitor. Most
// invitations are for visitors connected to other gateways, so it decodes
// only those it has streams for.
func (g *Gateway) dispatch(msg jetstream.Msg) {
	k, ok := keyOf(msg.Subject())
	if !ok || !g.hub.has(k) {
		return
	}
	meta, err := msg.Metadata()
	if err != nil {
		g.log.Warn("gateway: invitation without metadata", "subject", msg.Subject(), "err", err)
		return
	}
	frame, err := encodeFrame(meta.Sequence.Stream, msg.Data())
	if err != nil {
		g.log.Warn("gateway: undecodable invitation", "subject", msg.Subject(), "seq", meta.Sequence.Stream, "err", err)
		return
	}
	if dropped := g.hub.send(k, frame); dropped > 0 {
		g.metrics.dropped.Add(float64(dropped))
	}
}

// keyOf reads (widget, visitor) from beckon.invitations.<widget>.<visitor>
// without allocating.
func keyOf(subject string) (key, bool) {
	rest, ok := strings.CutPrefix(subject, streams.InvitationsPrefix+".")
	if !ok {
		return key{}, false
	}
	w, v, ok := strings.Cut(rest, ".")
	if !ok || w == "" || v == "" || strings.IndexByte(v, '.') >= 0 {
		return key{}, false
	}
	return key{widget: w, visitor: v}, true
}

// encodeFrame turns a stored invitation into one SSE event, whose id is the
// stream sequence: the browser's Last-Event-ID on reconnect.
func encodeFrame(seq uint64, data []byte) (frame, error) {
	var inv schemas.Invitation
	if err := schemas.UnmarshalInvitation(data, &inv); err != nil {
		return frame{}, err
	}
	b := make([]byte, 0, 64+len(data)*2)
	b = append(b, "id: "...)
	b = appendUint(b, seq)
	b = append(b, "\nevent: invitation\ndata: "...)
	b = schemas.AppendInvitationJSON(b, &inv) // one line: JSON escapes newlines
	b = append(b, "\n\n"...)
	return frame{seq: seq, data: b}, nil
}

func appendUint(b []byte, n uint64) []byte {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, buf[i:]...)
}
