package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/devicegate/devicegate/domain"
)

// The fault matrix (issue 12 item 2): each test runs one instance on real
// backends, injects one fault while a flow is approved and waiting for its
// token, and checks the same four promises: every answer during the fault is
// 503 with Retry-After within outageAnswerBound (never a 500, never a hang);
// the approved flow is not lost (a later poll gets its token once the backend
// is back); the device ends with exactly one live token, the one delivered;
// and the instance recovers without a restart.

// verifyNoLeaks fails t if goroutines started during the test outlive it.
// Register it first, so it runs after every other cleanup (instance stop,
// proxy cut, Redis kill). The tests of this package are not parallel, so
// goroutines already running at the start are the only ones ignored.
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	opts := []goleak.Option{goleak.IgnoreCurrent(),
		// Keep-alive connections of the test's own HTTP client: closed below, but
		// their read loops end asynchronously.
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	}
	t.Cleanup(func() {
		http.DefaultClient.CloseIdleConnections()
		if err := goleak.Find(opts...); err != nil {
			t.Errorf("goroutines leaked by the fault test: %v", err)
		}
	})
}

// faultRig is one instance, its backends and a signed-in approver.
type faultRig struct {
	t    *testing.T
	vars map[string]string
	in   *instance
	api  string
	db   *sql.DB // straight to the schema, never through a proxy: the invariant checks
	br   *browser
}

const faultEmail, faultPassword = "fault@example.com", "correct horse battery"

// newFaultRig migrates vars' database, creates the approver, starts an
// instance and signs in; directDB is the same database without any proxy.
func newFaultRig(t *testing.T, vars map[string]string, directDB string) *faultRig {
	t.Helper()
	if vars["SECRET_KEY"] == "" {
		vars["SECRET_KEY"] = "fault-matrix-secret-key-0123456789"
	}
	if err := run(t.Context(), []string{"migrate"}, testEnv(vars), io.Discard, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	createAccount(t, vars, faultEmail, faultPassword, "Faults")
	db, err := sql.Open("pgx", directDB)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &faultRig{t: t, vars: vars, db: db}
	r.in = startInstance(t, vars)
	r.api = r.in.Base + "/openapi/v1"
	r.br = newBrowser(t, r.in.Base)
	r.br.login(faultEmail, faultPassword)
	return r
}

// faultCLI is one simulated CLI polling like a well-behaved client: it waits the
// interval between polls and adds 5 s on slow_down (RFC 8628 3.5).
type faultCLI struct {
	rig        *faultRig
	api        string
	label      string
	deviceCode string
	userCode   string
	interval   time.Duration
	last       time.Time
}

// startFlow asks for a device code on the rig's instance.
func (r *faultRig) startFlow(label string) *faultCLI {
	r.t.Helper()
	var out map[string]any
	if code := postForm(r.t, r.api+"/oauth/device/code", url.Values{"client_id": {"difyctl"}, "device_label": {label}}, &out); code != 200 {
		r.t.Fatalf("device code: %d %v", code, out)
	}
	return &faultCLI{rig: r, api: r.api, label: label, deviceCode: out["device_code"].(string),
		userCode: out["user_code"].(string), interval: time.Duration(out["interval"].(float64)) * time.Second}
}

// approvedFlow starts a flow and approves it as the rig's approver.
func (r *faultRig) approvedFlow(label string) *faultCLI {
	r.t.Helper()
	c := r.startFlow(label)
	if code := r.br.decide(c.userCode, true); code != 200 {
		r.t.Fatalf("approve: %d", code)
	}
	return c
}

// pollAnswer is one answer to a poll.
type pollAnswer struct {
	code  int
	retry string
	body  string
	err   string // the OAuth error code, "" on success
	token string
	took  time.Duration
}

// poll waits out the interval, polls once and checks the answer is one a
// client may see during a fault: a token, pending/slow_down, or a prompt 503
// with Retry-After. Anything else (a 500, a hang, a second token) fails.
func (c *faultCLI) poll() pollAnswer {
	t := c.rig.t
	t.Helper()
	a := c.pollRaw()
	switch {
	case a.code == 200 && a.token != "":
	case a.code == 400 && (a.err == "authorization_pending" || a.err == "slow_down"):
		if a.err == "slow_down" {
			c.interval += domain.SlowDownStep
		}
	case a.code == 503:
		expect503(t, "poll", a.code, a.retry, a.body, a.took)
		if s, err := strconv.Atoi(a.retry); err == nil && time.Duration(s)*time.Second > c.interval {
			c.interval = time.Duration(s) * time.Second
		}
	default:
		t.Fatalf("poll answered %d %s (after %s)", a.code, a.body, a.took)
	}
	return a
}

// pollRaw waits out the interval and polls once, unchecked.
func (c *faultCLI) pollRaw() pollAnswer {
	t := c.rig.t
	t.Helper()
	if wait := time.Until(c.last.Add(c.interval)); wait > 0 {
		time.Sleep(wait)
	}
	form := url.Values{"client_id": {"difyctl"}, "device_code": {c.deviceCode}, "grant_type": {domain.GrantTypeDevice}}
	code, retry, body, took := answer(t, "POST", c.api+"/oauth/device/token", "", form)
	c.last = time.Now()
	a := pollAnswer{code: code, retry: retry, body: body, took: took}
	var doc map[string]any
	_ = json.Unmarshal([]byte(body), &doc)
	a.err, _ = doc["error"].(string)
	a.token, _ = doc["access_token"].(string)
	return a
}

// pollUntilToken polls until the token arrives or within fails the test.
func (c *faultCLI) pollUntilToken(within time.Duration) string {
	t := c.rig.t
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if a := c.poll(); a.token != "" {
			return a.token
		}
	}
	t.Fatalf("the approved flow of %q delivered no token within %s", c.label, within)
	return ""
}

// expectOutage polls once during a fault and requires the 503.
func (c *faultCLI) expectOutage(what string) {
	c.rig.t.Helper()
	if a := c.poll(); a.code != 503 {
		c.rig.t.Fatalf("%s: poll answered %d %s, want 503", what, a.code, a.body)
	}
}

// settle checks the end state of a flow that delivered token: the device has
// exactly one live row, the token authenticates, and the flow is spent (the
// next poll is refused, never a second token).
func (c *faultCLI) settle(token string) {
	r := c.rig
	t := r.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var live int
	err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM oauth_access_tokens
		WHERE subject_email = $1 AND client_id = 'difyctl' AND device_label = $2 AND revoked_at IS NULL`,
		faultEmail, c.label).Scan(&live)
	if err != nil {
		t.Fatalf("count live tokens: %v", err)
	}
	if live != 1 {
		t.Fatalf("device %q has %d live tokens, want exactly 1", c.label, live)
	}
	code, _, body, _ := answer(t, "GET", c.api+"/oauth/authorizations", token, nil)
	if code != 200 {
		t.Fatalf("the delivered token does not authenticate after recovery: %d %s", code, body)
	}
	if a := c.pollRaw(); a.code != 400 || a.token != "" {
		t.Fatalf("a spent flow answered %d %s", a.code, a.body)
	}
}

// recovered checks the instance serves a fresh flow end to end again.
func (r *faultRig) recovered(label string) {
	r.t.Helper()
	var c *faultCLI
	eventually(r.t, 30*time.Second, "a new flow after recovery", func() bool {
		var out map[string]any
		code := postForm(r.t, r.api+"/oauth/device/code", url.Values{"client_id": {"difyctl"}, "device_label": {label}}, &out)
		if code != 200 {
			return false
		}
		c = &faultCLI{rig: r, api: r.api, label: label, deviceCode: out["device_code"].(string),
			userCode: out["user_code"].(string), interval: time.Duration(out["interval"].(float64)) * time.Second}
		return true
	})
	if code := r.br.decide(c.userCode, true); code != 200 {
		r.t.Fatalf("approve after recovery: %d", code)
	}
	c.settle(c.pollUntilToken(faultTokenBound))
}

// faultTokenBound is how long an approved flow may take to deliver once the
// backend is back: a few intervals, a possible slow_down and a 503 or two,
// with slack for a loaded machine; far inside the flow's lifetime.
const faultTokenBound = 4*domain.DefaultInterval + 2*domain.SlowDownStep + 2*outageAnswerBound

// readyz returns the readiness status and body.
func (r *faultRig) readyz() (int, string) {
	code, _, body, _ := answer(r.t, "GET", r.in.Base+"/readyz", "", nil)
	return code, strings.TrimSpace(body)
}
