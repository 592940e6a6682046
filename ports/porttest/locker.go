package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/devicegate/devicegate/ports"
)

// TestLocker checks a ports.Locker: a held lock is refused to others,
// unlocking frees it, a lock frees itself after its ttl, an unlock by a
// holder whose lock expired and was re-taken leaves the new holder's lock in
// place, and of many concurrent TryLocks exactly one wins. Lock names are
// random, so lockers may share a backend. The expiry check waits in real
// time (under a second), since a Locker takes no now.
func TestLocker(t *testing.T, newLocker func(t *testing.T) ports.Locker) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, l ports.Locker)
	}{
		{"Exclusive", lockExclusive},
		{"StaleUnlock", lockStaleUnlock},
		{"Race", lockRace},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newLocker(t)) })
	}
}

// lockTry calls TryLock and fails t unless ok matches want.
func lockTry(t *testing.T, l ports.Locker, name string, ttl time.Duration, want bool) func(context.Context) error {
	t.Helper()
	unlock, ok, err := l.TryLock(t.Context(), name, ttl)
	stWantErr(t, "TryLock", err, nil)
	if ok != want {
		t.Fatalf("TryLock: ok = %v, want %v", ok, want)
	}
	if ok && unlock == nil {
		t.Fatal("TryLock: ok but no unlock func")
	}
	return unlock
}

// lockExclusive: held -> refused; unlocked -> free; names are independent.
func lockExclusive(t *testing.T, l ports.Locker) {
	name, other := "porttest-lock-"+stRandHex(8), "porttest-lock-"+stRandHex(8)
	unlock := lockTry(t, l, name, time.Minute, true)
	lockTry(t, l, name, time.Minute, false)
	unlockOther := lockTry(t, l, other, time.Minute, true)
	stWantErr(t, "unlock", unlock(t.Context()), nil)
	unlock = lockTry(t, l, name, time.Minute, true)
	lockTry(t, l, other, time.Minute, false)
	stWantErr(t, "unlock", unlock(t.Context()), nil)
	stWantErr(t, "unlock other", unlockOther(t.Context()), nil)
}

// lockStaleUnlock: after A's lock expires and B takes it, A's unlock must
// not release B's lock.
func lockStaleUnlock(t *testing.T, l ports.Locker) {
	const ttl = 300 * time.Millisecond
	name := "porttest-lock-" + stRandHex(8)
	unlockA := lockTry(t, l, name, ttl, true)
	wait := 3*ttl + 2*time.Second // slack for a loaded CI machine
	deadline := time.Now().Add(wait)
	var unlockB func(context.Context) error
	for {
		u, ok, err := l.TryLock(t.Context(), name, time.Minute)
		stWantErr(t, "TryLock", err, nil)
		if ok {
			unlockB = u
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a lock with ttl %v was not free after %v", ttl, wait)
		}
		time.Sleep(25 * time.Millisecond)
	}
	if err := unlockA(t.Context()); err != nil {
		t.Logf("stale unlock returned %v (allowed)", err)
	}
	lockTry(t, l, name, time.Minute, false)
	stWantErr(t, "unlock B", unlockB(t.Context()), nil)
	unlock := lockTry(t, l, name, time.Minute, true)
	stWantErr(t, "unlock", unlock(t.Context()), nil)
}

// lockRace: of 20 concurrent TryLocks exactly one takes the lock.
func lockRace(t *testing.T, l ports.Locker) {
	const n = 20
	name := "porttest-lock-" + stRandHex(8)
	unlocks := make([]func(context.Context) error, n)
	oks := make([]bool, n)
	errs := make([]error, n)
	stRace(n, func(i int) { unlocks[i], oks[i], errs[i] = l.TryLock(t.Context(), name, time.Minute) })
	winner := -1
	for i := range oks {
		stWantErr(t, "TryLock", errs[i], nil)
		if oks[i] {
			if winner >= 0 {
				t.Fatalf("TryLocks %d and %d both took the lock", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no TryLock took the lock")
	}
	lockTry(t, l, name, time.Minute, false)
	stWantErr(t, "unlock", unlocks[winner](t.Context()), nil)
	unlock := lockTry(t, l, name, time.Minute, true)
	stWantErr(t, "unlock", unlock(t.Context()), nil)
}
