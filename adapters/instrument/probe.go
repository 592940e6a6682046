package instrument

import (
	"context"
	"errors"
	"time"

	"github.com/devicegate/devicegate/domain"
)

// Outcome classifies a backend call for metrics and spans.
type Outcome uint8

// The outcomes: OK is a nil error; Answer is a domain answer (not found,
// pending, already resolved...), which is the backend working as designed;
// Error is an outage, a timeout or anything unexpected.
const (
	OK Outcome = iota
	Answer
	Error
	Outcomes // the number of outcomes
)

var outcomeNames = [Outcomes]string{"ok", "answer", "error"}

// String is the outcome's label.
func (o Outcome) String() string {
	if o < Outcomes {
		return outcomeNames[o]
	}
	return "error"
}

// answers are the domain errors a backend returns as part of its contract.
var answers = []error{
	domain.ErrNotFound, domain.ErrExpiredToken, domain.ErrInvalidGrant, domain.ErrSlowDown,
	domain.ErrAuthorizationPending, domain.ErrAccessDenied, domain.ErrAlreadyResolved,
	domain.ErrClaimLost, domain.ErrUserCodeTaken, domain.ErrConflict, domain.ErrInvalidSignedObject,
}

// Classify returns the outcome of a call that returned err.
func Classify(err error) Outcome {
	if err == nil {
		return OK
	}
	if errors.Is(err, domain.ErrUnavailable) {
		return Error
	}
	for _, a := range answers {
		if errors.Is(err, a) {
			return Answer
		}
	}
	return Error
}

// Probe observes the calls of one operation of one backend. Begin runs
// before the call and may return a derived context (a span); End runs after
// it with the time Begin was called. Both must be safe for concurrent use.
type Probe interface {
	Begin(ctx context.Context) context.Context
	End(ctx context.Context, began time.Time, err error)
}

// Probes makes the Probe of each operation; decorators call it once per
// operation at construction, so a probe can resolve its labels up front.
type Probes interface {
	Probe(backend, op string) Probe
}

// Set is several Probes observing the same calls (metrics and tracing).
type Set []Probes

// op is the probes of one operation.
type op []Probe

func (s Set) op(backend, name string) op {
	o := make(op, 0, len(s))
	for _, p := range s {
		if p != nil {
			o = append(o, p.Probe(backend, name))
		}
	}
	return o
}

func (o op) begin(ctx context.Context) (context.Context, time.Time) {
	for _, p := range o {
		ctx = p.Begin(ctx)
	}
	return ctx, time.Now()
}

func (o op) end(ctx context.Context, began time.Time, err error) {
	for i := len(o) - 1; i >= 0; i-- {
		o[i].End(ctx, began, err)
	}
}
