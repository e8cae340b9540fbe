package main

import (
	"context"
	"net"

	"github.com/spf13/cobra"
)

// roleConfig is one of the separate roles — ingest, process, gateway — run
// against an existing NATS deployment, so that each scales on its own.
type roleConfig struct {
	common
	addr       string
	partitions int
	only       string
	demo       bool
	secretFile string
}

func newRoleCmd(name, short, long, defaultAddr string, build func(*node)) *cobra.Command {
	var c roleConfig
	cmd := &cobra.Command{
		Use:   name,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRole(cmd.Context(), name, c, build)
		},
	}
	c.flags(cmd, "nats://127.0.0.1:4222")
	cmd.Flags().StringVar(&c.addr, "addr", defaultAddr, "HTTP address (/healthz, /readyz, /metrics and the role's own endpoints)")
	cmd.Flags().IntVar(&c.partitions, "partitions", 0, "partition count when this role creates the events stream; 0 adopts the existing stream's")
	switch name {
	case "process":
		cmd.Flags().StringVar(&c.only, "only", "all", `partitions to process, e.g. "0-7" or "0,2,4"; instances sharing a partition take turns (one pinned reader at a time)`)
	case "ingest", "gateway":
		cmd.Flags().BoolVar(&c.demo, "demo", false, "accept any origin (CORS) and, for the gateway, serve the demo shop at /")
		cmd.Flags().StringVar(&c.secretFile, "secret-file", "", "visitor-token secret, shared by ingest and gateway (default: BECKON_SECRET)")
	}
	return cmd
}

func newIngestCmd() *cobra.Command {
	return newRoleCmd("ingest", "Run the beacon API: HTTP in, events stream out, and the ticks that move time",
		`Serves POST /v1/events, GET /v1/pixel.gif and GET /v1/token, publishes to the
events stream of --nats, and sends ticks to every partition. Run several
behind a load balancer.`, ":8080", func(n *node) { n.ingest = true })
}

func newProcessCmd() *cobra.Command {
	return newRoleCmd("process", "Run processors: partitions of the events stream in, invitations out",
		`Consumes the partitions of the events stream (all, or --only a subset),
evaluates the rules and publishes invitations. Instances that share
partitions take turns: one pinned reader per partition, and a takeover
rebuilds the partition's open sessions first.`, ":9090", func(n *node) { n.process = true })
}

func newGatewayCmd() *cobra.Command {
	return newRoleCmd("gateway", "Run the widget gateway: invitations to browsers over Server-Sent Events",
		`Serves GET /v1/invitations (Server-Sent Events, a signed visitor token
required) and /v1/tracker.js, delivering the invitations stream of --nats.`,
		":8081", func(n *node) { n.gateway = true })
}

func runRole(ctx context.Context, name string, c roleConfig, build func(*node)) error {
	log, set, err := c.start()
	if err != nil {
		return err
	}
	n := &node{demo: c.demo, partitions: c.partitions, replicas: c.replicas, onlySpec: c.only, rules: set, log: log}
	build(n)
	if n.ingest || n.gateway {
		if n.secret, err = loadSecret(c.secretFile, ""); err != nil {
			return err
		}
	}
	return n.start(ctx, c.natsURL, name, c.addr, func(addr net.Addr) {
		log.Info("beckon "+name+" is running", "http", addr.String(), "nats", c.natsURL)
	})
}
