package domain

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Scopes carried by token kinds. ScopeFull satisfies every scope check.
const (
	ScopeFull                      = "full"
	ScopeAppsRun                   = "apps:run"
	ScopeAppsReadPermittedExternal = "apps:read:permitted-external"
)

// TokenKind describes one kind of bearer token; scopes come from the kind and are never stored.
type TokenKind struct {
	Name    string
	Prefix  string
	Subject SubjectType
	Scopes  []string
}

// The two token kinds of SPEC 3.1.
var (
	AccountTokenKind  = TokenKind{Name: "account", Prefix: "dfoa_", Subject: SubjectAccount, Scopes: []string{ScopeFull}}
	ExternalTokenKind = TokenKind{Name: "external_sso", Prefix: "dfoe_", Subject: SubjectExternalSSO,
		Scopes: []string{ScopeAppsRun, ScopeAppsReadPermittedExternal}}
)

// HasScope reports whether the kind's scopes satisfy want (ScopeFull satisfies all).
func (k TokenKind) HasScope(want string) bool {
	for _, s := range k.Scopes {
		if s == ScopeFull || s == want {
			return true
		}
	}
	return false
}

// NewToken returns the kind's prefix + URL-safe base64 of 32 bytes from r (43 characters).
func (k TokenKind) NewToken(r io.Reader) (string, error) {
	s, err := randomB64(r, 32)
	if err != nil {
		return "", err
	}
	return k.Prefix + s, nil
}

// KindRegistry maps token prefixes to kinds.
type KindRegistry struct {
	kinds []TokenKind
}

// NewKindRegistry builds a registry; an empty or duplicate prefix (or one
// prefix starting another) is an error, so start-up fails.
func NewKindRegistry(kinds ...TokenKind) (*KindRegistry, error) {
	for i, k := range kinds {
		if k.Prefix == "" || len(k.Prefix) > 8 {
			return nil, fmt.Errorf("token kind %q: prefix must be 1-8 bytes", k.Name)
		}
		for _, o := range kinds[:i] {
			if strings.HasPrefix(k.Prefix, o.Prefix) || strings.HasPrefix(o.Prefix, k.Prefix) {
				return nil, fmt.Errorf("token kinds %q and %q: duplicate prefix %q", o.Name, k.Name, k.Prefix)
			}
		}
	}
	return &KindRegistry{kinds: append([]TokenKind(nil), kinds...)}, nil
}

// DefaultKinds returns the registry of SPEC 3.1.
func DefaultKinds() *KindRegistry {
	r, err := NewKindRegistry(AccountTokenKind, ExternalTokenKind)
	if err != nil {
		panic(err) // the two built-in kinds are distinct by construction
	}
	return r
}

// KindOf returns the kind whose prefix starts token.
func (r *KindRegistry) KindOf(token string) (TokenKind, bool) {
	for _, k := range r.kinds {
		if strings.HasPrefix(token, k.Prefix) {
			return k, true
		}
	}
	return TokenKind{}, false
}

// KindForSubject returns the kind minted for a subject type.
func (r *KindRegistry) KindForSubject(t SubjectType) (TokenKind, bool) {
	for _, k := range r.kinds {
		if k.Subject == t {
			return k, true
		}
	}
	return TokenKind{}, false
}

// AccessToken is one row of oauth_access_tokens. Zero times stand for NULL;
// an empty AccountID is NULL; an empty TokenHash is NULL (revoked or expired).
type AccessToken struct {
	ID            string
	SubjectEmail  string
	SubjectIssuer string
	AccountID     string
	ClientID      string
	DeviceLabel   string
	Prefix        string
	TokenHash     string
	CreatedAt     time.Time
	LastUsedAt    time.Time
	ExpiresAt     time.Time
	RevokedAt     time.Time
}

// Live reports whether the row is neither revoked nor expired at now.
func (t AccessToken) Live(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt)
}

// SubjectType derives the subject type from the row's binding.
func (t AccessToken) SubjectType() SubjectType {
	if t.AccountID != "" {
		return SubjectAccount
	}
	return SubjectExternalSSO
}

// CheckBinding enforces the subject binding of SPEC 3.3: an account token
// carries an account id and the sentinel issuer; an external token carries no
// account id and a non-blank issuer.
func (t AccessToken) CheckBinding() error {
	if strings.TrimSpace(t.SubjectEmail) == "" {
		return fmt.Errorf("token binding: empty subject email")
	}
	if t.AccountID != "" {
		if t.SubjectIssuer != AccountIssuer {
			return fmt.Errorf("token binding: account token with issuer %q", t.SubjectIssuer)
		}
		return nil
	}
	if strings.TrimSpace(t.SubjectIssuer) == "" || t.SubjectIssuer == AccountIssuer {
		return fmt.Errorf("token binding: external token needs a real issuer")
	}
	return nil
}

// Owner identifies whose sessions a caller may list and revoke: an account
// id, or an external email + issuer with no account.
type Owner struct {
	AccountID string
	Email     string
	Issuer    string
}

// Owns reports whether the row belongs to o.
func (o Owner) Owns(t AccessToken) bool {
	if o.AccountID != "" {
		return t.AccountID == o.AccountID
	}
	return t.AccountID == "" && t.SubjectEmail == o.Email && t.SubjectIssuer == o.Issuer
}

// Principal is the result of validating a bearer token (SPEC 3.4).
type Principal struct {
	Kind          TokenKind
	TokenID       string
	TokenHash     string
	SubjectEmail  string
	SubjectIssuer string
	AccountID     string
	ClientID      string
	ExpiresAt     time.Time
}

// Owner returns the session owner the principal speaks for.
func (p Principal) Owner() Owner {
	return Owner{AccountID: p.AccountID, Email: p.SubjectEmail, Issuer: p.SubjectIssuer}
}

// ClampTTLDays parses OAUTH_TTL_DAYS: unset or not a number -> 14; clamped to 1..365.
// note describes any correction made ("" when the value was taken as is).
func ClampTTLDays(raw string) (days int, note string) {
	return ClampDays(raw, 14, 1, 365)
}

// ClampDays parses a whole number of days: blank -> def; junk -> def with a
// note; out of [lo, hi] -> clamped with a note.
func ClampDays(raw string, def, lo, hi int) (int, string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return def, ""
	}
	n, err := strconv.Atoi(s)
	if errors.Is(err, strconv.ErrRange) {
		// A whole number beyond int: still a number, so it clamps.
		if strings.HasPrefix(s, "-") {
			return lo, fmt.Sprintf("%s is below %d, clamped to %d", s, lo, lo)
		}
		return hi, fmt.Sprintf("%s is above %d, clamped to %d", s, hi, hi)
	}
	if err != nil {
		return def, fmt.Sprintf("not a whole number (%q), using %d", raw, def)
	}
	if n < lo {
		return lo, fmt.Sprintf("%d is below %d, clamped to %d", n, lo, lo)
	}
	if n > hi {
		return hi, fmt.Sprintf("%d is above %d, clamped to %d", n, hi, hi)
	}
	return n, ""
}
