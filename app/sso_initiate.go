package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/devicegate/devicegate/domain"
)

// Initiate is GET /oauth/device/sso-initiate (SPEC 2.6 step 1): it signs a
// state envelope for a pending flow and returns the gateway's URL.
func (u *SSO) Initiate(ctx context.Context, rawUserCode, ip string) (string, error) {
	now := u.now()
	if err := limit(ctx, u.Limiter, domain.BucketSSOInitiate, domain.IPRateKey(ip), now); err != nil {
		return "", err
	}
	if rawUserCode == "" {
		return "", fmt.Errorf("%w: user_code is required", domain.ErrInvalidRequest)
	}
	f, err := u.pendingFlowUnder(ctx, rawUserCode, u.GuessBucket, now)
	if errors.Is(err, domain.ErrNotFound) || errors.Is(err, domain.ErrAlreadyResolved) {
		return "", domain.ErrInvalidUserCode
	}
	if err != nil {
		return "", err
	}
	if u.ConsoleAPIURL == "" {
		return "", domain.ErrConsoleAPIURLUnset
	}
	nonce, err := domain.NewNonce(u.rand())
	if err != nil {
		return "", err
	}
	env := domain.NewStateEnvelope(f.UserCode, nonce, u.ConsoleAPIURL+SSOCompletePath, now)
	state, err := u.Signer.SignState(env)
	if err != nil {
		return "", fmt.Errorf("sso-initiate: %w", err)
	}
	if u.Gateway == nil {
		return "", fmt.Errorf("%w: no SSO gateway is configured (ENTERPRISE_API_URL or OIDC_ISSUER)", domain.ErrSSOInitiateFailed)
	}
	return u.Gateway.Initiate(ctx, domain.SSOInitiation{State: state, Envelope: env})
}
