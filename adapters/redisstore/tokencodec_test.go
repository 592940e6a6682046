package redisstore

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// codecTokens are rows that stress the posV1 format: every field set with
// nanosecond times, sparse rows with zero times, times before 1970 and far
// ahead, strings longer than one varint byte, quotes and NUL. (All valid
// UTF-8, which JSON needs to round-trip.)
func codecTokens() []domain.AccessToken {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)
	full := domain.AccessToken{ID: "tok-1", SubjectEmail: "a@example.com", SubjectIssuer: domain.AccountIssuer,
		AccountID: "acct-1", ClientID: "difyctl", DeviceLabel: `my "laptop" ✓`, Prefix: domain.AccountTokenKind.Prefix,
		TokenHash: domain.HashSecret("dfoa_x"), CreatedAt: at, LastUsedAt: at.Add(time.Nanosecond),
		ExpiresAt: at.Add(14 * 24 * time.Hour), RevokedAt: at.Add(time.Minute)}
	sparse := domain.AccessToken{ID: "tok-2", SubjectIssuer: "https://idp.example.com", Prefix: "dfoe_",
		ExpiresAt: at}
	odd := full
	odd.DeviceLabel = strings.Repeat("é", 200) + "\x00" + `{"n":"invalid"}`
	odd.CreatedAt = time.Date(1969, 12, 31, 23, 59, 59, 1, time.UTC)
	odd.LastUsedAt = time.Unix(0, 0).UTC() // the epoch is a time, not "zero"
	odd.ExpiresAt = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
	odd.RevokedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 5*3600)) // read back as UTC
	return []domain.AccessToken{full, sparse, odd, {}}
}

// sameEntry fails t unless got is want, times equal to the nanosecond, zero
// times zero and the others in UTC (as the JSON decoding returned them).
func sameEntry(t *testing.T, what string, want, got ports.CacheEntry) {
	t.Helper()
	w, g := want.Token, got.Token
	for i, p := range [][2]time.Time{{w.CreatedAt, g.CreatedAt}, {w.LastUsedAt, g.LastUsedAt},
		{w.ExpiresAt, g.ExpiresAt}, {w.RevokedAt, g.RevokedAt}} {
		if !p[0].Equal(p[1]) || p[0].IsZero() != p[1].IsZero() || (!p[1].IsZero() && p[1].Location() != time.UTC) {
			t.Fatalf("%s: time %d = %v, want %v (in UTC)", what, i, p[1], p[0])
		}
	}
	w.CreatedAt, w.LastUsedAt, w.ExpiresAt, w.RevokedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.CreatedAt, g.LastUsedAt, g.ExpiresAt, g.RevokedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if want.Negative != got.Negative || w != g {
		t.Fatalf("%s:\ngot  %+v\nwant %+v", what, got, want)
	}
}

// TestTokenCodecRoundTrip: positive entries round-trip through posV1
// exactly (all bytes, even invalid UTF-8; nanoseconds; zero versus epoch),
// negative ones through the JSON they were always stored as.
func TestTokenCodecRoundTrip(t *testing.T) {
	var entries []ports.CacheEntry
	for _, a := range codecTokens() {
		entries = append(entries, ports.CacheEntry{Token: a}, ports.CacheEntry{Negative: ports.CacheExpired, Token: a})
	}
	binary := codecTokens()[0]
	binary.DeviceLabel = "\xff\xfe not UTF-8" // kept as bytes, where JSON would substitute U+FFFD
	entries = append(entries, ports.CacheEntry{Negative: ports.CacheInvalid}, ports.CacheEntry{Token: binary})
	for i, e := range entries {
		v, err := encodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		if positive := e.Negative == ports.CacheHit; positive != (v[0] == posV1) {
			t.Fatalf("entry %d: stored as %q; want posV1 exactly for positive entries", i, v)
		}
		got, ok, err := decodeEntry(v)
		if err != nil || !ok {
			t.Fatalf("entry %d: decode: ok=%v err=%v", i, ok, err)
		}
		sameEntry(t, "entry", e, got)
	}
}

// TestTokenCodecRollingDeploy: the format decisions a mixed fleet relies on.
// A positive posV1 value never begins with {"n": (scripts/putpos.lua would
// take it for a negative entry) and is rejected by the previous version's
// decoder (json.Unmarshal into tokenDoc: a miss there, never a misread);
// negative entries and the tombstone are byte-for-byte what the previous
// version wrote; and what the previous version wrote (JSON) reads back the
// same here.
func TestTokenCodecRollingDeploy(t *testing.T) {
	for _, a := range codecTokens() {
		v, _ := encodeEntry(ports.CacheEntry{Token: a})
		if strings.HasPrefix(v, `{"n":`) {
			t.Fatalf("positive value %q begins like a negative one", v)
		}
		var d tokenDoc
		if err := json.Unmarshal([]byte(v), &d); err == nil {
			t.Fatalf("the previous decoder accepted posV1 %q as %+v", v, d)
		}
		old, err := json.Marshal(legacyDoc(ports.CacheEntry{Token: a}))
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := decodeEntry(string(old))
		if err != nil || !ok {
			t.Fatalf("previous version's value %s: ok=%v err=%v", old, ok, err)
		}
		sameEntry(t, "previous version's value", ports.CacheEntry{Token: a}, got)
	}
	for _, neg := range []ports.CacheNegative{ports.CacheInvalid, ports.CacheExpired} {
		v, _ := encodeEntry(ports.CacheEntry{Negative: neg})
		if want := `{"n":"` + string(neg) + `"}`; v != want {
			t.Fatalf("negative %q stored as %s, want %s (as before)", neg, v, want)
		}
	}
	if _, ok, err := decodeEntry(tombstone); ok || err != nil {
		t.Fatalf("tombstone: ok=%v err=%v; want a miss", ok, err)
	}
}

// legacyDoc is what the previous version stored for e (all JSON).
func legacyDoc(e ports.CacheEntry) tokenDoc {
	a := e.Token
	return tokenDoc{Negative: string(e.Negative), ID: a.ID, SubjectEmail: a.SubjectEmail,
		SubjectIssuer: a.SubjectIssuer, AccountID: a.AccountID, ClientID: a.ClientID, DeviceLabel: a.DeviceLabel,
		Prefix: a.Prefix, TokenHash: a.TokenHash, CreatedAt: a.CreatedAt, LastUsedAt: a.LastUsedAt,
		ExpiresAt: a.ExpiresAt, RevokedAt: a.RevokedAt}
}

// TestTokenCodecNegativeFastPath: the short-cut for {"n":"<m>"} answers as
// the JSON decoder does, on the values it takes and on near misses it must
// leave to the decoder; a value beginning {"n": with an empty marker (which
// putpos.lua protects as negative) is refused, never read as a hit.
func TestTokenCodecNegativeFastPath(t *testing.T) {
	for _, v := range []string{`{"n":""}`, `{"n":"","id":"t"}`} {
		if got, ok, err := decodeEntry(v); err == nil || ok {
			t.Errorf("%s: decoded as %+v (ok=%v), want refused", v, got, ok)
		}
	}
	for _, v := range []string{`{"n":"invalid"}`, `{"n":"expired"}`, tombstone, `{"n":"x\"y"}`, `{"n":"\u0041"}`,
		`{"n":"invalid","id":"t"}`, `{"n":"invalid"} `, `{"n": "invalid"}`, `{"n":"a}`} {
		var d tokenDoc
		jerr := json.Unmarshal([]byte(v), &d)
		got, ok, err := decodeEntry(v)
		switch {
		case jerr != nil:
			if err == nil {
				t.Errorf("%s: decoded as %+v, but it is not valid JSON (%v)", v, got, jerr)
			}
		case err != nil:
			t.Errorf("%s: %v, want %+v", v, err, d.entry())
		case v == tombstone:
			if ok {
				t.Errorf("tombstone served as %+v", got)
			}
		case !ok || got != d.entry():
			t.Errorf("%s: got %+v ok=%v, want %+v", v, got, ok, d.entry())
		}
	}
}

// TestTokenCodecRejectsMalformed: a cut, padded, out-of-range or unknown
// value is an error (a miss for callers), never a panic or a partial entry.
func TestTokenCodecRejectsMalformed(t *testing.T) {
	v := string(encodePositive(codecTokens()[0]))
	bad := []string{"", "x", "\x02" + v[1:], v + "\x00", v[:1] + "\x10" + v[2:],
		v[:2] + "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", `{"id":`}
	for i := range len(v) {
		bad = append(bad, v[:i])
	}
	nsec := string(encodePositive(domain.AccessToken{ExpiresAt: time.Unix(5, 0)}))
	bad = append(bad, nsec[:len(nsec)-1]+"\x80\x94\xeb\xdc\x03") // 1e9 ns
	for _, b := range bad {
		if e, ok, err := decodeEntry(b); err == nil {
			t.Errorf("%q: decoded as %+v ok=%v; want an error", b, e, ok)
		}
	}
}

// TestTokenCodecDecodeAllocs: reading a positive or negative value builds
// no garbage (its strings share the value's memory).
func TestTokenCodecDecodeAllocs(t *testing.T) {
	for _, v := range []string{string(encodePositive(codecTokens()[0])), `{"n":"invalid"}`} {
		if n := testing.AllocsPerRun(100, func() { _, _, _ = decodeEntry(v) }); n != 0 {
			t.Errorf("decoding %q: %v allocations, want 0", v[:1], n)
		}
	}
}

// FuzzTokenCodec: no input panics the decoder; an error is never also a
// hit; a value beginning {"n": (negatives and the tombstone, which
// scripts/putpos.lua tells apart by that prefix) never decodes as a positive
// entry; and whatever it accepts survives encodeEntry and a second decode:
// a positive entry unchanged, a negative one still negative.
func FuzzTokenCodec(f *testing.F) {
	for _, a := range codecTokens() {
		f.Add(string(encodePositive(a)))
	}
	f.Add(tombstone)
	f.Add(`{"n":"invalid"}`)
	f.Add(`{"t":{"id":"x"}}`)
	f.Add("\x02rest")
	f.Fuzz(func(t *testing.T, v string) {
		e, ok, err := decodeEntry(v)
		if err != nil {
			if ok {
				t.Fatalf("%q: an error and a hit", v)
			}
			return
		}
		if strings.HasPrefix(v, `{"n":`) && ok && e.Negative == ports.CacheHit {
			t.Fatalf("%q: a negative-looking value decoded as a positive entry", v)
		}
		if !ok {
			return
		}
		enc, err := encodeEntry(e)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", e, err)
		}
		again, ok, err := decodeEntry(enc)
		if err != nil || !ok {
			t.Fatalf("re-encoding %+v: ok=%v err=%v", e, ok, err)
		}
		if e.Negative != ports.CacheHit {
			// A marker is only ever "invalid" or "expired"; a planted one
			// with invalid UTF-8 may come back with U+FFFD, but stays negative.
			if again.Negative == ports.CacheHit {
				t.Fatalf("negative %q re-encoded as a hit", e.Negative)
			}
			return
		}
		sameEntry(t, "re-encoded", e, again)
	})
}
