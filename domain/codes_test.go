package domain_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/devicegate/devicegate/domain"
)

func TestNewDeviceCode(t *testing.T) {
	c, err := domain.NewDeviceCode(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c, "dc_") {
		t.Fatalf("prefix: %q", c)
	}
	raw, err := base64.RawURLEncoding.DecodeString(c[3:])
	if err != nil || len(raw) != 32 {
		t.Fatalf("body is not 32 bytes of raw URL base64: %q (%v)", c, err)
	}
	if _, err := domain.NewDeviceCode(bytes.NewReader(make([]byte, 5))); err == nil {
		t.Fatal("short randomness must fail")
	}
}

func TestNewUserCodeShapeAndRejection(t *testing.T) {
	// 240..255 must be skipped: a reader of 0xff then 0x00.. yields only 'A's.
	in := append(bytes.Repeat([]byte{0xff}, 16), make([]byte, 16)...)
	c, err := domain.NewUserCode(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if c != "AAAA-AAAA" {
		t.Fatalf("rejection sampling: got %q", c)
	}
	// 239 is the last accepted byte: 239 % 30 = 29 -> '9'.
	c, _ = domain.NewUserCode(bytes.NewReader(bytes.Repeat([]byte{239}, 16)))
	if c != "9999-9999" {
		t.Fatalf("got %q", c)
	}
	for i := 0; i < 200; i++ {
		c, err := domain.NewUserCode(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := domain.NormalizeUserCode(c); !ok || n != c || len(c) != 9 || c[4] != '-' {
			t.Fatalf("bad user code %q", c)
		}
	}
}

func TestUserCodeUniform(t *testing.T) {
	// Feed every byte value once per round: each accepted value maps to one
	// letter, so every letter must appear exactly 8 times per 240 accepted bytes.
	var in []byte
	for r := 0; r < 30; r++ {
		for b := 0; b < 256; b++ {
			in = append(in, byte(b))
		}
	}
	counts := map[rune]int{}
	rd := bytes.NewReader(in)
	for i := 0; i < 30*240/8; i++ {
		c, err := domain.NewUserCode(rd)
		if err != nil {
			break
		}
		for _, r := range strings.ReplaceAll(c, "-", "") {
			counts[r]++
		}
	}
	if len(counts) != 30 {
		t.Fatalf("alphabet coverage %d, want 30", len(counts))
	}
	min, max := 1<<30, 0
	for _, n := range counts {
		min, max = minInt(min, n), maxInt(max, n)
	}
	if max-min > 8 { // chunked reads may drop the tail of one 16-byte buffer
		t.Fatalf("non-uniform counts: %v", counts)
	}
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func TestNormalizeUserCode(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"ABCD-EFGH", "ABCD-EFGH", true},
		{"abcd-efgh", "ABCD-EFGH", true},
		{"abcd efgh", "ABCD-EFGH", true},
		{"ABCDEFGH", "ABCD-EFGH", true},
		{" a-b-c-d e f g h ", "ABCD-EFGH", true},
		{"ABCD-EFG", "", false},
		{"ABCD-EFGHJ", "", false},
		{"ABCD-EFG0", "", false}, // 0 is not in the alphabet
		{"ABCD-EFGI", "", false},
		{"ABCD-EFGZ", "", false},
		{"ABCD_EFGH", "", false},
		{"", "", false},
		{"ÄBCD-EFGH", "", false},
		{"3456-789A", "3456-789A", true},
	}
	for _, c := range cases {
		got, ok := domain.NormalizeUserCode(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("NormalizeUserCode(%q) = %q,%v want %q,%v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestHashSecretAndUUID(t *testing.T) {
	if got := domain.HashSecret("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("sha256: %s", got)
	}
	id, err := domain.NewUUID(rand.Reader)
	if err != nil || len(id) != 36 || id[14] != '4' || !strings.ContainsRune("89ab", rune(id[19])) {
		t.Fatalf("uuid %q %v", id, err)
	}
}
