package tokenclient

import (
	"context"
	"slices"
	"time"
)

// Subject types, as devicegate sends them in subject_type.
const (
	SubjectAccount     = "account"
	SubjectExternalSSO = "external_sso"
)

// ScopeFull is the scope of account tokens; it satisfies every scope check.
const ScopeFull = "full"

// Principal is who a valid token speaks for, as introspection reported it.
type Principal struct {
	// TokenID is the token's row id (token_id); safe to log, unlike the token.
	TokenID string
	// SubjectType is SubjectAccount or SubjectExternalSSO.
	SubjectType string
	// Email is the subject's email (username).
	Email string
	// Issuer is the subject's identity issuer (subject_issuer): the
	// sentinel "dify:account" for accounts, the IdP for external subjects.
	Issuer string
	// AccountID is the account id (sub) for account tokens, "" otherwise.
	AccountID string
	// ClientID is the OAuth client the token was issued to, e.g. "difyctl".
	ClientID string
	// Scopes are the granted scopes; see HasScope.
	Scopes []string
	// ExpiresAt is the token's hard expiry (exp); zero if devicegate sent none.
	ExpiresAt time.Time
}

// HasScope reports whether the principal may perform an operation needing
// scope s. "full" satisfies every scope; an empty s is always satisfied.
func (p Principal) HasScope(s string) bool {
	if s == "" {
		return true
	}
	for _, g := range p.Scopes {
		if g == s || g == ScopeFull {
			return true
		}
	}
	return false
}

// clone copies Scopes so callers cannot mutate a cached principal.
func (p Principal) clone() Principal {
	p.Scopes = slices.Clone(p.Scopes)
	return p
}

type principalKey struct{}

// ContextWithPrincipal returns ctx carrying p; Middleware does this for
// every authenticated request. Useful in handler tests.
func ContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal Middleware stored in ctx, and false
// if there is none (the handler is not behind Middleware).
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
