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
	// GuessBucket is the deployment-wide ceiling on failed tries
	// (domain.BucketUserCodeGuess, limit from USER_CODE_GUESS_LIMIT_PER_15MIN);
	// the zero value is off.
	GuessBucket domain.RateBucket
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
func (u *Lookup) Execute(ctx context.Context, rawUserCode, ip string) (LookupOutput, error) {
	now := u.now()
	if err := limit(ctx, u.Limiter, domain.BucketLookup, domain.IPRateKey(ip), now); err != nil {
		return LookupOutput{}, err
	}
	if rawUserCode == "" {
		return LookupOutput{}, fmt.Errorf("%w: user_code is required", domain.ErrInvalidRequest)
	}
	code, ok := domain.NormalizeUserCode(rawUserCode)
	if !ok {
		return LookupOutput{}, nil
	}
	f, err := guessFlow(ctx, u.Limiter, u.GuessBucket, u.Flows, code, now)
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
