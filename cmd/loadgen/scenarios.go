package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The scenarios, in the order a round runs them on each backend. Those
// after poll-approved feed on the tokens it minted (each token once).
var allScenarios = []string{"issue", "poll-pending", "poll-approved", "validate-cold", "revoke",
	"validate-introspect", "validate-bearer"}

// floorKinds are the floors, in the order a round runs them.
var floorKinds = []string{"framework", "redis", "postgres", "sqlite"}

// floorOf names the floor a scenario is divided by on a backend: on the
// embedded default everything is in process, so the framework floor, except
// for the paths that write a token row (the approved poll mints, revoke
// updates), whose floor is one upsert through a single SQLite connection; on
// Redis + Postgres the floor holding the one round trip the path cannot avoid.
func floorOf(backend, sc string) string {
	backend, _, _ = strings.Cut(backend, "@")
	if strings.TrimSuffix(backend, "+scale") == "embedded" {
		if sc == "poll-approved" || sc == "revoke" {
			return "sqlite"
		}
		return "framework"
	}
	switch sc {
	case "issue", "poll-pending":
		return "redis"
	case "poll-approved", "validate-cold", "revoke":
		return "postgres"
	default: // hot validations: no round trip on a cache hit
		return "framework"
	}
}

// target is one running devicegate and what its scenarios share.
type target struct {
	backend string
	label   string // backend[+scale], then @ACCESS_LOG when several settings run
	srv     *server
	cl      *client
	pending []flowCodes   // live pending flows polled round robin
	hot     string        // a token validated over and over
	minted  tokenPool     // tokens poll-approved minted in this round, not yet presented
	pool    int           // approved flows prepared per poll-approved run
	runTime time.Duration // warm-up + measured window of one run
	flowTag atomic.Int64
	scale   *scaleInfo // a +scale target's seeding (nil on an empty target)
	// polls and slowDowns count poll-pending's answers (how often a flow was polled too soon).
	polls, slowDowns atomic.Int64
	issued           atomic.Int64 // flows started by issue and poll-approved's set-up
	rss              *rssLog
}

// tokenPool hands out each token once.
type tokenPool struct {
	mu   sync.Mutex
	toks []string
	next int
}

func (p *tokenPool) add(t string) { p.mu.Lock(); p.toks = append(p.toks, t); p.mu.Unlock() }

func (p *tokenPool) take() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next >= len(p.toks) {
		return "", false
	}
	p.next++
	return p.toks[p.next-1], true
}

// rewind lets the next scenario present the same tokens again.
func (p *tokenPool) rewind() { p.mu.Lock(); p.next = 0; p.mu.Unlock() }

func (p *tokenPool) reset() { p.mu.Lock(); p.toks, p.next = nil, 0; p.mu.Unlock() }

func formRequest(method, u, form string) *http.Request {
	req, _ := http.NewRequest(method, u, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func (t *target) introspect(tok string) *http.Request {
	req := formRequest(http.MethodPost, t.srv.base+"/openapi/v1/oauth/introspect", "token="+url.QueryEscape(tok))
	req.Header.Set("Authorization", "Bearer "+introSecret)
	return req
}

// scenario builds sc for one run, preparing what it needs first (outside the measurement).
func (t *target) scenario(name string) (scenario, error) {
	base := t.srv.base
	switch name {
	case "issue":
		check := expectStatus(200, `"user_code"`)
		return scenario{name: name,
			next: func() (*http.Request, error) { return codeRequest(base, "load", t.cl.ips), nil },
			check: func(status int, body []byte) string {
				msg := check(status, body)
				if msg == "" {
					t.issued.Add(1)
				}
				return msg
			}}, nil
	case "poll-pending":
		if t.scale != nil {
			if err := t.scale.flowsLeft(t.runTime); err != nil {
				return scenario{}, err
			}
		}
		var i atomic.Uint64
		check := expectStatus(400, `"authorization_pending"`, `"slow_down"`)
		return scenario{name: name,
			next: func() (*http.Request, error) {
				return pollRequest(base, t.pending[int(i.Add(1)%uint64(len(t.pending)))].DeviceCode), nil
			},
			check: func(status int, body []byte) string {
				t.polls.Add(1)
				if bytes.Contains(body, []byte(`"slow_down"`)) {
					t.slowDowns.Add(1)
				}
				return check(status, body)
			}}, nil
	case "poll-approved":
		flows, err := t.cl.flows(t.pool, true, fmt.Sprintf("a%d", t.flowTag.Add(1)), 8)
		if err != nil {
			return scenario{}, fmt.Errorf("prepare approved flows: %w", err)
		}
		t.issued.Add(int64(len(flows)))
		t.minted.reset()
		var i atomic.Int64
		ok := expectStatus(200, `"access_token"`)
		return scenario{name: name, pooled: true,
			next: func() (*http.Request, error) {
				n := int(i.Add(1)) - 1
				if n >= len(flows) {
					return nil, errPoolEmpty
				}
				return pollRequest(base, flows[n].DeviceCode), nil
			},
			check: func(status int, body []byte) string {
				if msg := ok(status, body); msg != "" {
					return msg
				}
				var tok struct {
					AccessToken string `json:"access_token"`
				}
				if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
					return fmt.Sprintf("token answer without a token: %.200s", body)
				}
				t.minted.add(tok.AccessToken)
				return ""
			}}, nil
	case "validate-cold", "revoke":
		t.minted.rewind()
		check := expectStatus(200, `"active":true`)
		build := t.introspect
		if name == "revoke" {
			check = expectStatus(200)
			build = func(tok string) *http.Request {
				return formRequest(http.MethodPost, base+"/openapi/v1/oauth/revoke", "token="+url.QueryEscape(tok))
			}
		}
		return scenario{name: name, pooled: true,
			next: func() (*http.Request, error) {
				tok, ok := t.minted.take()
				if !ok {
					return nil, errPoolEmpty
				}
				return build(tok), nil
			},
			check: check}, nil
	case "validate-introspect":
		return scenario{name: name,
			next:  func() (*http.Request, error) { return t.introspect(t.hot), nil },
			check: expectStatus(200, `"active":true`)}, nil
	case "validate-bearer":
		// limit=0 is answered 400 by the handler after the whole bearer path
		// (prefix, hash, cache, expiry) and before any query: validation over
		// HTTP on a minimal bearer-protected route, without the list's SQL.
		return scenario{name: name,
			next: func() (*http.Request, error) {
				req, _ := http.NewRequest(http.MethodGet, base+"/openapi/v1/oauth/authorizations?limit=0", nil)
				req.Header.Set("Authorization", "Bearer "+t.hot)
				return req, nil
			},
			check: expectStatus(400)}, nil
	}
	return scenario{}, fmt.Errorf("unknown scenario %q", name)
}

// floorScenario is the floors' request: the poll's form, a fresh device code each time.
func floorScenario(kind string, base string) scenario {
	var i atomic.Uint64
	want := 400
	if kind == "postgres" || kind == "sqlite" {
		want = 200
	}
	return scenario{name: "floor-" + kind,
		next: func() (*http.Request, error) {
			return pollRequest(base, fmt.Sprintf("dc_floor%020d", i.Add(1))), nil
		},
		check: expectStatus(want)}
}
