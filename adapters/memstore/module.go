package memstore

import (
	"context"
	"time"

	"go.uber.org/fx"

	"github.com/devicegate/devicegate/ports"
)

// janitorInterval is how often expired flows and empty rate-limit logs are swept.
const janitorInterval = time.Minute

// Module provides the in-memory state backend (the embedded default): flows,
// rate limiter, token cache, nonce store and locker, each bound to its port.
// It serves one process; several instances need redisstore.
var Module = fx.Module("memstore",
	fx.Provide(
		fx.Annotate(newSweptFlows, fx.As(new(ports.Flows))),
		fx.Annotate(newSweptLimiter, fx.As(new(ports.RateLimiter))),
		fx.Annotate(NewTokenCache, fx.As(new(ports.TokenCache))),
		fx.Annotate(NewNonceStore, fx.As(new(ports.NonceStore))),
		fx.Annotate(NewLocker, fx.As(new(ports.Locker))),
	),
)

// background runs fn from OnStart until OnStop.
func background(lc fx.Lifecycle, fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() { defer close(done); fn(ctx) }()
			return nil
		},
		OnStop: func(stop context.Context) error {
			cancel()
			select {
			case <-done:
			case <-stop.Done():
			}
			return nil
		},
	})
}

func newSweptFlows(lc fx.Lifecycle) *Flows {
	f := NewFlows()
	background(lc, func(ctx context.Context) { f.RunJanitor(ctx, janitorInterval) })
	return f
}

func newSweptLimiter(lc fx.Lifecycle) *RateLimiter {
	l := NewRateLimiter()
	background(lc, func(ctx context.Context) {
		runJanitor(ctx, janitorInterval, func() { l.Sweep(time.Now()) })
	})
	return l
}
