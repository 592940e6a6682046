// Package staticlicense answers the license port from configuration
// (EDITION, LICENSE_STATUS; SPEC 7.2).
package staticlicense

import (
	"context"
	"strings"

	"github.com/devicegate/devicegate/domain"
)

// License is the ports.License of a fixed edition and status.
type License struct {
	l domain.License
}

// New returns the license for edition and status, both case-insensitive
// (stored lower- and upper-cased respectively).
func New(edition, status string) *License {
	return &License{l: domain.License{Edition: strings.ToLower(strings.TrimSpace(edition)),
		Status: strings.ToUpper(strings.TrimSpace(status))}}
}

// License returns the configured edition and status.
func (s *License) License(context.Context) (domain.License, error) { return s.l, nil }
