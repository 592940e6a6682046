package jwssigner

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"

	"github.com/devicegate/devicegate/domain"
)

// MaxTokenBytes bounds a token before any parsing; the largest legitimate
// object (a 320-character email, a long callback URL) is well under 2 KiB,
// and a cookie cannot hold more than about 4 KiB anyway.
const MaxTokenBytes = 4096

// Signer is the ports.Signer over an HS256 key set.
type Signer struct {
	keys *keySet
}

// New returns a signer whose active key is secret (SECRET_KEY, kid
// ActiveKID) and which also verifies with previous (SECRET_KEY_PREVIOUS,
// optional; see keySet for the rotation rules).
func New(secret, previous string) (*Signer, error) {
	ks, err := newKeySet(secret, previous)
	if err != nil {
		return nil, err
	}
	return &Signer{keys: ks}, nil
}

// invalid wraps a reason as domain.ErrInvalidSignedObject; the reason never
// carries token material.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{domain.ErrInvalidSignedObject}, args...)...)
}

// sign serialises claims and signs them with the active key as compact JWS
// with the protected header {"alg":"HS256","kid":ActiveKID,"typ":"JWT"}.
func (s *Signer) sign(claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jwssigner: encode claims: %w", err)
	}
	h := jws.NewHeaders()
	for name, v := range map[string]any{jws.KeyIDKey: ActiveKID, jws.TypeKey: "JWT"} {
		if err := h.Set(name, v); err != nil {
			return "", fmt.Errorf("jwssigner: header: %w", err)
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.HS256, s.keys.signKey, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("jwssigner: sign: %w", err)
	}
	return string(out), nil
}

// verify checks token's form, header and signature and returns its claims.
// The header is checked before jwx sees the token: jwx verifies with the
// algorithm of the key it picked, not the header's, so an alg other than
// HS256 (none, HS512, RS256 with the secret as a public key, ...) is refused
// here, as are a missing or unknown kid and any header beyond alg, kid, typ
// (b64, crit, jku, jwk, x5u change how a token must be read or where keys come from).
func (s *Signer) verify(token string) (map[string]json.RawMessage, error) {
	if len(token) > MaxTokenBytes {
		return nil, invalid("token longer than %d bytes", MaxTokenBytes)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[2] == "" {
		return nil, invalid("not a compact JWS")
	}
	var segs [3][]byte
	for i, p := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil {
			return nil, invalid("segment %d is not base64url", i)
		}
		segs[i] = b
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(segs[0], &hdr); err != nil || hdr == nil {
		return nil, invalid("header is not a JSON object")
	}
	for name := range hdr {
		if name != "alg" && name != "kid" && name != "typ" {
			return nil, invalid("header %q not accepted", name)
		}
	}
	if alg, ok := jsonString(hdr["alg"]); !ok || alg != jwa.HS256.String() {
		return nil, invalid("alg must be HS256")
	}
	kid, ok := jsonString(hdr["kid"])
	if !ok || !s.keys.kids[kid] {
		return nil, invalid("missing or unknown kid")
	}
	if raw, present := hdr["typ"]; present {
		if typ, ok := jsonString(raw); !ok || !strings.EqualFold(typ, "JWT") {
			return nil, invalid("typ must be JWT")
		}
	}
	payload, err := jws.Verify([]byte(token), jws.WithKeySet(s.keys.verify,
		jws.WithRequireKid(true), jws.WithUseDefault(false), jws.WithInferAlgorithmFromKey(false),
		jws.WithMultipleKeysPerKeyID(true)))
	if err != nil || !bytes.Equal(payload, segs[1]) {
		return nil, invalid("signature does not verify")
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil || claims == nil {
		return nil, invalid("payload is not a JSON object")
	}
	return claims, nil
}

// jsonString decodes raw as a JSON string.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}
