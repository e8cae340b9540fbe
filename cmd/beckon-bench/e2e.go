package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/beckon-chat/beckon/ingest"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
	"github.com/beckon-chat/beckon/sink"
)

// e2eRules fire on events (a tenth of the load) and on a timer two seconds
// into a page (a hundredth of the load starts such a page).
const e2eRules = `widgets:
  - id: e2e
    cooldown: 0s
    rules:
      - id: fire
        frequency: once_per_page
        invitation: {department: sales, prompt: 'Can we help?'}
        conditions:
          - {variable: event_name, operator: equals, value: fire}
      - id: timer
        invitation: {department: sales, prompt: 'Still there?'}
        conditions:
          - {variable: current_url, operator: ends_with, value: /timer}
          - {variable: time_on_page, operator: gte, value: 2}
`

const timerOnset = 2 * time.Second

// runE2E is the whole pipeline in one process, as `beckon serve` runs it:
// ingest (HTTP handler and its ticks) → events stream → processor.Runner →
// sink → invitations, read by a core NATS subscriber on
// beckon.invitations.>. The load is open loop at E2ERate beacons/s of one
// event each: every tenth is a custom event "fire" of a new visitor (an
// invitation at once), every hundredth a page view of /timer (an invitation
// two seconds later, on a tick), the rest heartbeats that fire nothing.
func runE2E(ctx context.Context, b *bench) ([]row, error) {
	set, err := rules.Parse([]byte(e2eRules), "e2e.yaml")
	if err != nil {
		return nil, err
	}
	e, err := startNATS(ctx, b, "e2e", benchPartitions)
	if err != nil {
		return nil, err
	}
	defer e.close()
	if err := streams.EnsureConsumers(ctx, e.js, benchPartitions, streams.ConsumerConfig{}); err != nil {
		return nil, err
	}
	quiet := slog.New(slog.DiscardHandler)

	total := int(float64(b.E2ERate) * b.E2EFor.Seconds())
	sentAt := make([]atomic.Int64, total)
	var mu sync.Mutex
	var eventLat, timerLate []time.Duration
	seen := make(map[string]bool)

	subConn, err := e.connect()
	if err != nil {
		return nil, err
	}
	defer subConn.Close()
	sub, err := subConn.Subscribe(streams.InvitationsPrefix+".>", func(m *nats.Msg) {
		recv := time.Now()
		var inv schemas.Invitation
		if err := schemas.UnmarshalInvitation(m.Data, &inv); err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[inv.InvitationID] {
			return
		}
		seen[inv.InvitationID] = true
		switch inv.RuleID {
		case "fire":
			if i, err := strconv.Atoi(inv.VisitorID[1:]); err == nil && i < total {
				eventLat = append(eventLat, recv.Sub(time.Unix(0, sentAt[i].Load())))
			}
		case "timer":
			timerLate = append(timerLate, recv.Sub(time.UnixMilli(inv.At)))
		}
	})
	if err != nil {
		return nil, err
	}
	_ = sub.SetPendingLimits(-1, -1)
	if err := subConn.Flush(); err != nil {
		return nil, err
	}

	// The processor, with its own connection, as another role would have.
	procConn, err := e.connect()
	if err != nil {
		return nil, err
	}
	defer procConn.Close()
	snk, err := sink.New(sink.Config{Conn: procConn, Logger: quiet})
	if err != nil {
		return nil, err
	}
	defer snk.Close()
	pjs, err := jetstreamOf(procConn)
	if err != nil {
		return nil, err
	}
	runner, err := processor.NewRunner(ctx, processor.RunnerConfig{JetStream: pjs, Rules: set, Publisher: snk,
		Partitions: benchPartitions, Logger: quiet})
	if err != nil {
		return nil, err
	}
	svc, err := ingest.New(ingest.Config{JetStream: e.js, Partitions: benchPartitions, RateLimit: -1,
		AllowAnyOrigin: true, Logger: quiet})
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = runner.Run(rctx) }()
	go func() { defer wg.Done(); _ = svc.Run(rctx) }()
	defer func() {
		cancel()
		wg.Wait()
	}()
	url, stop, err := serveHTTP(svc.Handler())
	if err != nil {
		return nil, err
	}
	defer stop()
	time.Sleep(500 * time.Millisecond) // partitions pinned and pulling

	reqLat, sent, fires, timers, err := offer(b, url+"/v1/events", total, sentAt)
	if err != nil {
		return nil, err
	}
	// Wait for the invitations still in flight: the timers are due
	// timerOnset after their page.
	deadline := time.Now().Add(timerOnset + 5*time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		done := len(eventLat) >= fires && len(timerLate) >= timers
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	achieved := float64(sent) / b.E2EFor.Seconds()
	ep := percentiles(eventLat)
	tp := percentiles(timerLate)
	rp := percentiles(reqLat)
	return []row{
		{Stage: "e2e", Metric: fmt.Sprintf("event→invitation p50/p99/p999 (%s offered, %d/%d received)", si(achieved, "ev/s"), len(eventLat), fires),
			Value: fmtPct(ep), Baseline: "HTTP request alone: " + fmtPct(rp),
			Target: "p99 ≤ 10 ms", Status: status(len(eventLat) == fires && ep[1] <= 10*time.Millisecond)},
		{Stage: "e2e", Metric: fmt.Sprintf("timer lateness p50/p99/max (%d/%d received)", len(timerLate), timers),
			Value: fmt.Sprintf("%s / %s / %s", ms(tp[0]), ms(tp[1]), ms(tp[3])), Baseline: "tick interval: " + ms(ingest.DefaultTickInterval),
			Target: "p99 ≤ 1 s", Status: status(len(timerLate) == timers && tp[1] <= time.Second)},
	}, nil
}

// offer sends total beacons at E2ERate, open loop: a pacer releases them on
// schedule to a pool of keep-alive clients. It returns the HTTP request
// latencies and how many beacons, fires and timer pages were sent.
func offer(b *bench, url string, total int, sentAt []atomic.Int64) (lat []time.Duration, sent, fires, timers int, err error) {
	jobs := make(chan int, total)
	tr := &http.Transport{MaxIdleConnsPerHost: b.IngestClients, MaxConnsPerHost: b.IngestClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range b.IngestClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			var mine []time.Duration
			for i := range jobs {
				buf = e2eBeacon(buf, i)
				start := time.Now()
				if i%10 == 0 {
					sentAt[i].Store(start.UnixNano())
				}
				resp, err := client.Post(url, "text/plain;charset=UTF-8", bytes.NewReader(buf))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusNoContent {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	start := time.Now()
	for i := 0; i < total; {
		due := min(total, int(time.Since(start).Seconds()*float64(b.E2ERate))+1)
		for ; i < due; i++ {
			jobs <- i
			switch {
			case i%10 == 0:
				fires++
			case i%100 == 1:
				timers++
			}
		}
		time.Sleep(500 * time.Microsecond)
	}
	close(jobs)
	wg.Wait()
	return lat, total, fires, timers, firstErr
}

// e2eBeacon is beacon i of the e2e load.
func e2eBeacon(buf []byte, i int) []byte {
	n := strconv.Itoa(i)
	buf = append(buf[:0], `{"id":"x`+n+`","widget_id":"e2e",`...)
	switch {
	case i%10 == 0:
		return append(buf, `"type":"event","name":"fire","visitor_id":"f`+n+`","url":"https://e2e.example/cart"}`...)
	case i%100 == 1:
		return append(buf, `"type":"page_view","visitor_id":"t`+n+`","url":"https://e2e.example/timer"}`...)
	}
	return append(buf, `"type":"heartbeat","visitor_id":"h`+strconv.Itoa(i%5000)+`","url":"https://e2e.example/browse"}`...)
}

// percentiles are p50, p99, p999 and max.
func percentiles(d []time.Duration) [4]time.Duration {
	if len(d) == 0 {
		return [4]time.Duration{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return [4]time.Duration{at(0.5), at(0.99), at(0.999), s[len(s)-1]}
}

func fmtPct(p [4]time.Duration) string {
	return fmt.Sprintf("%s / %s / %s", ms(p[0]), ms(p[1]), ms(p[2]))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
