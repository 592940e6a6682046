package main

import (
	"crypto/sha1" // names a Lua script as EVALSHA does, not a secret
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/devicegate/devicegate/adapters/gormrepo"
	"github.com/devicegate/devicegate/adapters/redisstore"
	"github.com/devicegate/devicegate/ports/porttest"
)

// faultBackends are the backends of one fault test: a private redis-server,
// a fresh Postgres schema, and a proxy in front of whichever one is faulted.
type faultBackends struct {
	redis *redisProcess
	proxy *tcpProxy
	pg    *pgCluster // only when the case asks for a private cluster
}

// faultCase injects one fault and heals it; outages is how many polls must
// see the fault (each one interval apart).
type faultCase struct {
	proxied   string // "redis", "postgres" or "" (no proxy)
	privatePG bool   // a private cluster the test may stop, not a schema on the shared server
	inject    func(b faultBackends)
	heal      func(b faultBackends)
	outages   int
}

// runFault runs c against a fresh instance with one approved flow waiting.
func runFault(t *testing.T, label string, c faultCase) {
	verifyNoLeaks(t)
	b := faultBackends{redis: startRedisProcess(t)}
	var direct string
	if c.privatePG {
		porttest.RequireEnv(t, porttest.PostgresEnv) // the gate of every Postgres test
		b.pg = startPGCluster(t)
		direct = b.pg.URL()
	} else {
		direct = postgresSchema(t)
	}
	vars := map[string]string{"DATABASE_URL": direct, "REDIS_URL": "redis://" + b.redis.addr() + "/0"}
	switch c.proxied {
	case "redis":
		b.proxy = newTCPProxy(t, b.redis.addr())
		vars["REDIS_URL"] = "redis://" + b.proxy.addr + "/0"
	case "postgres":
		u, _ := url.Parse(direct)
		b.proxy = newTCPProxy(t, u.Host)
		u.Host = b.proxy.addr
		vars["DATABASE_URL"] = u.String()
	}
	r := newFaultRig(t, vars, direct)
	cl := r.approvedFlow(label)

	c.inject(b)
	for i := range c.outages {
		cl.expectOutage(label + " poll " + strconv.Itoa(i+1))
	}
	if code, body := r.readyz(); code != 503 {
		t.Fatalf("readyz during %s: %d %s", label, code, body)
	}
	c.heal(b)
	cl.settle(cl.pollUntilToken(faultTokenBound))
	r.recovered(label + "-after")
}

// TestFaultRedisStoppedAndRestarted stops the Redis server holding an
// approved flow, then starts it again with its data.
func TestFaultRedisStoppedAndRestarted(t *testing.T) {
	runFault(t, "redis-restart", faultCase{outages: 2,
		inject: func(b faultBackends) { b.redis.stop() },
		heal:   func(b faultBackends) { b.redis.start() }})
}

// TestFaultRedisSlowerThanTimeout puts a proxy in front of Redis that holds
// every reply back for longer than the client's operation timeout.
func TestFaultRedisSlowerThanTimeout(t *testing.T) {
	runFault(t, "redis-slow", faultCase{proxied: "redis", outages: 2,
		inject: func(b faultBackends) { b.proxy.slow(3 * redisstore.OpTimeout) },
		heal:   func(b faultBackends) { b.proxy.slow(0) }})
}

// TestFaultRedisConnectionCut cuts every Redis connection and refuses new
// ones, then lets them through again.
func TestFaultRedisConnectionCut(t *testing.T) {
	runFault(t, "redis-cut", faultCase{proxied: "redis", outages: 1,
		inject: func(b faultBackends) { b.proxy.cut() },
		heal:   func(b faultBackends) { b.proxy.restore() }})
}

// TestFaultPostgresAnsweringSlowly holds every Postgres reply back for longer
// than the statement timeout while an approved flow is polled: the claim is
// taken in Redis, the mint cannot finish, and the approval must survive.
func TestFaultPostgresAnsweringSlowly(t *testing.T) {
	runFault(t, "pg-slow", faultCase{proxied: "postgres", outages: 2,
		inject: func(b faultBackends) { b.proxy.slow(3 * gormrepo.OpTimeout) },
		heal:   func(b faultBackends) { b.proxy.slow(0) }})
}

// TestFaultPostgresConnectionCut cuts every Postgres connection (and refuses
// new ones) through the proxy, then lets them through again.
func TestFaultPostgresConnectionCut(t *testing.T) {
	runFault(t, "pg-cut", faultCase{proxied: "postgres", outages: 1,
		inject: func(b faultBackends) { b.proxy.cut() },
		heal:   func(b faultBackends) { b.proxy.restore() }})
}

// TestFaultPostgresStoppedAndRestarted stops a private Postgres cluster (fast
// shutdown: every session terminated) under an approved flow, then starts it.
func TestFaultPostgresStoppedAndRestarted(t *testing.T) {
	runFault(t, "pg-restart", faultCase{privatePG: true, outages: 2,
		inject: func(b faultBackends) { b.pg.stop() },
		heal:   func(b faultBackends) { b.pg.start() }})
}

// TestFaultRedisReplyLostAfterFinish cuts the Redis connection right after
// the finish script of a poll reached the server: the flow is finished, the
// token minted, and only the reply is lost. The client must still get its
// token (a 503 then expired_token would lose the approval for good).
func TestFaultRedisReplyLostAfterFinish(t *testing.T) {
	verifyNoLeaks(t)
	rp := startRedisProcess(t)
	proxy := newTCPProxy(t, rp.addr())
	db := postgresSchema(t)
	r := newFaultRig(t, map[string]string{"DATABASE_URL": db, "REDIS_URL": "redis://" + proxy.addr + "/0"}, db)
	script, err := os.ReadFile("../../adapters/redisstore/scripts/finish.lua")
	if err != nil {
		t.Fatal(err)
	}
	// Load it first, so the poll's EVALSHA runs it (not NOSCRIPT, then EVAL).
	if out, err := exec.Command("redis-cli", "-p", strconv.Itoa(rp.port), "SCRIPT", "LOAD", string(script)).CombinedOutput(); err != nil {
		t.Fatalf("SCRIPT LOAD: %v %s", err, out)
	}
	sum := sha1.Sum(script) // EVALSHA names the script by this
	c := r.approvedFlow("finish-reply-lost")
	proxy.loseReplyOnce([]byte(hex.EncodeToString(sum[:])))
	token := c.pollUntilToken(faultTokenBound)
	proxy.mu.Lock()
	hit := proxy.lose == nil
	proxy.mu.Unlock()
	if !hit {
		t.Fatal("the poll never ran the finish script through the proxy: the fault was not injected")
	}
	c.settle(token)
	r.recovered("finish-reply-lost-after")
}
