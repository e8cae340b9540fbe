// Package natsserver runs the NATS server with JetStream embedded in the
// beckon process: the default of `beckon serve` and of the tests, so that a
// first run has nothing to install.
package natsserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Config says where the embedded server keeps its data and listens.
type Config struct {
	// StoreDir is the JetStream file storage directory (required).
	StoreDir string
	// Listen is host:port for clients; port -1 picks a free port and ""
	// means 127.0.0.1 on a free port.
	Listen string
	// Logger receives the server's notices and errors; nil means none.
	Logger *slog.Logger
}

// ErrNotReady is returned when the server does not accept connections in
// time.
var ErrNotReady = errors.New("natsserver: server not ready for connections")

// Start starts an embedded server and waits until it accepts connections.
// The caller owns it: call Shutdown and WaitForShutdown to stop it.
func Start(cfg Config) (*server.Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("natsserver: StoreDir is required")
	}
	host, port := "127.0.0.1", -1
	if cfg.Listen != "" {
		h, p, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("natsserver: listen address %q: %w", cfg.Listen, err)
		}
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("natsserver: listen port %q: %w", p, err)
		}
		if h != "" {
			host = h
		}
	}
	opts := &server.Options{
		ServerName:             "beckon-embedded",
		Host:                   host,
		Port:                   port,
		JetStream:              true,
		StoreDir:               cfg.StoreDir,
		NoSigs:                 true, // beckon owns the process's signals
		DisableJetStreamBanner: true,
		MaxPayload:             1 << 20,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsserver: %w", err)
	}
	if cfg.Logger != nil {
		srv.SetLoggerV2(slogAdapter{cfg.Logger}, false, false, false)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("%w (listen %s:%d)", ErrNotReady, host, port)
	}
	return srv, nil
}

// slogAdapter forwards the server's log lines to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Noticef(format string, v ...any) {
	a.l.Debug(fmt.Sprintf(format, v...), "component", "nats")
}
func (a slogAdapter) Warnf(format string, v ...any) {
	a.l.Warn(fmt.Sprintf(format, v...), "component", "nats")
}
func (a slogAdapter) Fatalf(format string, v ...any) {
	a.l.Error(fmt.Sprintf(format, v...), "component", "nats")
}
func (a slogAdapter) Errorf(format string, v ...any) {
	a.l.Error(fmt.Sprintf(format, v...), "component", "nats")
}
func (a slogAdapter) Debugf(format string, v ...any) {}
func (a slogAdapter) Tracef(format string, v ...any) {}
