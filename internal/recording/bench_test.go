package recording_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/gen"
	"github.com/beckon-chat/beckon/internal/recording"
)

// BenchmarkReplayMax measures a --speed max replay of 100k generated events
// into an embedded JetStream with file storage (16 partitions), each
// iteration into a fresh stream: events/s is the figure.
func BenchmarkReplayMax(b *testing.B) {
	var rec bytes.Buffer
	n, err := gen.WriteNDJSON(&rec, gen.Config{Seed: 1, Events: 100_000})
	require.NoError(b, err)
	b.SetBytes(int64(rec.Len()))
	b.ResetTimer()
	var perSec float64
	for range b.N {
		b.StopTimer()
		js := startStreamsWith(b, 16)
		b.StartTimer()
		st, err := recording.Replay(context.Background(), js, recording.ReplayConfig{Speed: recording.MaxSpeed}, bytes.NewReader(rec.Bytes()))
		require.NoError(b, err)
		require.Equal(b, n, st.Events)
		perSec += st.EventsPerSecond()
	}
	b.ReportMetric(perSec/float64(b.N), "events/s")
}
