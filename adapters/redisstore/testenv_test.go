package redisstore

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports/porttest"
	"github.com/redis/rueidis"
)

// testRedisAddr is the host:port of the test Redis (DEVICEGATE_TEST_REDIS);
// unset, the test skips, or fails under CI=true.
func testRedisAddr(t testing.TB) string {
	t.Helper()
	return porttest.RequireEnv(t, porttest.RedisEnv)
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
