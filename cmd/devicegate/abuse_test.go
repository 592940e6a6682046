package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/devicegate/devicegate/adapters/httpapi"
	"github.com/devicegate/devicegate/adapters/instrument"
	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/adapters/redisstore"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// countingFlows counts the user-code look-ups that reach the flow store.
type countingFlows struct {
	ports.Flows
	byCode atomic.Int64
}

func (c *countingFlows) ByUserCode(ctx context.Context, code string, now time.Time) (domain.Flow, error) {
	c.byCode.Add(1)
	return c.Flows.ByUserCode(ctx, code, now)
}

// countFlows wraps the graph's flow store in c. On Redis the graph already
// decorates ports.Flows with its backend probes (fx takes one decorator per
// type), so there c counts through a probe of those decorators instead.
func countFlows(c *countingFlows, redis bool) fx.Option {
	if redis {
		return fx.Decorate(func(s instrument.Set) instrument.Set { return append(s, byCodeProbes{c}) })
	}
	return fx.Decorate(func(f ports.Flows) ports.Flows { c.Flows = f; return c })
}

// byCodeProbes counts, through the instrument decorators, the flow store's
// look-ups by user code.
type byCodeProbes struct{ c *countingFlows }

func (p byCodeProbes) Probe(_, op string) instrument.Probe {
	if op == "flow_by_user_code" {
		return byCodeProbe(p)
	}
	return nopProbe{}
}

type byCodeProbe struct{ c *countingFlows }

func (p byCodeProbe) Begin(ctx context.Context) context.Context { p.c.byCode.Add(1); return ctx }
func (byCodeProbe) End(context.Context, time.Time, error)       {}

type nopProbe struct{}

func (nopProbe) Begin(ctx context.Context) context.Context { return ctx }
func (nopProbe) End(context.Context, time.Time, error)     {}

// randomUserCode draws a well-formed user code (almost surely unknown).
func randomUserCode() string {
	b := make([]byte, 8)
	for i := range b {
		b[i] = domain.UserCodeAlphabet[rand.IntN(len(domain.UserCodeAlphabet))]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// nthAddr is the i-th address of a /8 (i < 2^24).
func nthAddr(first byte, i int) string {
	return fmt.Sprintf("%d.%d.%d.%d", first, byte(i>>16), byte(i>>8), byte(i))
}

// lookup is GET /oauth/device/lookup for code with X-Forwarded-For xff
// ("" for none); it returns the status and the answer's valid field.
func lookup(t *testing.T, base, code, xff string) (int, bool) {
	t.Helper()
	return lookupAs(t, http.DefaultClient, base, code, xff)
}

// lookupAs is lookup through client (a signed-in browser's, with its cookies).
func lookupAs(t *testing.T, client *http.Client, base, code, xff string) (int, bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/openapi/v1/oauth/device/lookup?"+url.Values{"user_code": {code}}.Encode(), nil)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Valid bool }
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	return resp.StatusCode, body.Valid
}

// startFlow starts a flow on base and returns its user code.
func startFlow(t *testing.T, base string) string {
	t.Helper()
	var raw map[string]any
	if code := postForm(t, base+"/openapi/v1/oauth/device/code", url.Values{"client_id": {"difyctl"}}, &raw); code != 200 {
		t.Fatalf("device code: %d", code)
	}
	return raw["user_code"].(string)
}

// TestUserCodeGuessingFromOneAddress: 1,000 guesses from one address reach
// the flow store at most the per-IP lookup budget times, whatever
// X-Forwarded-For says, unless the peer is a trusted proxy.
func TestUserCodeGuessingFromOneAddress(t *testing.T) {
	budget := domain.BucketLookup.Limit
	t.Run("untrusted peer, spoofed X-Forwarded-For", func(t *testing.T) {
		cf := &countingFlows{}
		in := startInstance(t, sqliteVars(t), countFlows(cf, false))
		statuses := map[int]int{}
		for i := 0; i < 1000; i++ {
			st, valid := lookup(t, in.Base, randomUserCode(), nthAddr(10, i))
			if valid {
				t.Fatal("a random code was valid")
			}
			statuses[st]++
		}
		if statuses[200] != budget || statuses[429] != 1000-budget {
			t.Errorf("statuses %v, want %d x 200 then 429s", statuses, budget)
		}
		if n := cf.byCode.Load(); n != int64(budget) {
			t.Errorf("%d look-ups reached the flow store, want the budget %d", n, budget)
		}
	})
	t.Run("trusted proxy", func(t *testing.T) {
		vars := sqliteVars(t)
		vars["TRUSTED_PROXIES"] = "127.0.0.1/32"
		vars["USER_CODE_GUESS_LIMIT_PER_15MIN"] = "1000000" // per-IP keys only (the global ceiling is the next test)
		cf := &countingFlows{}
		in := startInstance(t, vars, countFlows(cf, false))
		// 20 clients behind the proxy, 50 guesses each: every one is within
		// its own address's budget, so all 1,000 are processed.
		for i := 0; i < 1000; i++ {
			if st, _ := lookup(t, in.Base, randomUserCode(), nthAddr(10, i%20)); st != 200 {
				t.Fatalf("guess %d through a trusted proxy: %d", i, st)
			}
		}
		if n := cf.byCode.Load(); n != 1000 {
			t.Errorf("%d look-ups reached the flow store, want 1000", n)
		}
		// The proxy's own address is not a client: a 21st client still has its budget.
		if st, _ := lookup(t, in.Base, randomUserCode(), nthAddr(10, 20)); st != 200 {
			t.Errorf("a fresh client behind the proxy: %d", st)
		}
	})
}

// TestDistributedGuesserMeetsGlobalCeiling: a guesser spread over many
// addresses (through a trusted proxy, so each has its own per-IP budget)
// gets exactly USER_CODE_GUESS_LIMIT_PER_15MIN failed tries processed in
// total, across instances sharing Redis too. Only failed tries count:
// people looking up their real codes, any number of times, neither fill the
// ceiling nor are refused before it is full. While it is full, anonymous
// look-ups of real codes are refused too (anything else would be an oracle),
// but a signed-in approver still approves by code.
func TestDistributedGuesserMeetsGlobalCeiling(t *testing.T) {
	const ceiling = 50
	vars := func(v map[string]string) map[string]string {
		v["TRUSTED_PROXIES"] = "127.0.0.1/32"
		v["USER_CODE_GUESS_LIMIT_PER_15MIN"] = fmt.Sprint(ceiling)
		return v
	}
	t.Run("memory", func(t *testing.T) {
		v := vars(sqliteVars(t))
		cf := &countingFlows{}
		in := startInstance(t, v, countFlows(cf, false))
		guessCeiling(t, v, ceiling, []*instance{in}, []*countingFlows{cf})
	})
	t.Run("default ceiling", func(t *testing.T) {
		v := sqliteVars(t)
		v["TRUSTED_PROXIES"] = "127.0.0.1/32"
		in := startInstance(t, v)
		for i := range domain.BucketUserCodeGuess.Limit {
			if st, _ := lookup(t, in.Base, randomUserCode(), nthAddr(10, i)); st != 200 {
				t.Fatalf("guess %d under the default ceiling: %d", i+1, st)
			}
		}
		if st, _ := lookup(t, in.Base, randomUserCode(), nthAddr(11, 0)); st != http.StatusTooManyRequests {
			t.Fatalf("guess past the default ceiling of %d: %d", domain.BucketUserCodeGuess.Limit, st)
		}
	})
	t.Run("redis, two instances", func(t *testing.T) {
		rURL, prefix := redisURL(t)
		v := vars(map[string]string{"DATABASE_URL": postgresSchema(t), "REDIS_URL": rURL, "REDIS_KEY_PREFIX": prefix,
			"SECRET_KEY": "abuse-test-secret-key-0123456789abcdef"})
		if err := run(t.Context(), []string{"migrate"}, testEnv(v), io.Discard, io.Discard); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		ca, cb := &countingFlows{}, &countingFlows{}
		a, b := startInstance(t, v, countFlows(ca, true)), startInstance(t, v, countFlows(cb, true))
		guessCeiling(t, v, ceiling, []*instance{a, b}, []*countingFlows{ca, cb})
	})
}

func guessCeiling(t *testing.T, vars map[string]string, ceiling int, ins []*instance, cfs []*countingFlows) {
	code := startFlow(t, ins[0].Base)
	client, guesser := 0, 0
	realLookups := func(n int) {
		for range n {
			in := ins[client%len(ins)]
			if st, valid := lookup(t, in.Base, code, nthAddr(172, client)); st != 200 || !valid {
				t.Fatalf("real code, client %d: %d valid=%v", client, st, valid)
			}
			client++
		}
	}
	guess := func() int {
		in := ins[guesser%len(ins)]
		st, valid := lookup(t, in.Base, randomUserCode(), nthAddr(10, guesser))
		if valid {
			t.Fatal("a random code was valid")
		}
		guesser++
		return st
	}
	stored := func() int64 {
		var n int64
		for _, c := range cfs {
			n += c.byCode.Load()
		}
		return n
	}

	realLookups(3 * ceiling)
	for i := 0; i < ceiling-1; i++ {
		if st := guess(); st != 200 {
			t.Fatalf("guess %d of %d under the ceiling: %d", i+1, ceiling-1, st)
		}
	}
	realLookups(3 * ceiling) // a ceiling that counted these would be full by now
	statuses := map[int]int{}
	for range 5 * ceiling {
		statuses[guess()]++
	}
	if statuses[200] != 1 || statuses[429] != 5*ceiling-1 {
		t.Errorf("past the ceiling: statuses %v, want one 200 then 429s", statuses)
	}
	if n := stored() - int64(client); n != int64(ceiling) {
		t.Errorf("%d guesses reached the flow store, want the ceiling %d", n, ceiling)
	}

	// Full: an anonymous look-up of the real code is refused like a guess...
	if st, _ := lookup(t, ins[len(ins)-1].Base, code, nthAddr(192, 1)); st != http.StatusTooManyRequests {
		t.Errorf("real code while the ceiling is full: %d, want 429", st)
	}
	// ...but a signed-in person, from any address (here a guesser's, whose
	// per-IP budget is spent), still looks it up and approves it: their
	// lookups answer to a per-account budget instead (issue #12).
	createAccount(t, vars, "ada@example.com", "correct horse battery", "Engines")
	createAccount(t, vars, "bob@example.com", "correct horse battery", "Engines")
	br := newBrowser(t, ins[len(ins)-1].Base)
	br.login("ada@example.com", "correct horse battery")
	if st, valid := lookupAs(t, br.client, br.base, code, nthAddr(10, 0)); st != 200 || !valid {
		t.Fatalf("signed-in lookup of the real code while the ceiling is full: %d valid=%v", st, valid)
	}
	// A signed-in guesser meets the per-account budget, whichever instance answers.
	perAccount := domain.BucketUserCodeGuessAccount.Limit
	for i := range perAccount {
		in := ins[i%len(ins)]
		if st, valid := lookupAs(t, br.client, in.Base, randomUserCode(), nthAddr(10, i)); st != 200 || valid {
			t.Fatalf("signed-in failed try %d of %d: %d valid=%v", i+1, perAccount, st, valid)
		}
	}
	if st, _ := lookupAs(t, br.client, br.base, randomUserCode(), nthAddr(203, 0)); st != http.StatusTooManyRequests {
		t.Errorf("signed-in failed try past the per-account budget: %d, want 429", st)
	}
	if st, valid := lookupAs(t, br.client, br.base, code, nthAddr(203, 1)); st != http.StatusTooManyRequests || valid {
		t.Errorf("signed-in real code past the per-account budget: %d, want 429 (no oracle)", st)
	}
	// Another account's budget is its own; it approves.
	bob := newBrowser(t, ins[0].Base)
	bob.login("bob@example.com", "correct horse battery")
	if st, valid := lookupAs(t, bob.client, bob.base, code, nthAddr(203, 2)); st != 200 || !valid {
		t.Fatalf("second account's lookup: %d valid=%v", st, valid)
	}
	if st := bob.decide(code, true); st != 200 {
		t.Errorf("approve while the ceiling is full: %d", st)
	}
	// And the ceiling still refuses anonymous callers.
	if st, _ := lookup(t, ins[0].Base, code, nthAddr(192, 2)); st != http.StatusTooManyRequests {
		t.Errorf("anonymous lookup after the signed-in ones: %d, want 429", st)
	}
}

// pollUnknown polls n random device codes on base (8 at a time) and checks
// each is answered expired_token.
func pollUnknown(t *testing.T, base string, n int) {
	t.Helper()
	var failed atomic.Int64
	var next atomic.Int64
	done := make(chan struct{})
	for w := 0; w < 8; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for next.Add(1) <= int64(n) {
				dc := make([]byte, 32)
				for i := range dc {
					dc[i] = byte(rand.IntN(256))
				}
				var body struct{ Error string }
				resp, err := http.PostForm(base+"/openapi/v1/oauth/device/token", url.Values{"client_id": {"difyctl"},
					"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
					"device_code": {fmt.Sprintf("dc_%x", dc)}})
				st := 0
				if err == nil { // t.Fatal is for the test's goroutine: a failure is counted instead
					st = resp.StatusCode
					_ = json.NewDecoder(resp.Body).Decode(&body)
					resp.Body.Close()
				}
				if st != 400 || body.Error != "expired_token" {
					failed.Add(1)
				}
			}
		}()
	}
	for w := 0; w < 8; w++ {
		<-done
	}
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d polls of unknown device codes were not 400 expired_token", f, n)
	}
}

// TestUnknownDeviceCodesCreateNoState: 10,000 polls with random device codes
// leave the flow store and the rate limiter exactly as they were, in memory
// and in Redis (every key under the instance's prefix).
func TestUnknownDeviceCodesCreateNoState(t *testing.T) {
	const polls = 10_000
	t.Run("memory", func(t *testing.T) {
		var flows ports.Flows
		var limiter ports.RateLimiter
		in := startInstance(t, sqliteVars(t), fx.Populate(&flows, &limiter))
		mf, ok := flows.(*memstore.Flows)
		if u, ok := limiter.(interface{ Unwrap() ports.RateLimiter }); ok {
			limiter = u.Unwrap() // the refusal counter around the memory limiter
		}
		ml, ok2 := limiter.(*memstore.RateLimiter)
		if !ok || !ok2 {
			t.Fatalf("memory state expected, got %T and %T", flows, limiter)
		}
		startFlow(t, in.Base) // something to keep
		f0, l0 := mf.Len(), ml.Len()
		pollUnknown(t, in.Base, polls)
		if f, l := mf.Len(), ml.Len(); f != f0 || l != l0 {
			t.Errorf("after %d unknown polls: %d flows (was %d), %d rate-limit logs (was %d)", polls, f, f0, l, l0)
		}
	})
	t.Run("redis", func(t *testing.T) {
		rURL, prefix := redisURL(t)
		v := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "devicegate.db"),
			"REDIS_URL": rURL, "REDIS_KEY_PREFIX": prefix}
		in := startInstance(t, v)
		startFlow(t, in.Base)
		k0 := redisKeys(t, rURL, prefix)
		pollUnknown(t, in.Base, polls)
		if k := redisKeys(t, rURL, prefix); !slices.Equal(k, k0) {
			t.Errorf("after %d unknown polls %d keys are under the prefix (were %d): %.300v", polls, len(k), len(k0), k)
		}
	})
}

// redisKeys lists the keys under prefix, sorted.
func redisKeys(t *testing.T, redisURL, prefix string) []string {
	t.Helper()
	c, err := redisstore.NewClient(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var keys []string
	for cursor := uint64(0); ; {
		e, err := c.Do(t.Context(), c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, e.Elements...)
		if cursor = e.Cursor; cursor == 0 {
			break
		}
	}
	slices.Sort(keys)
	return keys
}

// TestHeaderBoundsOnARealServer: through the real listener, headers over
// httpapi.MaxHeaderBytes are refused by net/http itself (431) before any
// handler, headers within it are served, and an oversized Cookie header
// within it is the service's own canonical 431.
func TestHeaderBoundsOnARealServer(t *testing.T) {
	in := startInstance(t, sqliteVars(t))
	// A client of its own: net/http's 431 (plain text, before any route) is
	// outside the OpenAPI document's schemas, which the suite's default
	// transport checks every answer against; the document says so in prose.
	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	get := func(name, value string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, in.Base+"/openapi/v1/oauth/device/lookup?user_code=ABCD-EFGH", nil)
		req.Header.Set(name, value)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, body := get("X-Pad", strings.Repeat("a", httpapi.MaxHeaderBytes-1024)); st != 200 {
		t.Errorf("headers within MaxHeaderBytes: %d %s", st, body)
	}
	// net/http allows 4 KiB of slack over MaxHeaderBytes; a default server (1 MiB) would serve this.
	if st, _ := get("X-Pad", strings.Repeat("a", httpapi.MaxHeaderBytes+8<<10)); st != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("headers over MaxHeaderBytes: %d, want 431", st)
	}
	st, body := get("Cookie", "pad="+strings.Repeat("x", httpapi.MaxCookieBytes))
	var e struct {
		Code   string
		Status int
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || st != 431 || e.Code != "request_header_fields_too_large" || e.Status != 431 {
		t.Errorf("oversized Cookie header: %d %s", st, body)
	}
}
