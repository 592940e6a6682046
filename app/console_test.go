package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// pickyAdmin fails like Postgres on text it cannot store and records lookups.
type pickyAdmin struct {
	ports.AccountAdmin
	mu      sync.Mutex
	queried []string
}

func (a *pickyAdmin) PasswordHashByEmail(_ context.Context, email string) (domain.Account, string, error) {
	a.mu.Lock()
	a.queried = append(a.queried, email)
	a.mu.Unlock()
	if strings.ContainsRune(email, 0) {
		return domain.Account{}, "", errors.New(`ERROR: invalid byte sequence for encoding "UTF8": 0x00`)
	}
	return domain.Account{}, "", domain.ErrNotFound
}

type plainHasher struct{}

func (plainHasher) Hash(p string) (string, error) { return "h:" + p, nil }
func (plainHasher) Verify(enc, p string) bool     { return enc == "h:"+p }

// TestLoginRejectsImpossibleEmails: an email that no account can have (NUL or
// other control characters, invalid UTF-8, longer than any stored email) is
// invalid_credentials without a directory lookup. It used to reach Postgres,
// which answered a NUL byte with an error, so the sign-in was a 500.
func TestLoginRejectsImpossibleEmails(t *testing.T) {
	admin := &pickyAdmin{}
	c := &app.Console{Admin: admin, Hasher: plainHasher{}}
	for _, email := range []string{"alice\x00@example.com", "alice\n@example.com", "alice\xff@example.com", strings.Repeat("a", 300) + "@example.com"} {
		if _, err := c.Login(context.Background(), email, "password", "192.0.2.1"); !errors.Is(err, domain.ErrInvalidCredentials) {
			t.Errorf("email %q: err = %v, want invalid_credentials", email, err)
		}
	}
	if len(admin.queried) != 0 {
		t.Fatalf("impossible emails reached the directory: %q", admin.queried)
	}
	if _, err := c.Login(context.Background(), "bob@example.com", "password", "192.0.2.1"); !errors.Is(err, domain.ErrInvalidCredentials) {
		t.Fatalf("unknown email: %v", err)
	}
	if len(admin.queried) != 1 {
		t.Fatalf("a well-formed email must be looked up: %q", admin.queried)
	}
}
