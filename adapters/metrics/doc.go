// Package metrics is the Prometheus adapter: it counts the use cases'
// outcomes (ports.Observer), the audit events, rate-limit refusals, HTTP
// requests and backend calls (as an instrument.Probes), and serves them at
// /metrics. Every label value comes from a finite set, and every counter a
// hot path touches is resolved once, at construction.
package metrics
