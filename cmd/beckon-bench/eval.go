package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/beckon-chat/beckon/internal/gen"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/schemas"
)

// runEval is `beckon eval` over an in-memory recording, invitations to
// io.Discard, beside two floors: reading and splitting the lines, and that
// plus decoding each into a schemas.Event.
func runEval(_ context.Context, b *bench) ([]row, error) {
	var rec bytes.Buffer
	n, err := gen.WriteNDJSON(&rec, gen.Config{Seed: 2, Visitors: max(b.EvalEvents/4, 1), Events: b.EvalEvents,
		ArrivalEvery: 10 * time.Millisecond, TickEvery: time.Second})
	if err != nil {
		return nil, err
	}
	data := rec.Bytes()
	var invs int
	evalRate, err := bestRate(b.EvalRuns, n, func() error {
		st, err := processor.Eval(b.rules, bytes.NewReader(data), "bench.ndjson", io.Discard)
		invs = st.Invitations
		return err
	})
	if err != nil {
		return nil, err
	}
	// The target is one core: the same run with GOMAXPROCS 1, where
	// Eval's read-ahead goroutine shares the core with the engine.
	prev := runtime.GOMAXPROCS(1)
	oneCoreRate, err := bestRate(b.EvalRuns, n, func() error {
		_, err := processor.Eval(b.rules, bytes.NewReader(data), "bench.ndjson", io.Discard)
		return err
	})
	runtime.GOMAXPROCS(prev)
	if err != nil {
		return nil, err
	}
	splitRate, _ := bestRate(b.EvalRuns, n, func() error { return splitLines(data, nil) })
	decodeRate, err := bestRate(b.EvalRuns, n, func() error {
		var dec schemas.Decoder
		var ev schemas.Event
		return splitLines(data, func(line []byte) error { return dec.DecodeEvent(line, &ev) })
	})
	if err != nil {
		return nil, err
	}
	size := fmt.Sprintf("%d events, %.0f MB, %d invitations", n, float64(len(data))/1e6, invs)
	return []row{
		{Stage: "eval", Metric: "events/s (" + size + ")", Value: si(evalRate, "ev/s"),
			Baseline: "read+split lines: " + si(splitRate, "ev/s"), Ratio: ratio(evalRate, splitRate),
			Target: "≥ 1M ev/s", Status: status(evalRate >= 1e6)},
		{Stage: "eval", Metric: "", Value: "",
			Baseline: "read+split+decode: " + si(decodeRate, "ev/s"), Ratio: ratio(evalRate, decodeRate)},
		{Stage: "eval", Metric: "  same, on one core (GOMAXPROCS 1)", Value: si(oneCoreRate, "ev/s"),
			Baseline: "read+split+decode: " + si(decodeRate, "ev/s"), Ratio: ratio(oneCoreRate, decodeRate),
			Target: "≥ 1M ev/s on one core", Status: status(oneCoreRate >= 1e6)},
	}, nil
}

// bestRate runs f runs times and returns the best rate of n items.
func bestRate(runs, n int, f func() error) (float64, error) {
	best := 0.0
	for range max(runs, 1) {
		start := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		if r := float64(n) / time.Since(start).Seconds(); r > best {
			best = r
		}
	}
	return best, nil
}

// splitLines reads data line by line as Eval does.
func splitLines(data []byte, fn func([]byte) error) error {
	in := bufio.NewReaderSize(bytes.NewReader(data), 1<<20)
	for {
		line, err := in.ReadSlice('\n')
		if len(line) > 1 && fn != nil {
			if ferr := fn(line[:len(line)-1]); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
