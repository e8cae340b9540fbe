package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/beckon-chat/beckon/rules"
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Work with rules files"}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE",
		Short: "Check a rules file: a one-line summary, or every problem with its place",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := rules.Load(args[0])
			if err != nil {
				return err
			}
			nr, nc := 0, 0
			for _, w := range set.Widgets() {
				nr += len(w.Rules)
				for _, r := range w.Rules {
					nc += len(r.Conditions)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok: %d widgets, %d rules, %d conditions\n", args[0], len(set.Widgets()), nr, nc)
			return nil
		},
	})
	return cmd
}
