package jwssigner_test

import (
	"testing"

	"github.com/devicegate/devicegate/adapters/jwssigner"
	"github.com/devicegate/devicegate/ports"
	"github.com/devicegate/devicegate/ports/porttest"
)

func TestSignerConformance(t *testing.T) {
	porttest.TestSigner(t, func(t *testing.T, secret, previous string) ports.Signer {
		s, err := jwssigner.New(secret, previous)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestNewRefusesBadKeys(t *testing.T) {
	if _, err := jwssigner.New("", ""); err == nil {
		t.Error("an empty SECRET_KEY was accepted")
	}
	if _, err := jwssigner.New("same", "same"); err == nil {
		t.Error("SECRET_KEY_PREVIOUS equal to SECRET_KEY was accepted")
	}
}
