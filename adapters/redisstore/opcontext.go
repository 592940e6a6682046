package redisstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// opContext is context.WithTimeout(parent, d) for a call that usually never
// waits: a TokenCache.Get served from rueidis' local memory reads no channel
// and no deadline, yet WithTimeout would start and stop a runtime timer and
// allocate four objects for it, a third of that Get's cost. opContext fixes
// the deadline at creation but creates the real timer context only when
// someone first asks for Done, which is what every wait (a round trip, a
// retry back-off, waiting on another caller's in-flight fetch) selects on.
// So every wait is bounded exactly as under WithTimeout; Err, Deadline and
// Value answer as WithTimeout would without arming anything.
//
// release must be called when the call returns, as a CancelFunc would be.
type opContext struct {
	parent   context.Context
	deadline time.Time

	state  atomic.Uint32 // opIdle, opArmed or opReleased
	mu     sync.Mutex    // serialises arming against release
	inner  context.Context
	cancel context.CancelFunc
}

// opContext states. inner and cancel are written before state becomes
// opArmed and never after, so a reader that sees opArmed may use them.
const (
	opIdle uint32 = iota
	opArmed
	opReleased
)

// closedDone is the Done channel of an opContext released before anything
// asked for one.
var closedDone = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// boundedLazy is bounded for calls that mostly end without a wait (see
// opContext); call release on the returned *opContext when done.
func boundedLazy(parent context.Context) (context.Context, *opContext) {
	return withLazyTimeout(parent, opTimeout)
}

// withLazyTimeout returns a context bounded at d from now and the
// *opContext to release. A parent whose own deadline comes first is used as
// it is, as context.WithTimeout would, with a nil *opContext (whose release
// does nothing).
func withLazyTimeout(parent context.Context, d time.Duration) (context.Context, *opContext) {
	deadline := time.Now().Add(d)
	if pd, ok := parent.Deadline(); ok && !pd.After(deadline) {
		return parent, nil
	}
	c := &opContext{parent: parent, deadline: deadline}
	return c, c
}

// Deadline returns the deadline fixed at creation.
func (c *opContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Done arms the timer context on first use and returns its channel.
func (c *opContext) Done() <-chan struct{} {
	if c.state.Load() == opArmed {
		return c.inner.Done()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.Load() == opIdle {
		inner, cancel := context.WithDeadline(c.parent, c.deadline)
		c.inner, c.cancel = inner, cancel
		if !c.state.CompareAndSwap(opIdle, opArmed) { // released meanwhile
			cancel()
			return closedDone
		}
	}
	if c.state.Load() == opReleased {
		return closedDone
	}
	return c.inner.Done()
}

// Err is the armed context's Err; before arming, the parent's error, else
// DeadlineExceeded once the deadline has passed, else Canceled after release.
func (c *opContext) Err() error {
	switch c.state.Load() {
	case opArmed:
		return c.inner.Err()
	case opReleased:
		if err := c.parent.Err(); err != nil {
			return err
		}
		return context.Canceled
	}
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Value is the armed context's Value (so contexts derived from this one
// attach to its cancellation directly), else the parent's.
func (c *opContext) Value(key any) any {
	if c.state.Load() == opArmed {
		return c.inner.Value(key)
	}
	return c.parent.Value(key)
}

// release ends the context: it stops the timer if one was armed, and any
// later Done is closed. A nil c does nothing.
func (c *opContext) release() {
	if c == nil {
		return
	}
	if c.state.CompareAndSwap(opIdle, opReleased) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state.Load() == opArmed {
		c.cancel()
	}
}
