package domain

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// DeviceCodePrefix starts every device code.
const DeviceCodePrefix = "dc_"

// UserCodeAlphabet is the 30-character alphabet of user codes (no 0 1 2 I O Z).
const UserCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXY3456789"

// randomB64 returns URL-safe unpadded base64 of n bytes read from r.
func randomB64(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewDeviceCode returns "dc_" + URL-safe base64 of 32 bytes read from r (a CSPRNG in production).
func NewDeviceCode(r io.Reader) (string, error) {
	s, err := randomB64(r, 32)
	if err != nil {
		return "", err
	}
	return DeviceCodePrefix + s, nil
}

// NewNonce returns URL-safe base64 of 16 bytes read from r.
func NewNonce(r io.Reader) (string, error) { return randomB64(r, 16) }

// NewUserCode returns an XXXX-XXXX code whose characters are uniform over
// UserCodeAlphabet. Bytes >= 240 are rejected (240 = 8*30), so there is no modulo bias.
func NewUserCode(r io.Reader) (string, error) {
	const n = len(UserCodeAlphabet)
	const limit = 256 - 256%n
	out := make([]byte, 0, 9)
	buf := make([]byte, 16)
	for len(out) < 9 {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("read random: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			if len(out) == 4 {
				out = append(out, '-')
			}
			out = append(out, UserCodeAlphabet[int(b)%n])
			if len(out) == 9 {
				break
			}
		}
	}
	return string(out), nil
}

// NormalizeUserCode upper-cases s (ASCII letters only), drops spaces and
// dashes, and when exactly eight alphabet characters remain returns them as
// XXXX-XXXX. Anything else returns ok=false. Case folding is ASCII-only on
// purpose: strings.ToUpper maps "ſ" to "S" and "ı" to "I", which would let
// characters outside the alphabet match a code.
func NormalizeUserCode(s string) (code string, ok bool) {
	var b [8]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '-' {
			continue
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if strings.IndexByte(UserCodeAlphabet, c) < 0 || n == len(b) {
			return "", false
		}
		b[n] = c
		n++
	}
	if n != len(b) {
		return "", false
	}
	return string(b[:4]) + "-" + string(b[4:]), true
}

// HashSecret returns the lowercase hex SHA-256 of s. Device codes, user codes,
// tokens and session ids are stored and addressed only by this hash.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// NewUUID returns a random (version 4) UUID read from r.
func NewUUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
