package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/redis/rueidis"
)

// Bounds of a flow key's Redis TTL (see keyTTL).
const (
	minKeyTTL = time.Second
	maxKeyTTL = 24 * time.Hour
)

// Flows is the Redis flow store (ports.Flows). A flow is one hash at
// <prefix>flow:{<device code hash>}; the user-code index
// <prefix>uc:{<sha256 of the user code>} holds the device code hash. Every
// transition is one single-key Lua script on the flow hash that restates the
// domain function (domain.Poll, Decide, FinishClaim, ReleaseClaim).
type Flows struct {
	c    rueidis.Client
	keys keyspace
}

// NewFlows returns the flow store on c with every key under prefix.
func NewFlows(c rueidis.Client, prefix string) *Flows {
	return &Flows{c: c, keys: keyspace(prefix)}
}

// keyTTL is the Redis lifetime of a flow's user-code index entry: the flow's
// own lifetime (ExpiresAt - CreatedAt), counted by Redis from the write. It
// exists only to free memory; expiry as the product sees it is decided by the
// caller's now against the stored ExpiresAt. A relative TTL (rather than
// PEXPIREAT at ExpiresAt) keeps the keys alive for the flow's whole lifetime
// whatever the skew between the caller's clock and the Redis clock, including
// the synthetic clocks of the conformance suites.
func keyTTL(f domain.Flow) time.Duration {
	return min(max(f.ExpiresAt.Sub(f.CreatedAt), minKeyTTL), maxKeyTTL)
}

// flowKeyTTL is the Redis lifetime of the flow hash: keyTTL plus one claim
// lease. A poll may claim the approval up to the last millisecond of the
// flow, and its claimant must still find the hash to finish (or release) the
// claim once it has minted: domain.FinishClaim does not look at ExpiresAt.
// Every script still treats the flow as expired from ExpiresAt on.
func flowKeyTTL(f domain.Flow) time.Duration { return keyTTL(f) + domain.ClaimLease }

func msArg(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// Create stores the flow hash, then claims the user-code index with SET NX.
// Writing the flow first means an index entry always points at a flow that
// was written, so an entry whose flow is gone (consumed, denied, or left by
// a crash between the two writes) or expired at f.CreatedAt can be taken
// over by compare-and-set instead of blocking its user code until it
// expires. On a collision with a live flow nothing stays written and the
// answer is domain.ErrUserCodeTaken.
func (s *Flows) Create(ctx context.Context, f domain.Flow) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	kv, err := encodeFlow(f)
	if err != nil {
		return err
	}
	ttl := keyTTL(f)
	fk := s.keys.flow(f.DeviceCodeHash)
	n, err := createScript.Exec(ctx, s.c, []string{fk}, append([]string{msArg(flowKeyTTL(f))}, kv...)).AsInt64()
	if err != nil {
		return wrapErr(err)
	}
	if n == 0 {
		return errors.New("redisstore: a flow with this device code hash already exists")
	}
	if err := s.indexUserCode(ctx, f, ttl); err != nil {
		// Best effort: the key is unreachable by user code and expires anyway.
		s.c.Do(ctx, s.c.B().Del().Key(fk).Build())
		return err
	}
	return nil
}

func (s *Flows) indexUserCode(ctx context.Context, f domain.Flow, ttl time.Duration) error {
	uk := s.keys.userCode(f.UserCode)
	for range 3 {
		err := s.c.Do(ctx, s.c.B().Set().Key(uk).Value(f.DeviceCodeHash).Nx().
			PxMilliseconds(ttl.Milliseconds()).Build()).Error()
		if !rueidis.IsRedisNil(err) {
			return wrapErr(err) // nil when the index was free
		}
		holder, err := s.c.Do(ctx, s.c.B().Get().Key(uk).Build()).ToString()
		if rueidis.IsRedisNil(err) {
			continue // the entry expired in between: try SET NX again
		}
		if err != nil {
			return wrapErr(err)
		}
		live, err := s.live(ctx, holder, f.CreatedAt)
		if err != nil {
			return err
		}
		if live {
			return domain.ErrUserCodeTaken
		}
		args := []string{holder, f.DeviceCodeHash, msArg(ttl)}
		n, err := casScript.Exec(ctx, s.c, []string{uk}, args).AsInt64()
		if err != nil {
			return wrapErr(err)
		}
		if n == 1 {
			return nil
		}
	}
	return domain.ErrUserCodeTaken
}

// live reports whether the flow with deviceCodeHash exists and has not
// expired at now.
func (s *Flows) live(ctx context.Context, deviceCodeHash string, now time.Time) (bool, error) {
	exp, err := s.c.Do(ctx, s.c.B().Hget().Key(s.keys.flow(deviceCodeHash)).Field(fExpires).Build()).AsInt64()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	if err != nil {
		return false, wrapErr(err)
	}
	return now.UnixMilli() < exp, nil
}

// resolve returns the device code hash the user-code index holds, or
// domain.ErrNotFound.
func (s *Flows) resolve(ctx context.Context, userCode string) (string, error) {
	h, err := s.c.Do(ctx, s.c.B().Get().Key(s.keys.userCode(userCode)).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", domain.ErrNotFound
	}
	return h, wrapErr(err)
}

// ByUserCode reads the flow through the user-code index; a flow expired at
// now, or one that no longer carries userCode, is domain.ErrNotFound.
func (s *Flows) ByUserCode(ctx context.Context, userCode string, now time.Time) (domain.Flow, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	h, err := s.resolve(ctx, userCode)
	if err != nil {
		return domain.Flow{}, err
	}
	m, err := s.c.Do(ctx, s.c.B().Hgetall().Key(s.keys.flow(h)).Build()).AsStrMap()
	if err != nil {
		return domain.Flow{}, wrapErr(err)
	}
	if len(m) == 0 {
		return domain.Flow{}, domain.ErrNotFound
	}
	f, err := decodeFlow(h, m)
	if err != nil {
		return domain.Flow{}, err
	}
	if f.Expired(now) || f.UserCode != userCode {
		return domain.Flow{}, domain.ErrNotFound
	}
	return f, nil
}

// Decide resolves the user code, then runs the decide script (a
// compare-and-set from PENDING) on the flow hash.
func (s *Flows) Decide(ctx context.Context, userCode string, d domain.Decision, now time.Time) (domain.Flow, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	approve, subject := "0", ""
	if d.Approve {
		if d.Subject == nil {
			return domain.Flow{}, errors.New("redisstore: approval without a subject")
		}
		var err error
		if subject, err = encodeSubject(*d.Subject); err != nil {
			return domain.Flow{}, err
		}
		approve = "1"
	}
	h, err := s.resolve(ctx, userCode)
	if err != nil {
		return domain.Flow{}, err
	}
	args := []string{strconv.FormatInt(now.UnixMilli(), 10), userCode, approve, subject}
	arr, err := decideScript.Exec(ctx, s.c, []string{s.keys.flow(h)}, args).ToArray()
	if err != nil {
		return domain.Flow{}, wrapErr(err)
	}
	code, err := arr[0].ToString()
	if err != nil {
		return domain.Flow{}, fmt.Errorf("redisstore: decide reply: %w", err)
	}
	switch code {
	case "ok":
		return decodeReply(h, arr)
	case "already_resolved":
		return domain.Flow{}, domain.ErrAlreadyResolved
	default:
		return domain.Flow{}, domain.ErrNotFound
	}
}

// decodeReply decodes the HGETALL a script returned as its second element.
func decodeReply(deviceCodeHash string, arr []rueidis.RedisMessage) (domain.Flow, error) {
	if len(arr) < 2 {
		return domain.Flow{}, errors.New("redisstore: script reply without a flow")
	}
	m, err := arr[1].AsStrMap()
	if err != nil {
		return domain.Flow{}, fmt.Errorf("redisstore: flow reply: %w", err)
	}
	return decodeFlow(deviceCodeHash, m)
}
