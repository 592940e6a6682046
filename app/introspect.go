package app

import (
	"context"
	"crypto/subtle"
	"errors"

	"github.com/devicegate/devicegate/domain"
)

// Introspect is RFC 7662 token introspection for resource servers, at
// POST /openapi/v1/oauth/introspect, authenticated with INTROSPECTION_SECRET.
type Introspect struct {
	Auth   *Authenticator
	Secret string // empty disables the endpoint
}

// Introspection is the RFC 7662 answer; Active=false carries nothing else.
type Introspection struct {
	Active    bool
	Principal domain.Principal
}

// ErrIntrospectionDisabled reports that no INTROSPECTION_SECRET is configured.
var ErrIntrospectionDisabled = errors.New("introspection disabled")

// Authorize checks the caller's credential against the configured secret in constant time.
func (u *Introspect) Authorize(credential string) error {
	if u.Secret == "" {
		return ErrIntrospectionDisabled
	}
	if subtle.ConstantTimeCompare([]byte(credential), []byte(u.Secret)) != 1 {
		return domain.ErrInvalidToken
	}
	return nil
}

// Execute validates token like a bearer presentation (cache, expiry, kind
// agreement). Invalid, expired and revoked tokens are {active:false};
// backend failures are errors. With bearer auth switched off
// (ENABLE_OAUTH_BEARER) it answers domain.ErrBearerDisabled, as the bearer
// routes do, so no resource server is told a token is active that the
// service itself refuses.
func (u *Introspect) Execute(ctx context.Context, token string) (Introspection, error) {
	if !u.Auth.Enabled {
		return Introspection{}, domain.ErrBearerDisabled
	}
	p, err := u.Auth.Inspect(ctx, token)
	switch {
	case err == nil:
		return Introspection{Active: true, Principal: p}, nil
	case errors.Is(err, domain.ErrInvalidToken), errors.Is(err, domain.ErrTokenExpired):
		return Introspection{}, nil
	}
	return Introspection{}, err
}
