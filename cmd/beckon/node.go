package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/beckon-chat/beckon/deploy"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/rules"
)

// common are the settings every long-running role shares.
type common struct {
	natsURL   string
	rulesPath string
	logLevel  string
	logFormat string
	replicas  int
}

func (c *common) flags(cmd *cobra.Command, natsDefault string) {
	cmd.Flags().StringVar(&c.natsURL, "nats", natsDefault, "NATS server URL")
	cmd.Flags().StringVar(&c.rulesPath, "rules", "", "rules file (YAML or JSON); default: the built-in example rules")
	cmd.Flags().StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.Flags().StringVar(&c.logFormat, "log-format", "json", "json or text")
	cmd.Flags().IntVar(&c.replicas, "replicas", 0, "stream replicas when this process creates the streams (3 in a cluster); 0 adopts the existing streams' or 1")
}

func (c *common) logger(w *os.File) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch c.logFormat {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, fmt.Errorf("--log-format must be json or text, not %q", c.logFormat)
	}
	l := slog.New(h)
	slog.SetDefault(l)
	return l, nil
}

// start sets up what every long-running role needs first: its logger and
// its rules.
func (c *common) start() (*slog.Logger, *rules.Set, error) {
	log, err := c.logger(os.Stderr)
	if err != nil {
		return nil, nil, err
	}
	set, err := c.loadRules()
	if err != nil {
		return nil, nil, err
	}
	return log, set, nil
}

func (c *common) loadRules() (*rules.Set, error) {
	if c.rulesPath == "" {
		return rules.Parse(deploy.ExampleRules, deploy.ExampleRulesName)
	}
	return rules.Load(c.rulesPath)
}

// connect dials NATS and keeps reconnecting for ever: ingest answers 503
// while NATS is away and resumes when it is back.
func connect(url, name string, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url,
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: our own Drain or Close
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats reconnected", "url", nc.ConnectedUrl()) }),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return nc, js, nil
}

// ensureLayout creates or checks the streams (and, for processors, the
// consumers) and returns the partition count.
func ensureLayout(ctx context.Context, js jetstream.JetStream, partitions, replicas int, consumers bool) (int, error) {
	n, err := streams.EnsureEvents(ctx, js, streams.EventsConfig{Partitions: partitions, Replicas: replicas})
	if err != nil {
		return 0, err
	}
	if err := streams.EnsureInvitations(ctx, js, streams.InvitationsConfig{Replicas: replicas}); err != nil {
		return 0, err
	}
	if consumers {
		if err := streams.EnsureConsumers(ctx, js, n, streams.ConsumerConfig{}); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// newRegistry is the Prometheus registry of one process, with the Go and
// process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// opsRoutes adds /healthz (the process is up), /readyz (NATS connected and
// the streams present) and /metrics.
func opsRoutes(mux *http.ServeMux, reg *prometheus.Registry, nc *nats.Conn, js jetstream.JetStream) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		err := errors.New("nats not connected")
		if nc.IsConnected() {
			err = streams.Check(ctx, js)
		}
		if err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
}

// serveHTTP runs an HTTP server until ctx is done, then shuts it down
// gracefully; beforeShutdown runs first (it ends long-lived streams).
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger, beforeShutdown func()) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	if beforeShutdown != nil {
		beforeShutdown()
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// loadSecret reads the visitor-token secret from BECKON_SECRET, a file, or
// (for serve) a file it creates in the data directory, so that tokens
// survive restarts.
func loadSecret(file, dataDir string) ([]byte, error) {
	if s := os.Getenv("BECKON_SECRET"); s != "" {
		return []byte(s), nil
	}
	if file == "" && dataDir != "" {
		file = filepath.Join(dataDir, "visitor-token.secret")
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			b := make([]byte, 32)
			_, _ = rand.Read(b)
			if err := os.MkdirAll(dataDir, 0o755); err != nil {
				return nil, fmt.Errorf("secret: %w", err)
			}
			if err := os.WriteFile(file, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("secret: %w", err)
			}
		}
	}
	if file == "" {
		return nil, errors.New("a visitor-token secret is required: set BECKON_SECRET or --secret-file")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return []byte(strings.TrimSpace(string(b))), nil
}

// parsePartitions reads "0-3,8,10-11".
func parsePartitions(s string, n int) ([]int, error) {
	if s == "" || s == "all" {
		return nil, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		var a, b int
		if _, err := fmt.Sscanf(lo, "%d", &a); err != nil {
			return nil, fmt.Errorf("--only %q: %q is not a partition number", s, lo)
		}
		b = a
		if isRange {
			if _, err := fmt.Sscanf(hi, "%d", &b); err != nil {
				return nil, fmt.Errorf("--only %q: %q is not a partition number", s, hi)
			}
		}
		if a < 0 || b >= n || a > b {
			return nil, fmt.Errorf("--only %q: partitions are 0-%d", s, n-1)
		}
		for p := a; p <= b; p++ {
			out = append(out, p)
		}
	}
	return out, nil
}
