// Package slogaudit is the audit sink that writes each audit event as one
// structured slog record with audit=true and event=<name> (SPEC 6).
package slogaudit
