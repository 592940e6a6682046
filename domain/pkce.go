package domain

import (
	"crypto/sha256"
	"encoding/base64"
)

// PKCEMethodS256 is the only code_challenge_method accepted (RFC 7636
// section 4.2). "plain" is refused: it would store the verifier itself.
const PKCEMethodS256 = "S256"

// PKCE verifier bounds (RFC 7636 section 4.1).
const (
	minCodeVerifier = 43
	maxCodeVerifier = 128
	s256Length      = 43 // unpadded base64url of a 32-byte digest
)

// PKCEChallenge returns the S256 code challenge of verifier:
// BASE64URL(SHA256(verifier)) without padding (RFC 7636 section 4.2).
func PKCEChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ValidCodeChallenge reports whether c is a well-formed S256 challenge: 43
// base64url characters that decode to 32 bytes (so no stray trailing bits,
// which no verifier's challenge has).
func ValidCodeChallenge(c string) bool {
	if len(c) != s256Length {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// ValidCodeVerifier reports whether v is a well-formed code_verifier: 43 to
// 128 characters of [A-Za-z0-9-._~] (RFC 7636 section 4.1).
func ValidCodeVerifier(v string) bool {
	if len(v) < minCodeVerifier || len(v) > maxCodeVerifier {
		return false
	}
	for i := 0; i < len(v); i++ {
		b := v[i]
		ok := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '.' || b == '_' || b == '~'
		if !ok {
			return false
		}
	}
	return true
}
