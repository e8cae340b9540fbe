package recording_test

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/gen"
	"github.com/beckon-chat/beckon/internal/recording"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/processor"
	"github.com/beckon-chat/beckon/rules"
	"github.com/beckon-chat/beckon/schemas"
)

// The live pipeline against `beckon eval`: a generated recording replayed
// at full speed into embedded JetStream, processed by the runner on every
// partition and stored by the sink, gives exactly the invitations that eval
// gives over the same file, ids included (DESIGN "Time").

const (
	pipelineEvents     = 100_000
	pipelinePartitions = 8
)

// pipelineCase is a recording, its rules and eval's invitations, shared by
// the pipeline tests.
type pipelineCase struct {
	rec  []byte
	set  *rules.Set
	want map[string]schemas.Invitation // by invitation id
}

var (
	pipelineOnce sync.Once
	pipeline     pipelineCase
	pipelineErr  error
)

func loadPipelineCase(t *testing.T) pipelineCase {
	t.Helper()
	if testing.Short() {
		t.Skip("the pipeline replays 100k events; skipped with -short")
	}
	pipelineOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		pipeline.set, pipelineErr = rules.Load(filepath.Join(filepath.Dir(file), "..", "..", "deploy", "rules", "bench.yaml"))
		if pipelineErr != nil {
			return
		}
		var rec bytes.Buffer
		if _, pipelineErr = gen.WriteNDJSON(&rec, gen.Config{Seed: 42, Events: pipelineEvents}); pipelineErr != nil {
			return
		}
		pipeline.rec = rec.Bytes()
		var out bytes.Buffer
		if _, pipelineErr = processor.Eval(pipeline.set, bytes.NewReader(pipeline.rec), "gen.ndjson", &out); pipelineErr != nil {
			return
		}
		pipeline.want = map[string]schemas.Invitation{}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var inv schemas.Invitation
			if pipelineErr = inv.UnmarshalJSON([]byte(line)); pipelineErr != nil {
				return
			}
			pipeline.want[inv.InvitationID] = inv
		}
	})
	require.NoError(t, pipelineErr)
	require.Greater(t, len(pipeline.want), 100, "the rules fire often enough to compare")
	return pipeline
}

// livePipeline is what `beckon serve --ingest=false` runs, fed by replay.
type livePipeline struct {
	*testenv.Pipeline
}

func startLivePipeline(t *testing.T, set *rules.Set) *livePipeline {
	t.Helper()
	return &livePipeline{testenv.StartPipeline(t, set, pipelinePartitions)}
}

func (lp *livePipeline) startProcessors(t *testing.T) (stop func()) { return lp.StartProcessors(t) }

// replay publishes the recording at full speed with a tail that fires every
// timer of the rules.
func (lp *livePipeline) replay(t *testing.T, pc pipelineCase, progress func(done, total int)) recording.ReplayStats {
	t.Helper()
	cfg := recording.ReplayConfig{Name: "gen.ndjson", Speed: recording.MaxSpeed, Tail: recording.TailFor(pc.set), Progress: progress}
	st, err := recording.Replay(context.Background(), lp.JS, cfg, bytes.NewReader(pc.rec))
	require.NoError(t, err)
	require.Equal(t, pipelineEvents, st.Events)
	t.Logf("replayed %d events in %v: %.0f events/s", st.Events, st.Elapsed.Round(time.Millisecond), st.EventsPerSecond())
	return st
}

// invitations waits until the processors have consumed the whole events
// stream and returns the stored invitations by id.
func (lp *livePipeline) invitations(t *testing.T) map[string]schemas.Invitation {
	t.Helper()
	got := map[string]schemas.Invitation{}
	for _, inv := range lp.Invitations(t) {
		got[inv.InvitationID] = inv
	}
	return got
}

// assertSameInvitations compares two sets of invitations, naming a few of
// the differences rather than dumping thousands.
func assertSameInvitations(t *testing.T, want, got map[string]schemas.Invitation) {
	t.Helper()
	var missing, extra, differ []string
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			missing = append(missing, string(schemas.AppendInvitationJSON(nil, &w)))
		case g != w:
			differ = append(differ, string(schemas.AppendInvitationJSON(nil, &g)))
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			extra = append(extra, string(schemas.AppendInvitationJSON(nil, &g)))
		}
	}
	first := func(s []string) []string { return s[:min(len(s), 5)] }
	assert.Empty(t, first(missing), "%d of eval's %d invitations missing from the live pipeline", len(missing), len(want))
	assert.Empty(t, first(extra), "%d invitations that eval does not give", len(extra))
	assert.Empty(t, first(differ), "%d invitations with eval's id but other fields", len(differ))
}

func TestPipelineReplayGivesEvalsInvitations(t *testing.T) {
	pc := loadPipelineCase(t)
	lp := startLivePipeline(t, pc.set)
	lp.startProcessors(t)
	lp.replay(t, pc, nil)
	got := lp.invitations(t)
	t.Logf("eval: %d invitations; live pipeline: %d", len(pc.want), len(got))
	assertSameInvitations(t, pc.want, got)
}

func TestPipelineProcessorsRestartedMidReplayGiveEvalsInvitations(t *testing.T) {
	pc := loadPipelineCase(t)
	lp := startLivePipeline(t, pc.set)
	stop := lp.startProcessors(t)
	var restarts int
	// Halfway through the replay the processors stop; a quarter later new
	// ones start, rebuild the open sessions and go on.
	progress := func(done, total int) {
		switch {
		case restarts == 0 && done >= total/2:
			waitProcessed(t, lp.JS, 1)
			stop()
			restarts++
		case restarts == 1 && done >= total*3/4:
			lp.startProcessors(t)
			restarts++
		}
	}
	lp.replay(t, pc, progress)
	require.Equal(t, 2, restarts)
	assertSameInvitations(t, pc.want, lp.invitations(t))
}

// waitProcessed waits until the processors have acked at least min
// messages in every partition, so that a stop interrupts real work.
func waitProcessed(t *testing.T, js jetstream.JetStream, min uint64) {
	t.Helper()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		for p := range pipelinePartitions {
			c, err := js.Consumer(ctx, streams.EventsStream, streams.ConsumerName(p))
			if err != nil {
				return false
			}
			info, err := c.Info(ctx)
			if err != nil || info.AckFloor.Stream < min {
				return false
			}
		}
		return true
	}, time.Minute, 20*time.Millisecond)
}

// TestPipelineSharedByTwoProcessorsGivesEvalsInvitations: two processor
// instances read every partition at once (one pinned reader per partition);
// halfway through one stops, and the other takes its partitions over,
// rebuilding their open sessions first.
func TestPipelineSharedByTwoProcessorsGivesEvalsInvitations(t *testing.T) {
	pc := loadPipelineCase(t)
	lp := startLivePipeline(t, pc.set)
	stopFirst := lp.startProcessors(t)
	lp.startProcessors(t)
	stopped := false
	lp.replay(t, pc, func(done, total int) {
		if !stopped && done >= total/2 {
			stopFirst()
			stopped = true
		}
	})
	require.True(t, stopped)
	assertSameInvitations(t, pc.want, lp.invitations(t))
}

// TestPipelineReplayAtSpeedGivesEvalsInvitations: paced replays, with the
// ticks replay generates on the way, give eval's answer too.
func TestPipelineReplayAtSpeedGivesEvalsInvitations(t *testing.T) {
	if testing.Short() {
		t.Skip("paced replay; skipped with -short")
	}
	set, err := rules.Load(filepath.Join("..", "..", "deploy", "rules", "bench.yaml"))
	require.NoError(t, err)
	var rec bytes.Buffer
	_, err = gen.WriteNDJSON(&rec, gen.Config{Seed: 7, Events: 3000, ArrivalEvery: 100 * time.Millisecond})
	require.NoError(t, err)
	var evalOut bytes.Buffer
	_, err = processor.Eval(set, bytes.NewReader(rec.Bytes()), "gen.ndjson", &evalOut)
	require.NoError(t, err)
	want := map[string]schemas.Invitation{}
	for _, line := range strings.Split(strings.TrimSpace(evalOut.String()), "\n") {
		var inv schemas.Invitation
		require.NoError(t, inv.UnmarshalJSON([]byte(line)))
		want[inv.InvitationID] = inv
	}
	require.NotEmpty(t, want)

	lp := startLivePipeline(t, set)
	lp.startProcessors(t)
	cfg := recording.ReplayConfig{Name: "gen.ndjson", Speed: 100, Tail: recording.TailFor(set)}
	st, err := recording.Replay(context.Background(), lp.JS, cfg, bytes.NewReader(rec.Bytes()))
	require.NoError(t, err)
	require.Greater(t, st.Ticks, 3, "paced replays generate ticks")
	t.Logf("replayed %d events spanning %v at --speed 100 in %v", st.Events,
		time.Duration(st.Last-st.First)*time.Millisecond, st.Elapsed.Round(time.Millisecond))
	assertSameInvitations(t, want, lp.invitations(t))
}
