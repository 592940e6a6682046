package passwordhash_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/devicegate/devicegate/adapters/passwordhash"
)

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerify(t *testing.T) {
	h := passwordhash.New()
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if !phc.MatchString(enc) {
		t.Fatalf("Hash = %q, want a PHC argon2id string with the default parameters", enc)
	}
	if strings.Contains(enc, "horse") {
		t.Fatal("hash contains the password")
	}
	if !h.Verify(enc, "correct horse battery staple") {
		t.Fatal("Verify(right password) = false")
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple "} {
		if h.Verify(enc, wrong) {
			t.Fatalf("Verify(%q) = true", wrong)
		}
	}
	again, err := h.Hash("correct horse battery staple")
	if err != nil || again == enc {
		t.Fatalf("two hashes of one password are equal (%v): salts must be random", err)
	}
}

// TestEncodingIsArgon2id recomputes the key independently from a fixed salt.
func TestEncodingIsArgon2id(t *testing.T) {
	salt := bytes.Repeat([]byte{7}, 16)
	h := &passwordhash.Hasher{Params: passwordhash.DefaultParams, Rand: bytes.NewReader(salt)}
	enc, err := h.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	key := argon2.IDKey([]byte("pw"), salt, 2, 19456, 1, 32)
	want := fmt.Sprintf("$argon2id$v=19$m=19456,t=2,p=1$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	if enc != want {
		t.Fatalf("Hash = %q, want %q", enc, want)
	}
}

// TestVerifyUsesStoredParams: hashes made with other parameters still verify.
func TestVerifyUsesStoredParams(t *testing.T) {
	old := &passwordhash.Hasher{Params: passwordhash.Params{MemoryKiB: 8192, Time: 1, Threads: 2, SaltLen: 8, KeyLen: 16}}
	enc, err := old.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(enc, "$m=8192,t=1,p=2$") {
		t.Fatalf("Hash = %q, want its own parameters recorded", enc)
	}
	if !passwordhash.New().Verify(enc, "pw") {
		t.Fatal("default Hasher cannot verify a hash made with other parameters")
	}
}

func TestVerifyRejectsMalformed(t *testing.T) {
	h := passwordhash.New()
	good, err := h.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	bad := []string{
		"", "pw", "$argon2id$", good + "$",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		"$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key, // 4 GiB of memory: refused, not attempted
		"$argon2id$v=19$m=19456,t=1000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1,x=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "=",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$!!!",
		"$argon2id$v=19$m=19456,t=2,p=1$$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:10],
		"$2a$10$abcdefghijklmnopqrstuuJ0n0v3PzZpWg0L2sY5s3ZbqH6q0Y6Cm", // bcrypt
	}
	for _, enc := range bad {
		if h.Verify(enc, "pw") {
			t.Errorf("Verify(%q) = true, want false", enc)
		}
	}
	if _, err := (&passwordhash.Hasher{}).Hash("pw"); err == nil {
		t.Error("Hash with zero Params succeeded, want a parameter error")
	}
}
