package ingest

import (
	"context"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/schemas"
)

// Run publishes a tick carrying ingest's clock to every partition each
// TickInterval until ctx is done, then returns nil. Ticks advance a quiet
// partition's time so that its processor fires timers on time (DESIGN
// "Time"). Several ingest instances may all tick: processors clamp time, so
// the extra ticks are harmless.
func (s *Service) Run(ctx context.Context) error {
	// Ticks pace in real time; their ts comes from Config.Clock.
	ticker := time.NewTicker(s.cfg.TickInterval)
	defer ticker.Stop()
	down := false
	for {
		if err := s.tick(); err != nil {
			if !down {
				s.log.Warn("ticks not published", "err", err)
			}
			down = true
		} else if down {
			s.log.Info("ticks published again")
			down = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// tick publishes one tick per partition. Ticks go out as plain NATS
// publishes, without waiting for acks: a lost tick is replaced by the next
// one, and nothing is left pending. While NATS is down no tick is queued in
// the reconnect buffer, where it would arrive late with a stale time.
func (s *Service) tick() error {
	if !s.nc.IsConnected() {
		return ErrUnavailable
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := msgpack.Marshal(&schemas.Event{Type: schemas.Tick, TS: s.now()})
	if err != nil {
		return err
	}
	for p := range s.cfg.Partitions {
		if err := s.nc.Publish(streams.TickSubject(p), data); err != nil {
			return err
		}
	}
	s.metrics.ticks.Inc()
	return nil
}
