package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/gateway"
	"github.com/beckon-chat/beckon/internal/streams"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/internal/visitortoken"
	"github.com/beckon-chat/beckon/schemas"
	"github.com/beckon-chat/beckon/sink"
)

// beacons stands in for ingest: it decodes and validates the tracker's
// beacons as ingest does, and keeps them for the test to inspect.
type beacons struct {
	mu     sync.Mutex
	events []schemas.Event
	errs   []error
}

func (b *beacons) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var d schemas.Decoder
	events, err := d.DecodeBatch(body, nil)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.errs = append(b.errs, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for i := range events {
		if err := events[i].Validate(false); err != nil {
			b.errs = append(b.errs, err)
		}
	}
	b.events = append(b.events, events...)
	w.WriteHeader(http.StatusNoContent)
}

// has reports whether a beacon matching ok arrived.
func (b *beacons) has(ok func(schemas.Event) bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.events {
		if ok(e) {
			return true
		}
	}
	return false
}

// TestBrowserShowsAndDismissesInvitation loads the demo's pricing page in
// headless Chromium, publishes an invitation for the page's visitor through
// the sink, and checks that the tracker shows the pop-up and reports its
// dismissal. It runs where Chromium is installed.
func TestBrowserShowsAndDismissesInvitation(t *testing.T) {
	bctx := testenv.Browser(t, 60*time.Second)
	js := testenv.StartJetStream(t)
	ctx := context.Background()
	require.NoError(t, streams.EnsureInvitations(ctx, js.JS, streams.InvitationsConfig{}))
	reg := prometheus.NewRegistry()
	gw, err := gateway.New(gateway.Config{JetStream: js.JS, Secret: secret,
		Logger: slog.New(slog.DiscardHandler), Registerer: reg})
	require.NoError(t, err)
	runCtx, stop := context.WithCancel(ctx)
	go func() { _ = gw.Run(runCtx) }()
	t.Cleanup(stop)
	snk, err := sink.New(sink.Config{Conn: js.Conn})
	require.NoError(t, err)
	tokens, err := visitortoken.NewHandler(visitortoken.Config{Secret: secret})
	require.NoError(t, err)

	got := &beacons{}
	mux := http.NewServeMux()
	mux.Handle("/v1/token", tokens)
	mux.Handle("/v1/events", got)
	mux.Handle("/", gw.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(gw.Close) // before srv.Close: end the event streams

	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/pricing"),
		chromedp.WaitVisible(chromedp.CSS("#visitor")),
	))
	visitor, err := chromedp.Run(bctx, chromedp.Poll[string](`localStorage.getItem("beckon_vid")`))
	require.NoError(t, err)
	require.NoError(t, schemas.ValidateID("visitor_id", visitor))
	assert.Eventually(t, func() bool {
		return got.has(func(e schemas.Event) bool {
			return e.Type == schemas.PageView && e.VisitorID == visitor && strings.HasSuffix(e.URL, "/pricing")
		})
	}, 10*time.Second, 50*time.Millisecond, "page_view beacon")

	inv := invitation("e2e-1", visitor)
	inv.Title, inv.Department, inv.Prompt = "Questions about pricing?", "sales", "Our team can help you pick a plan."
	require.NoError(t, snk.Publish(ctx, []schemas.Invitation{inv}))

	require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS("#beckon-invitation"))))
	title, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#beckon-invitation .beckon-title")))
	require.NoError(t, err)
	department, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#beckon-invitation .beckon-department")))
	require.NoError(t, err)
	assert.Equal(t, inv.Title, title)
	assert.Equal(t, "sales", strings.ToLower(department))
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	testenv.SaveArtifact(t, "invitation-popup.png", shot)

	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS("#beckon-invitation .beckon-dismiss")),
		chromedp.WaitNotPresent(chromedp.CSS("#beckon-invitation")),
	))
	shot, err = chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	testenv.SaveArtifact(t, "invitation-dismissed.png", shot)
	assert.Eventually(t, func() bool {
		return got.has(func(e schemas.Event) bool {
			return e.Type == schemas.Custom && e.Name == "invitation_dismissed" && e.VisitorID == visitor
		})
	}, 10*time.Second, 50*time.Millisecond, "invitation_dismissed beacon")

	// A single-page app's navigation is a page view too.
	_, err = chromedp.Run(bctx, chromedp.Evaluate[any](`history.pushState({}, "", "/products")`))
	require.NoError(t, err)
	assert.Eventually(t, func() bool {
		return got.has(func(e schemas.Event) bool {
			return e.Type == schemas.PageView && strings.HasSuffix(e.URL, "/products") && strings.HasSuffix(e.Referrer, "/pricing")
		})
	}, 10*time.Second, 50*time.Millisecond, "page_view beacon after pushState")

	// On the next page the gateway replays the still-fresh invitation, and
	// the tracker does not show it again; cancelling payment is tracked.
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/checkout"),
		chromedp.WaitVisible(chromedp.CSS("#cancel-payment")),
		chromedp.Click(chromedp.CSS("#cancel-payment")),
	))
	assert.Eventually(t, func() bool {
		return got.has(func(e schemas.Event) bool { return e.Type == schemas.Custom && e.Name == "payment_cancelled" })
	}, 10*time.Second, 50*time.Millisecond, "payment_cancelled beacon")
	assert.Eventually(t, func() bool { return delivered(t, reg) >= 2 }, 10*time.Second, 50*time.Millisecond,
		"the gateway replays the fresh invitation to the new page")
	time.Sleep(200 * time.Millisecond) // let the page handle it
	shown, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`!!document.getElementById("beckon-invitation")`))
	require.NoError(t, err)
	assert.False(t, shown, "an invitation already shown is not shown again")

	got.mu.Lock()
	defer got.mu.Unlock()
	assert.Empty(t, got.errs, "every beacon is valid per SPEC §1")
}

func delivered(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == "beckon_gateway_delivered_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
