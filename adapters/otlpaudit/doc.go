// Package otlpaudit is the audit sink that exports each audit event as an
// OpenTelemetry log record over OTLP/HTTP (AUDIT_SINK=otlp or both): the
// record's event name is the audit event's name (SPEC 6, unchanged), its
// attributes the same fields the JSON log line carries.
package otlpaudit
