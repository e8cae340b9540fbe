package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/beckon-chat/beckon/internal/recording"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

func newReplayCmd() *cobra.Command {
	var url, eventsPath, speed, rebase, rulesPath string
	var wait bool
	var cfg recording.ReplayConfig
	cmd := &cobra.Command{
		Use:   "replay --events FILE",
		Short: "Publish a recording into the events stream, paced, as live traffic",
		Long: `Publishes a recording (NDJSON events, ticks included) into the events
stream, bypassing HTTP: each event goes to its visitor's partition as ingest
would publish it, msgpack-encoded, with its own time. The whole file is
validated first; a malformed line publishes nothing and the error names the
file and line.

Each event's Nats-Msg-Id is its id, or for a line without one an id derived
from the line, so a replay that is interrupted and run again stores each
event once - if it runs again within the events stream's duplicate window
(2m by default), which counts from when each event was stored.

Time. The recording's tick lines go to every partition; a recording without
ticks gets them generated, 4 per second of replay time (none at --speed
max, where nothing waits). After the last event a final tick at last event
+ --tail reaches every partition, so that every pending timer fires, as
"beckon eval" fires them at the end of its input. The tail is paced too: at
--speed 1 the command runs for the tail as well. A stream has one timeline,
so there are two safe ways to replay:

  - alongside live traffic: --rebase now --speed 1 --tail 0 (the events get
    the times ingest would stamp; live ingest ticks, so no final tick);
  - with the recording's own times into an instance with no live ingest
    ("beckon serve --ingest=false"), at any speed: the processors then give
    exactly the invitations of "beckon eval" over the same file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Speed, err = parseSpeed(speed); err != nil {
				return err
			}
			switch rebase {
			case "":
			case "now":
				cfg.RebaseNow = true
			default:
				t, ok := schemas.ParseTime([]byte(rebase))
				if !ok {
					return fmt.Errorf("replay: --rebase %q: want now or an RFC 3339 time", rebase)
				}
				cfg.RebaseTo = time.UnixMilli(t)
			}
			tailSet := cmd.Flags().Changed("tail")
			switch {
			case rulesPath != "" && tailSet:
				return errors.New("replay: give --tail or --rules, not both")
			case rulesPath != "":
				set, err := rules.Load(rulesPath)
				if err != nil {
					return err
				}
				cfg.Tail = recording.TailFor(set)
			case tailSet && cfg.Tail <= 0:
				cfg.Tail = -1 // --tail 0: no final tick
			}
			if cfg.TickInterval < 0 {
				return errors.New("replay: --tick-interval must not be negative")
			}

			var in io.Reader = cmd.InOrStdin()
			cfg.Name = "stdin"
			if eventsPath != "-" {
				file, err := os.Open(eventsPath)
				if err != nil {
					return fmt.Errorf("replay: %w", err)
				}
				defer file.Close()
				in, cfg.Name = file, eventsPath
			}
			js, closeConn, err := recordingJetStream(url)
			if err != nil {
				return fmt.Errorf("replay: %w", err)
			}
			defer closeConn()

			stderr := cmd.ErrOrStderr()
			var bar *progressbar.ProgressBar
			if isTerminal(stderr) {
				cfg.Progress = func(done, total int) {
					if bar == nil {
						bar = progressbar.NewOptions(total,
							progressbar.OptionSetWriter(stderr),
							progressbar.OptionSetDescription("replay"),
							progressbar.OptionShowCount(),
							progressbar.OptionShowIts(),
							progressbar.OptionSetItsString("events"),
							progressbar.OptionThrottle(100*time.Millisecond),
							progressbar.OptionClearOnFinish())
					}
					_ = bar.Set(done)
				}
			}
			st, err := recording.Replay(cmd.Context(), js, cfg, in)
			if bar != nil {
				_ = bar.Finish()
			}
			if err != nil {
				if cmd.Context().Err() != nil {
					fmt.Fprintln(stderr, summary(cfg.Name, st))
					return fmt.Errorf("replay interrupted after %d events; run it again within the stream's duplicate window (%v by default) and the events already stored are dropped as duplicates",
						st.Events, streams.DefaultEventsDuplicates)
				}
				return err
			}
			fmt.Fprintln(stderr, summary(cfg.Name, st))
			if wait {
				if err := streams.WaitProcessed(cmd.Context(), js); err != nil {
					return fmt.Errorf("replay: %w", err)
				}
				fmt.Fprintln(stderr, "processed: every replayed event is evaluated and its invitations stored")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&url, "nats", nats.DefaultURL, "NATS server URL")
	fl.StringVar(&eventsPath, "events", "", "recording to replay (NDJSON), - for stdin")
	fl.StringVar(&speed, "speed", "1", "pace: 1 is real time, 10 ten times faster, max as fast as JetStream stores")
	fl.StringVar(&rebase, "rebase", "", "shift the times so that the first line is at this instant: now or an RFC 3339 time")
	fl.DurationVar(&cfg.Tail, "tail", recording.DefaultTail, "final tick this long after the last event, so pending timers fire; 0 for none")
	fl.StringVar(&rulesPath, "rules", "", "take the tail from this rules file: its longest presence_timeout + 1ms")
	fl.DurationVar(&cfg.TickInterval, "tick-interval", 0, "stream time between generated ticks (default 250ms of replay time; none at --speed max)")
	fl.IntVar(&cfg.MaxInFlight, "max-in-flight", recording.DefaultMaxInFlight, "publishes awaiting JetStream's ack at once")
	fl.BoolVar(&wait, "wait", false, "after publishing, wait until the processors have evaluated everything and stored its invitations")
	_ = cmd.MarkFlagRequired("events")
	return cmd
}

func parseSpeed(s string) (float64, error) {
	if s == "max" {
		return recording.MaxSpeed, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v > 0) {
		return 0, fmt.Errorf("replay: --speed %q: want a positive factor such as 1 or 10, or max", s)
	}
	return v, nil
}

func summary(name string, st recording.ReplayStats) string {
	return fmt.Sprintf("replayed %s: %d events (%d already stored), %d ticks to %d partitions in %.2fs: %.0f events/s",
		name, st.Events, st.Duplicates, st.Ticks, st.Partitions, st.Elapsed.Seconds(), st.EventsPerSecond())
}

// isTerminal reports whether w is a terminal, where a progress bar helps.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
