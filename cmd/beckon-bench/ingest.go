package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/beckon-chat/beckon/ingest"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/schemas"
)

// runIngest is beacons/s through ingest over keep-alive HTTP from an
// in-process load generator (one event per beacon, as a tracker's
// heartbeat), beside the same load on a bare net/http handler that reads
// the body and answers 204, and beside a bare JetStream async publish of
// the same events from one goroutine.
func runIngest(ctx context.Context, b *bench) ([]row, error) {
	bareRate, err := measureHTTP(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}), 1)
	if err != nil {
		return nil, fmt.Errorf("bare http: %w", err)
	}

	e, err := startNATS(ctx, b, "ingest", benchPartitions)
	if err != nil {
		return nil, err
	}
	defer e.close()
	svc, err := ingest.New(ingest.Config{JetStream: e.js, Partitions: benchPartitions, RateLimit: -1,
		AllowAnyOrigin: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	rate, err := measureHTTP(b, svc.Handler(), 1)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	rate10, err := measureHTTP(b, svc.Handler(), 10)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	jsRate, err := barePublish(ctx, e.js, b.IngestFor)
	if err != nil {
		return nil, fmt.Errorf("bare publish: %w", err)
	}
	return []row{
		{Stage: "ingest", Metric: fmt.Sprintf("beacons/s (1 event each, %d clients)", b.IngestClients), Value: si(rate, "req/s"),
			Baseline: "bare net/http 204: " + si(bareRate, "req/s"), Ratio: ratio(rate, bareRate),
			Target: "≥ 0.50×", Status: status(rate >= 0.5*bareRate)},
		{Stage: "ingest", Baseline: "bare JetStream PublishAsync: " + si(jsRate, "msg/s"), Ratio: ratio(rate, jsRate)},
		{Stage: "ingest", Metric: "events/s, 10 events per beacon (a tracker's batch)", Value: si(10*rate10, "ev/s"),
			Baseline: "bare JetStream PublishAsync: " + si(jsRate, "msg/s"), Ratio: ratio(10*rate10, jsRate)},
	}, nil
}

// serveHTTP serves h on a loopback port until the returned stop is called.
func serveHTTP(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// beacon writes a body of n heartbeat events with unique ids.
func beacon(buf []byte, worker, seq, n int) []byte {
	buf = buf[:0]
	if n > 1 {
		buf = append(buf, '[')
	}
	for i := range n {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = event(buf, worker, seq*n+i)
	}
	if n > 1 {
		buf = append(buf, ']')
	}
	return buf
}

func event(buf []byte, worker, seq int) []byte {
	buf = append(buf, `{"id":"b`...)
	buf = strconv.AppendInt(buf, int64(worker), 10)
	buf = append(buf, '-')
	buf = strconv.AppendInt(buf, int64(seq), 10)
	buf = append(buf, `","type":"heartbeat","widget_id":"shop","visitor_id":"v`...)
	buf = strconv.AppendInt(buf, int64(worker*1000+seq%1000), 10)
	buf = append(buf, `","url":"https://shop.example/products/7"}`...)
	return buf
}

// measureHTTP posts beacons of n events from IngestClients keep-alive
// clients for IngestFor and returns the rate of 204s.
func measureHTTP(b *bench, h http.Handler, n int) (float64, error) {
	url, stop, err := serveHTTP(h)
	if err != nil {
		return 0, err
	}
	defer stop()
	tr := &http.Transport{MaxIdleConnsPerHost: b.IngestClients, MaxConnsPerHost: b.IngestClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url += "/v1/events"
	var ok atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(b.IngestFor)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range b.IngestClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for seq := 0; time.Now().Before(deadline); seq++ {
				buf = beacon(buf, w, seq, n)
				resp, err := client.Post(url, "text/plain;charset=UTF-8", bytes.NewReader(buf))
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNoContent {
					firstErr.CompareAndSwap(nil, fmt.Errorf("status %d", resp.StatusCode))
					return
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(ok.Load()) / time.Since(start).Seconds(), nil
}

// barePublish publishes heartbeat events as ingest does (msgpack, Nats-Msg-Id,
// the visitor's partition) with PublishMsgAsync from one goroutine for d,
// and returns the rate of acknowledged messages.
func barePublish(ctx context.Context, js jetstream.JetStream, d time.Duration) (float64, error) {
	pub, err := jetstream.New(js.Conn(), jetstream.WithPublishAsyncMaxPending(ingest.DefaultMaxPendingAcks))
	if err != nil {
		return 0, err
	}
	ev := schemas.Event{Type: schemas.Heartbeat, WidgetID: "shop", URL: "https://shop.example/products/7"}
	start := time.Now()
	n := 0
	for ; time.Since(start) < d; n++ {
		ev.ID = "p" + strconv.Itoa(n)
		ev.VisitorID = "v" + strconv.Itoa(n%10000)
		ev.TS = time.Now().UnixMilli()
		data, err := msgpack.Marshal(&ev)
		if err != nil {
			return 0, err
		}
		p := streams.Partition(ev.WidgetID, ev.VisitorID, benchPartitions)
		m := &nats.Msg{Subject: streams.EventSubject(p, ev.WidgetID, ev.VisitorID), Data: data,
			Header: nats.Header{jetstream.MsgIDHeader: []string{ev.ID}}}
		if _, err := pub.PublishMsgAsync(m); err != nil {
			return 0, err
		}
	}
	select {
	case <-pub.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		return 0, fmt.Errorf("acks did not arrive")
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
