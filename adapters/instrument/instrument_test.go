package instrument_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/devicegate/devicegate/adapters/instrument"
	"github.com/devicegate/devicegate/adapters/memstore"
	"github.com/devicegate/devicegate/domain"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		want instrument.Outcome
	}{
		{nil, instrument.OK},
		{fmt.Errorf("read: %w", domain.ErrNotFound), instrument.Answer},
		{domain.ErrAuthorizationPending, instrument.Answer},
		{domain.Unavailable("redis", errors.New("dial tcp: refused")), instrument.Error},
		{errors.New("decode: bad row"), instrument.Error},
	} {
		if got := instrument.Classify(c.err); got != c.want {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// recorder is a probe that records what it saw.
type recorder struct {
	names []string
	ends  []error
}

type ctxKey struct{}

func (r *recorder) Probe(backend, op string) instrument.Probe {
	r.names = append(r.names, backend+" "+op)
	return probe{r}
}

type probe struct{ r *recorder }

func (p probe) Begin(ctx context.Context) context.Context {
	return context.WithValue(ctx, ctxKey{}, true)
}

func (p probe) End(ctx context.Context, _ time.Time, err error) {
	if ctx.Value(ctxKey{}) != true {
		panic("End must get the context Begin returned")
	}
	p.r.ends = append(p.r.ends, err)
}

// TestDecoratorObservesEveryCall proves a decorated port resolves its
// probes once, at construction, and hands each call's error to them.
func TestDecoratorObservesEveryCall(t *testing.T) {
	r := &recorder{}
	f := instrument.Flows(memstore.NewFlows(), "memory", instrument.Set{r})
	if len(r.names) != 6 {
		t.Fatalf("probes resolved at construction: %v", r.names)
	}
	_, err := f.ByUserCode(t.Context(), "ABCD-EFGH", time.Now())
	if !errors.Is(err, domain.ErrNotFound) || len(r.ends) != 1 || !errors.Is(r.ends[0], domain.ErrNotFound) {
		t.Fatalf("err %v, ends %v", err, r.ends)
	}
	if len(r.names) != 6 {
		t.Fatal("a call must not resolve probes again")
	}
}
