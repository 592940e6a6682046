package ports

// Observer receives the use cases' outcomes for metrics. Every label it is
// given comes from the small enumerations below, so an implementation can
// resolve its counters once, at construction, and count with no lookup and
// no allocation; it must be safe for concurrent use and never block.
// Outcomes that are audit events too (approvals, denials, issued, revoked
// and hard-expired tokens) are counted from the audit sink instead.
type Observer interface {
	// FlowStarted counts a device flow stored by POST /oauth/device/code.
	FlowStarted()
	// PollAnswered counts one poll by its outcome.
	PollAnswered(o PollOutcome)
	// BearerChecked counts one bearer validation by outcome and by the layer
	// that answered it.
	BearerChecked(o BearerOutcome, l CacheLayer)
	// Pruned counts token rows deleted by the retention job.
	Pruned(rows int64)
}

// PollOutcome is how a poll ended.
type PollOutcome uint8

// The poll outcomes (SPEC 2.3); PollInvalid covers malformed requests,
// wrong client or verifier, PollError backend failures.
const (
	PollPending PollOutcome = iota
	PollSlowDown
	PollDenied
	PollExpired
	PollIssued
	PollInvalid
	PollError
	PollOutcomes // the number of outcomes
)

var pollOutcomeNames = [PollOutcomes]string{"pending", "slow_down", "denied", "expired", "issued", "invalid", "error"}

// String is the outcome's metric label.
func (o PollOutcome) String() string { return label(pollOutcomeNames[:], int(o), "error") }

// label names value i of an enumeration, or def when out of range.
func label(names []string, i int, def string) string {
	if i < len(names) {
		return names[i]
	}
	return def
}

// BearerOutcome is how a bearer validation ended.
type BearerOutcome uint8

// The bearer validation outcomes (SPEC 3.4).
const (
	BearerValid BearerOutcome = iota
	BearerInvalid
	BearerExpired
	BearerRateLimited
	BearerError
	BearerOutcomes // the number of outcomes
)

var bearerOutcomeNames = [BearerOutcomes]string{"valid", "invalid", "expired", "rate_limited", "error"}

// String is the outcome's metric label.
func (o BearerOutcome) String() string { return label(bearerOutcomeNames[:], int(o), "error") }

// CacheLayer names where a bearer validation found its answer.
type CacheLayer uint8

// The layers: LayerNone is a validation answered before any lookup (an
// unknown prefix, a refusal by the rate limiter); LayerLocal is this
// process's memory (the memory cache, or Redis client-side caching);
// LayerShared a round trip to the shared cache; LayerDatabase the token table.
const (
	LayerNone CacheLayer = iota
	LayerLocal
	LayerShared
	LayerDatabase
	CacheLayers // the number of layers
)

var cacheLayerNames = [CacheLayers]string{"none", "local", "shared", "database"}

// String is the layer's metric label.
func (l CacheLayer) String() string { return label(cacheLayerNames[:], int(l), "none") }

// NopObserver counts nothing; use cases take it when none is configured.
type NopObserver struct{}

// FlowStarted does nothing.
func (NopObserver) FlowStarted() {}

// PollAnswered does nothing.
func (NopObserver) PollAnswered(PollOutcome) {}

// BearerChecked does nothing.
func (NopObserver) BearerChecked(BearerOutcome, CacheLayer) {}

// Pruned does nothing.
func (NopObserver) Pruned(int64) {}
