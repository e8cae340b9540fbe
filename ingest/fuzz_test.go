package ingest_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/beckon-chat/beckon/ingest"
)

// FuzzPostEvents checks that no body makes the handler panic, and that
// every refusal is a JSON Problem that says what is wrong.
func FuzzPostEvents(f *testing.F) {
	for _, seed := range []string{
		`{"type":"page_view","widget_id":"w","visitor_id":"v","url":"https://w.example/"}`,
		`[{"type":"heartbeat","widget_id":"w","visitor_id":"v"},{"type":"event","name":"n","widget_id":"w","visitor_id":"v"}]`,
		`{"type":"leave","widget_id":"w","visitor_id":"v","ts":"2026-11-23T10:00:00.000Z","x":[1,{"y":null}]}`,
		`{"type":"tick","ts":"2026-11-23T10:00:00.000Z"}`,
		`[{"id":"a\u00e9","type":"heartbeat","widget_id":"w","visitor_id":"v\n"}]`,
		`[`, `{}`, `[]`, `null`, "\"\\ud800\"",
	} {
		f.Add(seed)
	}
	e := newEnv(f, func(c *ingest.Config) {
		c.RateLimit = -1
		c.Logger = slog.New(slog.DiscardHandler)
	})
	h := e.svc.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/events", strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNoContent:
			return
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		var p ingest.Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatalf("body of %d is not a Problem: %v: %s", rec.Code, err, rec.Body)
		}
		if strings.TrimSpace(p.Error) == "" || (p.Field != "" && !strings.HasPrefix(p.Error, p.Field+" ")) {
			t.Fatalf("problem %+v does not say what is wrong with %q", p, body)
		}
	})
}
