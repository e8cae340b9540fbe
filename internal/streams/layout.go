// Package streams owns Beckon's NATS JetStream layout: the names and
// subjects of the events and invitations streams, how a visitor maps to a
// partition, and the stream and consumer configurations that every role
// agrees on.
package streams

import (
	"fmt"
	"strconv"
	"time"
)

// Names and subjects of the layout (DESIGN "NATS JetStream layout").
const (
	// EventsStream holds beacons and ticks, partitioned by visitor.
	EventsStream = "BECKON_EVENTS"
	// EventsPrefix starts every events subject:
	// beckon.events.<partition>.<widget>.<visitor> for a visitor's events and
	// beckon.events.<partition>.tick for a partition's ticks.
	EventsPrefix = "beckon.events"
	// InvitationsStream holds invitation commands.
	InvitationsStream = "BECKON_INVITATIONS"
	// InvitationsPrefix starts every invitations subject:
	// beckon.invitations.<widget>.<visitor>.
	InvitationsPrefix = "beckon.invitations"
	// ConsumerPrefix names the durable consumer of each partition:
	// beckon-p<partition>.
	ConsumerPrefix = "beckon-p"
	// PriorityGroup is the pinned-client group that keeps one active
	// processor per partition.
	PriorityGroup = "beckon"
	// PartitionsKey is the events stream metadata key that records the
	// partition count fixed at creation, so every role reads the same one.
	PartitionsKey = "beckon.partitions"
	// DefaultPartitions is the partition count of a new events stream.
	DefaultPartitions = 16
	// DefaultEventsMaxAge is how long events are kept for replay and rebuild.
	DefaultEventsMaxAge = 24 * time.Hour
	// DefaultInvitationsMaxAge is how long invitations are kept: they are
	// perishable, so not long.
	DefaultInvitationsMaxAge = time.Hour
)

// Partition maps a visitor to its partition: FNV-1a (32-bit) over
// "<widget>.<visitor>", modulo n. Ingest, replay and any other publisher use
// this same function, so that all of a visitor's events land in one
// partition, in order.
func Partition(widgetID, visitorID string, n int) int {
	const offset, prime = 2166136261, 16777619
	h := uint32(offset)
	for i := 0; i < len(widgetID); i++ {
		h ^= uint32(widgetID[i])
		h *= prime
	}
	h ^= '.'
	h *= prime
	for i := 0; i < len(visitorID); i++ {
		h ^= uint32(visitorID[i])
		h *= prime
	}
	return int(h % uint32(n))
}

// EventSubject is the subject of a visitor's event in partition p.
func EventSubject(p int, widgetID, visitorID string) string {
	return EventsPrefix + "." + strconv.Itoa(p) + "." + widgetID + "." + visitorID
}

// TickSubject is the subject of partition p's ticks.
func TickSubject(p int) string {
	return EventsPrefix + "." + strconv.Itoa(p) + ".tick"
}

// PartitionFilter matches every message of partition p.
func PartitionFilter(p int) string {
	return EventsPrefix + "." + strconv.Itoa(p) + ".>"
}

// ConsumerName is the durable consumer of partition p.
func ConsumerName(p int) string {
	return fmt.Sprintf("%s%02d", ConsumerPrefix, p)
}

// InvitationSubject is the subject of an invitation for a visitor.
func InvitationSubject(widgetID, visitorID string) string {
	return InvitationsPrefix + "." + widgetID + "." + visitorID
}

// CheckpointBucket is the KV bucket where each partition's processor records
// the stream sequence from which a rebuild must re-read (key p<partition>).
const CheckpointBucket = "BECKON_PROCESSOR"

// CheckpointKey is partition p's key in CheckpointBucket.
func CheckpointKey(p int) string { return fmt.Sprintf("p%02d", p) }
