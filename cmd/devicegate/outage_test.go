package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/adapters/redisstore"
)

// outageAnswerBound is how soon a request must be answered 503 once a
// backend is gone: a behavioural bound (no hang), not a benchmark. A request
// may wait out one operation timeout on each backend before it fails; the
// slack is for a loaded 2-core CI machine.
const outageAnswerBound = 3*(gormrepo.OpTimeout+redisstore.OpTimeout) + 2*time.Second

// answer does one request and returns status, Retry-After, body and how long it took.
func answer(t *testing.T, method, u, token string, form url.Values) (int, string, string, time.Duration) {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: outageAnswerBound + 10*time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	buf := new(strings.Builder)
	_, _ = io.Copy(buf, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), buf.String(), time.Since(start)
}

// eventually retries fn for up to d.
func eventually(t *testing.T, d time.Duration, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if fn() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not happen within %s", what, d)
}

// expect503 checks the canonical outage answer and that it came without a hang.
func expect503(t *testing.T, what string, code int, retry, body string, took time.Duration) {
	t.Helper()
	if code != 503 || retry == "" || !strings.Contains(body, `"status":503`) || !strings.Contains(body, "Internal Server Error") {
		t.Fatalf("%s during the outage: %d Retry-After=%q %s", what, code, retry, body)
	}
	if took > outageAnswerBound {
		t.Fatalf("%s took %s to fail, want under %s", what, took, outageAnswerBound)
	}
}

// TestOutagesAnswer503AndRecover stops a real redis-server and cuts the
// Postgres path, then restores both, against one running instance.
func TestOutagesAnswer503AndRecover(t *testing.T) {
	dbURL := postgresSchema(t)
	rp := startRedisProcess(t)
	u, _ := url.Parse(dbURL)
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	vars := map[string]string{"DATABASE_URL": u.String(), "REDIS_URL": "redis://" + rp.addr() + "/0",
		"SECRET_KEY": "outage-test-secret-key-0123456789"}
	if err := run(t.Context(), []string{"migrate"}, testEnv(vars), io.Discard, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	createAccount(t, vars, "linus@example.com", "correct horse battery", "Kernel")
	in := startInstance(t, vars)
	api := in.Base + "/openapi/v1"

	var flow map[string]any
	if code := postForm(t, api+"/oauth/device/code", url.Values{"client_id": {"difyctl"}}, &flow); code != 200 {
		t.Fatalf("device code: %d", code)
	}
	deviceCode := flow["device_code"].(string)
	poll := url.Values{"client_id": {"difyctl"}, "device_code": {deviceCode}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}

	// Redis down: flow endpoints and readiness answer 503 quickly.
	rp.stop()
	code, retry, body, took := answer(t, "POST", api+"/oauth/device/code", "", url.Values{"client_id": {"difyctl"}})
	expect503(t, "device code", code, retry, body, took)
	code, retry, body, took = answer(t, "POST", api+"/oauth/device/token", "", poll)
	expect503(t, "poll", code, retry, body, took)
	code, _, body, _ = answer(t, "GET", in.Base+"/readyz", "", nil)
	if code != 503 || !strings.Contains(body, "redis") {
		t.Fatalf("readyz with Redis down: %d %s", code, body)
	}

	// Redis back with its data: the pending flow is still answerable. (Lookup,
	// not poll, checks it: polling every 200 ms would only earn slow_down.)
	rp.start()
	lookup := api + "/oauth/device/lookup?user_code=" + url.QueryEscape(flow["user_code"].(string))
	eventually(t, 30*time.Second, "recovery after Redis restart", func() bool {
		code, _, body, _ := answer(t, "GET", lookup, "", nil)
		return code == 200 && strings.Contains(body, `"valid":true`)
	})

	// Sign in for real, then cut Postgres.
	br := newBrowser(t, in.Base)
	br.login("linus@example.com", "correct horse battery")
	if c := br.decide(flow["user_code"].(string), true); c != 200 {
		t.Fatalf("approve: %d", c)
	}
	var tok map[string]any
	if code := postForm(t, api+"/oauth/device/token", poll, &tok); code != 200 {
		t.Fatalf("first poll after approval: %d %v", code, tok)
	}
	token := tok["access_token"].(string)

	proxy.cut()
	code, retry, body, took = answer(t, "GET", api+"/oauth/authorizations", token, nil)
	expect503(t, "list authorizations", code, retry, body, took)
	code, _, body, _ = answer(t, "GET", in.Base+"/readyz", "", nil)
	if code != 503 || !strings.Contains(body, "database") {
		t.Fatalf("readyz with Postgres down: %d %s", code, body)
	}
	proxy.restore()
	eventually(t, 30*time.Second, "recovery after Postgres returns", func() bool {
		code, _, _, _ := answer(t, "GET", api+"/oauth/authorizations", token, nil)
		return code == 200
	})
	if code, _, _, _ := answer(t, "GET", in.Base+"/readyz", "", nil); code != 200 {
		t.Fatalf("readyz after recovery: %d", code)
	}
}
