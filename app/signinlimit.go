package app

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// rateCount is one bucket and key a request is counted in.
type rateCount struct {
	bucket domain.RateBucket
	key    string
}

// signInCounts are the buckets a sign-in attempt is counted in (SPEC 7.1),
// the widest first: per client IP, per (email, client IP), per email.
func signInCounts(email, ip string) []rateCount {
	ipKey := domain.IPRateKey(ip)
	return []rateCount{
		{domain.BucketLoginIP, ipKey},
		{domain.BucketLoginEmailIP, domain.HashSecret(email + "\x00" + ipKey)},
		{domain.BucketLoginEmail, domain.HashSecret(email)},
	}
}

// countAll counts one request in every bucket of cs at now, in order. When
// one refuses (or fails), the ones already counted are taken back, so a
// refused request counts nowhere, and the refusal is returned.
func countAll(ctx context.Context, l ports.RateLimiter, cs []rateCount, now time.Time) error {
	for i, c := range cs {
		if err := limit(ctx, l, c.bucket, c.key, now); err != nil {
			if uerr := uncountAll(ctx, l, cs[:i], now); uerr != nil {
				return uerr
			}
			return err
		}
	}
	return nil
}

// uncountAll takes back the request counted at now in every bucket of cs;
// it stops at the first error.
func uncountAll(ctx context.Context, l ports.RateLimiter, cs []rateCount, now time.Time) error {
	if l == nil {
		return nil
	}
	for _, c := range cs {
		if err := l.Undo(ctx, c.bucket, c.key, now); err != nil {
			return err
		}
	}
	return nil
}
