package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Lookup is GET /oauth/device/lookup (SPEC 2.4). It never reveals token or device-code data.
type Lookup struct {
	Env
	Flows   ports.FlowStore
	Limiter ports.RateLimiter
	// GuessBucket is the deployment-wide ceiling on failed tries by
	// anonymous callers (domain.BucketUserCodeGuess, limit from
	// USER_CODE_GUESS_LIMIT_PER_15MIN); the zero value is off.
	GuessBucket domain.RateBucket
	// AccountGuessBucket counts a signed-in caller's failed tries per
	// account (domain.BucketUserCodeGuessAccount) in place of GuessBucket;
	// the zero value is off.
	AccountGuessBucket domain.RateBucket
}

// LookupCaller is who looks a code up, as the HTTP adapter found it.
type LookupCaller struct {
	// AccountID is the account of a valid console session ("" for none).
	AccountID string
	// Granted says the caller holds an approval grant (SPEC 2.6) bound to
	// the looked-up code: its look-ups of that code are not guesses.
	Granted bool
}

// Approver reports whether the caller may see a pending request's details.
func (c LookupCaller) Approver() bool { return c.AccountID != "" || c.Granted }

// buckets returns the per-caller lookup bucket's key and the failed-try
// bucket with its key. A signed-in caller answers to its account, not to
// its address nor to the deployment-wide ceiling, so anonymous guessers
// (who can keep that ceiling full) cannot lock it out; a grant holder's
// look-ups of its own code are not counted as tries.
func (u *Lookup) buckets(ip string, by LookupCaller) (lookupKey string, guess domain.RateBucket, guessKey string) {
	switch {
	case by.AccountID != "":
		return domain.AccountRateKey(by.AccountID), u.AccountGuessBucket, by.AccountID
	case by.Granted:
		return domain.IPRateKey(ip), domain.RateBucket{}, ""
	default:
		return domain.IPRateKey(ip), u.GuessBucket, domain.GlobalRateKey
	}
}

// LookupOutput is the answer of Lookup.
type LookupOutput struct {
	Valid            bool
	ExpiresRemaining int
	ClientID         string // "" -> null
	DeviceLabel      string
	// CreatedAt and RequestNetwork (the creating client's domain.CoarseNetwork,
	// never its address) describe a pending request for a signed-in approver;
	// the HTTP adapter shows them only to a console session (SPEC 8).
	CreatedAt      time.Time
	RequestNetwork string
}

// Execute looks a user code up.
func (u *Lookup) Execute(ctx context.Context, rawUserCode, ip string, by LookupCaller) (LookupOutput, error) {
	now := u.now()
	lookupKey, guess, guessKey := u.buckets(ip, by)
	if err := limit(ctx, u.Limiter, domain.BucketLookup, lookupKey, now); err != nil {
		return LookupOutput{}, err
	}
	if rawUserCode == "" {
		return LookupOutput{}, fmt.Errorf("%w: user_code is required", domain.ErrInvalidRequest)
	}
	code, ok := domain.NormalizeUserCode(rawUserCode)
	if !ok {
		return LookupOutput{}, nil
	}
	f, err := guessFlow(ctx, u.Limiter, guess, guessKey, u.Flows, code, now)
	if errors.Is(err, domain.ErrNotFound) {
		return LookupOutput{}, nil
	}
	if err != nil {
		return LookupOutput{}, err
	}
	if f.Status != domain.FlowPending {
		return LookupOutput{ClientID: f.ClientID}, nil
	}
	return LookupOutput{Valid: true, ExpiresRemaining: f.Remaining(now), ClientID: f.ClientID, DeviceLabel: f.DeviceLabel,
		CreatedAt: f.CreatedAt, RequestNetwork: domain.CoarseNetwork(f.CreatedIP)}, nil
}
