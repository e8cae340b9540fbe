package streams

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// WaitProcessed waits until every partition's processors have consumed and
// acknowledged the events stream as it stands now: then every invitation
// those events cause is stored (processors ack only after publishing).
// Replays and tests use it to know when to read the invitations.
func WaitProcessed(ctx context.Context, js jetstream.JetStream) error {
	s, err := js.Stream(ctx, EventsStream)
	if err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	n, err := PartitionsOf(s.CachedInfo().Config)
	if err != nil {
		return err
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		done := true
		for p := range n {
			c, err := js.Consumer(ctx, EventsStream, ConsumerName(p))
			if err != nil {
				return fmt.Errorf("streams: consumer %s: %w", ConsumerName(p), err)
			}
			info, err := c.Info(ctx)
			if err != nil {
				return fmt.Errorf("streams: consumer %s: %w", ConsumerName(p), err)
			}
			if info.NumPending > 0 || info.NumAckPending > 0 {
				done = false
				break
			}
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("streams: waiting for the processors: %w", ctx.Err())
		case <-tick.C:
		}
	}
}
