package app_test

import (
	"strings"
	"testing"

	"github.com/devicegate/devicegate/app"
)

// FuzzBearerToken: the Authorization parser never panics; what it returns is
// exactly the text after a case-insensitive "Bearer" scheme and one space,
// trimmed, never empty; and every trimmed non-empty credential survives a
// round trip through "Bearer <token>" in any scheme case.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer dfoa_abc", "bearer  x ", "Basic dXNlcjpwYXNz", "Bearer", "Bearer ", " BEARER\tx",
		"Bearerx y", "Bearer a b", "\u00a0Bearer x", "Bearer \u00a0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, ok := app.BearerToken(header)
		if !ok {
			if tok != "" {
				t.Fatalf("%q: refused but returned %q", header, tok)
			}
		} else {
			scheme, rest, found := strings.Cut(strings.TrimSpace(header), " ")
			if !found || !strings.EqualFold(scheme, "Bearer") {
				t.Fatalf("%q: accepted without the Bearer scheme", header)
			}
			if tok == "" || tok != strings.TrimSpace(tok) || tok != strings.TrimSpace(rest) {
				t.Fatalf("%q: token %q is not the trimmed credential", header, tok)
			}
		}
		cred := strings.TrimSpace(header)
		if cred == "" {
			return
		}
		for _, scheme := range []string{"Bearer ", "bearer ", "BEARER "} {
			if got, ok := app.BearerToken(scheme + cred); !ok || got != cred {
				t.Fatalf("round trip of %q with %q: %q, %v", cred, scheme, got, ok)
			}
		}
	})
}
