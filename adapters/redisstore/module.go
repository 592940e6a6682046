package redisstore

import (
	"context"

	"github.com/redis/rueidis"
	"go.uber.org/fx"

	"github.com/devicegate/devicegate/ports"
)

// Module provides the Redis state backend for REDIS_URL with keys under
// prefix: flows, rate limiter, token cache (client-side cached), nonce store,
// locker, and a readiness pinger in the "pingers" group.
func Module(redisURL, prefix string) fx.Option {
	return fx.Module("redisstore",
		fx.Provide(
			func(lc fx.Lifecycle) (rueidis.Client, error) {
				c, err := NewClient(redisURL)
				if err != nil {
					return nil, err
				}
				lc.Append(fx.StopHook(func(context.Context) { c.Close() }))
				return c, nil
			},
			fx.Annotate(func(c rueidis.Client) *Flows { return NewFlows(c, prefix) }, fx.As(new(ports.Flows))),
			fx.Annotate(func(c rueidis.Client) *RateLimiter { return NewRateLimiter(c, prefix) }, fx.As(new(ports.RateLimiter))),
			fx.Annotate(func(c rueidis.Client) *TokenCache { return NewTokenCache(c, prefix) }, fx.As(new(ports.TokenCache))),
			fx.Annotate(func(c rueidis.Client) *NonceStore { return NewNonceStore(c, prefix) }, fx.As(new(ports.NonceStore))),
			fx.Annotate(func(c rueidis.Client) *Locker { return NewLocker(c, prefix) }, fx.As(new(ports.Locker))),
			fx.Annotate(NewPinger, fx.As(new(ports.Pinger)), fx.ResultTags(`group:"pingers"`)),
		),
	)
}
