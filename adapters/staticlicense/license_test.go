package staticlicense_test

import (
	"testing"

	"github.com/devicegate/devicegate/adapters/staticlicense"
)

// TestEnterpriseGate: only the enterprise edition with ACTIVE or EXPIRING
// (any case, surrounding spaces ignored) turns the SSO branch on; every
// other or future status, and the community edition, keep it off.
func TestEnterpriseGate(t *testing.T) {
	for _, tc := range []struct {
		edition, status string
		on              bool
	}{
		{"enterprise", "ACTIVE", true},
		{"Enterprise", "active", true},
		{" ENTERPRISE ", " Expiring ", true},
		{"enterprise", "EXPIRED", false},
		{"enterprise", "LOST", false},
		{"enterprise", "INACTIVE", false},
		{"enterprise", "", false},
		{"enterprise", "ACTIVE_TRIAL", false},
		{"enterprise", "ACTIVE,EXPIRING", false},
		{"community", "ACTIVE", false},
		{"", "ACTIVE", false},
		{"enterprise-ish", "ACTIVE", false},
	} {
		l, err := staticlicense.New(tc.edition, tc.status).License(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := l.AllowsEnterpriseSSO(); got != tc.on {
			t.Errorf("EDITION=%q LICENSE_STATUS=%q: SSO on = %v, want %v", tc.edition, tc.status, got, tc.on)
		}
	}
}
