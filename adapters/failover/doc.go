// Package failover is the rate limiter's outage policy: a ports.RateLimiter
// over the shared limiter that, per bucket, either fails closed (the
// shared limiter's outage is a 503) or fails open to an in-process limiter.
package failover
