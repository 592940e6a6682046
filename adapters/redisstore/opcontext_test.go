package redisstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// waitDone fails t unless ch closes within 5 s: the deadlines here are tens
// of milliseconds, the slack is for a loaded CI machine.
func waitDone(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: Done not closed within 5 s", what)
	}
}

// TestOpContextBehavesAsWithTimeout: the lazily armed context answers
// Deadline, Done, Err and Value as context.WithTimeout would, whether Done is
// asked for before or after the deadline, the parent's cancellation or the
// release, and contexts derived from it follow it.
func TestOpContextBehavesAsWithTimeout(t *testing.T) {
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")

	t.Run("DeadlineFixedAtCreation", func(t *testing.T) {
		before := time.Now()
		ctx, op := withLazyTimeout(parent, time.Hour)
		defer op.release()
		dl, ok := ctx.Deadline()
		if !ok || dl.Before(before.Add(time.Hour)) || dl.After(time.Now().Add(time.Hour)) {
			t.Fatalf("Deadline = %v, %v; want about an hour from creation", dl, ok)
		}
		if ctx.Err() != nil || ctx.Value(key{}) != "v" {
			t.Fatalf("fresh context: Err=%v Value=%v", ctx.Err(), ctx.Value(key{}))
		}
	})
	t.Run("DoneFiresAtDeadline", func(t *testing.T) {
		ctx, op := withLazyTimeout(parent, 30*time.Millisecond)
		defer op.release()
		waitDone(t, "armed before the deadline", ctx.Done())
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) || ctx.Value(key{}) != "v" {
			t.Fatalf("after the deadline: Err=%v Value=%v", ctx.Err(), ctx.Value(key{}))
		}
	})
	t.Run("ErrWithoutDone", func(t *testing.T) {
		ctx, op := withLazyTimeout(parent, 10*time.Millisecond)
		defer op.release()
		time.Sleep(20 * time.Millisecond)
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err past the deadline, never armed: %v", ctx.Err())
		}
		waitDone(t, "armed after the deadline", ctx.Done())
	})
	t.Run("ParentCancel", func(t *testing.T) {
		for _, armFirst := range []bool{true, false} {
			p, cancel := context.WithCancel(parent)
			ctx, op := withLazyTimeout(p, time.Hour)
			if armFirst {
				ctx.Done()
			}
			cancel()
			if !errors.Is(ctx.Err(), context.Canceled) {
				t.Fatalf("armed=%v: Err after the parent's cancel: %v", armFirst, ctx.Err())
			}
			waitDone(t, "after the parent's cancel", ctx.Done())
			op.release()
		}
	})
	t.Run("Release", func(t *testing.T) {
		for _, armFirst := range []bool{true, false} {
			ctx, op := withLazyTimeout(parent, time.Hour)
			var derived context.Context
			if armFirst {
				ctx.Done()
				var cancel context.CancelFunc
				derived, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			op.release()
			op.release() // twice is harmless, as with a CancelFunc
			if !errors.Is(ctx.Err(), context.Canceled) {
				t.Fatalf("armed=%v: Err after release: %v", armFirst, ctx.Err())
			}
			waitDone(t, "after release", ctx.Done())
			if derived != nil {
				waitDone(t, "derived context after release", derived.Done())
			}
		}
	})
	t.Run("ParentDeadlineFirst", func(t *testing.T) {
		p, cancel := context.WithTimeout(parent, time.Minute)
		defer cancel()
		ctx, op := withLazyTimeout(p, time.Hour)
		if ctx != p || op != nil {
			t.Fatalf("a parent with the sooner deadline should be used as it is")
		}
		op.release() // a nil op is a no-op
	})
}

// TestOpContextConcurrent races Done, Err, Value, derived contexts and
// release (run with -race): every Done returned must close once the
// context is released, whoever armed it.
func TestOpContextConcurrent(t *testing.T) {
	for range 200 {
		ctx, op := withLazyTimeout(context.Background(), time.Hour)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			chans   []<-chan struct{}
			cancels []context.CancelFunc
		)
		for range 4 {
			wg.Go(func() {
				done := ctx.Done()
				_, _ = ctx.Err(), ctx.Value("k")
				d, cancel := context.WithCancel(ctx)
				mu.Lock()
				defer mu.Unlock()
				chans = append(chans, done, d.Done())
				cancels = append(cancels, cancel)
			})
		}
		wg.Go(op.release)
		wg.Wait()
		for _, ch := range chans {
			waitDone(t, "a Done taken while releasing", ch)
		}
		for _, cancel := range cancels {
			cancel()
		}
	}
}
