package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/adapters/redisstore"
	"github.com/devicegate/devicegate/domain"
)

// chaosDrain is how long CLIs may keep polling once the faults stop: a dead
// claimant's lease, then a healthy flow's worth of polls.
const chaosDrain = domain.ClaimLease + faultTokenBound

// TestChaos is the chaos run (see chaos_test.go); 5 s unless configured.
func TestChaos(t *testing.T) {
	verifyNoLeaks(t)
	dur, nCLI := chaosSettings(t)
	rp := newRedisProcess(t)
	pg := startPGCluster(t)
	direct := map[string]string{"DATABASE_URL": pg.URL(), "REDIS_URL": "redis://" + rp.addr() + "/0",
		"SECRET_KEY": ssoSecret}
	if err := run(t.Context(), []string{"migrate"}, testEnv(direct), io.Discard, io.Discard); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	emails := []string{"chaos-a@example.com", "chaos-b@example.com", "chaos-c@example.com"}
	for _, e := range emails {
		createAccount(t, direct, e, faultPassword, "Chaos")
	}
	c := &chaos{t: t, ent: newEnterprise(t), status: map[int]int{}, faults: map[string]int{},
		client: &http.Client{Timeout: outageAnswerBound + 10*time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	t.Cleanup(c.client.CloseIdleConnections)
	for range 3 {
		n := &chaosNode{redis: newTCPProxy(t, rp.addr()), pg: newTCPProxy(t, "127.0.0.1:"+strconv.Itoa(pg.port))}
		u, _ := url.Parse(pg.URL())
		u.Host = n.pg.addr
		// The SSO branch is on (enterprise edition, active license, the test
		// enterprise service), so one CLI in three is approved through it.
		n.vars = ssoVars(map[string]string{"DATABASE_URL": u.String(), "REDIS_URL": "redis://" + n.redis.addr + "/0",
			"TRUSTED_PROXIES": "127.0.0.1/32", "DEVICE_FLOW_APPROVE_RATE_LIMIT_PER_HOUR": "1000000"}, c.ent)
		n.start(t)
		t.Cleanup(n.stop)
		c.nodes = append(c.nodes, n)
	}
	if t.Failed() {
		t.FailNow()
	}
	var approvers []*approver
	for _, e := range emails {
		for range 2 {
			approvers = append(approvers, c.login(e))
		}
	}
	baseHeap := heapAfterGC()

	stop, giveUp, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var wg, side sync.WaitGroup
	for _, a := range approvers {
		side.Go(func() { c.approve(a, done) })
	}
	var peak atomic64
	side.Go(func() { sampleHeap(&peak, done) })
	tokens := make([][]chaosToken, nCLI)
	for i := range nCLI {
		wg.Go(func() { tokens[i] = c.cli(i, approvers[i%len(approvers)], stop, giveUp) })
	}
	injected := make(chan struct{})
	go func() { c.inject(stop); close(injected) }()
	time.Sleep(dur)
	close(stop)
	<-injected // the last fault is healed
	timer := time.AfterFunc(chaosDrain, func() { close(giveUp) })
	wg.Wait()
	timer.Stop()
	close(done)
	side.Wait()

	c.checkTokens(tokens)
	c.checkLiveRows(pg.URL())
	endHeap := heapAfterGC()
	if limit := 2*baseHeap + 64<<20; endHeap > limit {
		c.violation("heap after GC grew from %d to %d bytes (limit %d)", baseHeap, endHeap, limit)
	}
	c.report(dur, nCLI, baseHeap, peak.max(), endHeap)
}

// login signs an approver in (before any fault).
func (c *chaos) login(email string) *approver {
	c.t.Helper()
	jar, _ := cookiejar.New(nil)
	body, _ := json.Marshal(map[string]string{"email": email, "password": faultPassword})
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: c.client.Transport}
	resp, err := client.Post(c.nodes[0].url()+"/console/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		c.t.Fatalf("login %s: %d", email, resp.StatusCode)
	}
	return &approver{email: email, jar: jar, asks: make(chan approval)}
}

// chaosToken is a token a CLI received and the subject it was approved for.
type chaosToken struct {
	subject, token string
}

// cli logs in again and again under one device label until stop, and
// returns the tokens it received in order. Every third CLI is approved
// through external SSO, the others by the console approver a.
func (c *chaos) cli(i int, a *approver, stop, giveUp <-chan struct{}) []chaosToken {
	hdr := http.Header{"X-Forwarded-For": {fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}}
	label := "chaos-" + strconv.Itoa(i)
	var sso *ssoUser
	if i%3 == 2 {
		sso = &ssoUser{cli: i}
	}
	var got []chaosToken
	for {
		select {
		case <-stop:
			return got
		default:
		}
		var body map[string]any
		for {
			st, h, b, err := c.call("POST", "/openapi/v1/oauth/device/code", url.Values{"client_id": {"difyctl"}, "device_label": {label}}, hdr, nil)
			if err == nil && st == 200 {
				body = b
				break
			}
			if err == nil && st != 503 {
				c.violation("device code answered %d %v", st, b)
				return got
			}
			if !sleepOr(retryAfterOf(h), stop) {
				return got
			}
		}
		c.flows.Add(1)
		subject, prefix := a.email, "dfoa_"
		if sso == nil {
			ask := approval{code: body["user_code"].(string), ok: make(chan bool, 1)}
			a.asks <- ask
			if !<-ask.ok {
				return got
			}
		} else {
			var ok bool
			if subject, ok = c.approveSSO(sso, body["user_code"].(string), giveUp); !ok {
				return got
			}
			prefix = "dfoe_"
		}
		interval := time.Duration(body["interval"].(float64)) * time.Second
		token := c.pollFlow(body["device_code"].(string), interval, hdr, giveUp)
		if token == "" {
			c.violation("the approved flow of %s delivered no token within %s of the faults ending", label, chaosDrain)
			return got
		}
		if !strings.HasPrefix(token, prefix) {
			c.violation("the flow of %s approved for %s delivered a token without the %s prefix", label, subject, prefix)
		}
		c.tokens.Add(1)
		if sso != nil {
			c.ssoToks.Add(1)
		}
		got = append(got, chaosToken{subject, token})
		// The flow is spent: an immediate second poll must not mint again.
		form := url.Values{"client_id": {"difyctl"}, "device_code": {body["device_code"].(string)}, "grant_type": {domain.GrantTypeDevice}}
		if st, _, b, err := c.call("POST", "/openapi/v1/oauth/device/token", form, hdr, nil); err == nil && st == 200 {
			c.violation("flow of %s delivered a second token: %v", label, b["token_type"])
		}
	}
}

// pollFlow polls like a well-behaved CLI until the token or giveUp.
func (c *chaos) pollFlow(deviceCode string, interval time.Duration, hdr http.Header, giveUp <-chan struct{}) string {
	form := url.Values{"client_id": {"difyctl"}, "device_code": {deviceCode}, "grant_type": {domain.GrantTypeDevice}}
	wait := interval
	for {
		if !sleepOr(wait, giveUp) {
			return ""
		}
		wait = interval
		st, h, b, err := c.call("POST", "/openapi/v1/oauth/device/token", form, hdr, nil)
		switch {
		case err != nil: // the node went down under us: poll again after the interval
		case st == 200:
			tok, _ := b["access_token"].(string)
			return tok
		case st == 503:
			wait = max(interval, retryAfterOf(h))
		case st == 400 && b["error"] == "authorization_pending":
		case st == 400 && b["error"] == "slow_down":
			interval += domain.SlowDownStep
			wait = interval
		default:
			c.violation("poll of an approved flow answered %d %v", st, b)
			return ""
		}
	}
}

// inject runs one fault at a time, each healed before the next, until stop.
func (c *chaos) inject(stop <-chan struct{}) {
	for sleepOr(time.Duration(200+rand.IntN(600))*time.Millisecond, stop) {
		n := c.nodes[rand.IntN(len(c.nodes))]
		p, which := n.redis, "redis"
		if rand.IntN(2) == 0 {
			p, which = n.pg, "postgres"
		}
		hold := time.Duration(500+rand.IntN(1500)) * time.Millisecond
		c.faulting.Add(1)
		var name string
		switch rand.IntN(4) {
		case 0:
			name = "cut " + which
			p.cut()
			time.Sleep(hold)
			p.restore()
		case 1:
			name = "slow " + which
			p.slow(3 * max(gormrepo.OpTimeout, redisstore.OpTimeout))
			time.Sleep(hold)
			p.slow(0)
		case 2:
			name = "restart instance"
			n.stop()
			time.Sleep(hold / 2)
			n.start(c.t)
		default:
			name = "cut redis everywhere"
			for _, m := range c.nodes {
				m.redis.cut()
			}
			time.Sleep(hold)
			for _, m := range c.nodes {
				m.redis.restore()
			}
		}
		c.healedAt.Store(time.Now().UnixNano())
		c.faulting.Add(-1)
		c.mu.Lock()
		c.faults[name]++
		c.mu.Unlock()
	}
}

// checkTokens: each CLI's last token per subject authenticates; every
// earlier one was replaced in place by the next login of the same subject on
// the same device and is refused.
func (c *chaos) checkTokens(tokens [][]chaosToken) {
	for i, ts := range tokens {
		last := map[string]int{}
		for j, tok := range ts {
			last[tok.subject] = j
		}
		for j, tok := range ts {
			want := 401
			if last[tok.subject] == j {
				want = 200
			}
			st, _, _, err := c.call("GET", "/openapi/v1/oauth/authorizations", nil, http.Header{"Authorization": {"Bearer " + tok.token}}, nil)
			if err != nil || st != want {
				c.violation("token %d of CLI %d answered %d (%v), want %d", j+1, i, st, err, want)
			}
		}
	}
}

// checkLiveRows: no device holds two live tokens.
func (c *chaos) checkLiveRows(dsn string) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var dup int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM oauth_access_tokens WHERE revoked_at IS NULL
		GROUP BY subject_email, subject_issuer, client_id, device_label HAVING count(*) > 1) d`).Scan(&dup)
	if err != nil {
		c.t.Fatalf("count duplicate live rows: %v", err)
	}
	if dup > 0 {
		c.violation("%d devices hold more than one live token", dup)
	}
}

// report prints the run's figures and fails on any violation.
func (c *chaos) report(dur time.Duration, clis int, baseHeap, peakHeap, endHeap uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	codes := make([]int, 0, len(c.status))
	for k := range c.status {
		codes = append(codes, k)
	}
	sort.Ints(codes)
	var st []string
	for _, k := range codes {
		st = append(st, fmt.Sprintf("%d:%d", k, c.status[k]))
	}
	c.t.Logf("chaos: %s, %d CLIs, %d flows, %d tokens (%d through SSO); statuses %v; faults %v; heap after GC %d KiB -> %d KiB (peak %d KiB)",
		dur, clis, c.flows.Load(), c.tokens.Load(), c.ssoToks.Load(), st, c.faults, baseHeap>>10, endHeap>>10, peakHeap>>10)
	c.t.Logf("chaos invariants: at most one token per flow, at most one live row per device, no 5xx but 503 in faults, every kept token valid, heap bounded: %d violations", len(c.errs))
	for _, e := range c.errs {
		c.t.Error(e)
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// atomic64 keeps a running maximum.
type atomic64 struct {
	mu sync.Mutex
	v  uint64
}

func (a *atomic64) max() uint64 { a.mu.Lock(); defer a.mu.Unlock(); return a.v }

func sampleHeap(peak *atomic64, done <-chan struct{}) {
	for sleepOr(500*time.Millisecond, done) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak.mu.Lock()
		peak.v = max(peak.v, m.HeapAlloc)
		peak.mu.Unlock()
	}
}

// sleepOr sleeps d and reports true, or reports false as soon as ch closes.
func sleepOr(d time.Duration, ch <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return false
	case <-t.C:
		return true
	}
}
