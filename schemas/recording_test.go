package schemas_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/schemas"
)

func TestRecordingReaderSkipsBlankLinesAndCountsEveryLine(t *testing.T) {
	rec := "\n" +
		`{"type":"page_view","widget_id":"w","visitor_id":"v","ts":"2026-11-23T10:00:00.000Z","url":"https://x/"}` + "\n" +
		"   \n" +
		`{"type":"tick","ts":"2026-11-23T10:00:01.000Z"}`
	rr := schemas.NewRecordingReader(strings.NewReader(rec), "rec.ndjson")
	var ev schemas.Event
	require.NoError(t, rr.Next(&ev))
	assert.Equal(t, 2, rr.Line())
	assert.Equal(t, schemas.PageView, ev.Type)
	assert.Contains(t, string(rr.Raw()), `"page_view"`)
	require.NoError(t, rr.Next(&ev))
	assert.Equal(t, 4, rr.Line())
	assert.Equal(t, schemas.Tick, ev.Type)
	assert.Equal(t, io.EOF, rr.Next(&ev))
}

func TestRecordingReaderNamesTheFileAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, rec, want string
		cause           error
	}{
		{"bad json", "{\"type\":\"tick\",\"ts\":\"2026-11-23T10:00:00.000Z\"}\n{\"type\":", "rec.ndjson:2:", schemas.ErrSyntax},
		{"invalid event", `{"type":"page_view","widget_id":"w","visitor_id":"v","ts":"2026-11-23T10:00:00.000Z"}`, `rec.ndjson:1: field "url": is required`, schemas.ErrMissing},
		{"no time", `{"type":"tick"}`, `rec.ndjson:1: field "ts": is required`, schemas.ErrMissing},
		{"too long", strings.Repeat("x", schemas.MaxLineBytes+10), "rec.ndjson:1:", schemas.ErrLineTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rr := schemas.NewRecordingReader(strings.NewReader(tc.rec), "rec.ndjson")
			var ev schemas.Event
			var err error
			for err == nil {
				err = rr.Next(&ev)
			}
			require.NotEqual(t, io.EOF, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, errors.Is(err, schemas.ErrMalformedLine))
			assert.True(t, errors.Is(err, tc.cause), "%v", err)
			var le *schemas.LineError
			require.ErrorAs(t, err, &le)
		})
	}
}

func TestBorrowedStringsAliasTheLineAndEscapedOnesAreCopies(t *testing.T) {
	line := []byte(`{"type":"page_view","widget_id":"w","visitor_id":"v1","ts":"2026-11-23T10:00:00.000Z","url":"https://x/a","title":"Caf\u00e9"}`)
	var d schemas.Decoder
	var ev schemas.Event
	require.NoError(t, d.DecodeEventBorrowed(line, &ev))
	assert.Equal(t, "https://x/a", ev.URL)
	assert.Equal(t, "Café", ev.Title)
	copy(line[bytes.Index(line, []byte("https")):], "HTTPS")
	assert.Equal(t, "HTTPS://x/a", ev.URL, "an unescaped string aliases the input")
	assert.Equal(t, "Café", ev.Title, "an unescaped-then-decoded string is a copy")
}

func TestNextBorrowedKeepsEventsValidWhileTheBufferIs(t *testing.T) {
	rec := `{"type":"page_view","widget_id":"w","visitor_id":"v1","ts":"2026-11-23T10:00:00.000Z","url":"https://x/a"}
{"type":"page_view","widget_id":"w","visitor_id":"v2","ts":"2026-11-23T10:00:01.000Z","url":"https://x/b"}
`
	rr := schemas.NewRecordingReader(strings.NewReader(rec), "rec.ndjson")
	var buf []byte
	evs := make([]schemas.Event, 2)
	require.NoError(t, rr.NextBorrowed(&evs[0], &buf))
	require.NoError(t, rr.NextBorrowed(&evs[1], &buf))
	assert.Equal(t, "v1", evs[0].VisitorID, "the first event survives the second read")
	assert.Equal(t, "https://x/b", evs[1].URL)
}
