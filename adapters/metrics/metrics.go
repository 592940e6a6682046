package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/devicegate/devicegate/adapters/instrument"
	"github.com/devicegate/devicegate/domain"
	"github.com/devicegate/devicegate/ports"
)

// Metric names (the Grafana dashboard in deploy/ and the README list them).
const (
	NameHTTPDuration    = "devicegate_http_request_duration_seconds"
	NameFlows           = "devicegate_flows_total"
	NamePolls           = "devicegate_polls_total"
	NameTokensIssued    = "devicegate_tokens_issued_total"
	NameTokensRevoked   = "devicegate_tokens_revoked_total"
	NameTokensExpired   = "devicegate_tokens_hard_expired_total"
	NameBearer          = "devicegate_bearer_validations_total"
	NameRateLimited     = "devicegate_rate_limit_refusals_total"
	NameBackendDuration = "devicegate_backend_call_duration_seconds"
	NamePruned          = "devicegate_pruned_rows_total"
	NameAudit           = "devicegate_audit_events_total"
)

// Flow events of NameFlows.
const (
	flowStarted  = "started"
	flowApproved = "approved"
	flowDenied   = "denied"
	flowRejected = "rejected"
	flowExpired  = "expired"
)

// Label values for anything outside the known sets.
const other = "other"

// Metrics is the registry and every metric of the service.
type Metrics struct {
	reg *prometheus.Registry

	httpDuration    *prometheus.HistogramVec
	backendDuration *prometheus.HistogramVec

	flows   map[string]prometheus.Counter
	polls   [ports.PollOutcomes]prometheus.Counter
	bearer  [ports.BearerOutcomes][ports.CacheLayers]prometheus.Counter
	issued  map[domain.SubjectType][2]prometheus.Counter // [not rotated, rotated]
	revoked prometheus.Counter
	expired prometheus.Counter
	audit   map[string]prometheus.Counter
	limited map[string]prometheus.Counter
	pruned  prometheus.Counter

	requests requestChildren
}

// auditEvents are the audit event names (SPEC 6), the label values of NameAudit.
var auditEvents = []string{domain.EventFlowApproved, domain.EventFlowDenied, domain.EventFlowRejected,
	domain.EventCrossIPPoll, domain.EventTokenIssued, domain.EventTokenExpired, domain.EventTokenRevoked}

// buckets are the rate-limit buckets of SPEC 4, the label values of NameRateLimited.
var buckets = []domain.RateBucket{domain.BucketDeviceCode, domain.BucketLookup, domain.BucketSSOInitiate,
	domain.BucketDecision, domain.BucketApproveExternal, domain.BucketMe, domain.BucketBearer,
	domain.BucketLoginIP, domain.BucketLoginEmail, domain.BucketLoginEmailIP, domain.BucketUserCodeGuess}

// latencyBuckets cover a local memory hit (tens of microseconds) to a slow
// database call or request (seconds).
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New builds the metrics on a fresh registry (with the Go runtime and process collectors).
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{reg: reg}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		reg.MustRegister(v)
		return v
	}
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		reg.MustRegister(c)
		return c
	}
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: NameHTTPDuration,
		Help: "HTTP requests by route template, method and status, and their latency.", Buckets: latencyBuckets},
		[]string{"route", "method", "status"})
	m.backendDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: NameBackendDuration,
		Help: "Backend calls by backend, operation and outcome (ok, answer, error), and their latency.", Buckets: latencyBuckets},
		[]string{"backend", "op", "outcome"})
	reg.MustRegister(m.httpDuration, m.backendDuration)

	flows := counterVec(NameFlows, "Device flows by event: started, approved, denied, rejected, expired (a poll found it gone).", "event")
	m.flows = map[string]prometheus.Counter{}
	for _, ev := range []string{flowStarted, flowApproved, flowDenied, flowRejected, flowExpired} {
		m.flows[ev] = flows.WithLabelValues(ev)
	}
	polls := counterVec(NamePolls, "Token polls by outcome.", "outcome")
	for o := ports.PollOutcome(0); o < ports.PollOutcomes; o++ {
		m.polls[o] = polls.WithLabelValues(o.String())
	}
	bearer := counterVec(NameBearer, "Bearer validations by outcome and the cache layer that answered.", "outcome", "layer")
	for o := ports.BearerOutcome(0); o < ports.BearerOutcomes; o++ {
		for l := ports.CacheLayer(0); l < ports.CacheLayers; l++ {
			m.bearer[o][l] = bearer.WithLabelValues(o.String(), l.String())
		}
	}
	issued := counterVec(NameTokensIssued, "Tokens delivered to a polling client, by kind and whether a live token was rotated.", "kind", "rotated")
	m.issued = map[domain.SubjectType][2]prometheus.Counter{}
	for _, k := range []domain.SubjectType{domain.SubjectAccount, domain.SubjectExternalSSO, other} {
		m.issued[k] = [2]prometheus.Counter{issued.WithLabelValues(string(k), "false"), issued.WithLabelValues(string(k), "true")}
	}
	m.revoked = counter(NameTokensRevoked, "Tokens revoked (by their holder, an owner, an operator or account offboarding).")
	m.expired = counter(NameTokensExpired, "Tokens revoked by the hard-expiry check on first presentation after expiry.")
	audit := counterVec(NameAudit, "Audit events by name.", "event")
	m.audit = map[string]prometheus.Counter{}
	for _, ev := range append(auditEvents, other) {
		m.audit[ev] = audit.WithLabelValues(ev)
	}
	limited := counterVec(NameRateLimited, "Requests refused by a rate limit, by bucket.", "bucket")
	m.limited = map[string]prometheus.Counter{}
	for _, b := range buckets {
		m.limited[b.Name] = limited.WithLabelValues(b.Name)
	}
	m.limited[other] = limited.WithLabelValues(other)
	m.pruned = counter(NamePruned, "Token rows deleted by the retention pruner.")
	m.requests.vec = m.httpDuration
	return m
}

// Registry is the registry holding every metric (tests gather it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

var _ ports.Observer = (*Metrics)(nil)
var _ instrument.Probes = (*Metrics)(nil)
