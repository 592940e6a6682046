package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Cache lifetimes of SPEC 3.4.
const (
	PositiveCacheTTL = 60 * time.Second
	NegativeCacheTTL = 10 * time.Second
)

// Authenticator validates bearer tokens (SPEC 3.4): kind by prefix, hash,
// cache, then database, then the per-token rate limit (for live tokens
// only); expiry is re-checked on every cache hit and the first
// presentation after expiry revokes the row.
type Authenticator struct {
	Env
	Kinds   *domain.KindRegistry
	Tokens  ports.TokenRepository
	Expirer ports.TokenExpirer
	Cache   ports.TokenCache // optional
	Limiter ports.RateLimiter
	// Bucket is the per-token bucket (OPENAPI_RATE_LIMIT_PER_TOKEN; Limit 0 disables).
	Bucket  domain.RateBucket
	Touch   *LastUsed // optional
	Enabled bool
	// Guard refuses tokens of inactive accounts on the database path (optional).
	Guard *AccountGuard
	// Watch turns a cache hit on a token another process revoked into a miss (optional).
	Watch *RevocationWatch
}

// BearerToken extracts the token from an Authorization header value
// (scheme case-insensitive). ok=false when there is no bearer credential.
func BearerToken(header string) (string, bool) {
	scheme, tok, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// Authenticate validates the Authorization header value.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (domain.Principal, error) {
	if !a.Enabled {
		return domain.Principal{}, domain.ErrBearerDisabled
	}
	token, ok := BearerToken(header)
	if !ok {
		return domain.Principal{}, domain.ErrMissingToken
	}
	return a.Validate(ctx, token)
}

// Validate validates a bare token string presented to a bearer route,
// counting it against the per-token bucket.
func (a *Authenticator) Validate(ctx context.Context, token string) (domain.Principal, error) {
	return a.validate(ctx, token, true)
}

// Inspect validates like Validate but outside the per-token bucket: a
// resource server's introspection is not a use of the token here.
func (a *Authenticator) Inspect(ctx context.Context, token string) (domain.Principal, error) {
	return a.validate(ctx, token, false)
}

func (a *Authenticator) validate(ctx context.Context, token string, limited bool) (domain.Principal, error) {
	p, layer, err := a.check(ctx, token, limited)
	a.observer().BearerChecked(bearerOutcome(err), layer)
	return p, err
}

// bearerOutcome is the metric outcome of a validation's error.
func bearerOutcome(err error) ports.BearerOutcome {
	var limited *domain.RateLimitedError
	switch {
	case err == nil:
		return ports.BearerValid
	case errors.Is(err, domain.ErrInvalidToken):
		return ports.BearerInvalid
	case errors.Is(err, domain.ErrTokenExpired):
		return ports.BearerExpired
	case errors.As(err, &limited):
		return ports.BearerRateLimited
	}
	return ports.BearerError
}

// check is validate before counting: it also says which layer answered.
func (a *Authenticator) check(ctx context.Context, token string, limited bool) (domain.Principal, ports.CacheLayer, error) {
	kind, ok := a.Kinds.KindOf(token)
	if !ok || len(token) > 128 {
		return domain.Principal{}, ports.LayerNone, domain.ErrInvalidToken
	}
	hash := domain.HashSecret(token)
	now := a.now()
	row, layer, err := a.resolve(ctx, hash, now)
	if err != nil {
		return domain.Principal{}, layer, err
	}
	if (kind.Subject == domain.SubjectAccount) != (row.AccountID != "") || row.Prefix != kind.Prefix {
		return domain.Principal{}, layer, domain.ErrInvalidToken
	}
	// Only a live token earns a per-token log: counting before the lookup
	// let every random "dfoa_..." header create one. An unknown token is
	// refused by its negative cache entry, or by the one database read that
	// makes that entry; the per-token bucket never protected against those.
	if limited {
		if err := limit(ctx, a.Limiter, a.Bucket, hash, now); err != nil {
			return domain.Principal{}, layer, err
		}
	}
	if a.Touch != nil {
		a.Touch.Seen(row.ID, hash, now)
	}
	return domain.Principal{
		Kind: kind, TokenID: row.ID, TokenHash: hash, SubjectEmail: row.SubjectEmail,
		SubjectIssuer: row.SubjectIssuer, AccountID: row.AccountID, ClientID: row.ClientID, ExpiresAt: row.ExpiresAt,
	}, layer, nil
}

// resolve finds the live row for hash through the cache, then the
// database, and says which layer answered.
func (a *Authenticator) resolve(ctx context.Context, hash string, now time.Time) (domain.AccessToken, ports.CacheLayer, error) {
	if a.Cache != nil {
		e, hit, err := a.Cache.Get(ctx, hash)
		if err != nil {
			a.log().WarnContext(ctx, "token cache read failed; using the database", "err", err)
		} else if hit && !a.Watch.Revoked(e.Token.ID) {
			layer := e.Layer
			if layer == ports.LayerNone {
				layer = ports.LayerShared
			}
			switch e.Negative {
			case ports.CacheInvalid:
				return domain.AccessToken{}, layer, domain.ErrInvalidToken
			case ports.CacheExpired:
				return domain.AccessToken{}, layer, domain.ErrTokenExpired
			}
			if now.Before(e.Token.ExpiresAt) {
				return e.Token, layer, nil
			}
			return domain.AccessToken{}, layer, a.expire(ctx, hash, e.Token, now)
		}
	}
	row, err := a.resolveDB(ctx, hash, now)
	return row, ports.LayerDatabase, err
}

// resolveDB is resolve's database path, which fills the cache.
func (a *Authenticator) resolveDB(ctx context.Context, hash string, now time.Time) (domain.AccessToken, error) {
	row, err := a.Tokens.ByHash(ctx, hash)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !row.RevokedAt.IsZero()) {
		a.put(ctx, hash, ports.CacheEntry{Negative: ports.CacheInvalid}, NegativeCacheTTL)
		return domain.AccessToken{}, domain.ErrInvalidToken
	}
	if err != nil {
		return domain.AccessToken{}, err
	}
	if !now.Before(row.ExpiresAt) {
		return domain.AccessToken{}, a.expire(ctx, hash, row, now)
	}
	if err := a.Guard.Check(ctx, row); err != nil {
		return domain.AccessToken{}, err
	}
	ttl := PositiveCacheTTL
	if left := row.ExpiresAt.Sub(now); left < ttl {
		ttl = left
	}
	a.put(ctx, hash, ports.CacheEntry{Token: row}, ttl)
	return row, nil
}

// expire runs the hard-expiry compare-and-set; only its winner audits.
func (a *Authenticator) expire(ctx context.Context, hash string, row domain.AccessToken, now time.Time) error {
	won, err := a.Expirer.ExpireHard(ctx, row.ID, now)
	if err != nil {
		return err
	}
	a.put(ctx, hash, ports.CacheEntry{Negative: ports.CacheExpired}, NegativeCacheTTL)
	if won {
		a.emit(ctx, domain.AuditEvent{
			Name: domain.EventTokenExpired, TokenID: row.ID, SubjectType: row.SubjectType(),
			SubjectEmail: row.SubjectEmail, SubjectIssuer: row.SubjectIssuer, AccountID: row.AccountID,
			ClientID: row.ClientID, DeviceLabel: row.DeviceLabel, ExpiresAt: row.ExpiresAt,
		})
	}
	return domain.ErrTokenExpired
}

func (a *Authenticator) put(ctx context.Context, hash string, e ports.CacheEntry, ttl time.Duration) {
	if a.Cache == nil || ttl <= 0 {
		return
	}
	if err := a.Cache.Put(ctx, hash, e, ttl); err != nil {
		a.log().WarnContext(ctx, "token cache write failed", "err", err)
	}
}

// RequireScope reports domain.ErrInsufficientScope unless p's kind grants scope.
func RequireScope(p domain.Principal, scope string) error {
	if !p.Kind.HasScope(scope) {
		return domain.ErrInsufficientScope
	}
	return nil
}
