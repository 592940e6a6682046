// Package docs embeds the service's published contract, docs/openapi.yaml,
// so the binary serves the document it was built with.
package docs
