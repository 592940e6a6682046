package redisstore

import (
	"testing"

	"github.com/devicegate/devicegate/ports"
	"github.com/devicegate/devicegate/ports/porttest"
)

// The port conformance suites against a real Redis (DEVICEGATE_TEST_REDIS),
// each subtest under its own random key prefix (inside the test's prefix,
// which is cleaned up).

func TestFlowsConformance(t *testing.T) {
	c, prefix := newTestClient(t)
	porttest.TestFlows(t, func(t *testing.T) ports.Flows { return NewFlows(c, prefix+testPrefix()) })
}

func TestRateLimiterConformance(t *testing.T) {
	c, prefix := newTestClient(t)
	porttest.TestRateLimiter(t, func(t *testing.T) ports.RateLimiter { return NewRateLimiter(c, prefix+testPrefix()) })
}

func TestNonceStoreConformance(t *testing.T) {
	c, prefix := newTestClient(t)
	porttest.TestNonceStore(t, func(t *testing.T) ports.NonceStore { return NewNonceStore(c, prefix+testPrefix()) })
}

func TestTokenCacheConformance(t *testing.T) {
	c, prefix := newTestClient(t)
	porttest.TestTokenCache(t, func(t *testing.T) ports.TokenCache { return NewTokenCache(c, prefix+testPrefix()) })
}

func TestLockerConformance(t *testing.T) {
	c, prefix := newTestClient(t)
	porttest.TestLocker(t, func(t *testing.T) ports.Locker { return NewLocker(c, prefix+testPrefix()) })
}
