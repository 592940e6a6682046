package passwordhash

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/devicegate/devicegate/ports"
)

// Params are argon2id's cost parameters and sizes.
type Params struct {
	MemoryKiB uint32 // m
	Time      uint32 // t, passes over memory
	Threads   uint8  // p
	SaltLen   int
	KeyLen    int
}

// DefaultParams follow OWASP's argon2id minimum (m=19 MiB, t=2, p=1): about
// 20-40 ms per hash on one core, cheap enough for tests, costly for guessing.
var DefaultParams = Params{MemoryKiB: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on parameters read back from a stored hash, so a corrupted or
// planted string cannot make Verify allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// Hasher is an argon2id ports.PasswordHasher. New hashes use Params; Verify
// uses the parameters recorded in each stored hash, so raising Params later
// keeps old hashes verifiable.
type Hasher struct {
	Params Params
	// Rand supplies salts; nil means crypto/rand.
	Rand io.Reader
}

var _ ports.PasswordHasher = (*Hasher)(nil)

// New returns a Hasher with DefaultParams and crypto/rand salts.
func New() *Hasher { return &Hasher{Params: DefaultParams} }

var b64 = base64.RawStdEncoding // PHC strings use unpadded standard base64

// Hash returns the PHC string of password with a fresh random salt.
func (h *Hasher) Hash(password string) (string, error) {
	p := h.Params
	if err := p.check(); err != nil {
		return "", err
	}
	r := h.Rand
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return "", fmt.Errorf("passwordhash: read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(p.KeyLen)) //nolint:gosec // G115: check() bounds KeyLen to [16, 64]
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded. The derived keys are
// compared in constant time; a malformed or out-of-bounds encoded string is
// simply false.
func (h *Hasher) Verify(encoded, password string) bool {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want))) //nolint:gosec // G115: decode bounds the key to [16, 64] bytes
	return subtle.ConstantTimeCompare(got, want) == 1
}

func (p Params) check() error {
	switch {
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("passwordhash: memory %d KiB out of range", p.MemoryKiB)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("passwordhash: time %d out of range", p.Time)
	case p.Threads < 1:
		return errors.New("passwordhash: threads must be at least 1")
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("passwordhash: salt length %d out of range", p.SaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("passwordhash: key length %d out of range", p.KeyLen)
	}
	return nil
}

// decode parses $argon2id$v=19$m=M,t=T,p=P$salt$key.
func decode(encoded string) (Params, []byte, []byte, error) {
	bad := errors.New("passwordhash: not an argon2id hash")
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, bad
	}
	var p Params
	for i, kv := range strings.Split(parts[3], ",") {
		name, val, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(val, 10, 32)
		if !ok || err != nil || i > 2 || name != [...]string{"m", "t", "p"}[i] {
			return Params{}, nil, nil, bad
		}
		switch name {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return Params{}, nil, nil, bad
			}
			p.Threads = uint8(n)
		}
	}
	salt, err1 := b64.Strict().DecodeString(parts[4])
	key, err2 := b64.Strict().DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return Params{}, nil, nil, bad
	}
	p.SaltLen, p.KeyLen = len(salt), len(key)
	if err := p.check(); err != nil {
		return Params{}, nil, nil, err
	}
	return p, salt, key, nil
}
