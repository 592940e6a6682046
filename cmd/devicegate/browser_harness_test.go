package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/devicegate/devicegate/ports/porttest"
)

// Browser-test configuration.
const (
	// chromiumEnv names the Chromium binary; unset, "chromium" is looked up on PATH.
	chromiumEnv = "DEVICEGATE_TEST_CHROMIUM"
	// axeEnv names an axe.min.js; unset, axe-core is fetched once with npm into the user cache.
	axeEnv     = "DEVICEGATE_TEST_AXE"
	axeVersion = "4.10.2"
	// screenshotDir is git-ignored; every view the tests reach is saved there.
	screenshotDir = "screenshots"
	// browserBudget bounds one browser test: chromium start-up plus a few dozen
	// page loads on a loaded 2-core machine, with generous slack.
	browserBudget = 5 * time.Minute
	// stepBudget bounds one step (a navigation, a wait for a view): a page
	// load plus one API round trip, with generous slack.
	stepBudget = 30 * time.Second
)

// chromiumPath finds the browser or ends the test (a failure under CI=true).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(chromiumEnv); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	porttest.SkipOrFail(t, "chromium not found: install Debian's chromium (scripts/services.sh does) or set %s to its path", chromiumEnv)
	return ""
}

// newTab starts a fresh headless Chromium (its own user-data-dir) and returns
// a context bound to its first tab; the browser ends at cleanup or when
// browserBudget runs out. extra adds Chromium flags (e.g. host-resolver-rules).
func newTab(t *testing.T, width, height int, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-sync", true),
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	opts = append(opts, extra...)
	ctx, cancelTime := context.WithTimeout(context.Background(), browserBudget)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc(); cancelTime() })
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	drive(t, tab, chromedp.EmulateViewport(int64(width), int64(height)))
	return tab
}

// drive runs steps in the tab, each group bounded by stepBudget, or fails the test.
func drive(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepBudget)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression in the page (awaiting a promise) and decodes its value.
func eval[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, stepBudget)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitTrue polls a JavaScript expression until it is true (stepBudget at most).
// It polls from Go, not with a page-side function, which the CSP would refuse.
func waitTrue(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(stepBudget)
	for !eval[bool](t, tab, expr) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s still false after %v", what, expr, stepBudget)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// evalTrue fails the test unless the expression is true.
func evalTrue(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	if !eval[bool](t, tab, expr) {
		t.Fatalf("%s: %s is false", what, expr)
	}
}

// textOf returns the visible text of the element matching the CSS selector.
func textOf(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// waitView waits until the page shows view name.
func waitView(t *testing.T, tab context.Context, name string) {
	t.Helper()
	drive(t, tab, chromedp.WaitVisible(chromedp.CSS("#view-"+name)))
}

// shoot saves a screenshot of the whole page as screenshots/<name>.png.
func shoot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkView screenshots the view and runs axe-core on it: no serious or critical finding.
func checkView(t *testing.T, tab context.Context, name string) {
	t.Helper()
	shoot(t, tab, name)
	axe(t, tab, name)
}

// axe injects axe-core (through the DevTools protocol, which the page's CSP
// does not govern) and fails on any serious or critical violation.
func axe(t *testing.T, tab context.Context, view string) {
	t.Helper()
	src := axeSource(t)
	if !eval[bool](t, tab, `typeof axe === "object"`) {
		eval[bool](t, tab, src+";true")
	}
	found, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
		return r.violations.filter(function (v) { return v.impact === "serious" || v.impact === "critical"; })
			.map(function (v) { return v.impact + " " + v.id + ": " + v.nodes.map(function (n) { return n.target.join(" "); }).join(", "); });
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	if len(found) > 0 {
		t.Errorf("axe-core on view %s:\n  %s", view, strings.Join(found, "\n  "))
	}
}

var axeCache string

// axeSource returns axe.min.js: from DEVICEGATE_TEST_AXE, else from the user
// cache, else fetched once with `npm pack axe-core@<axeVersion>` into it.
func axeSource(t *testing.T) string {
	t.Helper()
	if axeCache != "" {
		return axeCache
	}
	path := os.Getenv(axeEnv)
	if path == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		dir = filepath.Join(dir, "devicegate", "axe-core-"+axeVersion)
		path = filepath.Join(dir, "axe.min.js")
		if _, err := os.Stat(path); err != nil {
			if err := fetchAxe(dir, path); err != nil {
				porttest.SkipOrFail(t, "axe-core unavailable (%v): run scripts/services.sh or set %s to an axe.min.js", err, axeEnv)
			}
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		porttest.SkipOrFail(t, "axe-core unreadable: %v (set %s)", err, axeEnv)
	}
	axeCache = string(b)
	return axeCache
}

// fetchAxe packs axe-core with npm and extracts package/axe.min.js to path.
func fetchAxe(dir, path string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("npm", "pack", "--silent", "--pack-destination", dir, "axe-core@"+axeVersion)
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("npm pack axe-core@%s: %w", axeVersion, err)
	}
	tgz := filepath.Join(dir, strings.TrimSpace(string(out)))
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	defer os.Remove(tgz)
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return fmt.Errorf("axe.min.js not in %s: %w", tgz, err)
		}
		if h.Name == "package/axe.min.js" {
			tmp := path + ".tmp"
			w, err := os.Create(tmp)
			if err != nil {
				return err
			}
			if _, err := io.Copy(w, tr); err != nil {
				w.Close()
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
			return os.Rename(tmp, path)
		}
	}
}

// deviceCLI is the device side of a flow: the code request and the polls, like difyctl.
type deviceCLI struct {
	t          *testing.T
	base       string
	deviceCode string
	userCode   string
	complete   string
}

// startCLI requests a device code; forwardedFor, when set, is sent as X-Forwarded-For.
func startCLI(t *testing.T, base, label, forwardedFor string) *deviceCLI {
	t.Helper()
	body := strings.NewReader(`{"client_id":"difyctl","device_label":` + jsonString(label) + `}`)
	req, _ := newRequest("POST", base+"/openapi/v1/oauth/device/code", body)
	req.Header.Set("Content-Type", "application/json")
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	var m map[string]any
	if status := doJSON(t, req, &m); status != 200 {
		t.Fatalf("device code: %d %v", status, m)
	}
	return &deviceCLI{t: t, base: base, deviceCode: m["device_code"].(string), userCode: m["user_code"].(string),
		complete: m["verification_uri_complete"].(string)}
}

// poll polls once and returns the status and body.
func (c *deviceCLI) poll() (int, map[string]any) {
	c.t.Helper()
	req, _ := newRequest("POST", c.base+"/openapi/v1/oauth/device/token", strings.NewReader(
		`{"client_id":"difyctl","device_code":`+jsonString(c.deviceCode)+`,"grant_type":"urn:ietf:params:oauth:grant-type:device_code"}`))
	req.Header.Set("Content-Type", "application/json")
	var m map[string]any
	return doJSON(c.t, req, &m), m
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func newRequest(method, url string, body io.Reader) (*http.Request, error) {
	return http.NewRequest(method, url, body)
}

// doJSON sends req and decodes the JSON answer into into.
func doJSON(t *testing.T, req *http.Request, into any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(into)
	return resp.StatusCode
}
