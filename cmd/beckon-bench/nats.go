package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/internal/natsserver"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/schemas"
)

// embedded is a fresh embedded NATS server with file storage and Beckon's
// streams, and a client connection.
type embedded struct {
	srv *server.Server
	nc  *nats.Conn
	js  jetstream.JetStream
	dir string
}

func startNATS(ctx context.Context, b *bench, name string, partitions int) (*embedded, error) {
	dir := filepath.Join(b.tmp, name)
	srv, err := natsserver.Start(natsserver.Config{StoreDir: dir})
	if err != nil {
		return nil, err
	}
	e := &embedded{srv: srv, dir: dir}
	if e.nc, err = nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1)); err != nil {
		e.close()
		return nil, err
	}
	if e.js, err = jetstream.New(e.nc); err != nil {
		e.close()
		return nil, err
	}
	if _, err := streams.EnsureEvents(ctx, e.js, streams.EventsConfig{Partitions: partitions}); err != nil {
		e.close()
		return nil, err
	}
	if err := streams.EnsureInvitations(ctx, e.js, streams.InvitationsConfig{}); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *embedded) connect() (*nats.Conn, error) {
	return nats.Connect(e.srv.ClientURL(), nats.MaxReconnects(-1))
}

func (e *embedded) close() {
	if e.nc != nil {
		e.nc.Close()
	}
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	os.RemoveAll(e.dir)
}

// prefill publishes events as ingest and replay do — a visitor's events to
// its partition with their id as Nats-Msg-Id, ticks to every partition —
// and returns how many messages each partition holds.
func prefill(ctx context.Context, js jetstream.JetStream, events []schemas.Event, partitions int) ([]int, error) {
	pub, err := jetstream.New(js.Conn(), jetstream.WithPublishAsyncMaxPending(8192))
	if err != nil {
		return nil, err
	}
	counts := make([]int, partitions)
	send := func(m *nats.Msg) error {
		_, err := pub.PublishMsgAsync(m)
		return err
	}
	for i := range events {
		ev := &events[i]
		data, err := msgpack.Marshal(ev)
		if err != nil {
			return nil, err
		}
		if ev.Type == schemas.Tick {
			for p := range partitions {
				if err := send(&nats.Msg{Subject: streams.TickSubject(p), Data: data}); err != nil {
					return nil, err
				}
				counts[p]++
			}
			continue
		}
		p := streams.Partition(ev.WidgetID, ev.VisitorID, partitions)
		m := &nats.Msg{Subject: streams.EventSubject(p, ev.WidgetID, ev.VisitorID), Data: data,
			Header: nats.Header{jetstream.MsgIDHeader: []string{ev.ID}}}
		if err := send(m); err != nil {
			return nil, err
		}
		counts[p]++
	}
	select {
	case <-pub.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("prefill: acks did not arrive")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return counts, nil
}

func jetstreamOf(nc *nats.Conn) (jetstream.JetStream, error) { return jetstream.New(nc) }
