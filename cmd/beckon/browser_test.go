package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/beckon-chat/beckon/internal/recording"
	"github.com/beckon-chat/beckon/internal/testenv"
	"github.com/beckon-chat/beckon/rules"
)

// The demo's pricing rule, with 2 seconds instead of 20 to keep the test short.
const browserRules = `widgets:
- id: acme
  rules:
  - id: pricing-help
    name: Invitation to buy
    invitation: {title: Let us help you, image_url: /agent.svg, department: sales, prompt: 'Do you need assistance with any of our products?'}
    conditions:
    - {variable: current_url, operator: contains, value: /pricing}
    - {variable: time_on_page, operator: gt, value: 2}
`

// TestBrowserSeesInvitationFromLivePipeline is the whole loop in a real
// headless Chromium: the demo's pricing page sends beacons through ingest,
// the processors fire the rule by time, the gateway delivers the invitation
// and the tracker shows it; dismissing it sends an event back to the stream.
func TestBrowserSeesInvitationFromLivePipeline(t *testing.T) {
	bctx := testenv.Browser(t, 90*time.Second)
	set, err := rules.Parse([]byte(browserRules), "browser.yaml")
	require.NoError(t, err)
	env := testenv.StartJetStream(t)
	base := startNode(t, env, set, nil)

	start := time.Now()
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(base+"/pricing"),
		chromedp.WaitVisible(chromedp.CSS("#beckon-invitation")),
	))
	t.Logf("invitation shown %v after the page was opened", time.Since(start).Round(time.Millisecond))
	title, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#beckon-invitation .beckon-title")))
	require.NoError(t, err)
	department, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("#beckon-invitation .beckon-department")))
	require.NoError(t, err)
	imageLoaded, err := chromedp.Run(bctx, chromedp.Poll[bool](
		`(() => { const i = document.querySelector("#beckon-invitation img"); return !!i && i.complete && i.naturalWidth > 0 })()`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err)
	assert.Equal(t, "Let us help you", title)
	assert.Equal(t, "sales", strings.ToLower(department))
	assert.True(t, imageLoaded, "the invitation's image loads")
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // quality 100 is a PNG
	require.NoError(t, err)
	testenv.SaveArtifact(t, "live-invitation-popup.png", shot)

	visitor, err := chromedp.Run(bctx, chromedp.Evaluate[string](`localStorage.getItem("beckon_vid")`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS("#beckon-invitation .beckon-dismiss")),
		chromedp.WaitNotPresent(chromedp.CSS("#beckon-invitation")),
	))
	require.NotEmpty(t, visitor)
	assert.Eventually(t, func() bool {
		var out bytes.Buffer
		_, err := recording.Record(context.Background(), env.JS, recording.RecordConfig{Source: recording.Events, Widget: "acme"}, &out)
		require.NoError(t, err)
		return strings.Contains(out.String(), `"name":"invitation_dismissed"`) && strings.Contains(out.String(), visitor)
	}, 15*time.Second, 200*time.Millisecond, "the dismiss event arrives in the events stream")
}
