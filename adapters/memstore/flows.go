package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// sweepPerCreate bounds the expiry work one Create does: more than the one
// entry it queues, so the queue drains under load, yet a constant, so no
// Create pays for a backlog (Sweep and the janitor take the rest).
const sweepPerCreate = 8

// Flows is the in-memory ports.Flows: a map of flows keyed by device-code
// hash plus a user-code index, behind one mutex. Every method applies the
// domain function (domain.Poll, Decide, FinishClaim, ReleaseClaim) under the
// lock, so each is atomic. Flows past ExpiresAt are removed lazily, by a
// bounded step of expiry work on each Create, and by Sweep/RunJanitor; that
// work follows a heap of expiry times, so it never grows with the number of
// live flows. It serves one process only: several instances need the Redis adapter.
type Flows struct {
	mu     sync.Mutex
	byHash map[string]*domain.Flow
	byCode map[string]string // user code -> device-code hash
	expiry expiryHeap
	visits int              // flows examined by expiry work, ever (tests check it stays bounded)
	clock  func() time.Time // real time, for expiry where no now is passed
}

// NewFlows returns an empty flow store.
func NewFlows() *Flows {
	return &Flows{byHash: map[string]*domain.Flow{}, byCode: map[string]string{}, clock: time.Now}
}

// Create stores f unless a live flow holds its user code (domain.ErrUserCodeTaken).
// Create gets no now, so liveness is judged by the real clock, as a TTL would.
func (s *Flows) Create(_ context.Context, f domain.Flow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	if h, ok := s.byCode[f.UserCode]; ok {
		if old := s.byHash[h]; old != nil && !old.Expired(now) {
			return domain.ErrUserCodeTaken
		}
		delete(s.byCode, f.UserCode)
		s.drop(h, now)
	}
	s.remove(f.DeviceCodeHash) // a hash collision replaces; keep the index exact
	c := cloneFlow(f)
	s.byHash[f.DeviceCodeHash] = &c
	s.byCode[f.UserCode] = f.DeviceCodeHash
	s.expiry.push(flowExpiry{at: f.ExpiresAt.UnixNano(), hash: f.DeviceCodeHash})
	s.sweepUpTo(now, sweepPerCreate)
	return nil
}

// ByUserCode returns a copy of the flow holding userCode, or
// domain.ErrNotFound if none or expired at now.
func (s *Flows) ByUserCode(_ context.Context, userCode string, now time.Time) (domain.Flow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.liveByCode(userCode, now)
	if f == nil {
		return domain.Flow{}, domain.ErrNotFound
	}
	return cloneFlow(*f), nil
}

// Decide applies domain.Decide to the flow holding userCode.
func (s *Flows) Decide(_ context.Context, userCode string, d domain.Decision, now time.Time) (domain.Flow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := domain.Decide(s.liveByCode(userCode, now), d, now)
	if err != nil {
		return domain.Flow{}, err
	}
	next = cloneFlow(next)
	s.byHash[next.DeviceCodeHash] = &next
	return cloneFlow(next), nil
}

// Poll applies domain.Poll to the flow with deviceCodeHash.
func (s *Flows) Poll(_ context.Context, deviceCodeHash string, req domain.PollRequest, now time.Time) (domain.Flow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	step := domain.Poll(s.byHash[deviceCodeHash], req, now)
	switch {
	case step.Delete:
		s.remove(deviceCodeHash)
	case step.Store:
		next := cloneFlow(step.Next)
		s.byHash[deviceCodeHash] = &next
	}
	if step.Err != nil {
		return domain.Flow{}, step.Err
	}
	return cloneFlow(step.Next), nil
}

// FinishClaim deletes the flow if still claimed by claimID, else domain.ErrClaimLost.
func (s *Flows) FinishClaim(_ context.Context, deviceCodeHash, claimID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := domain.FinishClaim(s.byHash[deviceCodeHash], claimID); err != nil {
		return err
	}
	s.remove(deviceCodeHash)
	return nil
}

// ReleaseClaim moves the flow back to APPROVED if still claimed by claimID,
// else domain.ErrClaimLost.
func (s *Flows) ReleaseClaim(_ context.Context, deviceCodeHash, claimID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := domain.ReleaseClaim(s.byHash[deviceCodeHash], claimID)
	if err != nil {
		return err
	}
	s.byHash[deviceCodeHash] = &next
	return nil
}

// Sweep removes every flow expired at now, except claims whose lease still
// runs, and returns how many it removed.
func (s *Flows) Sweep(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sweep(now)
}

// RunJanitor sweeps expired flows every interval until ctx is done. It is
// optional (Create sweeps too); run it in its own goroutine.
func (s *Flows) RunJanitor(ctx context.Context, interval time.Duration) {
	runJanitor(ctx, interval, func() { s.Sweep(s.clock()) })
}

// Len returns how many flows are held, expired or not (for tests and metrics).
func (s *Flows) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byHash)
}

// liveByCode returns the stored flow for userCode, or nil when unknown or
// expired at now (an expired one is removed, see drop). Callers hold s.mu.
func (s *Flows) liveByCode(userCode string, now time.Time) *domain.Flow {
	h, ok := s.byCode[userCode]
	if !ok {
		return nil
	}
	f := s.byHash[h]
	if f == nil {
		delete(s.byCode, userCode)
		return nil
	}
	if f.Expired(now) {
		s.drop(h, now)
		return nil
	}
	return f
}

// drop removes the flow with hash if it expired at now, unless it is claimed
// and its lease still runs: the claimant may still finish (or release) it
// after ExpiresAt, since domain.FinishClaim does not look at the expiry.
// It reports whether it removed the flow. Callers hold s.mu.
func (s *Flows) drop(hash string, now time.Time) bool {
	f := s.byHash[hash]
	if f == nil || !f.Expired(now) || (f.Status == domain.FlowClaimed && now.Before(f.ClaimExpiresAt)) {
		return false
	}
	s.remove(hash)
	return true
}

// remove deletes the flow with hash and its index entry. Callers hold s.mu.
func (s *Flows) remove(hash string) {
	f := s.byHash[hash]
	if f == nil {
		return
	}
	delete(s.byHash, hash)
	if s.byCode[f.UserCode] == hash {
		delete(s.byCode, f.UserCode)
	}
}

// sweep removes flows expired at now (but not a claim whose lease still
// runs; see drop). Callers hold s.mu.
func (s *Flows) sweep(now time.Time) int {
	return s.sweepUpTo(now, -1)
}

// sweepUpTo pops at most max due expiry entries (all of them when max < 0)
// and removes the flows they name that are expired at now. A flow not yet
// expired (its expiry moved) or still under a running claim lease is queued
// again for that later moment. It returns how many flows it removed.
// Callers hold s.mu.
func (s *Flows) sweepUpTo(now time.Time, max int) int {
	n, ns := 0, now.UnixNano()
	for i := 0; max < 0 || i < max; i++ {
		e, ok := s.expiry.popDue(ns)
		if !ok {
			break
		}
		s.visits++
		f := s.byHash[e.hash]
		switch {
		case f == nil:
		case s.drop(e.hash, now):
			n++
		case !f.Expired(now):
			s.expiry.push(flowExpiry{at: f.ExpiresAt.UnixNano(), hash: e.hash})
		default: // a running claim lease
			s.expiry.push(flowExpiry{at: f.ClaimExpiresAt.UnixNano(), hash: e.hash})
		}
	}
	return n
}

// cloneFlow deep-copies f so callers never share the stored subject.
func cloneFlow(f domain.Flow) domain.Flow {
	if f.Subject != nil {
		s := *f.Subject
		if s.Workspaces != nil {
			s.Workspaces = append([]domain.Workspace(nil), s.Workspaces...)
		}
		f.Subject = &s
	}
	return f
}
