package redisstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Stored values of a token-cache key (<prefix>tok:{<hash>}), by first byte:
//
//   - posV1 (0x01): a positive entry in the compact format below, written
//     by this version. Decoding it takes no reflection and no allocation:
//     the strings are slices of the value rueidis holds.
//   - '{': JSON (tokenDoc). Negative entries and the tombstone are still
//     written this way, so they begin with {"n": as scripts/putpos.lua
//     requires; positive entries written by earlier versions are too.
//
// Rolling deploys share the key layout and the values: this version reads
// both encodings. An earlier version fails to parse posV1 (not JSON), which
// it treats as a cache miss and answers from the database; it never
// misreads it. The tombstone and negative markers are unchanged, so
// Invalidate and the anti-resurrection rule hold across versions. A change
// to the compact format takes a new version byte; an unknown one is an
// error (a miss for callers), never a guess.
//
// posV1 layout:
//
//	byte 0     posV1
//	byte 1     bit i set when time i is not zero (CreatedAt, LastUsedAt, ExpiresAt, RevokedAt)
//	strings    ID, SubjectEmail, SubjectIssuer, AccountID, ClientID, DeviceLabel, Prefix, TokenHash,
//	           each a uvarint length then its bytes (kept exactly, not UTF-8 checked)
//	times      for each set bit in order: varint Unix seconds, uvarint nanoseconds (< 1e9)
const posV1 = 0x01

// tombstone is the stored value of an invalidated hash: a negative-looking
// document that Get answers as a miss.
const tombstone = `{"n":"-"}`

// tokenDoc is the JSON of a ports.CacheEntry: how negative entries are
// stored, and positive ones were by earlier versions. Negative is the first
// field, so every negative entry (and the tombstone) begins with {"n": and no
// positive entry does; scripts/putpos.lua relies on it.
type tokenDoc struct {
	Negative      string    `json:"n,omitempty"`
	ID            string    `json:"id,omitempty"`
	SubjectEmail  string    `json:"se,omitempty"`
	SubjectIssuer string    `json:"si,omitempty"`
	AccountID     string    `json:"ac,omitempty"`
	ClientID      string    `json:"ci,omitempty"`
	DeviceLabel   string    `json:"dl,omitempty"`
	Prefix        string    `json:"p,omitempty"`
	TokenHash     string    `json:"th,omitempty"`
	CreatedAt     time.Time `json:"ca,omitzero"`
	LastUsedAt    time.Time `json:"lu,omitzero"`
	ExpiresAt     time.Time `json:"ex,omitzero"`
	RevokedAt     time.Time `json:"rv,omitzero"`
}

// encodeEntry returns the stored value of e: posV1 when positive, JSON when
// negative.
func encodeEntry(e ports.CacheEntry) (string, error) {
	a := e.Token
	if e.Negative == ports.CacheHit {
		return string(encodePositive(a)), nil
	}
	b, err := json.Marshal(tokenDoc{Negative: string(e.Negative), ID: a.ID, SubjectEmail: a.SubjectEmail,
		SubjectIssuer: a.SubjectIssuer, AccountID: a.AccountID, ClientID: a.ClientID, DeviceLabel: a.DeviceLabel,
		Prefix: a.Prefix, TokenHash: a.TokenHash, CreatedAt: a.CreatedAt, LastUsedAt: a.LastUsedAt,
		ExpiresAt: a.ExpiresAt, RevokedAt: a.RevokedAt})
	if err != nil {
		return "", fmt.Errorf("redisstore: encode token cache entry: %w", err)
	}
	return string(b), nil
}

// encodePositive returns the posV1 value of a.
func encodePositive(a domain.AccessToken) []byte {
	strs := [...]string{a.ID, a.SubjectEmail, a.SubjectIssuer, a.AccountID, a.ClientID, a.DeviceLabel, a.Prefix, a.TokenHash}
	times := [...]time.Time{a.CreatedAt, a.LastUsedAt, a.ExpiresAt, a.RevokedAt}
	n := 2 + len(times)*15
	for _, s := range strs {
		n += len(s) + 5
	}
	b := make([]byte, 2, n)
	b[0] = posV1
	for i, t := range times {
		if !t.IsZero() {
			b[1] |= 1 << i
		}
	}
	for _, s := range strs {
		b = appendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, t := range times {
		if !t.IsZero() {
			s := t.Unix()
			b = appendUvarint(b, uint64(s<<1)^uint64(s>>63)) //nolint:gosec // G115: zigzag reinterprets the bits, as encoding/binary's varint
			b = appendUvarint(b, uint64(t.Nanosecond()))     //nolint:gosec // G115: Nanosecond is in [0, 1e9)
		}
	}
	return b
}

// errBadEntry reports a stored value this version cannot read.
var errBadEntry = errors.New("malformed or unknown-format value")

// decodeEntry reads a stored value: ok=false for the tombstone. The
// returned strings may share memory with s.
func decodeEntry(s string) (e ports.CacheEntry, ok bool, err error) {
	if neg, isNeg := negativeMarker(s); isNeg {
		if neg == "-" {
			return ports.CacheEntry{}, false, nil
		}
		return ports.CacheEntry{Negative: ports.CacheNegative(neg)}, true, nil
	}
	switch {
	case len(s) > 0 && s[0] == posV1:
		a, err := decodePositive(s)
		return ports.CacheEntry{Token: a}, err == nil, err
	case len(s) > 0 && s[0] == '{':
		var d tokenDoc
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			return ports.CacheEntry{}, false, err
		}
		// scripts/putpos.lua takes every value beginning {"n": for a
		// negative entry, so such a value with an empty marker must not read
		// as a hit here (no writer makes one; a planted one is a miss).
		if d.Negative == "" && strings.HasPrefix(s, `{"n":`) {
			return ports.CacheEntry{}, false, errBadEntry
		}
		return d.entry(), true, nil
	}
	return ports.CacheEntry{}, false, errBadEntry
}

// negativeMarker recognises the JSON a negative entry without a token (the
// only kind the app stores) and the tombstone are written as, {"n":"<m>"}
// with m free of quotes, backslashes and control characters, and returns m:
// what json.Unmarshal would, without its cost. Anything else is left to the
// full decoders.
func negativeMarker(s string) (string, bool) {
	const open, end = `{"n":"`, `"}`
	if len(s) < len(open)+len(end)+1 || !strings.HasPrefix(s, open) || !strings.HasSuffix(s, end) {
		return "", false
	}
	m := s[len(open) : len(s)-len(end)]
	for i := 0; i < len(m); i++ {
		if c := m[i]; c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
	}
	return m, true
}

// decodePositive reads a posV1 value, rejecting anything short, long or out
// of range.
func decodePositive(s string) (domain.AccessToken, error) {
	if len(s) < 2 || s[0] != posV1 || s[1]&^0x0f != 0 {
		return domain.AccessToken{}, errBadEntry
	}
	r := reader{s: s, i: 2}
	var a domain.AccessToken
	for _, p := range [...]*string{&a.ID, &a.SubjectEmail, &a.SubjectIssuer, &a.AccountID, &a.ClientID,
		&a.DeviceLabel, &a.Prefix, &a.TokenHash} {
		*p = r.str()
	}
	for i, p := range [...]*time.Time{&a.CreatedAt, &a.LastUsedAt, &a.ExpiresAt, &a.RevokedAt} {
		if s[1]&(1<<i) == 0 {
			continue
		}
		z := r.uvarint()
		sec, nsec := int64(z>>1)^-int64(z&1), r.uvarint()
		if nsec >= 1e9 {
			r.bad = true
		}
		*p = time.Unix(sec, int64(nsec)).UTC() //nolint:gosec // G115: nsec < 1e9, or the entry is refused above
	}
	if r.bad || r.i != len(s) {
		return domain.AccessToken{}, errBadEntry
	}
	return a, nil
}

// reader walks a posV1 value; bad records any overrun, after which every
// read returns zero.
type reader struct {
	s   string
	i   int
	bad bool
}

// uvarint reads an encoding/binary uvarint.
func (r *reader) uvarint() uint64 {
	var x uint64
	for shift := uint(0); !r.bad; shift += 7 {
		if r.i >= len(r.s) || shift > 63 {
			r.bad = true
			break
		}
		c := r.s[r.i]
		r.i++
		if c < 0x80 {
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
	}
	return 0
}

// str reads a length-prefixed string as a slice of the value.
func (r *reader) str() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.s)-r.i) { //nolint:gosec // G115: r.i never passes len(r.s)
		r.bad = true
		return ""
	}
	v := r.s[r.i : r.i+int(n)] //nolint:gosec // G115: n <= len(r.s)-r.i, checked above
	r.i += int(n)              //nolint:gosec // G115: as above
	return v
}

// appendUvarint is binary.AppendUvarint (kept here beside its reader).
func appendUvarint(b []byte, x uint64) []byte {
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}

func (d tokenDoc) entry() ports.CacheEntry {
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC()
	}
	return ports.CacheEntry{Negative: ports.CacheNegative(d.Negative), Token: domain.AccessToken{
		ID: d.ID, SubjectEmail: d.SubjectEmail, SubjectIssuer: d.SubjectIssuer, AccountID: d.AccountID,
		ClientID: d.ClientID, DeviceLabel: d.DeviceLabel, Prefix: d.Prefix, TokenHash: d.TokenHash,
		CreatedAt: utc(d.CreatedAt), LastUsedAt: utc(d.LastUsedAt), ExpiresAt: utc(d.ExpiresAt),
		RevokedAt: utc(d.RevokedAt)}}
}
