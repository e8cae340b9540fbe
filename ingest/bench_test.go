package ingest_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/ingest"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/schemas"
)

// The three benchmarks below read together: a beacon's cost over loopback
// keep-alive HTTP (BenchmarkIngestHTTP), against the same client hitting a
// handler that does nothing (BenchmarkBareHTTP: the HTTP floor) and against
// publishing the same events straight to JetStream
// (BenchmarkBareJetStreamPublishAsync: the NATS floor). Each reports
// events/s; -cpu and the batch size vary the load.

// beaconBody is a heartbeat batch of n events with client ids, the size a
// tracker sends.
func beaconBody(n int, seq *atomic.Int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		id := seq.Add(1)
		fmt.Fprintf(&b, `{"id":"e%d","type":"heartbeat","widget_id":"acme","visitor_id":"visitor-%d","url":"https://www.acme.example/products/item-%d","client_ts":"2026-11-23T10:00:00.000Z"}`, id, id%10000, id%100)
	}
	b.WriteByte(']')
	return b.String()
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
}

func runHTTP(b *testing.B, url string, batch int) {
	client := benchClient()
	var seq atomic.Int64
	b.SetParallelism(16) // many tabs in flight, as real browsers are
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url, "text/plain;charset=UTF-8", strings.NewReader(beaconBody(batch, &seq)))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkIngestHTTP(b *testing.B) {
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			e := newEnv(b, func(c *ingest.Config) {
				c.RateLimit = -1
				c.Clock = time.Now
				c.Logger = slog.New(slog.DiscardHandler)
			})
			runHTTP(b, e.srv.URL+"/v1/events", batch)
		})
	}
}

func BenchmarkBareHTTP(b *testing.B) {
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusNoContent)
			}))
			b.Cleanup(srv.Close)
			runHTTP(b, srv.URL, batch)
		})
	}
}

func BenchmarkBareJetStreamPublishAsync(b *testing.B) {
	env := testenv.StartJetStream(b)
	n := ensureStreams(b, env.JS)
	js, err := jetstream.New(env.Conn, jetstream.WithPublishAsyncMaxPending(16384))
	require.NoError(b, err)
	ev := schemas.Event{Type: schemas.Heartbeat, WidgetID: "acme", TS: time.Now().UnixMilli(),
		URL: "https://www.acme.example/products/item-1", ClientTS: time.Now().UnixMilli()}
	b.ResetTimer()
	for i := range b.N {
		ev.ID = fmt.Sprintf("e%d", i)
		ev.VisitorID = fmt.Sprintf("visitor-%d", i%10000)
		data, err := msgpack.Marshal(&ev)
		if err != nil {
			b.Fatal(err)
		}
		m := &nats.Msg{
			Subject: streams.EventSubject(streams.Partition(ev.WidgetID, ev.VisitorID, n), ev.WidgetID, ev.VisitorID),
			Data:    data,
			Header:  nats.Header{jetstream.MsgIDHeader: []string{ev.ID}},
		}
		if _, err := js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		b.Fatal("acks did not arrive")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
