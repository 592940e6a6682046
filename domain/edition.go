package domain

import "strings"

// Editions (EDITION, case-insensitive).
const (
	EditionCommunity  = "community"
	EditionEnterprise = "enterprise"
)

// License is the edition and license status the license port reports.
type License struct {
	Edition string
	Status  string
}

// licensedStatuses is the allowlist of SPEC 2.6: every other or future status is denied.
var licensedStatuses = []string{"ACTIVE", "EXPIRING"}

// AllowsEnterpriseSSO reports whether the enterprise SSO endpoints are on:
// the enterprise edition with an allowlisted status (both case-insensitive).
func (l License) AllowsEnterpriseSSO() bool {
	if !strings.EqualFold(strings.TrimSpace(l.Edition), EditionEnterprise) {
		return false
	}
	s := strings.TrimSpace(l.Status)
	for _, ok := range licensedStatuses {
		if strings.EqualFold(s, ok) {
			return true
		}
	}
	return false
}
