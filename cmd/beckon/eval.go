package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
)

func newEvalCmd() *cobra.Command {
	var rulesPath, eventsPath string
	var stats bool
	cmd := &cobra.Command{
		Use:   "eval --rules FILE --events FILE",
		Short: "Evaluate rules over a recorded stream; invitations go to stdout as NDJSON",
		Long: `Runs the same engine as the live processors over a recording (NDJSON
events, ticks included) with no NATS server, and prints the invitations as
NDJSON on stdout. Timers due after the last event fire at the end of the
input. Use --events - to read standard input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := rules.Load(rulesPath)
			if err != nil {
				return err
			}
			in, name := os.Stdin, "stdin"
			if eventsPath != "-" {
				f, err := os.Open(eventsPath)
				if err != nil {
					return fmt.Errorf("eval: %w", err)
				}
				defer f.Close()
				in, name = f, eventsPath
			}
			st, err := processor.Eval(set, in, name, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if stats {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d events, %d invitations\n", st.Events, st.Invitations)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&rulesPath, "rules", "", "rules file (YAML or JSON)")
	cmd.Flags().StringVar(&eventsPath, "events", "", "recording to evaluate (NDJSON), - for stdin")
	cmd.Flags().BoolVar(&stats, "stats", false, "print a summary line on stderr")
	_ = cmd.MarkFlagRequired("rules")
	_ = cmd.MarkFlagRequired("events")
	return cmd
}
