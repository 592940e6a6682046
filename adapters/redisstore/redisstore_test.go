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
