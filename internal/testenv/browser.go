package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Chromium is Debian's headless browser, installed by .ci/run.
const Chromium = "/usr/bin/chromium"

// Browser starts a headless Chromium for the test and returns a context
// that drives one tab of it, with a deadline. Without Chromium the test is
// skipped — except in CI, where .ci/run installs it, so that a missing
// browser fails loudly rather than hiding the test.
func Browser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if _, err := os.Stat(Chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no %s in CI: .ci/run should install the chromium package", Chromium)
		}
		t.Skip("no " + Chromium + "; apt-get install chromium to run the browser tests")
	}
	// The flags keep Chromium off the network: this machine reaches only
	// loopback, and background requests would fail noisily.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	require.NoError(t, chromedp.Do(browser)) // start it without a deadline, which would stop it
	ctx, cancel := context.WithTimeout(browser, timeout)
	t.Cleanup(cancel)
	return ctx
}

// SaveArtifact keeps a file (a screenshot) in the test package's
// testdata/artifacts folder, which git ignores, for people to look at.
func SaveArtifact(t *testing.T, name string, data []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "artifacts")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
}
