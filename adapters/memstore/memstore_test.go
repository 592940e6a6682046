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

func TestNonceStore(t *testing.T) {
	porttest.TestNonceStore(t, func(*testing.T) ports.NonceStore { return memstore.NewNonceStore() })
}

func TestTokenCache(t *testing.T) {
	porttest.TestTokenCache(t, func(*testing.T) ports.TokenCache { return memstore.NewTokenCache() })
}

func TestLocker(t *testing.T) {
	porttest.TestLocker(t, func(*testing.T) ports.Locker { return memstore.NewLocker() })
}
