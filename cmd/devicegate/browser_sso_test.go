package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/devicegate/devicegate/adapters/oidcrelay/oidctest"
)

// ssoWeb is an instance with an SSO gateway (vars: ssoVars or oidcVars)
// whose public origin, ssoAPIOrigin, the browser reaches through a
// host-resolver rule: page, API and the identity provider's callback then
// share one origin, as in a deployment.
type ssoWeb struct {
	in  *instance
	tab context.Context
}

func newSSOWeb(t *testing.T, vars map[string]string) *ssoWeb {
	t.Helper()
	in := webServerVars(t, vars, nil)
	host := strings.TrimPrefix(ssoAPIOrigin, "http://")
	tab := newTab(t, 390, 844, chromedp.Flag("host-resolver-rules", "MAP "+host+" "+strings.TrimPrefix(in.Base, "http://")))
	return &ssoWeb{in: in, tab: tab}
}

// open navigates to path on the public origin.
func (w *ssoWeb) open(t *testing.T, path string) {
	t.Helper()
	drive(t, w.tab, chromedp.Navigate(ssoAPIOrigin+path))
}

// toChooser opens the CLI's verification_uri_complete, confirms the code and
// waits for the chooser.
func (w *ssoWeb) toChooser(t *testing.T, c *deviceCLI) {
	t.Helper()
	drive(t, w.tab, chromedp.Navigate(c.complete))
	waitView(t, w.tab, "confirm")
	drive(t, w.tab, chromedp.Click(chromedp.CSS("#confirm-yes")))
	waitView(t, w.tab, "chooser")
}

// viaSSO picks single sign-on on the chooser and waits for view (the
// identity provider signs the person in without a page of its own).
func (w *ssoWeb) viaSSO(t *testing.T, view string) {
	t.Helper()
	drive(t, w.tab, chromedp.Click(chromedp.CSS("#choose-sso")))
	waitView(t, w.tab, view)
}

// TestBrowserSSOFlow drives the external-SSO branch of /device in Chromium
// against the test enterprise service, one scenario after another.
func TestBrowserSSOFlow(t *testing.T) {
	ent := newEnterprise(t)
	w := newSSOWeb(t, ssoVars(sqliteVars(t), ent))
	tab := w.tab
	scrubbed := `location.href === ` + jsonString(ssoAPIOrigin+"/device")

	t.Run("confirm, choose SSO, sign on, authorize, CLI gets a dfoe_ token", func(t *testing.T) {
		c := startCLI(t, w.in.Base, "sso laptop", "")
		w.toChooser(t, c)
		evalTrue(t, tab, "both choices offered", `!document.getElementById("choose-account").hidden && !document.getElementById("choose-sso").hidden`)
		checkView(t, tab, "chooser")
		w.viaSSO(t, "authorize")
		evalTrue(t, tab, "sso_verified scrubbed from the address bar", scrubbed)
		evalTrue(t, tab, "the SSO branch of the view", `document.getElementById("view-authorize").getAttribute("data-branch") === "sso"`)
		for sel, want := range map[string]string{
			"#az-sso-email": "ext.user@corp.example", "#az-issuer": ssoIssuer, "#az-client": "difyctl",
			"#az-device": "sso laptop", "#az-when": "just now", "#az-network": "127.0.0.0/24",
			"#view-authorize dd.mono": c.userCode,
		} {
			if got := textOf(t, tab, sel); got != want {
				t.Errorf("%s = %q, want %q", sel, got, want)
			}
		}
		if got := textOf(t, tab, "#view-authorize .caution"); got != "Only approve if you started this on your own device just now." {
			t.Errorf("authorize warning = %q", got)
		}
		evalTrue(t, tab, "the account rows are hidden", `Array.prototype.every.call(document.querySelectorAll('#view-authorize [data-branch="account"]'), function (e) { return e.hidden; })`)
		evalTrue(t, tab, "no network warning on the same network", `document.getElementById("mismatch").hidden`)
		checkView(t, tab, "authorize-sso")
		drive(t, tab, chromedp.Click(chromedp.CSS("#approve")))
		waitView(t, tab, "success")
		body := wantPoll(t, c, 200, "")
		if tok, _ := body["access_token"].(string); !strings.HasPrefix(tok, "dfoe_") || body["subject_email"] != "ext.user@corp.example" {
			t.Fatalf("poll body %v has no external token", body)
		}
		evalTrue(t, tab, "nothing in web storage", `localStorage.length === 0 && sessionStorage.length === 0`)

		// The grant approved once: coming back to sso_verified=1 says single sign-on has ended.
		w.open(t, "/device?sso_verified=1")
		waitView(t, tab, "ssofailed")
		if got := textOf(t, tab, "#ssofailed-body"); !strings.Contains(got, "has ended") {
			t.Errorf("spent grant copy = %q", got)
		}
	})

	t.Run("another network is called out; Cancel leaves nothing signed in", func(t *testing.T) {
		c := startCLI(t, w.in.Base, "unknown device", "203.0.113.7")
		w.toChooser(t, c)
		w.viaSSO(t, "authorize")
		got := textOf(t, tab, "#mismatch")
		if !strings.Contains(got, "203.0.113.0/24") || !strings.Contains(got, "127.0.0.0/24") || strings.Contains(got, "203.0.113.7") {
			t.Fatalf("mismatch warning = %q, want both coarse networks", got)
		}
		checkView(t, tab, "authorize-sso-mismatch")
		drive(t, tab, chromedp.Click(chromedp.CSS("#deny")))
		waitView(t, tab, "ssocancelled")
		if got := textOf(t, tab, "#view-ssocancelled p"); !strings.Contains(got, "Nothing was signed in") {
			t.Errorf("cancelled copy = %q", got)
		}
		checkView(t, tab, "ssocancelled")
		wantPoll(t, c, 400, "authorization_pending")
	})

	t.Run("sso_failed has its own copy and leads back to the code", func(t *testing.T) {
		w.open(t, "/openapi/v1/oauth/device/sso-complete?sso_assertion=forged")
		waitView(t, tab, "ssofailed")
		evalTrue(t, tab, "sso_error scrubbed", scrubbed)
		if got := textOf(t, tab, "#ssofailed-body"); !strings.Contains(got, "did not confirm who you are") {
			t.Errorf("sso_failed copy = %q", got)
		}
		checkView(t, tab, "ssofailed")
		drive(t, tab, chromedp.Click(chromedp.CSS(`#view-ssofailed [data-action="ssoretry"]`)))
		waitView(t, tab, "entry")

		// An error the SSO side relays with the code: Try again asks to confirm that code first.
		c := startCLI(t, w.in.Base, "sso laptop", "")
		w.open(t, "/openapi/v1/oauth/device/sso-complete?sso_error=access_denied&user_code="+url.QueryEscape(c.userCode))
		waitView(t, tab, "ssofailed")
		evalTrue(t, tab, "sso_error and user_code scrubbed", scrubbed)
		drive(t, tab, chromedp.Click(chromedp.CSS(`#view-ssofailed [data-action="ssoretry"]`)))
		waitView(t, tab, "confirm")
		if got := textOf(t, tab, "#confirm-code"); got != c.userCode {
			t.Fatalf("confirm view shows %q, want %q", got, c.userCode)
		}
		drive(t, tab, chromedp.Click(chromedp.CSS("#confirm-yes")))
		waitView(t, tab, "chooser")
	})

	t.Run("an email that belongs to an account: sign in with it instead, keeping the code", func(t *testing.T) {
		ent.set(webEmail, "")
		defer ent.set("ext.user@corp.example", "")
		c := startCLI(t, w.in.Base, "sso laptop", "")
		w.toChooser(t, c)
		w.viaSSO(t, "ssoaccount")
		evalTrue(t, tab, "sso_error scrubbed", scrubbed)
		if got := textOf(t, tab, "#view-ssoaccount p"); !strings.Contains(got, "belongs to an account") {
			t.Errorf("email-belongs copy = %q", got)
		}
		if got := textOf(t, tab, "#ssoaccount-code"); got != c.userCode {
			t.Errorf("the code kept is %q, want %q", got, c.userCode)
		}
		checkView(t, tab, "ssoaccount")
		drive(t, tab, chromedp.Click(chromedp.CSS(`#view-ssoaccount [data-action="useaccount"]`)))
		waitView(t, tab, "signin")
		if got := textOf(t, tab, "#pending .code-big"); got != c.userCode {
			t.Fatalf("sign-in page shows pending code %q, want %q", got, c.userCode)
		}
		signIn(t, tab, webPassword)
		waitView(t, tab, "confirm") // the code came back in a link: the person checks it first
		drive(t, tab, chromedp.Click(chromedp.CSS("#confirm-yes")))
		waitView(t, tab, "chooser")
		drive(t, tab, chromedp.Click(chromedp.CSS("#choose-account")))
		waitView(t, tab, "authorize")
		evalTrue(t, tab, "the account branch of the view", `document.getElementById("view-authorize").getAttribute("data-branch") === "account"`)
		if got := textOf(t, tab, "#az-email"); got != webEmail {
			t.Errorf("account email = %q", got)
		}
		drive(t, tab, chromedp.Click(chromedp.CSS("#approve")))
		waitView(t, tab, "success")
		if tok, _ := wantPoll(t, c, 200, "")["access_token"].(string); !strings.HasPrefix(tok, "dfoa_") {
			t.Fatal("the account approval gave no account token")
		}
	})

	t.Run("Cancel with a console session in the browser denies the request", func(t *testing.T) {
		c := startCLI(t, w.in.Base, "sso laptop", "")
		w.toChooser(t, c)
		w.viaSSO(t, "authorize")
		drive(t, tab, chromedp.Click(chromedp.CSS("#deny")))
		waitView(t, tab, "denied")
		wantPoll(t, c, 400, "access_denied")
	})

	t.Run("Chinese copy in the dark scheme; the switch re-translates the SSO copy", func(t *testing.T) {
		ua := eval[string](t, tab, `navigator.userAgent`)
		zh := emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: "zh-CN,zh;q=0.9"}
		dark := emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}
		if _, err := chromedp.Call(tab, emulation.SetUserAgentOverride, zh); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(tab, emulation.SetEmulatedMedia, dark); err != nil {
			t.Fatal(err)
		}
		defer chromedp.Call(tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{})
		c := startCLI(t, w.in.Base, "sso laptop", "")
		w.toChooser(t, c)
		if got := textOf(t, tab, "#choose-sso"); got != "使用单点登录继续" {
			t.Fatalf("chooser SSO choice = %q, want Chinese", got)
		}
		w.viaSSO(t, "authorize")
		if got := textOf(t, tab, `#view-authorize [data-branch="sso"] dt[data-i18n="authorize.issuer"]`); got != "身份提供方" {
			t.Fatalf("issuer label = %q, want Chinese", got)
		}
		checkView(t, tab, "authorize-sso-zh-dark")
		drive(t, tab, chromedp.Click(chromedp.CSS("#approve")))
		waitView(t, tab, "success")
		wantPoll(t, c, 200, "")

		w.open(t, "/device?sso_error=sso_failed")
		waitView(t, tab, "ssofailed")
		if got := textOf(t, tab, "#ssofailed-body"); !strings.Contains(got, "身份提供方未能确认") {
			t.Fatalf("sso_failed copy = %q, want Chinese", got)
		}
		checkView(t, tab, "ssofailed-zh-dark")
		drive(t, tab, chromedp.Click(chromedp.CSS("#lang")))
		waitTrue(t, tab, "the SSO copy switched to English",
			`document.getElementById("ssofailed-body").textContent.indexOf("did not confirm who you are") >= 0`)
	})
}

// TestBrowserSSOFlowOIDCRelay: with the built-in OpenID Connect relay on the
// community edition the page offers single sign-on too; the mock provider
// signs the person in (authorize, then the CLI gets a dfoe_ token), and a
// provider that refuses ends on the sso_failed view.
func TestBrowserSSOFlowOIDCRelay(t *testing.T) {
	p := newOIDCProvider(t)
	p.signInAs("oidc.user@corp.example")
	w := newSSOWeb(t, oidcVars(sqliteVars(t), p))
	tab := w.tab

	c := startCLI(t, w.in.Base, "relay laptop", "")
	w.toChooser(t, c)
	w.viaSSO(t, "authorize")
	for sel, want := range map[string]string{
		"#az-sso-email": "oidc.user@corp.example", "#az-issuer": p.Issuer(), "#az-device": "relay laptop",
		"#az-network": "127.0.0.0/24", "#view-authorize dd.mono": c.userCode,
	} {
		if got := textOf(t, tab, sel); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	checkView(t, tab, "authorize-sso-oidc")
	drive(t, tab, chromedp.Click(chromedp.CSS("#approve")))
	waitView(t, tab, "success")
	if tok, _ := wantPoll(t, c, 200, "")["access_token"].(string); !strings.HasPrefix(tok, "dfoe_") {
		t.Fatal("the relay's approval gave no external token")
	}

	p.Set(oidctest.Behaviour{Deny: true})
	c = startCLI(t, w.in.Base, "relay laptop", "")
	w.toChooser(t, c)
	w.viaSSO(t, "ssofailed")
	if got := textOf(t, tab, "#ssofailed-body"); !strings.Contains(got, "did not confirm who you are") {
		t.Errorf("sso_failed copy = %q", got)
	}
	wantPoll(t, c, 400, "authorization_pending")
}

// TestBrowserNoSSOOnCommunity: on the community edition the chooser never
// appears (the account branch goes straight to sign-in or authorize) and SSO
// return parameters are ignored.
func TestBrowserNoSSOOnCommunity(t *testing.T) {
	srv := webServer(t, nil)
	tab := newTab(t, 390, 844)
	c := startCLI(t, srv.Base, "ada's laptop", "")
	openConfirmed(t, tab, c, srv.Base)
	waitView(t, tab, "signin")
	signIn(t, tab, webPassword)
	waitView(t, tab, "authorize")
	evalTrue(t, tab, "no SSO choice", `document.body.getAttribute("data-sso") === "0" && document.getElementById("choose-sso").hidden`)
	drive(t, tab, chromedp.Click(chromedp.CSS("#approve")))
	waitView(t, tab, "success")
	wantPoll(t, c, 200, "")
	for _, q := range []string{"sso_error=sso_failed", "sso_error=email_belongs_to_dify_account", "sso_verified=1"} {
		drive(t, tab, chromedp.Navigate(srv.Base+"/device?"+q))
		waitView(t, tab, "entry")
		evalTrue(t, tab, "scrubbed", `location.search === ""`)
	}
}
