package memstore_test

import (
	"testing"

	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/ports"
	"github.com/devicegate/devicegate/ports/porttest"
)

func TestFlows(t *testing.T) {
	porttest.TestFlows(t, func(*testing.T) ports.Flows { return memstore.NewFlows() })
}

func TestRateLimiter(t *testing.T) {
	porttest.TestRateLimiter(t, func(*testing.T) ports.RateLimiter { return memstore.NewRateLimiter() })
}
