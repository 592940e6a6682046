package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
)

// downFor is a rate limiter whose store is down for one bucket.
type downFor struct {
	*memstore.RateLimiter
	bucket string
}

func (d downFor) Allow(ctx context.Context, b domain.RateBucket, key string, now time.Time) (domain.RateDecision, error) {
	if b.Name == d.bucket {
		return domain.RateDecision{}, &domain.UnavailableError{Backend: "redis", Err: errors.New("down")}
	}
	return d.RateLimiter.Allow(ctx, b, key, now)
}

// TestSignedInLookupAnswersToItsAccount: while anonymous guessers keep the
// deployment-wide ceiling full, a signed-in caller still looks its real code
// up; its failed tries count against its account's budget (failures only,
// the same no-oracle refusal once full), never against the ceiling; a grant
// holder's look-ups of its own code count nowhere; an outage of the
// per-account bucket fails closed.
func TestSignedInLookupAnswersToItsAccount(t *testing.T) {
	r := newSSORig(t)
	r.pending(t, "ABCD-EFGH")
	limiter := memstore.NewRateLimiter()
	ceiling, perAccount := domain.BucketUserCodeGuess, domain.BucketUserCodeGuessAccount
	ceiling.Limit, perAccount.Limit = 3, 2
	lookup := &app.Lookup{Env: r.sso.Env, Flows: r.flows, Limiter: limiter, GuessBucket: ceiling, AccountGuessBucket: perAccount}
	ip := 0
	addr := func() string { ip++; return fmt.Sprintf("198.51.100.%d", ip) }
	ada, bob := app.LookupCaller{AccountID: "acc-ada"}, app.LookupCaller{AccountID: "acc-bob"}
	try := func(code string, by app.LookupCaller) (app.LookupOutput, error) {
		return lookup.Execute(t.Context(), code, addr(), by)
	}
	var rl *domain.RateLimitedError

	// Signed-in failures below the account's budget leave the ceiling alone.
	for i := range perAccount.Limit {
		if out, err := try(fmt.Sprintf("YYYY-YYY%d", i+3), ada); err != nil || out.Valid {
			t.Fatalf("ada's failed try %d: %+v %v", i, out, err)
		}
	}
	for i := range ceiling.Limit {
		if _, err := try(fmt.Sprintf("XXXX-XXX%d", i+3), app.LookupCaller{}); err != nil {
			t.Fatalf("anonymous failed try %d under the ceiling: %v (signed-in tries counted in it?)", i, err)
		}
	}
	// The ceiling is full: anonymous callers are refused, real codes included...
	if _, err := try("ABCD-EFGH", app.LookupCaller{}); !errors.As(err, &rl) || rl.Bucket != ceiling.Name {
		t.Fatalf("anonymous real code, ceiling full: %v", err)
	}
	// ...a signed-in caller with budget left looks its code up, however often...
	for range 5 {
		if out, err := try("abcd efgh", bob); err != nil || !out.Valid {
			t.Fatalf("bob's real code, ceiling full: %+v %v", out, err)
		}
	}
	// ...as does a grant holder for its own code.
	if out, err := try("ABCD-EFGH", app.LookupCaller{Granted: true}); err != nil || !out.Valid {
		t.Fatalf("grant holder's code, ceiling full: %+v %v", out, err)
	}
	// Ada's budget is spent: refused, her real code included (no oracle).
	for _, code := range []string{"YYYY-YYYA", "ABCD-EFGH"} {
		if _, err := try(code, ada); !errors.As(err, &rl) || rl.Bucket != perAccount.Name {
			t.Fatalf("ada past her budget, %s: %v", code, err)
		}
	}
	// Bob's failures count against his own budget.
	for i := range perAccount.Limit {
		if _, err := try(fmt.Sprintf("WWWW-WWW%d", i+3), bob); err != nil {
			t.Fatalf("bob's failed try %d: %v", i, err)
		}
	}
	if _, err := try("WWWW-WWWA", bob); !errors.As(err, &rl) || rl.Bucket != perAccount.Name {
		t.Fatalf("bob past his budget: %v", err)
	}

	// The per-account bucket fails closed.
	lookup.Limiter = downFor{RateLimiter: memstore.NewRateLimiter(), bucket: perAccount.Name}
	if _, err := try("ABCD-EFGH", ada); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("per-account bucket down: %v, want unavailable", err)
	}
}
