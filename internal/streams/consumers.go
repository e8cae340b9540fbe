package streams

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ConsumerConfig is the settings of the partition consumers, with the same
// zero-means-adopt rule as EventsConfig.
type ConsumerConfig struct {
	// MaxAckPending bounds unacknowledged messages per partition (default
	// DefaultMaxAckPending).
	MaxAckPending int
	// AckWait is the redelivery delay of an unacked message (default
	// DefaultAckWait).
	AckWait time.Duration
	// PinnedTTL is how long the pinned processor of a partition may be
	// silent before another takes over (default DefaultPinnedTTL).
	PinnedTTL time.Duration
}

// ConsumerSpec is the durable pull consumer of partition p: the AckAll
// policy (a processor acks a whole batch by acking its last message), every
// message from the start, and a pinned-client priority group so that
// exactly one processor instance reads a partition at a time.
func ConsumerSpec(p int, cfg ConsumerConfig) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        ConsumerName(p),
		FilterSubject:  PartitionFilter(p),
		AckPolicy:      jetstream.AckAllPolicy,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		MaxAckPending:  or(cfg.MaxAckPending, DefaultMaxAckPending),
		AckWait:        or(cfg.AckWait, DefaultAckWait),
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PriorityGroups: []string{PriorityGroup},
		PinnedTTL:      or(cfg.PinnedTTL, DefaultPinnedTTL),
	}
}

// EnsureConsumers creates the durable consumer of each of the partitions of
// the events stream, or checks that the existing ones agree with cfg.
// Processors fetch with jetstream.FetchPriorityGroup(PriorityGroup) or
// jetstream.PullPriorityGroup(PriorityGroup).
func EnsureConsumers(ctx context.Context, js jetstream.JetStream, partitions int, cfg ConsumerConfig) error {
	if partitions < 1 {
		return fmt.Errorf("%w: partitions=%d, want at least 1", ErrInvalidConfig, partitions)
	}
	if cfg.MaxAckPending < 0 || cfg.AckWait < 0 || cfg.PinnedTTL < 0 {
		return fmt.Errorf("%w: consumer settings must not be negative", ErrInvalidConfig)
	}
	for p := range partitions {
		if err := ensureConsumer(ctx, js, ConsumerSpec(p, cfg), cfg); err != nil {
			return err
		}
	}
	return nil
}

func ensureConsumer(ctx context.Context, js jetstream.JetStream, want jetstream.ConsumerConfig, cfg ConsumerConfig) error {
	got, err := existingConsumer(ctx, js, want.Durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		c, cerr := js.CreateConsumer(ctx, EventsStream, want)
		switch {
		case cerr == nil:
			got = c.CachedInfo().Config
			err = nil
		case errors.Is(cerr, jetstream.ErrConsumerExists): // another role won the race
			got, err = existingConsumer(ctx, js, want.Durable)
		default:
			return fmt.Errorf("streams: create consumer %s: %w", want.Durable, cerr)
		}
	}
	if err != nil {
		return err
	}
	c := conflicts{stream: EventsStream, consumer: want.Durable}
	if got.FilterSubject != want.FilterSubject {
		c.add(fmt.Sprintf("filter_subject=%q, want %q", got.FilterSubject, want.FilterSubject))
	}
	if got.AckPolicy != want.AckPolicy {
		c.add(fmt.Sprintf("ack_policy=%v, want %v", got.AckPolicy, want.AckPolicy))
	}
	if got.DeliverPolicy != want.DeliverPolicy {
		c.add(fmt.Sprintf("deliver_policy=%v, want %v", got.DeliverPolicy, want.DeliverPolicy))
	}
	if got.PriorityPolicy != want.PriorityPolicy || !slices.Equal(got.PriorityGroups, want.PriorityGroups) {
		c.add(fmt.Sprintf("priority=%v%v, want %v%v", policyName(got.PriorityPolicy), got.PriorityGroups, policyName(want.PriorityPolicy), want.PriorityGroups))
	}
	c.adopted(got.MaxAckPending, cfg.MaxAckPending, "max_ack_pending")
	c.adopted(got.AckWait, cfg.AckWait, "ack_wait")
	c.adopted(got.PinnedTTL, cfg.PinnedTTL, "priority_timeout")
	return c.err()
}

func existingConsumer(ctx context.Context, js jetstream.JetStream, name string) (jetstream.ConsumerConfig, error) {
	c, err := js.Consumer(ctx, EventsStream, name)
	if err != nil {
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return jetstream.ConsumerConfig{}, err
		}
		return jetstream.ConsumerConfig{}, fmt.Errorf("streams: consumer %s: %w", name, err)
	}
	return c.CachedInfo().Config, nil
}

func policyName(p jetstream.PriorityPolicy) string {
	b, _ := p.MarshalJSON()
	return string(b)
}
