package ports

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// RateLimiter counts requests in buckets (SPEC 4). Both methods take one
// round trip at most.
type RateLimiter interface {
	// Allow counts one request for key in bucket at now, unless the bucket is
	// full, and says whether it is allowed. A refused request is not counted
	// and carries RetryAfter >= 1 s: the time until a request would be allowed.
	// A bucket with Limit <= 0 always allows.
	Allow(ctx context.Context, b domain.RateBucket, key string, now time.Time) (domain.RateDecision, error)
	// Undo takes back one request that Allow counted for key in b at exactly
	// now (the now Allow was given), because it turned out not to count: a
	// sign-in whose password was right. Counting first and taking back after
	// keeps the limit exact under concurrency, where a check that does not
	// count would let every parallel attempt through. Undo does nothing when
	// no request counted at now is held (it left the window, or was taken
	// back already) or when b.Limit <= 0.
	Undo(ctx context.Context, b domain.RateBucket, key string, now time.Time) error
}
