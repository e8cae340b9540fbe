package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinySizes run every stage in seconds: enough to prove that the stages
// work end to end, not to measure anything.
var tinySizes = sizes{
	EngineEvents: 5_000, EngineBenchtime: time.Millisecond,
	EvalEvents: 5_000, EvalRuns: 1,
	ProcEvents: 3_000,
	IngestFor:  200 * time.Millisecond, IngestClients: 4,
	E2ERate: 500, E2EFor: time.Second,
	MemVisitors: 5_000,
}

func TestStagesRunAndPrintOneTable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts embedded NATS servers")
	}
	start := time.Now()
	rows, err := run(context.Background(), tinySizes, "../../deploy/rules/bench.yaml", "", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	got := map[string]bool{}
	for _, r := range rows {
		got[r.Stage] = true
	}
	for _, st := range stages {
		assert.True(t, got[st.name], "no row for stage %s", st.name)
	}
	var out bytes.Buffer
	printTable(&out, "go test", rows)
	table := out.String()
	assert.Contains(t, table, "| stage ")
	for _, want := range []string{"ns/event", "allocs/event", "events/s", "beacons/s", "p50/p99/p999", "timer lateness", "heap B/visitor"} {
		assert.Contains(t, table, want)
	}
	t.Logf("%s\n%s", time.Since(start).Round(time.Millisecond), table)
}

func TestOnlyRunsTheNamedStages(t *testing.T) {
	rows, err := run(context.Background(), tinySizes, "../../deploy/rules/bench.yaml", "memory", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	for _, r := range rows {
		assert.Equal(t, "memory", r.Stage)
	}
	_, err = run(context.Background(), tinySizes, "../../deploy/rules/bench.yaml", "engine,nope", slog.New(slog.DiscardHandler))
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), `"nope"`), err.Error())
}
