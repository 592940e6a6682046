package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/devicegate/devicegate/domain"
	"github.com/redis/rueidis"
)

// pollAnswers maps the poll script's codes to the domain's answers.
var pollAnswers = map[string]error{
	"expired_token":         domain.ErrExpiredToken,
	"invalid_grant":         domain.ErrInvalidGrant,
	"invalid_verifier":      domain.ErrVerifierMismatch,
	"slow_down":             domain.ErrSlowDown,
	"authorization_pending": domain.ErrAuthorizationPending,
	"access_denied":         domain.ErrAccessDenied,
}

// Poll runs scripts/poll.lua: domain.Poll as one atomic step on the flow
// hash, with now passed in as unix milliseconds. On a claim it returns the
// claimed flow. The verifier's S256 arrives already computed (Redis Lua has
// no SHA-256), so the script only compares it with the stored challenge.
func (s *Flows) Poll(ctx context.Context, deviceCodeHash string, req domain.PollRequest, now time.Time) (domain.Flow, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	args := []string{req.ClientID, req.ClaimID, strconv.FormatInt(now.UnixMilli(), 10),
		msArg(domain.SlowDownStep), strconv.FormatInt(now.Add(domain.ClaimLease).UnixMilli(), 10), req.VerifierChallenge,
		msArg(domain.PollTolerance)}
	arr, err := pollScript.Exec(ctx, s.c, []string{s.keys.flow(deviceCodeHash)}, args).ToArray()
	if err != nil {
		return domain.Flow{}, wrapErr(err)
	}
	code, err := arr[0].ToString()
	if err != nil {
		return domain.Flow{}, fmt.Errorf("redisstore: poll reply: %w", err)
	}
	if code == "claimed" {
		return decodeReply(deviceCodeHash, arr)
	}
	answer, ok := pollAnswers[code]
	if !ok {
		return domain.Flow{}, fmt.Errorf("redisstore: unexpected poll reply %q", code)
	}
	if len(arr) > 1 { // the script deleted the flow
		s.dropIndex(ctx, arr[1], deviceCodeHash)
	}
	return domain.Flow{}, answer
}

// FinishClaim runs scripts/finish.lua: delete the flow if it is still
// claimed by claimID, else domain.ErrClaimLost.
func (s *Flows) FinishClaim(ctx context.Context, deviceCodeHash, claimID string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	arr, err := finishScript.Exec(ctx, s.c, []string{s.keys.flow(deviceCodeHash)}, []string{claimID}).ToArray()
	if err != nil {
		return wrapErr(err)
	}
	if n, _ := arr[0].AsInt64(); n != 1 {
		return domain.ErrClaimLost
	}
	if len(arr) > 1 {
		s.dropIndex(ctx, arr[1], deviceCodeHash)
	}
	return nil
}

// ReleaseClaim runs scripts/release.lua: back to APPROVED if still claimed
// by claimID, else domain.ErrClaimLost.
func (s *Flows) ReleaseClaim(ctx context.Context, deviceCodeHash, claimID string) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	n, err := releaseScript.Exec(ctx, s.c, []string{s.keys.flow(deviceCodeHash)}, []string{claimID}).AsInt64()
	if err != nil {
		return wrapErr(err)
	}
	if n != 1 {
		return domain.ErrClaimLost
	}
	return nil
}

// dropIndex frees the user code of a deleted flow: a compare-and-delete on
// the index entry, so an entry already taken over by a newer flow stays. It
// is best effort (a second key cannot join the flow's script on a cluster);
// an entry left behind is taken over by the next Create of that user code.
func (s *Flows) dropIndex(ctx context.Context, userCode rueidis.RedisMessage, deviceCodeHash string) {
	uc, err := userCode.ToString()
	if err != nil {
		return
	}
	cadScript.Exec(ctx, s.c, []string{s.keys.userCode(uc)}, []string{deviceCodeHash})
}
