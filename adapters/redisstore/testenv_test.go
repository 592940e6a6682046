package redisstore

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// requireEnv returns the variable's value; when it is unset the test skips,
// or fails under CI=true, where every edge must be exercised.
func requireEnv(t testing.TB, name, why string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if requireEnvCI() {
			t.Fatalf("%s is not set (CI=true): %s", name, why)
		}
		t.Skipf("%s is not set: %s", name, why)
	}
	return v
}

// requireEnvCI reports CI=true: missing test dependencies fail instead of skipping.
func requireEnvCI() bool { return os.Getenv("CI") == "true" }

// testRedisAddr is the host:port of the test Redis (DEVICEGATE_TEST_REDIS).
func testRedisAddr(t testing.TB) string {
	return requireEnv(t, "DEVICEGATE_TEST_REDIS", "set it to a Redis host:port, e.g. 127.0.0.1:6379")
}

// newTestClient connects to the test Redis with the production options and
// removes every key under the returned prefix at the end of the test.
func newTestClient(t testing.TB) (rueidis.Client, string) {
	t.Helper()
	c, err := NewClient("redis://" + testRedisAddr(t))
	if err != nil {
		t.Fatalf("connect to test Redis: %v", err)
	}
	prefix := testPrefix()
	t.Cleanup(func() {
		deleteKeys(c, prefix)
		c.Close()
	})
	return c, prefix
}

// testPrefix is a fresh random key prefix, isolating one test's keys.
func testPrefix() string {
	return "dgtest:" + strings.ToLower(rand.Text()[:10]) + ":"
}

// deleteKeys removes the keys under prefix (standalone Redis only).
func deleteKeys(c rueidis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var cursor uint64
	for {
		e, err := c.Do(ctx, c.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			return
		}
		for _, k := range e.Elements {
			c.Do(ctx, c.B().Del().Key(k).Build())
		}
		if cursor = e.Cursor; cursor == 0 {
			return
		}
	}
}
