// Package recording moves recordings — the NDJSON files of SPEC §1 and §5 —
// in and out of Beckon's JetStream streams: Record writes the events or
// invitations stream as NDJSON, and Replay publishes a recording of events
// into the events stream, partitioned exactly as ingest does.
//
// # Record
//
// Record reads a whole stream in stream order through an ordered consumer,
// so that the events of every partition come out in one timeline (ingest
// stamps ts at arrival, so stream order is time order). Without Follow it
// stops at the stream's last sequence at start; with Follow it goes on until
// its context ends. Since and Until are positions: a stream sequence
// (inclusive), which starts reading right there, or a time, which filters on
// the message's own time (an event's ts, an invitation's at) — so a
// recording replayed with its own old times is still selected by those
// times. A time Since reads the stream from its start and skips; in a long
// stream, a sequence is the fast way in. With Follow, a time Until ends
// recording once the wall clock has passed it (plus a second for messages in
// flight).
//
// Ticks are written once per instant: ingest and replay publish each tick to
// every partition, and one tick line means "time reached ts" for all of
// them on replay. A widget filter keeps the ticks. Invitations are written
// in stream order; Sort writes them ordered by (at, widget, visitor, rule,
// invitation id) instead, for diffing two runs — the live pipeline's
// partitions interleave differently on every run, eval's order is its own.
//
// # Replay
//
// Replay validates the whole recording first, in a fast pass that decodes
// every line (about a tenth of the cost of publishing it): a malformed line
// is reported with its file and line number and nothing is published. A
// recording read from a pipe is spooled to a temporary file for the two
// passes.
//
// Each event is published to streams.EventSubject of its partition
// (streams.Partition over widget and visitor, with the partition count of
// the existing stream), msgpack-encoded, with Nats-Msg-Id set to its id. A
// line without an id gets a deterministic one — "r" and a hash of the line
// number, the line and the rebase shift — which is also written into the
// event, as ingest assigns ids. So a replay that is interrupted and run
// again stores each event once, provided it runs again within the events
// stream's duplicate window (streams.DefaultEventsDuplicates, 2 minutes by
// default), which counts from when each event was stored; past the window a
// rerun stores the events again. A replay rebased to now shifts by another
// amount on every run, so it is new traffic each time, except for lines
// that carry their own ids: those are the same events, and the stream keeps
// the first copy within the window.
//
// Tick lines of the recording are published to every partition. A
// recording without ticks gets generated ones on a grid of TickInterval of
// stream time from its first line, which defaults to 250ms of wall time at
// the replay's speed (as ingest ticks); at MaxSpeed no wall time passes for
// a timer to be late in, so only the final tick is published. After the
// last event a final tick at last event + Tail reaches every partition, so
// that every timer still pending fires as `beckon eval` fires them at the
// end of its input (SPEC §4). Tail defaults to DefaultTail, the longest
// presence timeout a widget has without rules; TailFor gives the tail for a
// rules file. The final tick is paced like every other line: at speed 1 a
// replay lasts its tail too.
//
// # Time: the two safe ways to replay
//
// A stream has one timeline (DESIGN "Time"), so a replay must not interleave
// its times with another clock's:
//
//   - Alongside live traffic, rebase to now at speed 1 (RebaseNow, Speed 1):
//     the recording's events arrive with times that ingest would have
//     stamped. Live ingest ticks every partition, so Tail can be turned off
//     (a negative Tail); an early final tick would move live partitions'
//     time ahead of the clock.
//   - With the recording's own times, into an instance with no live ingest
//     (`beckon serve --ingest=false`), at any speed: the processors then
//     give exactly the invitations of `beckon eval` over the same file.
package recording
