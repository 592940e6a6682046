package porttest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// tokMintEmail320: an external email of 320 characters (the SPEC 5 bound)
// is stored whole, found by hash and id, and rotates in place; a longer one
// is refused before any write.
func tokMintEmail320(t *testing.T, s ports.TokenStore) {
	domainPart := "@" + tokRandHex(t, 8) + ".example"
	tok := tokExternal(t, tokNow)
	tok.SubjectEmail = strings.Repeat("e", domain.MaxExternalEmail-len(domainPart)) + domainPart
	if len(tok.SubjectEmail) != 320 {
		t.Fatalf("test bug: email is %d characters", len(tok.SubjectEmail))
	}
	tokAssertRow(t, "Mint result", tok, tokMint(t, s, tok).Token)
	tokAssertRow(t, "ByID", tok, tokByID(t, s, tok.ID))
	got, err := s.ByHash(context.Background(), tok.TokenHash)
	stWantErr(t, "ByHash", err, nil)
	tokAssertRow(t, "ByHash", tok, got)
	again := tokAgain(t, tok, tokNow.Add(1e9))
	res := tokMint(t, s, again)
	if !res.Rotated || res.Token.ID != tok.ID || res.Token.SubjectEmail != tok.SubjectEmail {
		t.Fatalf("second mint with the 320-character email: rotated=%v id=%s (want %s)", res.Rotated, res.Token.ID, tok.ID)
	}

	long := tokExternal(t, tokNow)
	long.SubjectEmail = "x" + tok.SubjectEmail
	if _, err := s.Mint(context.Background(), long); err == nil {
		t.Fatal("Mint stored a 321-character email")
	}
	if _, err := s.ByID(context.Background(), long.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("ByID after the refused mint: %v, want domain.ErrNotFound", err)
	}
}
