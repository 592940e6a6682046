// Package tracing is the OpenTelemetry adapter: a server span per HTTP
// request (W3C trace context honoured only from trusted proxies), a client
// span per backend call (as an instrument.Probes), the trace id in every log
// line written with the request's context, and the OTLP/HTTP exporter.
package tracing
