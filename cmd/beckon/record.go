package main

import (
	"fmt"
	"io"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/beckon-chat/beckon/internal/recording"
)

func newRecordCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "record events|invitations --out FILE",
		Short: "Write the events or invitations stream as NDJSON",
		Long: `Reads a Beckon stream in stream order and writes it as NDJSON in the
format of SPEC.md: "record events" writes the events of every partition in
one timeline, with the ticks (one line per tick instant), ready for
"beckon eval" and "beckon replay"; "record invitations" writes the
invitation commands as "beckon eval" prints them.

Without --follow it stops at the stream's last message at start; with it, it
writes new messages until interrupted. --since and --until take a stream
sequence number (fast: reading starts right there) or an RFC 3339 time,
which is compared with each message's own time (an event's ts, an
invitation's at).`,
	}
	cmd.AddCommand(newRecordSourceCmd(recording.Events), newRecordSourceCmd(recording.Invitations))
	return cmd
}

func newRecordSourceCmd(src recording.Source) *cobra.Command {
	var url, out, since, until string
	var cfg recording.RecordConfig
	cmd := &cobra.Command{
		Use:   string(src) + " --out FILE",
		Short: "Write the " + string(src) + " stream as NDJSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			cfg.Source = src
			if cfg.Since, err = recording.ParsePosition(since); err != nil {
				return fmt.Errorf("record: --since: %w", err)
			}
			if cfg.Until, err = recording.ParsePosition(until); err != nil {
				return fmt.Errorf("record: --until: %w", err)
			}
			js, closeConn, err := recordingJetStream(url)
			if err != nil {
				return fmt.Errorf("record: %w", err)
			}
			defer closeConn()

			var w io.Writer = cmd.OutOrStdout()
			var file *os.File
			if out != "-" {
				if file, err = os.Create(out); err != nil {
					return fmt.Errorf("record: %w", err)
				}
				defer file.Close()
				w = file
			}
			st, err := recording.Record(cmd.Context(), js, cfg, w)
			if err != nil {
				return err
			}
			if file != nil {
				if err := file.Close(); err != nil {
					return fmt.Errorf("record: %w", err)
				}
			}
			if src == recording.Invitations {
				fmt.Fprintf(cmd.ErrOrStderr(), "recorded %d invitations (last sequence %d)\n", st.Invitations, st.LastSeq)
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "recorded %d events and %d ticks (last sequence %d)\n", st.Events, st.Ticks, st.LastSeq)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&url, "nats", nats.DefaultURL, "NATS server URL")
	fl.StringVar(&out, "out", "-", "file to write, - for stdout")
	fl.StringVar(&since, "since", "", "first stream sequence or RFC 3339 time to write")
	fl.StringVar(&until, "until", "", "last stream sequence or RFC 3339 time to write")
	fl.StringVar(&cfg.Widget, "widget", "", "only this widget's "+string(src)+" (ticks are kept)")
	fl.BoolVar(&cfg.Follow, "follow", false, "keep writing new messages until interrupted (or a time --until passes)")
	if src == recording.Invitations {
		fl.BoolVar(&cfg.Sort, "sort", false, "order by (at, widget, visitor, rule) instead of stream order, for diffing runs")
	}
	return cmd
}

// recordingJetStream connects record and replay to NATS.
func recordingJetStream(url string) (jetstream.JetStream, func(), error) {
	nc, err := nats.Connect(url, nats.Name("beckon-recording"))
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to NATS at %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return js, func() { _ = nc.Drain() }, nil
}
