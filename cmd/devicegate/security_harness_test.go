package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// secClient is a browser without a jar that never follows redirects: each
// test sends exactly the cookies it means to and sees every hop.
var secClient = &http.Client{Timeout: 20 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// secReq is one request of the security tests.
type secReq struct {
	method, url, body string
	header            map[string]string
	cookies           []*http.Cookie
}

// secDo sends r and returns the response with its body read.
func secDo(t testing.TB, r secReq) (*http.Response, []byte) {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	req, err := http.NewRequest(r.method, r.url, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.body != "" {
		ct := "application/json"
		if !strings.HasPrefix(r.body, "{") {
			ct = "application/x-www-form-urlencoded"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range r.header {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	for _, c := range r.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := secClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// setCookie returns the cookie name that resp sets (nil if none).
func setCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// setCookieLine returns the raw Set-Cookie line for name ("" if none).
func setCookieLine(resp *http.Response, name string) string {
	for _, l := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(l, name+"=") {
			return l
		}
	}
	return ""
}

// consoleSignIn posts the login and returns the response and the two cookies.
func consoleSignIn(t testing.TB, base, email, password string, preset ...*http.Cookie) (*http.Response, *http.Cookie, *http.Cookie) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, raw := secDo(t, secReq{method: http.MethodPost, url: base + "/console/api/login", body: string(body), cookies: preset})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", resp.StatusCode, raw)
	}
	sess, csrf := setCookie(resp, "devicegate_session"), setCookie(resp, "csrf_token")
	if sess == nil || csrf == nil || sess.Value == "" || csrf.Value == "" {
		t.Fatalf("login set %v", resp.Header.Values("Set-Cookie"))
	}
	return resp, sess, csrf
}

// profileStatus is GET /console/api/account/profile with session value sid.
func profileStatus(t testing.TB, base, sid string) int {
	t.Helper()
	resp, _ := secDo(t, secReq{url: base + "/console/api/account/profile", cookies: []*http.Cookie{{Name: "devicegate_session", Value: sid}}})
	return resp.StatusCode
}

// jsonBody decodes body as a JSON object (nil if it is not one).
func jsonBody(body []byte) map[string]any {
	var m map[string]any
	if json.Unmarshal(bytes.TrimSpace(body), &m) != nil {
		return nil
	}
	return m
}
