package domain_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/devicegate/devicegate/domain"
)

func TestKindRegistry(t *testing.T) {
	r := domain.DefaultKinds()
	for token, want := range map[string]string{"dfoa_x": "account", "dfoe_x": "external_sso"} {
		k, ok := r.KindOf(token)
		if !ok || k.Name != want {
			t.Fatalf("KindOf(%q) = %v %v", token, k.Name, ok)
		}
	}
	for _, bad := range []string{"", "dfo_x", "xdfoa_", "DFOA_x"} {
		if _, ok := r.KindOf(bad); ok {
			t.Fatalf("KindOf(%q) must fail", bad)
		}
	}
	if _, err := domain.NewKindRegistry(domain.AccountTokenKind, domain.TokenKind{Name: "dup", Prefix: "dfoa_"}); err == nil {
		t.Fatal("duplicate prefix must fail")
	}
	if _, err := domain.NewKindRegistry(domain.TokenKind{Name: "a", Prefix: "df"}, domain.AccountTokenKind); err == nil {
		t.Fatal("overlapping prefix must fail")
	}
}

func TestTokenShapeAndScopes(t *testing.T) {
	tok, err := domain.AccountTokenKind.NewToken(rand.Reader)
	if err != nil || !strings.HasPrefix(tok, "dfoa_") || len(tok) != 5+43 {
		t.Fatalf("token %q %v", tok, err)
	}
	if !domain.AccountTokenKind.HasScope("apps:run") || !domain.AccountTokenKind.HasScope("anything") {
		t.Fatal("full satisfies every scope")
	}
	if !domain.ExternalTokenKind.HasScope("apps:run") || domain.ExternalTokenKind.HasScope(domain.ScopeFull) {
		t.Fatal("external scopes")
	}
}

func TestCheckBinding(t *testing.T) {
	ok := []domain.AccessToken{
		{SubjectEmail: "a@b.c", SubjectIssuer: domain.AccountIssuer, AccountID: "x"},
		{SubjectEmail: "a@b.c", SubjectIssuer: "https://idp"},
	}
	bad := []domain.AccessToken{
		{SubjectEmail: "a@b.c", SubjectIssuer: "https://idp", AccountID: "x"},
		{SubjectEmail: "a@b.c", SubjectIssuer: " "},
		{SubjectEmail: "a@b.c", SubjectIssuer: domain.AccountIssuer},
		{SubjectEmail: "", SubjectIssuer: domain.AccountIssuer, AccountID: "x"},
	}
	for _, r := range ok {
		if err := r.CheckBinding(); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
	for _, r := range bad {
		if err := r.CheckBinding(); err == nil {
			t.Errorf("%+v must fail", r)
		}
	}
}

func TestClampTTLDays(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		note bool
	}{{"", 14, false}, {"junk", 14, true}, {"0", 1, true}, {"500", 365, true}, {"30", 30, false}, {"-3", 1, true}, {"1.5", 14, true}, {" 7 ", 7, false},
		// Whole numbers beyond int range are numbers, so they clamp (SPEC 3.3).
		{"99999999999999999999", 365, true}, {"-99999999999999999999", 1, true}} {
		got, note := domain.ClampTTLDays(c.in)
		if got != c.want || (note != "") != c.note {
			t.Errorf("ClampTTLDays(%q) = %d %q", c.in, got, note)
		}
	}
}

func TestOwnerOwns(t *testing.T) {
	acct := domain.AccessToken{AccountID: "a", SubjectEmail: "x@y", SubjectIssuer: domain.AccountIssuer}
	ext := domain.AccessToken{SubjectEmail: "x@y", SubjectIssuer: "idp"}
	if !(domain.Owner{AccountID: "a"}).Owns(acct) || (domain.Owner{AccountID: "b"}).Owns(acct) {
		t.Fatal("account owner")
	}
	if !(domain.Owner{Email: "x@y", Issuer: "idp"}).Owns(ext) || (domain.Owner{Email: "x@y", Issuer: "idp"}).Owns(acct) {
		t.Fatal("external owner must not own an account row with the same email")
	}
	if (domain.Owner{Email: "x@y", Issuer: "other"}).Owns(ext) {
		t.Fatal("issuer matters")
	}
}

func TestIPRateKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":            "192.0.2.7",
		"::ffff:192.0.2.7":     "192.0.2.7",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
		"fe80::1%eth0":         "fe80::/64",
		"not an ip":            "not an ip",
	} {
		if got := domain.IPRateKey(in); got != want {
			t.Errorf("IPRateKey(%q) = %q, want %q", in, got, want)
		}
	}
}
