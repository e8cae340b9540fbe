package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/beckon-chat/beckon/internal/natsserver"
	"github.com/beckon-chat/beckon/internal/streams"
)

// serveConfig is `beckon serve`: every role in one process, with an
// embedded NATS server unless --nats names one.
type serveConfig struct {
	common
	addr       string
	natsListen string
	dataDir    string
	partitions int
	ingest     bool
	demo       bool
	secretFile string
}

func newServeCmd() *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run everything in one process: embedded NATS, ingest, processors, sink, gateway and the demo",
		Long: `Runs Beckon in one process. By default it embeds a NATS server with
JetStream (data under --data-dir) that also listens on --nats-listen for
other tools and gateways, runs the example rules, and serves the demo shop
at --addr. With --nats it uses an existing NATS deployment and embeds
nothing. --ingest=false runs everything but ingest (and so sends no ticks),
for replays that bring their own clock.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd.Context(), c) },
	}
	c.flags(cmd, "")
	cmd.Flags().Lookup("nats").Usage = "use this NATS server instead of the embedded one"
	cmd.Flags().StringVar(&c.addr, "addr", ":8080", "HTTP address: beacons, invitations, demo, /metrics")
	cmd.Flags().StringVar(&c.natsListen, "nats-listen", "127.0.0.1:4222", "client address of the embedded NATS server")
	cmd.Flags().StringVar(&c.dataDir, "data-dir", "./data", "where the embedded NATS server keeps its streams")
	cmd.Flags().IntVar(&c.partitions, "partitions", streams.DefaultPartitions, "partition count of a new events stream (fixed at creation)")
	cmd.Flags().BoolVar(&c.ingest, "ingest", true, "run ingest (beacons over HTTP, and the ticks that move time)")
	cmd.Flags().BoolVar(&c.demo, "demo", true, "serve the demo shop at / and accept beacons from any origin")
	cmd.Flags().StringVar(&c.secretFile, "secret-file", "", "visitor-token secret (default: BECKON_SECRET, or one kept in --data-dir)")
	return cmd
}

func runServe(ctx context.Context, c serveConfig) error {
	log, set, err := c.start()
	if err != nil {
		return err
	}
	secret, err := loadSecret(c.secretFile, c.dataDir)
	if err != nil {
		return err
	}
	natsURL := c.natsURL
	if natsURL == "" {
		srv, err := natsserver.Start(natsserver.Config{
			StoreDir: filepath.Join(c.dataDir, "jetstream"), Listen: c.natsListen, Logger: log,
		})
		if err != nil {
			return fmt.Errorf("embedded NATS: %w", err)
		}
		defer func() {
			srv.Shutdown()
			srv.WaitForShutdown()
		}()
		natsURL = srv.ClientURL()
	}
	n := &node{
		ingest: c.ingest, process: true, gateway: true, demo: c.demo,
		partitions: c.partitions, replicas: c.replicas, secret: secret, rules: set, log: log,
	}
	err = n.start(ctx, natsURL, "serve", c.addr, func(addr net.Addr) {
		url := browserURL(addr)
		log.Info("beckon is serving", "http", url, "nats", natsURL, "widgets", len(set.Widgets()), "ingest", c.ingest)
		if c.demo {
			fmt.Fprintf(os.Stderr, "\n  Beckon is running. Open %s/pricing and stay about 20 seconds.\n  Watch invitations: beckon record invitations --follow --out - --nats %s\n\n", url, natsURL)
		}
	})
	log.Info("beckon stopped")
	return err
}

// browserURL is the address a person can open.
func browserURL(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if host == "" || host == "::" || host == "0.0.0.0" || strings.HasPrefix(host, "[::]") {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
