package app_test

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// fakeTokens is a hand-written in-memory ports.TokenStore that counts reads
// and can be told to fail mints.
type fakeTokens struct {
	mu       sync.Mutex
	rows     map[string]*domain.AccessToken
	byHash   atomic.Int64
	failMint error
	mintHook func(ctx context.Context) // runs inside Mint, outside the lock (to stall a mint)
	// revokeHook runs at the start of Revoke, outside the lock (to let a
	// re-login slip in between a revoke's lookup and its compare-and-set).
	revokeHook func(ctx context.Context)
	touched    map[string]time.Time // last_used_at written, by row id
	touches    atomic.Int64
}

func newFakeTokens() *fakeTokens {
	return &fakeTokens{rows: map[string]*domain.AccessToken{}, touched: map[string]time.Time{}}
}

func (f *fakeTokens) Mint(ctx context.Context, t domain.AccessToken) (ports.MintResult, error) {
	if err := t.CheckBinding(); err != nil {
		return ports.MintResult{}, err
	}
	f.mu.Lock()
	hook := f.mintHook
	f.mu.Unlock()
	if hook != nil {
		hook(ctx)
	}
	if err := ctx.Err(); err != nil { // as a database driver honours cancellation
		return ports.MintResult{}, domain.Unavailable("database", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failMint != nil {
		return ports.MintResult{}, f.failMint
	}
	for _, r := range f.rows {
		if r.RevokedAt.IsZero() && r.SubjectEmail == t.SubjectEmail && r.SubjectIssuer == t.SubjectIssuer &&
			r.ClientID == t.ClientID && r.DeviceLabel == t.DeviceLabel {
			old := r.TokenHash
			r.TokenHash, r.ExpiresAt, r.CreatedAt, r.LastUsedAt = t.TokenHash, t.ExpiresAt, t.CreatedAt, time.Time{}
			return ports.MintResult{Token: *r, Rotated: true, ReplacedHash: old}, nil
		}
	}
	c := t
	f.rows[t.ID] = &c
	return ports.MintResult{Token: c}, nil
}

func (f *fakeTokens) ByHash(_ context.Context, hash string) (domain.AccessToken, error) {
	f.byHash.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rows {
		if r.TokenHash == hash && hash != "" {
			return *r, nil
		}
	}
	return domain.AccessToken{}, domain.ErrNotFound
}

func (f *fakeTokens) ByID(_ context.Context, id string) (domain.AccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.rows[id]; ok {
		return *r, nil
	}
	return domain.AccessToken{}, domain.ErrNotFound
}

func (f *fakeTokens) Revoke(ctx context.Context, id, expectHash string, now time.Time) (string, error) {
	f.mu.Lock()
	hook := f.revokeHook
	f.mu.Unlock()
	if hook != nil {
		hook(ctx)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rows[id]
	if !ok || !r.RevokedAt.IsZero() || (expectHash != "" && r.TokenHash != expectHash) {
		return "", domain.ErrNotFound
	}
	h := r.TokenHash
	r.RevokedAt, r.TokenHash = now, ""
	return h, nil
}

func (f *fakeTokens) ExpireHard(_ context.Context, id string, now time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.rows[id]
	if !ok || !r.RevokedAt.IsZero() || now.Before(r.ExpiresAt) {
		return false, nil
	}
	r.RevokedAt, r.TokenHash = now, ""
	return true, nil
}

func (f *fakeTokens) ListLive(_ context.Context, o domain.Owner, now time.Time, page, limit int) ([]domain.AccessToken, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []domain.AccessToken
	for _, r := range f.rows {
		if o.Owns(*r) && r.Live(now) {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	total := len(out)
	lo := min((page-1)*limit, total)
	return out[lo:min(lo+limit, total)], total, nil
}

func (f *fakeTokens) TouchLastUsed(_ context.Context, seen map[ports.TokenUse]time.Time) error {
	f.touches.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	for use, at := range seen {
		r, ok := f.rows[use.ID]
		if !ok || r.TokenHash != use.Hash || !r.RevokedAt.IsZero() || !at.After(r.LastUsedAt) {
			continue
		}
		r.LastUsedAt = at
		f.touched[use.ID] = at
	}
	return nil
}

func (f *fakeTokens) Prune(context.Context, time.Time, int) (int64, error) { return 0, nil }

// recordingAudit collects audit events.
type recordingAudit struct {
	mu     sync.Mutex
	events []domain.AuditEvent
}

func (r *recordingAudit) Emit(_ context.Context, e domain.AuditEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recordingAudit) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Name == name {
			n++
		}
	}
	return n
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
