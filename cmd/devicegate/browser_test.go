package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	_ "github.com/glebarez/go-sqlite" // the test opens the instance's SQLite file
)

// Browser-test fixtures.
const (
	webEmail    = "ada@example.com"
	webPassword = "correct horse battery staple"
	webSpace    = "Research"
)

// webServer starts the real service graph (SQLite, memory state) with one
// account. TRUSTED_PROXIES lets a test's CLI claim another network through
// X-Forwarded-For; the browser, sending none, stays on 127.0.0.0/24.
func webServer(t *testing.T, extra map[string]string) *instance {
	t.Helper()
	return webServerVars(t, sqliteVars(t), extra)
}

// webServerVars is webServer on the given base configuration.
func webServerVars(t *testing.T, vars, extra map[string]string) *instance {
	t.Helper()
	vars["TRUSTED_PROXIES"] = "127.0.0.1/32"
	for k, v := range extra {
		vars[k] = v
	}
	createAccount(t, vars, webEmail, webPassword, webSpace)
	return startInstance(t, vars)
}

// onBase moves a verification URL (built from PUBLIC_WEB_URL) onto the test server.
func onBase(t *testing.T, raw, base string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return base + u.RequestURI()
}

// typed is how a person types a code off a terminal: lower case, a space.
func typed(code string) string { return strings.ToLower(code[:4]) + " " + strings.ToLower(code[5:]) }

// signIn fills the sign-in form.
func signIn(t *testing.T, tab context.Context, password string) {
	t.Helper()
	drive(t, tab,
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), webEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#signin-submit")),
	)
}

// openConfirmed opens the CLI's verification_uri_complete and confirms the code.
func openConfirmed(t *testing.T, tab context.Context, c *deviceCLI, base string) {
	t.Helper()
	drive(t, tab, chromedp.Navigate(onBase(t, c.complete, base)))
	waitView(t, tab, "confirm")
	drive(t, tab, chromedp.Click(chromedp.CSS("#confirm-yes")))
}

// browserLogin signs the tab in through the console API (as /signin's script does).
func browserLogin(t *testing.T, tab context.Context, base string) {
	t.Helper()
	evalTrue(t, tab, "signed in again", `fetch("/console/api/login", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({email: `+jsonString(webEmail)+`, password: `+jsonString(webPassword)+`})}).then(function (r) { return r.ok; })`)
}

// wantPoll polls once and checks the OAuth answer.
func wantPoll(t *testing.T, c *deviceCLI, status int, errCode string) map[string]any {
	t.Helper()
	got, body := c.poll()
	if got != status || (errCode != "" && body["error"] != errCode) {
		t.Fatalf("poll = %d %v, want %d %s", got, body, status, errCode)
	}
	return body
}

// TestBrowserAccountFlow drives the account branch of /device in Chromium the
// way a person does, one scenario after another in one browser session.
func TestBrowserAccountFlow(t *testing.T) {
	srv := webServer(t, nil)
	tab := newTab(t, 390, 844)

	t.Run("typed code, sign in, back to the code, authorize, CLI gets the token", func(t *testing.T) {
		c := startCLI(t, srv.Base, "ada's laptop", "")
		drive(t, tab, chromedp.Navigate(srv.Base+"/device"))
		waitView(t, tab, "entry")
		checkView(t, tab, "entry")
		drive(t, tab, chromedp.SendKeys(chromedp.CSS("#code"), typed(c.userCode)))
		if v := eval[string](t, tab, `document.getElementById("code").value`); v != c.userCode {
			t.Fatalf("typing %q shows %q, want %q", typed(c.userCode), v, c.userCode)
		}
		drive(t, tab, chromedp.Click(chromedp.CSS("#entry-form button[type=submit]")))
		waitView(t, tab, "signin")
		evalTrue(t, tab, "return_to scrubbed from the address bar", `location.search === "" && location.pathname === "/signin"`)
		if got := textOf(t, tab, "#pending .code-big"); got != c.userCode {
			t.Fatalf("sign-in page shows pending code %q, want %q", got, c.userCode)
		}
		checkView(t, tab, "signin")
		signIn(t, tab, webPassword)
		waitView(t, tab, "authorize") // the code was checked before signing in: no second confirmation
		evalTrue(t, tab, "user_code scrubbed after sign-in", `location.href === `+jsonString(srv.Base+"/device"))
		for sel, want := range map[string]string{
			"#az-name": "Test User", "#az-email": webEmail, "#az-workspace": webSpace, "#az-client": "difyctl",
			"#az-device": "ada's laptop", "#az-when": "just now", "#az-network": "127.0.0.0/24",
			"#view-authorize dd.mono": c.userCode, "#who-name": "Signed in as Test User",
		} {
			if got := textOf(t, tab, sel); got != want {
				t.Errorf("%s = %q, want %q", sel, got, want)
			}
		}
		if !strings.Contains(textOf(t, tab, "#view-authorize .caution"), "only approve if you started this on your own device just now") &&
			!strings.Contains(strings.ToLower(textOf(t, tab, "#view-authorize .caution")), "only approve if you started this on your own device just now") {
			t.Errorf("authorize view lacks the plain warning")
		}
		evalTrue(t, tab, "no network warning on the same network", `document.getElementById("mismatch").hidden`)
		checkView(t, tab, "authorize")
		drive(t, tab, chromedp.Click(chromedp.CSS("#approve")))
		waitView(t, tab, "success")
		if got := textOf(t, tab, "#view-success p"); !strings.Contains(got, "return to your terminal") {
			t.Errorf("success copy = %q", got)
		}
		checkView(t, tab, "success")
		body := wantPoll(t, c, 200, "")
		if tok, _ := body["access_token"].(string); !strings.HasPrefix(tok, "dfoa_") {
			t.Fatalf("poll body %v has no account token", body)
		}
		evalTrue(t, tab, "nothing in web storage", `localStorage.length === 0 && sessionStorage.length === 0`)
	})

	t.Run("a code typed wrong, then corrected; deny and the CLI hears access_denied", func(t *testing.T) {
		c := startCLI(t, srv.Base, "ada's laptop", "")
		wrong := "WXYA-WXYB"
		if wrong == c.userCode {
			wrong = "WXYA-WXYC"
		}
		drive(t, tab, chromedp.Navigate(srv.Base+"/device"))
		waitView(t, tab, "entry")
		drive(t, tab, chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(wrong[:4])+"0"))
		if got := textOf(t, tab, "#code-note"); !strings.Contains(got, "never used") {
			t.Fatalf("typing 0 shows note %q, want the ambiguous-characters hint", got)
		}
		drive(t, tab, chromedp.SendKeys(chromedp.CSS("#code"), strings.ToLower(wrong[5:])),
			chromedp.Click(chromedp.CSS("#entry-form button[type=submit]")))
		if got := textOf(t, tab, "#code-error"); !strings.Contains(got, "not valid or has expired") {
			t.Fatalf("unknown code shows %q", got)
		}
		checkView(t, tab, "entry-error")
		eval[bool](t, tab, `document.getElementById("code").select(), true`)
		drive(t, tab, chromedp.SendKeys(chromedp.CSS("#code"), typed(c.userCode)),
			chromedp.Click(chromedp.CSS("#entry-form button[type=submit]")))
		waitView(t, tab, "authorize")
		if got := textOf(t, tab, "#view-authorize dd.mono"); got != c.userCode {
			t.Fatalf("authorize view shows %q, want the corrected %q", got, c.userCode)
		}
		drive(t, tab, chromedp.Click(chromedp.CSS("#deny")))
		waitView(t, tab, "denied")
		if got := textOf(t, tab, "#view-denied p"); !strings.Contains(got, "nothing was signed in") {
			t.Errorf("denied copy = %q", got)
		}
		checkView(t, tab, "denied")
		wantPoll(t, c, 400, "access_denied")
	})

	t.Run("a pasted code is cleaned up", func(t *testing.T) {
		c := startCLI(t, srv.Base, "ada's laptop", "")
		drive(t, tab, chromedp.Navigate(srv.Base+"/device"))
		waitView(t, tab, "entry")
		pasted := "  " + strings.ToLower(c.userCode[:4]) + " - " + strings.ToLower(c.userCode[5:]) + "\n"
		evalTrue(t, tab, "paste handled", `(function () {
			var dt = new DataTransfer(); dt.setData("text/plain", `+jsonString(pasted)+`);
			var ev = new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true});
			return !document.getElementById("code").dispatchEvent(ev);
		})()`)
		if v := eval[string](t, tab, `document.getElementById("code").value`); v != c.userCode {
			t.Fatalf("pasting %q shows %q, want %q", pasted, v, c.userCode)
		}
		drive(t, tab, chromedp.Click(chromedp.CSS("#entry-form button[type=submit]")))
		waitView(t, tab, "authorize")
		drive(t, tab, chromedp.Click(chromedp.CSS("#deny")))
		waitView(t, tab, "denied")
	})

	t.Run("an already used code says so", func(t *testing.T) {
		c := startCLI(t, srv.Base, "ada's laptop", "")
		other := newBrowser(t, srv.Base)
		other.login(webEmail, webPassword)
		if st := other.decide(c.userCode, true); st != 200 {
			t.Fatalf("approve over HTTP: %d", st)
		}
		openConfirmed(t, tab, c, srv.Base)
		waitView(t, tab, "expired")
		checkView(t, tab, "expired")
	})

	t.Run("a prefilled code is shown large, confirmed first and scrubbed from the address bar", func(t *testing.T) {
		c := startCLI(t, srv.Base, "ada's laptop", "")
		drive(t, tab, chromedp.Navigate(onBase(t, c.complete, srv.Base)))
		waitView(t, tab, "confirm")
		evalTrue(t, tab, "user_code scrubbed", `location.href === `+jsonString(srv.Base+"/device"))
		if got := textOf(t, tab, "#confirm-code"); got != c.userCode {
			t.Fatalf("confirm view shows %q, want %q", got, c.userCode)
		}
		evalTrue(t, tab, "nothing but the confirmation is on screen", `document.querySelectorAll("[data-view]:not([hidden])").length === 1`)
		checkView(t, tab, "confirm")
		drive(t, tab, chromedp.Click(chromedp.CSS("#confirm-yes")))
		waitView(t, tab, "authorize")
		drive(t, tab, chromedp.Click(chromedp.CSS("#approve")))
		waitView(t, tab, "success")
		wantPoll(t, c, 200, "")

		// "No, it doesn't" leads back to an empty entry view, never further.
		c2 := startCLI(t, srv.Base, "ada's laptop", "")
		drive(t, tab, chromedp.Navigate(onBase(t, c2.complete, srv.Base)))
		waitView(t, tab, "confirm")
		drive(t, tab, chromedp.Click(chromedp.CSS("#confirm-no")))
		waitView(t, tab, "entry")
		evalTrue(t, tab, "entry emptied", `document.getElementById("code").value === ""`)
		wantPoll(t, c2, 400, "authorization_pending")
	})

	t.Run("a request from another network is called out with both networks", func(t *testing.T) {
		c := startCLI(t, srv.Base, "unknown device", "203.0.113.7")
		openConfirmed(t, tab, c, srv.Base)
		waitView(t, tab, "authorize")
		drive(t, tab, chromedp.WaitVisible(chromedp.CSS("#mismatch")))
		got := textOf(t, tab, "#mismatch")
		if !strings.Contains(got, "203.0.113.0/24") || !strings.Contains(got, "127.0.0.0/24") {
			t.Fatalf("mismatch warning = %q, want both networks", got)
		}
		if strings.Contains(got, "203.0.113.7") {
			t.Fatalf("mismatch warning shows the full address: %q", got)
		}
		checkView(t, tab, "authorize-mismatch")
		drive(t, tab, chromedp.Click(chromedp.CSS("#deny")))
		waitView(t, tab, "denied")
	})

	t.Run("an expired session asks to sign in again and keeps the code", func(t *testing.T) {
		c := startCLI(t, srv.Base, "ada's laptop", "")
		openConfirmed(t, tab, c, srv.Base)
		waitView(t, tab, "authorize")
		if _, err := chromedp.Call(tab, network.DeleteCookies, network.DeleteCookiesParams{Name: "devicegate_session", URL: srv.Base + "/"}); err != nil {
			t.Fatal(err)
		}
		drive(t, tab, chromedp.Click(chromedp.CSS("#approve")))
		waitView(t, tab, "session")
		checkView(t, tab, "session")
		drive(t, tab, chromedp.Click(chromedp.CSS("#view-session button")))
		waitView(t, tab, "signin")
		if got := textOf(t, tab, "#pending .code-big"); got != c.userCode {
			t.Fatalf("sign-in keeps code %q, want %q", got, c.userCode)
		}
		signIn(t, tab, webPassword)
		waitView(t, tab, "authorize")
		drive(t, tab, chromedp.Click(chromedp.CSS("#approve")))
		waitView(t, tab, "success")
		wantPoll(t, c, 200, "")
	})

	t.Run("a session that ends while the code is being confirmed leads to signing in again", func(t *testing.T) {
		c := startCLI(t, srv.Base, "ada's laptop", "")
		drive(t, tab, chromedp.Navigate(onBase(t, c.complete, srv.Base)))
		waitView(t, tab, "confirm")
		evalTrue(t, tab, "signed in", `!document.getElementById("who").hidden`)
		if _, err := chromedp.Call(tab, network.DeleteCookies, network.DeleteCookiesParams{Name: "devicegate_session", URL: srv.Base + "/"}); err != nil {
			t.Fatal(err)
		}
		drive(t, tab, chromedp.Click(chromedp.CSS("#confirm-yes")))
		waitView(t, tab, "session")
		browserLogin(t, tab, srv.Base)
	})

	t.Run("works at 320 px wide", func(t *testing.T) {
		c := startCLI(t, srv.Base, "a device with a rather long label to wrap", "198.51.100.20")
		drive(t, tab, chromedp.EmulateViewport(320, 640), chromedp.Navigate(onBase(t, c.complete, srv.Base)))
		waitView(t, tab, "confirm")
		evalTrue(t, tab, "no horizontal scroll (confirm)", `document.documentElement.scrollWidth <= 320`)
		drive(t, tab, chromedp.Click(chromedp.CSS("#confirm-yes")))
		waitView(t, tab, "authorize")
		evalTrue(t, tab, "no horizontal scroll (authorize)", `document.documentElement.scrollWidth <= 320`)
		shoot(t, tab, "authorize-320")
		drive(t, tab, chromedp.EmulateViewport(390, 844))
	})

	t.Run("dark colour scheme passes the scan too", func(t *testing.T) {
		c := startCLI(t, srv.Base, "ada's laptop", "198.51.100.20")
		dark := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}
		if _, err := chromedp.Call(tab, emulation.SetEmulatedMedia, dark); err != nil {
			t.Fatal(err)
		}
		defer chromedp.Call(tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
		drive(t, tab, chromedp.Navigate(onBase(t, c.complete, srv.Base)))
		waitView(t, tab, "confirm")
		evalTrue(t, tab, "dark scheme applied", `getComputedStyle(document.body).backgroundColor === "rgb(18, 18, 18)"`)
		checkView(t, tab, "confirm-dark")
		drive(t, tab, chromedp.Click(chromedp.CSS("#confirm-yes")))
		waitView(t, tab, "authorize")
		checkView(t, tab, "authorize-dark")
	})

	t.Run("keyboard only, with visible focus", func(t *testing.T) {
		c := startCLI(t, srv.Base, "ada's laptop", "")
		drive(t, tab, chromedp.Navigate(srv.Base+"/device"))
		waitView(t, tab, "entry")
		evalTrue(t, tab, "the code field has focus", `document.activeElement.id === "code"`)
		drive(t, tab, chromedp.KeyEvent(typed(c.userCode)+"\r"))
		waitView(t, tab, "authorize")
		drive(t, tab, chromedp.KeyEvent(kb.Tab))
		evalTrue(t, tab, "Tab reaches Authorize", `document.activeElement.id === "approve"`)
		evalTrue(t, tab, "focus is visible", `document.activeElement.matches(":focus-visible") && getComputedStyle(document.activeElement).outlineStyle === "solid"`)
		drive(t, tab, chromedp.KeyEvent("\r"))
		waitView(t, tab, "success")
		wantPoll(t, c, 200, "")
	})

	t.Run("sign out", func(t *testing.T) {
		drive(t, tab, chromedp.Navigate(srv.Base+"/device"))
		waitView(t, tab, "entry")
		drive(t, tab, chromedp.Click(chromedp.CSS("#sign-out")))
		drive(t, tab, chromedp.WaitNotVisible(chromedp.CSS("#who")))
		evalTrue(t, tab, "session gone", `fetch("/console/api/account/profile").then(function (r) { return r.status === 401; })`)
	})

	t.Run("Chinese copy from Accept-Language; the switch sticks", func(t *testing.T) {
		ua := eval[string](t, tab, `navigator.userAgent`)
		if _, err := chromedp.Call(tab, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: "zh-CN,zh;q=0.9"}); err != nil {
			t.Fatal(err)
		}
		c := startCLI(t, srv.Base, "ada's laptop", "")
		drive(t, tab, chromedp.Navigate(onBase(t, c.complete, srv.Base)))
		waitView(t, tab, "confirm")
		if got := textOf(t, tab, "#view-confirm h1"); got != "核对代码" {
			t.Fatalf("confirm heading = %q, want Chinese", got)
		}
		evalTrue(t, tab, "html lang", `document.documentElement.lang === "zh"`)
		checkView(t, tab, "confirm-zh")
		drive(t, tab, chromedp.Click(chromedp.CSS("#confirm-yes")))
		waitView(t, tab, "signin")
		checkView(t, tab, "signin-zh")
		signIn(t, tab, webPassword)
		waitView(t, tab, "authorize")
		if got := textOf(t, tab, "#view-authorize .caution"); got != "仅当您刚刚在自己的设备上发起了此请求时才批准。" {
			t.Fatalf("authorize warning = %q", got)
		}
		checkView(t, tab, "authorize-zh")
		drive(t, tab, chromedp.Click(chromedp.CSS("#lang")))
		waitTrue(t, tab, "switched to English", `document.querySelector("#view-authorize h1").textContent === "Authorize this device?"`)
		evalTrue(t, tab, "html lang en", `document.documentElement.lang === "en"`)
		drive(t, tab, chromedp.Navigate(srv.Base+"/device"))
		waitView(t, tab, "entry")
		if got := textOf(t, tab, "#view-entry h1"); got != "Connect a device" {
			t.Fatalf("after switching to English and reloading, heading = %q", got)
		}
		evalTrue(t, tab, "only a language cookie, nothing in web storage", `localStorage.length === 0 && sessionStorage.length === 0`)
	})
}

// TestBrowserFraming: a page on another origin that frames /device gets an
// error page in the frame, never the page (X-Frame-Options and frame-ancestors).
func TestBrowserFraming(t *testing.T) {
	srv := webServer(t, nil)
	framer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>framer</title><iframe id="f" src="` + srv.Base + `/device"></iframe>`))
	}))
	t.Cleanup(framer.Close)
	tab := newTab(t, 800, 600)
	drive(t, tab, chromedp.Navigate(framer.URL))
	waitTrue(t, tab, "framer loaded", `document.readyState === "complete"`)
	tree, err := chromedp.Call(tab, page.GetFrameTree, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.FrameTree.ChildFrames) != 1 {
		t.Fatalf("frame tree has %d child frames, want 1", len(tree.FrameTree.ChildFrames))
	}
	child := tree.FrameTree.ChildFrames[0].Frame
	if strings.HasPrefix(child.URL, srv.Base) {
		t.Fatalf("the framed /device rendered (frame URL %q)", child.URL)
	}
	if !strings.HasPrefix(child.URL, "chrome-error:") {
		t.Fatalf("frame URL = %q, want Chromium's blocked-frame error page", child.URL)
	}
}

// TestBrowserErrorViews: the rate-limited views (lookup and sign-in, each with
// when to retry), the lookup-failed view and the error view (an account that
// can no longer approve).
func TestBrowserErrorViews(t *testing.T) {
	srv := webServer(t, nil)
	tab := newTab(t, 390, 844)

	t.Run("lookup rate limited", func(t *testing.T) {
		for i := 0; ; i++ {
			resp, err := http.Get(srv.Base + "/openapi/v1/oauth/device/lookup?user_code=ABCD-EFGH")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				break
			}
			if i > 200 {
				t.Fatal("the lookup limit never answered 429")
			}
		}
		drive(t, tab, chromedp.Navigate(srv.Base+"/device"))
		waitView(t, tab, "entry")
		drive(t, tab, chromedp.SendKeys(chromedp.CSS("#code"), "wxya wxyb"),
			chromedp.Click(chromedp.CSS("#entry-form button[type=submit]")))
		waitView(t, tab, "ratelimited")
		if got := textOf(t, tab, "#retry-text"); !strings.Contains(got, "minutes") && !strings.Contains(got, "seconds") {
			t.Fatalf("rate-limited view says %q, want when to retry", got)
		}
		checkView(t, tab, "ratelimited")
	})

	t.Run("sign-in rate limited", func(t *testing.T) {
		for i := 0; ; i++ {
			resp, err := http.Post(srv.Base+"/console/api/login", "application/json",
				strings.NewReader(`{"email":`+jsonString(webEmail)+`,"password":"wrong"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				break
			}
			if i > 200 {
				t.Fatal("the sign-in limit never answered 429")
			}
		}
		drive(t, tab, chromedp.Navigate(srv.Base+"/signin"))
		waitView(t, tab, "signin")
		signIn(t, tab, "wrong again")
		waitTrue(t, tab, "rate-limit message", `document.getElementById("signin-error").textContent.indexOf("Too many sign-in attempts") === 0`)
		checkView(t, tab, "signin-ratelimited")
	})

	t.Run("lookup failed", func(t *testing.T) {
		off := webServer(t, map[string]string{"OPENAPI_ENABLED": "false"}) // every /openapi/v1 path answers 404
		drive(t, tab, chromedp.Navigate(off.Base+"/device"))
		waitView(t, tab, "entry")
		drive(t, tab, chromedp.SendKeys(chromedp.CSS("#code"), "wxya wxyb"),
			chromedp.Click(chromedp.CSS("#entry-form button[type=submit]")))
		waitView(t, tab, "lookupfailed")
		checkView(t, tab, "lookupfailed")
	})

	t.Run("an account disabled after signing in cannot approve", func(t *testing.T) {
		vars := sqliteVars(t)
		srv := webServerVars(t, vars, nil) // the limits above are spent on the first server
		c := startCLI(t, srv.Base, "ada's laptop", "")
		drive(t, tab, chromedp.Navigate(srv.Base+"/device"))
		browserLogin(t, tab, srv.Base)
		openConfirmed(t, tab, c, srv.Base)
		waitView(t, tab, "authorize")
		// What an operator's disable does to the row (the accounts table of SPEC 7.1).
		db, err := sql.Open("sqlite", strings.TrimPrefix(vars["DATABASE_URL"], "sqlite:")+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`UPDATE accounts SET status = 'disabled' WHERE email = ?`, webEmail); err != nil {
			t.Fatal(err)
		}
		drive(t, tab, chromedp.Click(chromedp.CSS("#approve")))
		waitView(t, tab, "error")
		checkView(t, tab, "error")
		wantPoll(t, c, 400, "authorization_pending")
	})
}
