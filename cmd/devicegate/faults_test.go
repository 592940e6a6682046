package main

import (
	"net/url"
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
