package domain

import (
	"net/netip"
	"time"
)

// RateBucket is one rate-limit rule: at most Limit requests per Window per key.
// A Limit <= 0 disables the bucket.
type RateBucket struct {
	Name   string
	Limit  int
	Window time.Duration
	// FailOpen is the bucket's outage policy: while the shared limiter is
	// unavailable, count in the instance's own memory (true, where refusing
	// would take every client down), or answer 503 (false, where a bypass
	// would help an attacker: sign-in and user-code entry).
	FailOpen bool
}

// The buckets of SPEC 4 with their default limits.
var (
	BucketDeviceCode      = RateBucket{Name: "device_code", Limit: 60, Window: time.Hour}
	BucketLookup          = RateBucket{Name: "lookup", Limit: 60, Window: 5 * time.Minute}
	BucketSSOInitiate     = RateBucket{Name: "sso_initiate", Limit: 60, Window: time.Hour}
	BucketDecision        = RateBucket{Name: "decision", Limit: 10, Window: time.Hour}
	BucketApproveExternal = RateBucket{Name: "approve_external", Limit: 10, Window: time.Hour}
	// BucketUserCodeGuess is the deployment-wide ceiling on failed user-code
	// tries by anonymous callers (RFC 8628 5.1), counted under the single key
	// GlobalRateKey on the shared limiter, on top of the per-IP buckets. The
	// default keeps the expected number of codes a distributed guesser finds
	// in a code's 15 minutes below 10^-6 with 1,000 flows pending at once:
	// 600 x 1,000 / 30^8 = 9.1 x 10^-7 (docs/SECURITY.md, 5.1).
	BucketUserCodeGuess = RateBucket{Name: "user_code_guess", Limit: 600, Window: 15 * time.Minute}
	// BucketUserCodeGuessAccount counts the failed user-code tries of a
	// signed-in caller, keyed by account id, in place of the global
	// ceiling: a signed-in person is never locked out by anonymous
	// guessers, and only operators make accounts, so an attacker cannot
	// mint budget (docs/SECURITY.md, 5.1).
	BucketUserCodeGuessAccount = RateBucket{Name: "user_code_guess_account", Limit: 20, Window: 15 * time.Minute}
	BucketMe                   = RateBucket{Name: "me", Limit: 60, Window: time.Minute, FailOpen: true}
	BucketBearer               = RateBucket{Name: "bearer", Limit: 60, Window: time.Minute, FailOpen: true}
	// The sign-in buckets count failed sign-ins only (SPEC 7.1): the tight
	// one per (email, client IP), so an attacker's address cannot lock the
	// owner out from theirs; a looser ceiling per email across all
	// addresses, against a distributed guesser; one per client IP, against
	// spraying one password over many emails.
	BucketLoginEmailIP = RateBucket{Name: "login_email_ip", Limit: 5, Window: 15 * time.Minute}
	BucketLoginEmail   = RateBucket{Name: "login_email", Limit: 50, Window: 15 * time.Minute}
	BucketLoginIP      = RateBucket{Name: "login_ip", Limit: 20, Window: 15 * time.Minute}
)

// GlobalRateKey is the key of a bucket counted once for the whole deployment.
const GlobalRateKey = "global"

// AccountRateKey is the rate-limit key of a signed-in caller's account in a
// bucket otherwise keyed by client address (IPRateKey never has this form).
func AccountRateKey(accountID string) string { return "account:" + accountID }

// RateDecision is a limiter's answer. RetryAfter is set (>= 1 s) when refused.
type RateDecision struct {
	Allowed    bool
	RetryAfter time.Duration
}

// IPRateKey is the rate-limit key of a client address: the address itself
// for IPv4, its /64 network for IPv6 (one subscriber usually holds a whole
// /64, so per-address keys would let it dodge every per-IP bucket).
// Anything unparsable is used as given.
func IPRateKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
