package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// phcParams finds argon2id PHC strings ($argon2id$v=19$m=..,t=..,p=..$).
var phcParams = regexp.MustCompile(`\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22,}\$[A-Za-z0-9+/]{43,}`)

// TestPasswordHashingAtOWASPParameters: the password an operator gives
// `devicegate accounts create` is stored as argon2id with at least OWASP's
// recommended cost (m >= 19 MiB, t >= 2, p = 1), a salt of 16+ bytes and a
// 32+ byte key: checked on the stored row, so it proves the wiring, not a
// constant.
func TestPasswordHashingAtOWASPParameters(t *testing.T) {
	vars := sqliteVars(t)
	createAccount(t, vars, "hash.check@corp.example", secPassword, "Corp")
	dump := sqliteDump(t, strings.TrimPrefix(vars["DATABASE_URL"], "sqlite:"))
	m := phcParams.FindAllStringSubmatch(dump, -1)
	if len(m) == 0 {
		t.Fatal("no argon2id PHC string in the database")
	}
	for _, h := range m {
		mem, _ := strconv.Atoi(h[1])
		passes, _ := strconv.Atoi(h[2])
		par, _ := strconv.Atoi(h[3])
		if mem < 19*1024 || passes < 2 || par != 1 {
			t.Errorf("argon2id m=%d KiB, t=%d, p=%d; OWASP asks m >= 19456, t >= 2, p = 1", mem, passes, par)
		}
	}
	if strings.Contains(dump, secPassword) {
		t.Fatal("the password is stored in plaintext")
	}
}
