package instrument

import (
	"context"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// flows observes a ports.Flows.
type flows struct {
	next                                              ports.Flows
	create, byUserCode, decide, poll, finish, release op
}

// Flows returns f with every call observed as backend's.
func Flows(f ports.Flows, backend string, s Set) ports.Flows {
	return &flows{next: f, create: s.op(backend, "flow_create"), byUserCode: s.op(backend, "flow_by_user_code"),
		decide: s.op(backend, "flow_decide"), poll: s.op(backend, "flow_poll"),
		finish: s.op(backend, "flow_finish_claim"), release: s.op(backend, "flow_release_claim")}
}

func (f *flows) Create(ctx context.Context, fl domain.Flow) error {
	ctx, t := f.create.begin(ctx)
	err := f.next.Create(ctx, fl)
	f.create.end(ctx, t, err)
	return err
}

func (f *flows) ByUserCode(ctx context.Context, userCode string, now time.Time) (domain.Flow, error) {
	ctx, t := f.byUserCode.begin(ctx)
	fl, err := f.next.ByUserCode(ctx, userCode, now)
	f.byUserCode.end(ctx, t, err)
	return fl, err
}

func (f *flows) Decide(ctx context.Context, userCode string, d domain.Decision, now time.Time) (domain.Flow, error) {
	ctx, t := f.decide.begin(ctx)
	fl, err := f.next.Decide(ctx, userCode, d, now)
	f.decide.end(ctx, t, err)
	return fl, err
}

func (f *flows) Poll(ctx context.Context, hash string, req domain.PollRequest, now time.Time) (domain.Flow, error) {
	ctx, t := f.poll.begin(ctx)
	fl, err := f.next.Poll(ctx, hash, req, now)
	f.poll.end(ctx, t, err)
	return fl, err
}

func (f *flows) FinishClaim(ctx context.Context, hash, claimID string) error {
	ctx, t := f.finish.begin(ctx)
	err := f.next.FinishClaim(ctx, hash, claimID)
	f.finish.end(ctx, t, err)
	return err
}

func (f *flows) ReleaseClaim(ctx context.Context, hash, claimID string) error {
	ctx, t := f.release.begin(ctx)
	err := f.next.ReleaseClaim(ctx, hash, claimID)
	f.release.end(ctx, t, err)
	return err
}
