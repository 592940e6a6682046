package jwssigner

import (
	"errors"
	"fmt"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Key ids. ActiveKID is the reference's kid, a contract with the enterprise
// service; PreviousKID names the verify-only key from SECRET_KEY_PREVIOUS.
const (
	ActiveKID   = "dify-shared-v1"
	PreviousKID = "dify-shared-v0"
)

// keySet is the signing key and the verification set.
//
// Rotation: SPEC 5 fixes the kid every signer (this service and the
// enterprise service) writes, so objects signed just before SECRET_KEY
// changed still carry ActiveKID. With SECRET_KEY_PREVIOUS set, the set
// therefore holds the previous key twice: under ActiveKID, next to the active
// key, and under PreviousKID for a signer that labels it so. A kid outside
// the set never falls back to any key, and no key verifies a kid it is not
// listed under. Keep SECRET_KEY_PREVIOUS for 15 minutes (the longest object
// lifetime) after a rotation, then remove it.
type keySet struct {
	signKey jwk.Key
	verify  jwk.Set
	kids    map[string]bool
}

func newKeySet(active, previous string) (*keySet, error) {
	if active == "" {
		return nil, errors.New("jwssigner: empty SECRET_KEY")
	}
	ks := &keySet{verify: jwk.NewSet(), kids: map[string]bool{}}
	var err error
	if ks.signKey, err = ks.add(ActiveKID, active); err != nil {
		return nil, err
	}
	if previous != "" {
		if previous == active {
			return nil, errors.New("jwssigner: SECRET_KEY_PREVIOUS equals SECRET_KEY")
		}
		for _, kid := range []string{ActiveKID, PreviousKID} {
			if _, err := ks.add(kid, previous); err != nil {
				return nil, err
			}
		}
	}
	return ks, nil
}

// add puts a fresh HS256 key object for secret under kid into the verification set.
func (ks *keySet) add(kid, secret string) (jwk.Key, error) {
	k, err := jwk.FromRaw([]byte(secret))
	if err != nil {
		return nil, fmt.Errorf("jwssigner: key %s: %w", kid, err)
	}
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.HS256, jwk.KeyUsageKey: jwk.ForSignature} {
		if err := k.Set(name, v); err != nil {
			return nil, fmt.Errorf("jwssigner: key %s: %w", kid, err)
		}
	}
	if err := ks.verify.AddKey(k); err != nil {
		return nil, fmt.Errorf("jwssigner: key %s: %w", kid, err)
	}
	ks.kids[kid] = true
	return k, nil
}
