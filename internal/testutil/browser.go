package testutil

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// axeRun runs axe-core on the page and returns its violations, one line per node.
const axeRun = `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary),
})))`

// AxeViolation is one rule that axe-core found violated, with the nodes that violate it.
type AxeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axePath is axe-core's browser bundle as hack/test-deps.sh installs it.
func axePath() string {
	return Path("test", "js", "node_modules", "axe-core", "axe.min.js")
}

// RequireBrowser fails the test when headless Chromium or axe-core is missing, and
// returns the browser's path. Tests that do expensive setup first call it early, so a
// machine without the browser fails in a second rather than after a minute.
func RequireBrowser(t testing.TB) string {
	t.Helper()
	browser := chromiumPath
	if _, err := os.Stat(browser); err != nil {
		if browser, err = exec.LookPath("chromium"); err != nil {
			t.Fatalf("Chromium is missing (%s): run hack/test-deps.sh", chromiumPath)
		}
	}
	if _, err := os.Stat(axePath()); err != nil {
		t.Fatalf("axe-core is missing (%v): run hack/test-deps.sh", err)
	}
	return browser
}

// NewBrowser starts headless Chromium (no sandbox, no GPU, a 1280x900 window) for
// the test and returns the context of one tab, which ends after timeout or with the
// test. opts add to or override the allocator's options, for example chromedp.Env.
// The browser process starts with the tab's first action; it is stopped at cleanup.
func NewBrowser(t testing.TB, timeout time.Duration, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	browser := RequireBrowser(t)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	), opts...)...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	return tab
}

// RunAxe injects axe-core into the tab's page and returns the violations it finds.
// DevTools evaluation is not governed by the page's Content-Security-Policy, so this
// works on pages that allow no scripts.
func RunAxe(ctx context.Context) ([]AxeViolation, error) {
	source, err := os.ReadFile(axePath())
	if err != nil {
		return nil, fmt.Errorf("axe-core is missing (%w): run hack/test-deps.sh", err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](string(source))); err != nil {
		return nil, fmt.Errorf("injecting axe-core: %w", err)
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]AxeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("running axe-core: %w", err)
	}
	return violations, nil
}

// CheckAccessibility runs axe-core on the tab's page: a serious or critical violation
// fails the test, a lesser one is logged.
func CheckAccessibility(t testing.TB, ctx context.Context) {
	t.Helper()
	violations, err := RunAxe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range violations {
		report, _ := json.MarshalIndent(v, "", "  ")
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("axe-core: %s violation %s:\n%s", v.Impact, v.ID, report)
		} else {
			t.Logf("axe-core: %s violation %s (not failing the test):\n%s", v.Impact, v.ID, report)
		}
	}
}

// Screenshot writes a full-page PNG screenshot of the tab to path, creating its folder.
func Screenshot(ctx context.Context, path string) error {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("taking a screenshot: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// SaveScreenshot writes a full-page screenshot of the tab to path for a person to look
// at, and logs where it is.
func SaveScreenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	if err := Screenshot(ctx, path); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the page: %s", path)
}
