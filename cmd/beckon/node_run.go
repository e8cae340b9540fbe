package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/beckon-chat/beckon/gateway"
	"github.com/beckon-chat/beckon/ingest"
	"github.com/beckon-chat/beckon/internal/visitortoken"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/sink"
)

// node is the set of roles one process runs, over one NATS connection.
type node struct {
	ingest, process, gateway bool
	demo                     bool  // permissive CORS and the demo shop at /
	partitions               int   // for a new events stream; 0 adopts the existing one
	only                     []int // the partitions to process; empty means all
	onlySpec                 string
	replicas                 int // for new streams; 0 adopts the existing ones' or 1
	secret                   []byte
	rules                    *rules.Set
	log                      *slog.Logger
	clock                    func() time.Time // ingest's clock; nil is the wall clock (tests set it)
}

// start connects to NATS, listens on addr and runs the node until ctx is
// done; announce is told the address once it listens.
func (n *node) start(ctx context.Context, natsURL, name, addr string, announce func(net.Addr)) error {
	nc, js, err := connect(natsURL, "beckon-"+name, n.log)
	if err != nil {
		return err
	}
	defer nc.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	announce(ln.Addr())
	err = n.run(ctx, nc, js, ln)
	if derr := nc.Drain(); derr != nil {
		n.log.Warn("nats drain", "err", derr)
	}
	return err
}

// run starts the node's roles and its HTTP server on ln, and stops them all
// when ctx is done: HTTP first (no new beacons), then ticks, then the
// processors finish their batches in flight.
func (n *node) run(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, ln net.Listener) error {
	parts, err := ensureLayout(ctx, js, n.partitions, n.replicas, n.process)
	if err != nil {
		return err
	}
	if n.only, err = parsePartitions(n.onlySpec, parts); err != nil {
		return err
	}
	reg := newRegistry()
	mux := http.NewServeMux()
	opsRoutes(mux, reg, nc, js)
	parent := ctx
	g, ctx := errgroup.WithContext(ctx)

	origins, byWidget := n.origins()
	if n.ingest {
		svc, err := ingest.New(ingest.Config{
			JetStream: js, Partitions: parts, Logger: n.log.With("role", "ingest"), Registerer: reg,
			AllowedOrigins: byWidget, AllowAnyOrigin: n.demo, Clock: n.clock,
		})
		if err != nil {
			return err
		}
		h := svc.Handler()
		mux.Handle("/v1/events", h)
		mux.Handle("/v1/pixel.gif", h)
		tokens, err := visitortoken.NewHandler(visitortoken.Config{Secret: n.secret, AllowedOrigins: origins, Logger: n.log})
		if err != nil {
			return err
		}
		mux.Handle("/v1/token", tokens)
		g.Go(func() error { return svc.Run(ctx) })
	}
	if n.process {
		s, err := sink.New(sink.Config{Conn: nc, Logger: n.log.With("role", "sink"), Registerer: reg, MaxRetries: -1})
		if err != nil {
			return err
		}
		defer s.Close()
		r, err := processor.NewRunner(ctx, processor.RunnerConfig{
			JetStream: js, Rules: n.rules, Publisher: s, Partitions: parts, Only: n.only,
			Logger: n.log.With("role", "processor"), Registerer: reg,
		})
		if err != nil {
			return err
		}
		g.Go(func() error { return r.Run(ctx) })
	}
	var closeStreams func()
	if n.gateway {
		gw, err := gateway.New(gateway.Config{
			JetStream: js, Secret: n.secret, AllowedOrigins: origins,
			Logger: n.log.With("role", "gateway"), Registerer: reg,
		})
		if err != nil {
			return err
		}
		if n.demo {
			mux.Handle("/", gw.Handler())
		} else {
			mux.Handle("/v1/invitations", gw.InvitationsHandler())
			mux.Handle("/v1/tracker.js", gateway.TrackerHandler())
		}
		closeStreams = gw.Close
		g.Go(func() error { return gw.Run(ctx) })
	}
	g.Go(func() error { return serveHTTP(ctx, ln, mux, n.log, closeStreams) })
	err = g.Wait()
	if err != nil && parent.Err() != nil && errors.Is(err, context.Canceled) {
		return nil // a clean stop
	}
	return err
}

// origins are the widgets' allowed origins, merged for the endpoints that are
// not per widget; in demo mode none are enforced.
func (n *node) origins() (all []string, byWidget map[string][]string) {
	if n.demo {
		return nil, nil
	}
	byWidget = map[string][]string{}
	for _, w := range n.rules.Widgets() {
		byWidget[w.ID] = w.AllowedOrigins
		for _, o := range w.AllowedOrigins {
			if !slices.Contains(all, o) {
				all = append(all, o)
			}
		}
	}
	return all, byWidget
}
