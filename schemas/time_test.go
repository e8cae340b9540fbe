package schemas

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTimeAgreesWithTimeParse(t *testing.T) {
	times := []string{
		"1970-01-01T00:00:00.000Z",
		"1970-01-01T00:00:00.001Z",
		"1969-12-31T23:59:59.999Z",
		"0000-01-01T00:00:00.000Z",
		"0001-01-01T00:00:00.000Z",
		"1600-02-29T12:00:00.000Z",
		"1900-02-28T23:59:59.999Z",
		"2000-02-29T00:00:00.000Z",
		"2024-02-29T23:59:59.999Z",
		"2025-12-31T23:59:59.999Z",
		"2026-01-01T00:00:00.000Z",
		"2026-11-23T10:00:00.000Z",
		"2026-11-23T10:00:00.123Z",
		"2038-01-19T03:14:08.000Z",
		"2100-03-01T00:00:00.000Z",
		"9999-12-31T23:59:59.999Z",
		// Forms the fast path leaves to time.Parse.
		"2026-11-23T10:00:00Z",
		"2026-11-23T10:00:00.1Z",
		"2026-11-23T10:00:00.123456789Z",
		"2026-11-23T11:00:00.000+01:00",
		"2026-11-23T04:30:00.000-05:30",
		"2026-01-01T00:30:00.000+01:00", // a year boundary in UTC
		"2024-02-29T23:30:00.000-01:00", // leap day into March in UTC
		"2026-11-23T10:00:00.000+00:00",
	}
	for _, s := range times {
		t.Run(s, func(t *testing.T) {
			want, err := time.Parse(time.RFC3339Nano, s)
			require.NoError(t, err)
			got, ok := ParseTime([]byte(s))
			require.True(t, ok)
			assert.Equal(t, want.UnixMilli(), got)
		})
	}
}

func TestParseTimeFastPathAgreesOnRandomTimes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	hi := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for i := 0; i < 100000; i++ {
		m := lo + r.Int64N(hi-lo)
		s := time.UnixMilli(m).UTC().Format(TimeLayout)
		got, ok := parseFixedMillis([]byte(s))
		require.True(t, ok, s)
		require.Equal(t, m, got, s)
	}
}

func TestParseTimeRejectsImpossibleTimes(t *testing.T) {
	for _, s := range []string{
		"",
		"2026-02-30T10:00:00.000Z",
		"2026-02-29T10:00:00.000Z",
		"1900-02-29T10:00:00.000Z",
		"2026-04-31T10:00:00.000Z",
		"2026-13-01T10:00:00.000Z",
		"2026-00-01T10:00:00.000Z",
		"2026-11-00T10:00:00.000Z",
		"2026-11-23T24:00:00.000Z",
		"2026-11-23T10:60:00.000Z",
		"2026-11-23T10:00:60.000Z",
		"2026-11-23 10:00:00.000Z",
		"2026-11-23T10:00:00.000",
		"2026-11-23T10:00:00.00aZ",
		"2026-11-23",
		"+2026-11-23T10:00:00.000Z",
		"2026-11-23T10:00:00.000Z ",
		"yesterday",
		// Valid RFC 3339, but outside the years FormatTime can write in UTC.
		"0000-01-01T00:00:00.000+01:00",
		"9999-12-31T23:59:59.999-01:00",
	} {
		t.Run(s, func(t *testing.T) {
			_, ok := ParseTime([]byte(s))
			assert.False(t, ok)
		})
	}
}

func TestParseTimeBoundsAreTheFourDigitYears(t *testing.T) {
	assert.Equal(t, int64(minMillis), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	assert.Equal(t, int64(maxMillis), time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC).UnixMilli())
}

func TestFormatTimeWritesUTCMilliseconds(t *testing.T) {
	assert.Equal(t, "2026-11-23T10:00:00.000Z", FormatTime(1795428000000))
	assert.Equal(t, "2026-11-23T10:00:00.007Z", FormatTime(1795428000007))
	assert.Equal(t, "1970-01-01T00:00:00.000Z", FormatTime(0))
}

func TestAppendTimeDoesNotAllocateWithRoom(t *testing.T) {
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() { buf = AppendTime(buf[:0], 1795428000000) })
	assert.Zero(t, allocs)
}

func TestFormatThenParseRoundTrips(t *testing.T) {
	for _, m := range []int64{0, 1, -1, 951782400000, 1795428000123, 253402300799999} {
		got, ok := ParseTime([]byte(FormatTime(m)))
		require.True(t, ok)
		assert.Equal(t, m, got)
	}
}

// The hand-written AppendTime writes what the time package writes, over the
// whole range of four-digit years and past it.
func TestAppendTimeAgreesWithTimeFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	edges := []int64{minMillis, minMillis + 1, maxMillis, maxMillis - 1, minMillis - 1, maxMillis + 1, 0, -1, 1, 951782400000, 951868799999, 4107542399999}
	for i := range 200_000 {
		ms := r.Int64N(maxMillis-minMillis+1) + minMillis
		if i < len(edges) {
			ms = edges[i]
		}
		want := time.UnixMilli(ms).UTC().AppendFormat(nil, TimeLayout)
		require.Equal(t, string(want), string(AppendTime(nil, ms)), "%d", ms)
	}
}
