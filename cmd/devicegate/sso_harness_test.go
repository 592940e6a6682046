package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/ports/porttest"
)

// SSO test configuration: the API's public origin is a name, not the
// listener, so every absolute URL the server builds is proven to come from
// CONSOLE_API_URL and never from Host.
const (
	ssoSecret    = "sso-e2e-secret-key-0123456789abcdef"
	ssoAPIOrigin = "http://api.devicegate.test"
	ssoEntSecret = "enterprise-inner-api-secret"
	ssoIssuer    = "https://idp.corp.example"
)

// enterprise plays the enterprise service: it answers initiate (checking the
// secret header and the envelope's signature, as the real one must), and its
// "IdP login" page mints an external-subject assertion with SECRET_KEY for
// the envelope's user code and nonce and sends the browser to the envelope's
// idp_callback_url.
type enterprise struct {
	t   *testing.T
	srv *httptest.Server

	mu    sync.Mutex
	email string // who signs in at the IdP
	mode  string // "", "fail" (500), "nourl"
	last  string // the last assertion minted
	// byCode, when set for a user code, is who signs in for that flow
	// (concurrent flows with distinct subjects, as in the chaos run).
	byCode map[string]string
}

func newEnterprise(t *testing.T) *enterprise {
	e := &enterprise{t: t, email: "ext.user@corp.example"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /inner/api/device-flow/sso/initiate", e.initiate)
	mux.HandleFunc("GET /idp/login", e.login)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *enterprise) set(email, mode string) {
	e.mu.Lock()
	e.email, e.mode = email, mode
	e.mu.Unlock()
}

// signInFor makes email the subject of every IdP login for userCode.
func (e *enterprise) signInFor(userCode, email string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.byCode == nil {
		e.byCode = map[string]string{}
	}
	e.byCode[userCode] = email
}

func (e *enterprise) lastAssertion() string { e.mu.Lock(); defer e.mu.Unlock(); return e.last }

func (e *enterprise) initiate(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	mode := e.mode
	e.mu.Unlock()
	var body struct {
		State string `json:"state"`
	}
	if r.Header.Get("Enterprise-Api-Secret-Key") != ssoEntSecret || json.NewDecoder(r.Body).Decode(&body) != nil {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if _, ok := verifyHS256(body.State); !ok {
		http.Error(w, "bad state", http.StatusBadRequest)
		return
	}
	switch mode {
	case "fail":
		http.Error(w, "boom", http.StatusInternalServerError)
	case "nourl":
		_, _ = io.WriteString(w, `{"url": ""}`)
	default:
		_ = json.NewEncoder(w).Encode(map[string]string{"url": e.srv.URL + "/idp/login?state=" + url.QueryEscape(body.State)})
	}
}

func (e *enterprise) login(w http.ResponseWriter, r *http.Request) {
	claims, ok := verifyHS256(r.URL.Query().Get("state"))
	if !ok || claims["aud"] != "api.sso.state_envelope" || claims["intent"] != "device_flow" {
		http.Error(w, "bad state", http.StatusBadRequest)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	email := e.email
	if m, ok := e.byCode[claims["user_code"].(string)]; ok {
		email = m
	}
	e.last = porttest.ForgeAssertion(e.t, ssoSecret, email, ssoIssuer, claims["user_code"].(string),
		claims["nonce"].(string), time.Now())
	http.Redirect(w, r, claims["idp_callback_url"].(string)+"?sso_assertion="+url.QueryEscape(e.last), http.StatusFound)
}

// verifyHS256 checks a compact HS256 JWS under ssoSecret with the standard
// library (as the enterprise service would) and returns its claims.
func verifyHS256(token string) (map[string]any, bool) {
	p := strings.Split(token, ".")
	if len(p) != 3 {
		return nil, false
	}
	m := hmac.New(sha256.New, []byte(ssoSecret))
	m.Write([]byte(p[0] + "." + p[1]))
	sig, err := base64.RawURLEncoding.DecodeString(p[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(p[1])
	var claims map[string]any
	if err != nil || json.Unmarshal(raw, &claims) != nil {
		return nil, false
	}
	return claims, true
}

// ssoVars is base plus an enterprise, licensed configuration pointing at ent.
func ssoVars(base map[string]string, ent *enterprise) map[string]string {
	vars := maps.Clone(base)
	maps.Copy(vars, map[string]string{"EDITION": "Enterprise", "LICENSE_STATUS": "active", "SECRET_KEY": ssoSecret,
		"CONSOLE_API_URL": ssoAPIOrigin, "PUBLIC_WEB_URL": ssoAPIOrigin, "ENTERPRISE_API_URL": ent.srv.URL,
		"ENTERPRISE_API_SECRET": ssoEntSecret, "INTROSPECTION_SECRET": "introspection-secret-0123456789"})
	return vars
}

// ssoBrowser is a browser that does not follow redirects, so each hop is checked.
type ssoBrowser struct {
	t      *testing.T
	base   string
	client *http.Client
	// lastCallback is the last URL the OpenID provider sent the browser
	// back to the relay with (code and state), for replays.
	lastCallback string
}

func newSSOBrowser(t *testing.T, base string) *ssoBrowser {
	jar, _ := cookiejar.New(nil)
	return &ssoBrowser{t: t, base: base, client: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// rebase points an absolute URL on the API's public origin at the instance.
func (b *ssoBrowser) rebase(u string) string {
	if rest, ok := strings.CutPrefix(u, ssoAPIOrigin); ok {
		return b.base + rest
	}
	return u
}

// do sends a request and returns the response with its body read.
func (b *ssoBrowser) do(method, u string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.rebase(u), bytes.NewReader(body))
	if err != nil {
		b.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func (b *ssoBrowser) get(u string) (*http.Response, []byte) { return b.do(http.MethodGet, u, nil, nil) }

// approve posts approve-external with csrf and user code.
func (b *ssoBrowser) approve(csrf, userCode string) (*http.Response, map[string]any) {
	b.t.Helper()
	body, _ := json.Marshal(map[string]string{"user_code": userCode})
	hdr := map[string]string{"Content-Type": "application/json"}
	if csrf != "" {
		hdr["X-CSRF-Token"] = csrf
	}
	resp, raw := b.do(http.MethodPost, b.base+"/openapi/v1/oauth/device/approve-external", body, hdr)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp, out
}

// grantCookie returns the device_approval_grant cookie the jar holds for the API path ("" if none).
func (b *ssoBrowser) grantCookie() string {
	u, _ := url.Parse(b.base + "/openapi/v1/oauth/device/approve-external")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "device_approval_grant" {
			return c.Value
		}
	}
	return ""
}

// setGrantCookie replaces the jar's grant cookie with value.
func (b *ssoBrowser) setGrantCookie(value string) {
	u, _ := url.Parse(b.base + "/openapi/v1/oauth/device/")
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "device_approval_grant", Value: value, Path: "/openapi/v1/oauth/device"}})
}

// signIn drives sso-initiate -> the IdP (-> the relay's callback) -> sso-complete for userCode and
// returns sso-complete's Location.
func (b *ssoBrowser) signIn(userCode string) string {
	b.t.Helper()
	resp, body := b.get(b.base + "/openapi/v1/oauth/device/sso-initiate?user_code=" + url.QueryEscape(userCode))
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("sso-initiate: %d %s", resp.StatusCode, body)
	}
	if !clearsGrant(resp) {
		b.t.Fatalf("sso-initiate must clear the grant cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	resp, body = b.get(resp.Header.Get("Location")) // the IdP
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("IdP login: %d %s", resp.StatusCode, body)
	}
	cb := resp.Header.Get("Location")
	if strings.HasPrefix(cb, ssoAPIOrigin+app.SSOCallbackPath+"?") { // the built-in relay's callback
		b.lastCallback = cb
		resp, body = b.get(cb)
		if resp.StatusCode != http.StatusFound || len(bytes.TrimSpace(body)) > 0 && bytes.Contains(body, []byte(`"code"`)) {
			b.t.Fatalf("relay callback: %d %s, want a bare 302", resp.StatusCode, body)
		}
		cb = resp.Header.Get("Location")
	}
	if !strings.HasPrefix(cb, ssoAPIOrigin+"/openapi/v1/oauth/device/sso-complete?") {
		b.t.Fatalf("idp_callback_url = %q, want it on CONSOLE_API_URL", cb)
	}
	return b.complete(cb)
}

// complete calls sso-complete at u and returns its Location (always a 302).
func (b *ssoBrowser) complete(u string) string {
	b.t.Helper()
	resp, body := b.get(u)
	if resp.StatusCode != http.StatusFound || len(bytes.TrimSpace(body)) > 0 && bytes.Contains(body, []byte(`"code"`)) {
		b.t.Fatalf("sso-complete: %d %s, want a bare 302", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// clearsGrant reports whether resp clears the grant cookie.
func clearsGrant(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if c.Name == "device_approval_grant" && c.MaxAge < 0 && c.Value == "" {
			return true
		}
	}
	return false
}

// setsGrant returns the Set-Cookie line setting the grant cookie ("" if none).
func setsGrant(resp *http.Response) string {
	for _, line := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(line, "device_approval_grant=") && !strings.HasPrefix(line, "device_approval_grant=;") {
			return line
		}
	}
	return ""
}

// startDeviceFlow starts a flow and returns (device_code, user_code).
func startDeviceFlow(t *testing.T, base, label string) (string, string) {
	t.Helper()
	var out map[string]any
	if code := postForm(t, base+"/openapi/v1/oauth/device/code", url.Values{"client_id": {"difyctl"}, "device_label": {label}}, &out); code != 200 {
		t.Fatalf("device code: %d %v", code, out)
	}
	return out["device_code"].(string), out["user_code"].(string)
}

// jsonField decodes body as a JSON object and returns its string field name.
func jsonField(t *testing.T, body []byte, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	s, _ := m[name].(string)
	return s
}
