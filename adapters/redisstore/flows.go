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

// errFlowExists is Create's answer when the flow hash is already there: a
// device code hash collision, which a 256-bit random device code makes
// practically impossible.
var errFlowExists = errors.New("redisstore: a flow with this device code hash already exists")

// Create stores the flow hash, then claims the user-code index with SET NX.
// Writing the flow first means an index entry always points at a flow that
// was written, so an entry whose flow is gone (consumed, denied, or left by
// a crash between the two writes) or expired at f.CreatedAt can be taken
// over by compare-and-set instead of blocking its user code until it
// expires. On a collision with a live flow nothing stays written and the
// answer is domain.ErrUserCodeTaken.
//
// On one node (standalone or sentinel) both writes travel in one pipelined
// batch, one round trip: Redis runs the commands of a connection in order,
// so the flow is still written before its index entry. A cluster keeps them
// in two round trips (see createInOrder).
func (s *Flows) Create(ctx context.Context, f domain.Flow) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	kv, err := encodeFlow(f)
	if err != nil {
		return err
	}
	args := append([]string{msArg(flowKeyTTL(f))}, kv...)
	if s.c.Mode() == rueidis.ClientModeCluster {
		return s.createInOrder(ctx, f, args)
	}
	return s.createPipelined(ctx, f, args)
}

// createInOrder writes the flow, waits for the reply, then claims the index.
// A cluster must wait: the two keys live in different slots, usually on
// different nodes, and a batch across nodes has no order, so the index entry
// could land first and a concurrent Create of the same user code would find
// it pointing at no flow and take it over, while this Create would still
// report success once its own SET NX had gone through.
func (s *Flows) createInOrder(ctx context.Context, f domain.Flow, args []string) error {
	fk := s.keys.flow(f.DeviceCodeHash)
	n, err := createScript.Exec(ctx, s.c, []string{fk}, args).AsInt64()
	if err != nil {
		return wrapErr(err)
	}
	if n == 0 {
		return errFlowExists
	}
	if err := s.indexUserCode(ctx, f, false); err != nil {
		// Best effort: the key is unreachable by user code and expires anyway.
		s.c.Do(ctx, s.c.B().Del().Key(fk).Build())
		return err
	}
	return nil
}

// createPipelined sends the create script and the SET NX of the index in one
// batch and settles every combination of their replies.
func (s *Flows) createPipelined(ctx context.Context, f domain.Flow, args []string) error {
	fk := s.keys.flow(f.DeviceCodeHash)
	res := s.c.DoMulti(ctx,
		s.c.B().Evalsha().Sha1(createSHA1).Numkeys(1).Key(fk).Arg(args...).Build(),
		s.setIndex(f))
	n, createErr := res[0].AsInt64()
	setErr := res[1].Error()
	claimed, refused := setErr == nil, rueidis.IsRedisNil(setErr)
	created := createErr == nil && n == 1
	switch {
	case created && claimed:
		return nil
	case created && refused: // the code is held: the slow path of createInOrder
		if err := s.indexUserCode(ctx, f, true); err != nil {
			s.c.Do(ctx, s.c.B().Del().Key(fk).Build()) // best effort, as in createInOrder
			return err
		}
		return nil
	case created: // the SET failed: nothing may stay written (best effort)
		_ = s.releaseIndex(ctx, f)
		s.c.Do(ctx, s.c.B().Del().Key(fk).Build())
		return wrapErr(setErr)
	case isNoScript(createErr) && (claimed || refused):
		// The server lost its scripts (restart, failover, SCRIPT FLUSH):
		// no flow was written, but the SET NX may have claimed the index
		// for it. Free the entry, then start over in order (Exec loads the
		// script). Until then the entry points at no flow, which only lets
		// a concurrent Create take it over.
		if claimed {
			if err := s.releaseIndex(ctx, f); err != nil {
				return err
			}
		}
		return s.createInOrder(ctx, f, args)
	}
	// No flow of ours was written (or the reply was lost): the index entry,
	// if the SET wrote one, points at no flow of ours.
	if !refused {
		_ = s.releaseIndex(ctx, f) // best effort
	}
	if createErr == nil {
		return errFlowExists
	}
	if _, ok := rueidis.IsRedisErr(createErr); !ok { // the script may have run
		s.c.Do(ctx, s.c.B().Del().Key(fk).Build()) // best effort
	}
	return wrapErr(createErr)
}

// isNoScript reports an EVALSHA refused because the server does not have the script.
func isNoScript(err error) bool {
	re, ok := rueidis.IsRedisErr(err)
	return ok && re.IsNoScript()
}

// setIndex is the SET NX that claims f's user code for keyTTL(f).
func (s *Flows) setIndex(f domain.Flow) rueidis.Completed {
	return s.c.B().Set().Key(s.keys.userCode(f.UserCode)).Value(f.DeviceCodeHash).Nx().
		PxMilliseconds(keyTTL(f).Milliseconds()).Build()
}

// releaseIndex deletes f's user-code index entry if it still names f's flow
// (compare-and-delete: an entry another Create took over stays).
func (s *Flows) releaseIndex(ctx context.Context, f domain.Flow) error {
	uk := s.keys.userCode(f.UserCode)
	return wrapErr(cadScript.Exec(ctx, s.c, []string{uk}, []string{f.DeviceCodeHash}).Error())
}

// indexUserCode claims f's user code with SET NX; an entry whose flow is gone
// or expired at f.CreatedAt is taken over by compare-and-set. refused says a
// SET NX was already refused (in createPipelined's batch), so the first try
// starts by reading the holder.
func (s *Flows) indexUserCode(ctx context.Context, f domain.Flow, refused bool) error {
	uk := s.keys.userCode(f.UserCode)
	for range 3 {
		if !refused {
			err := s.c.Do(ctx, s.setIndex(f)).Error()
			if !rueidis.IsRedisNil(err) {
				return wrapErr(err) // nil when the index was free
			}
		}
		refused = false
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
		args := []string{holder, f.DeviceCodeHash, msArg(keyTTL(f))}
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
