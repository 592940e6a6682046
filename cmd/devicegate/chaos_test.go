package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/devicegate/devicegate/ports/porttest"
)

// The chaos run (issue 12 item 3): three instances on one private Redis and
// one private Postgres cluster, each reaching both through its own proxy;
// simulated CLIs (each a distinct client address, as behind a load balancer)
// log in again and again under a fixed device label while approvers approve,
// two CLIs in three through console accounts, one through external SSO;
// an injector cuts and slows proxies and restarts instances at random. Then
// every fault is healed, every approved flow must still deliver, and the
// invariants are checked and printed. `make chaos` runs it for 60 s with
// 200 CLIs; the test suite runs the same code for 5 s as a smoke test.

// chaosSettings reads DEVICEGATE_CHAOS_DURATION and DEVICEGATE_CHAOS_CLIS.
func chaosSettings(t *testing.T) (time.Duration, int) {
	d, clis := 5*time.Second, 24
	if v := os.Getenv("DEVICEGATE_CHAOS_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("DEVICEGATE_CHAOS_DURATION: %v", err)
		}
	} else {
		// The smoke run belongs to the real-backend tests, gated like them.
		porttest.RequireEnv(t, porttest.RedisEnv)
		porttest.RequireEnv(t, porttest.PostgresEnv)
	}
	if v := os.Getenv("DEVICEGATE_CHAOS_CLIS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("DEVICEGATE_CHAOS_CLIS: %q", v)
		}
		clis = n
	}
	return d, clis
}

// chaosNode is one instance and its two proxies; base is "" while it is down.
type chaosNode struct {
	vars  map[string]string
	redis *tcpProxy
	pg    *tcpProxy
	mu    sync.Mutex
	app   *fx.App
	base  string
}

func (n *chaosNode) start(t *testing.T) {
	cfg, err := LoadConfig(testEnv(n.vars))
	if err != nil {
		t.Error(err)
		return
	}
	var l *Listener
	a := fx.New(serveOptions(cfg, slog.New(slog.NewTextHandler(io.Discard, nil))), fx.Populate(&l), fx.NopLogger)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Errorf("instance start: %v", err)
		return
	}
	n.mu.Lock()
	n.app, n.base = a, "http://"+l.Addr.String()
	n.mu.Unlock()
}

func (n *chaosNode) stop() {
	n.mu.Lock()
	a := n.app
	n.app, n.base = nil, ""
	n.mu.Unlock()
	if a != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = a.Stop(ctx)
	}
}

func (n *chaosNode) url() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.base
}

// chaos holds the run's nodes, its fault window and what it observed.
type chaos struct {
	t        *testing.T
	nodes    []*chaosNode
	ent      *enterprise
	client   *http.Client
	faulting atomic.Int32 // faults in force now
	healedAt atomic.Int64 // unix nanos of the last heal
	mu       sync.Mutex
	status   map[int]int
	faults   map[string]int
	errs     []string
	flows    atomic.Int64
	tokens   atomic.Int64
	ssoToks  atomic.Int64 // of tokens, those approved through SSO (dfoe_)
}

// violation records a broken invariant (reported at the end, not fatal, so a
// run prints everything it saw).
func (c *chaos) violation(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) < 50 {
		c.errs = append(c.errs, fmt.Sprintf(format, args...))
	}
}

// inFault reports whether a request that started at start overlapped a
// fault, or its aftermath: requests already waiting on a dead connection
// may still fail one outage bound after the heal.
func (c *chaos) inFault(start time.Time) bool {
	return c.faulting.Load() > 0 || start.Before(time.Unix(0, c.healedAt.Load()).Add(outageAnswerBound))
}

// call sends one request to a random live node and checks the answer's
// status class; err is set when no node answered (down or restarting).
func (c *chaos) call(method, path string, form url.Values, hdr http.Header, jar http.CookieJar) (int, http.Header, map[string]any, error) {
	live := make([]string, 0, len(c.nodes))
	for _, n := range c.nodes {
		if u := n.url(); u != "" {
			live = append(live, u)
		}
	}
	if len(live) == 0 {
		return 0, nil, nil, fmt.Errorf("no live node")
	}
	base := live[rand.IntN(len(live))]
	req, _ := http.NewRequest(method, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header[k] = v
	}
	client := c.client
	if jar != nil {
		client = &http.Client{Transport: c.client.Transport, Timeout: c.client.Timeout, Jar: jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	took := time.Since(start)
	c.mu.Lock()
	c.status[resp.StatusCode]++
	c.mu.Unlock()
	switch {
	case took > outageAnswerBound:
		c.violation("%s %s took %s (bound %s)", method, path, took, outageAnswerBound)
	case resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "":
		c.violation("%s %s: 503 without Retry-After", method, path)
	case resp.StatusCode == 503 && !c.inFault(start):
		c.violation("%s %s: 503 outside any injected fault", method, path)
	case resp.StatusCode >= 500 && resp.StatusCode != 503:
		c.violation("%s %s: %d %v", method, path, resp.StatusCode, body)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// retryAfter is how long to wait after an answer that asks for it.
func retryAfterOf(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return time.Second
}

// approver is one signed-in console session of an account.
type approver struct {
	email string
	jar   *cookiejar.Jar
	asks  chan approval
}

// approval asks an approver to approve code; ok says whether it was.
type approval struct {
	code string
	ok   chan bool
}

// csrf is the session's CSRF cookie (cookies are per host, not per port, so
// one session serves every node).
func (a *approver) csrf() string {
	u, _ := url.Parse("http://127.0.0.1/")
	for _, ck := range a.jar.Cookies(u) {
		if ck.Name == "csrf_token" {
			return ck.Value
		}
	}
	return ""
}

// approve approves every user code it is asked to, retrying through outages.
func (c *chaos) approve(a *approver, done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case ask := <-a.asks:
			ask.ok <- c.approveOne(a, ask.code, done)
		}
	}
}

func (c *chaos) approveOne(a *approver, code string, done <-chan struct{}) bool {
	for again := false; ; again = true {
		hdr := http.Header{"X-Csrf-Token": {a.csrf()}}
		st, h, body, err := c.call("POST", "/openapi/v1/oauth/device/approve", url.Values{"user_code": {code}}, hdr, a.jar)
		switch {
		case err == nil && st == 200:
			return true
		case err == nil && st == 409 && again:
			return true // the try before landed without its answer arriving; the poll proves it
		case err == nil && st != 503:
			c.violation("approve answered %d %v", st, body)
			return false
		}
		select {
		case <-done:
			return false
		case <-time.After(retryAfterOf(h)):
		}
	}
}

// ssoUser is one CLI's external-SSO identity. approve-external allows 10
// approvals per email an hour, so the identity moves on to a fresh email
// (and a fresh browser address, for sso-initiate's per-address limit) after
// ssoFlowsPerEmail approvals or at the first 429.
type ssoUser struct {
	cli, gen, used int
}

const ssoFlowsPerEmail = 4

func (s *ssoUser) email() string { return fmt.Sprintf("sso-%d-%d@corp.example", s.cli, s.gen) }

func (s *ssoUser) next() { s.gen, s.used = s.gen+1, 0 }

// approveSSO approves code through the browser-less SSO branch (sso-initiate
// -> enterprise service -> sso-complete -> approval-context ->
// approve-external) as s, starting over through outages, until the flow is
// approved (true, with the email it was approved for) or done.
func (c *chaos) approveSSO(s *ssoUser, code string, done <-chan struct{}) (string, bool) {
	if s.used >= ssoFlowsPerEmail {
		s.next()
	}
	retried := false
	for {
		email := s.email()
		c.ent.signInFor(code, email)
		switch c.ssoAttempt(s, email, code, &retried) {
		case ssoApproved:
			s.used++
			return email, true
		case ssoLimited:
			s.next()
		case ssoFailed:
			return "", false
		}
		if !sleepOr(time.Second, done) {
			return "", false
		}
	}
}

type ssoOutcome int

const (
	ssoApproved ssoOutcome = iota
	ssoRetry               // an outage: start over
	ssoLimited             // a per-email or per-address limit: start over as the next identity
	ssoFailed              // a violation was recorded
)

// ssoAttempt is one pass through the SSO branch in a fresh browser.
// *retried records that an approve-external of this flow may have been
// applied without its answer arriving, so that 409 then means approved.
func (c *chaos) ssoAttempt(s *ssoUser, email, code string, retried *bool) ssoOutcome {
	jar, _ := cookiejar.New(nil)
	hdr := http.Header{"X-Forwarded-For": {fmt.Sprintf("11.%d.%d.%d", s.gen&255, s.cli>>8&255, s.cli&255)}}
	st, h, body, err := c.call("GET", "/openapi/v1/oauth/device/sso-initiate?user_code="+url.QueryEscape(code), nil, hdr, jar)
	switch {
	case err != nil || st == 503:
		return ssoRetry
	case st == 429:
		return ssoLimited
	case st != 302:
		c.violation("sso-initiate answered %d %v", st, body)
		return ssoFailed
	}
	idp := &http.Client{Timeout: c.client.Timeout, Transport: c.client.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := idp.Get(h.Get("Location"))
	if err != nil {
		c.violation("enterprise IdP login: %v", err)
		return ssoFailed
	}
	resp.Body.Close()
	cb, ok := strings.CutPrefix(resp.Header.Get("Location"), ssoAPIOrigin)
	if resp.StatusCode != 302 || !ok || !strings.HasPrefix(cb, "/openapi/v1/oauth/device/sso-complete?") {
		c.violation("enterprise IdP login answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		return ssoFailed
	}
	start := time.Now()
	st, h, _, err = c.call("GET", cb, nil, hdr, jar)
	switch {
	case err != nil:
		return ssoRetry
	case st != 302:
		c.violation("sso-complete answered %d", st)
		return ssoFailed
	case h.Get("Location") != "/device?sso_verified=1":
		if !c.inFault(start) {
			c.violation("sso-complete outside any fault sent the browser to %q", h.Get("Location"))
			return ssoFailed
		}
		return ssoRetry
	}
	var csrf string
	for csrf == "" {
		st, _, body, err = c.call("GET", "/openapi/v1/oauth/device/approval-context", nil, hdr, jar)
		switch {
		case err != nil || st == 503:
			time.Sleep(time.Second)
		case st != 200 || body["subject_email"] != email || body["subject_issuer"] != ssoIssuer || body["user_code"] != code:
			c.violation("approval-context answered %d %v", st, body)
			return ssoFailed
		default:
			csrf, _ = body["csrf_token"].(string)
		}
	}
	for again := false; ; again = true {
		st, h, body, err = c.call("POST", "/openapi/v1/oauth/device/approve-external", url.Values{"user_code": {code}},
			http.Header{"X-Forwarded-For": hdr["X-Forwarded-For"], "X-Csrf-Token": {csrf}}, jar)
		switch {
		case err == nil && st == 200:
			return ssoApproved
		case err == nil && st == 429:
			return ssoLimited
		case err == nil && st == 401 && body["code"] == "session_already_consumed" && again:
			return ssoRetry // the try before consumed the nonce and then failed: a new sign-in
		case err == nil && st == 409 && *retried:
			return ssoApproved // an earlier try's approval landed; the poll proves it
		case err == nil && st != 503:
			c.violation("approve-external answered %d %v", st, body)
			return ssoFailed
		}
		*retried = true
		time.Sleep(retryAfterOf(h))
	}
}
