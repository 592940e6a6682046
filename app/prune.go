package app

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/ports"
)

// PruneBatch is the retention delete's batch size (SPEC 3.6).
const PruneBatch = 500

// Prune deletes token rows past the retention window (SPEC 3.6), under a
// distributed lock so only one instance runs it at a time.
type Prune struct {
	Env
	Tokens        ports.TokenPruner
	Locker        ports.Locker        // optional: nil runs unlocked (CLI on a single instance)
	Sessions      ports.SessionPruner // optional: expired console sessions go too
	RetentionDays int
}

// PruneLockName names the pruner's lock.
const PruneLockName = "retention-pruner"

// Execute runs one prune. ran=false means another instance holds the lock.
func (u *Prune) Execute(ctx context.Context) (deleted int64, ran bool, err error) {
	if u.Locker != nil {
		unlock, ok, err := u.Locker.TryLock(ctx, PruneLockName, time.Hour)
		if err != nil || !ok {
			return 0, false, err
		}
		defer func() {
			if uerr := unlock(context.WithoutCancel(ctx)); uerr != nil {
				u.log().WarnContext(ctx, "retention lock release failed", "err", uerr)
			}
		}()
	}
	now := u.now()
	if u.Sessions != nil {
		if _, err := u.Sessions.PruneSessions(ctx, now); err != nil {
			u.log().WarnContext(ctx, "console session prune failed", "err", err)
		}
	}
	cutoff := now.Add(-time.Duration(u.RetentionDays) * 24 * time.Hour)
	n, err := u.Tokens.Prune(ctx, cutoff, PruneBatch)
	if n > 0 { // a failed run may have deleted some batches first
		u.observer().Pruned(n)
	}
	return n, true, err
}

// Run prunes once at start and then every interval until ctx ends.
func (u *Prune) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, ran, err := u.Execute(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			u.log().InfoContext(ctx, "retention prune stopped by shutdown", "deleted", n)
			return
		case err != nil:
			u.log().WarnContext(ctx, "retention prune failed; will retry", "err", err)
		case ran:
			u.log().InfoContext(ctx, "retention prune done", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
