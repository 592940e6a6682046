package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/devicegate/devicegate/adapters/instrument"
)

// backendProbe times one operation of one backend; its children are
// resolved at construction.
type backendProbe struct {
	byOutcome [instrument.Outcomes]prometheus.Observer
}

// Probe returns the probe of op on backend (instrument.Probes).
func (m *Metrics) Probe(backend, op string) instrument.Probe {
	p := &backendProbe{}
	for o := instrument.Outcome(0); o < instrument.Outcomes; o++ {
		p.byOutcome[o] = m.backendDuration.WithLabelValues(backend, op, o.String())
	}
	return p
}

// Begin starts nothing: the decorator keeps the start time.
func (p *backendProbe) Begin(ctx context.Context) context.Context { return ctx }

// End observes the call's latency under its outcome.
func (p *backendProbe) End(_ context.Context, began time.Time, err error) {
	p.byOutcome[instrument.Classify(err)].Observe(time.Since(began).Seconds())
}

// requestKey is one child of the request histogram.
type requestKey struct {
	route, method string
	status        int
}

// requestChildren caches the histogram's children: routes, methods and
// statuses are finite sets, so after the first request of each kind a
// request costs one map read.
type requestChildren struct {
	vec      *prometheus.HistogramVec
	children sync.Map // requestKey -> prometheus.Observer
}

// knownMethods are the methods counted by name; any other is "OTHER".
var knownMethods = map[string]bool{http.MethodGet: true, http.MethodHead: true, http.MethodPost: true,
	http.MethodPut: true, http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true}

// ObserveRequest counts one answered request. route is the route template
// (never the URL); the HTTP adapter passes "unmatched" for a request no route matched.
func (m *Metrics) ObserveRequest(_ context.Context, route, method string, status int, d time.Duration) {
	if !knownMethods[method] {
		method = "OTHER"
	}
	if status < 100 || status > 599 {
		status = 0
	}
	k := requestKey{route: route, method: method, status: status}
	o, ok := m.requests.children.Load(k)
	if !ok {
		o, _ = m.requests.children.LoadOrStore(k, m.requests.vec.WithLabelValues(route, method, strconv.Itoa(status)))
	}
	o.(prometheus.Observer).Observe(d.Seconds())
}
