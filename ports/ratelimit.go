package ports

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// RateLimiter counts requests in buckets (SPEC 4).
type RateLimiter interface {
	// Allow counts one request for key in bucket at now, unless the bucket is
	// full, and says whether it is allowed. A refused request is not counted
	// and carries RetryAfter >= 1 s: the time until a request would be allowed.
	// A bucket with Limit <= 0 always allows.
	Allow(ctx context.Context, b domain.RateBucket, key string, now time.Time) (domain.RateDecision, error)
}
