// Package testenv holds the helpers that tests share: a real embedded NATS
// server with JetStream, and the repository's shared example cases.
package testenv

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/natsserver"
)

// JetStream is a running embedded server and a client connected to it.
type JetStream struct {
	Server *server.Server
	Conn   *nats.Conn
	JS     jetstream.JetStream
	URL    string
}

// StartJetStream starts an embedded NATS server with JetStream on a free
// loopback port, with file storage in a temporary directory, and connects to
// it. Both are stopped when the test ends.
func StartJetStream(t testing.TB) *JetStream {
	t.Helper()
	return StartJetStreamIn(t, t.TempDir(), "127.0.0.1:-1")
}

// StartJetStreamIn is StartJetStream with a given store directory and listen
// address, so that a test can stop a server and start it again on the same
// port and data.
func StartJetStreamIn(t testing.TB, storeDir, listen string) *JetStream {
	t.Helper()
	srv, err := natsserver.Start(natsserver.Config{StoreDir: storeDir, Listen: listen})
	require.NoError(t, err)
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	nc, err := nats.Connect(srv.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return &JetStream{Server: srv, Conn: nc, JS: js, URL: srv.ClientURL()}
}

// SharedDir is the project's shared folder (SPEC.md, the examples): the
// ../shared beside the checkout, as sessions and CI lay it out, or
// BECKON_SHARED. A checkout without it falls back to the copy of the
// examples in testdata, so that the golden cases always run.
func SharedDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	here := filepath.Dir(file)
	root := filepath.Join(here, "..", "..")
	for _, dir := range []string{os.Getenv("BECKON_SHARED"), filepath.Join(root, "..", "shared"), filepath.Join(here, "testdata")} {
		if dir == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "examples")); err == nil {
			return dir
		}
	}
	t.Fatal("no shared examples: neither ../shared/examples nor internal/testenv/testdata/examples")
	return ""
}

// Examples lists the folders of the shared golden examples.
func Examples(t testing.TB) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(SharedDir(t), "examples", "*", "expected.ndjson"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for i, d := range dirs {
		dirs[i] = filepath.Dir(d)
	}
	return dirs
}
