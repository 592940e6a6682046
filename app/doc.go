// Package app holds devicegate's use cases, one per file. It depends only on
// domain and ports; adapters/httpapi and cmd call into it.
package app
