// Command beckon is Beckon's one binary: a subcommand per role, so that a
// developer runs everything in one process (serve) and an operator runs each
// role on its own machines (ingest, process, gateway), plus the tools to
// test rules against recordings (eval, record, replay, rules).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "beckon:", err)
		var ec exitCoder
		if errors.As(err, &ec) {
			os.Exit(ec.ExitCode())
		}
		os.Exit(1)
	}
}

type exitCoder interface{ ExitCode() int }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "beckon",
		Short:         "Clickstream-driven proactive chat: beacons in, chat invitations out",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newIngestCmd(), newProcessCmd(), newGatewayCmd(),
		newEvalCmd(), newRecordCmd(), newReplayCmd(), newRulesCmd())
	return root
}
