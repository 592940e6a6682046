package app

import (
	"context"
	"sync"
	"time"

	"github.com/devicegate/devicegate/ports"
)

// LastUsed batches last_used_at writes off the request path: at most one
// write per token per Every, flushed in one call by Run. It never fails a request.
// Uses are keyed by (row id, presented hash): a rotation keeps the id, and a
// queued use of the replaced token must neither stamp its successor's row
// nor hold back the successor's first write.
type LastUsed struct {
	Env
	Tokens ports.TokenSessions
	Every  time.Duration // default one minute

	mu      sync.Mutex
	pending map[ports.TokenUse]time.Time
	written map[ports.TokenUse]time.Time
}

// Seen records that the token with hash, in row id, was used at now. It is
// cheap and never blocks on I/O.
func (l *LastUsed) Seen(id, hash string, now time.Time) {
	use := ports.TokenUse{ID: id, Hash: hash}
	every := l.every()
	l.mu.Lock()
	defer l.mu.Unlock()
	if w, ok := l.written[use]; ok && now.Sub(w) < every {
		return
	}
	if l.pending == nil {
		l.pending, l.written = map[ports.TokenUse]time.Time{}, map[ports.TokenUse]time.Time{}
	}
	l.pending[use] = now
	l.written[use] = now
}

func (l *LastUsed) every() time.Duration {
	if l.Every <= 0 {
		return time.Minute
	}
	return l.Every
}

// Flush writes what is pending; failures are logged and the batch retried next time.
func (l *LastUsed) Flush(ctx context.Context) {
	l.mu.Lock()
	batch := l.pending
	l.pending = nil
	// Forget old write marks so the map stays bounded.
	cutoff := l.now().Add(-2 * l.every())
	for use, w := range l.written {
		if w.Before(cutoff) {
			delete(l.written, use)
		}
	}
	l.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := l.Tokens.TouchLastUsed(ctx, batch); err != nil {
		l.log().WarnContext(ctx, "last_used_at flush failed; will retry", "tokens", len(batch), "err", err)
		l.mu.Lock()
		if l.pending == nil {
			l.pending = map[ports.TokenUse]time.Time{}
		}
		for use, t := range batch {
			if cur, ok := l.pending[use]; !ok || t.After(cur) {
				l.pending[use] = t
			}
		}
		l.mu.Unlock()
	}
}

// Run flushes every interval until ctx ends, then flushes once more.
func (l *LastUsed) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			l.Flush(context.WithoutCancel(ctx))
			return
		case <-t.C:
			l.Flush(ctx)
		}
	}
}
