package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/devicegate/devicegate/app"
	"github.com/devicegate/devicegate/domain"
)

// TestIntrospectionFollowsTheBearerSwitch: with ENABLE_OAUTH_BEARER off the
// service refuses every token on its own bearer routes (SPEC 7.3); a
// resource server asking through introspection must not be told the same
// token is active. It gets the same bearer_auth_disabled answer.
func TestIntrospectionFollowsTheBearerSwitch(t *testing.T) {
	r := newBearerRig(t)
	m := r.mint(t, "laptop")
	in := &app.Introspect{Auth: r.auth, Secret: "0123456789abcdef"}
	res, err := in.Execute(context.Background(), m.Token)
	if err != nil || !res.Active {
		t.Fatalf("enabled: %+v %v", res, err)
	}
	r.auth.Enabled = false
	res, err = in.Execute(context.Background(), m.Token)
	if !errors.Is(err, domain.ErrBearerDisabled) || res.Active {
		t.Fatalf("disabled: %+v %v, want bearer_auth_disabled", res, err)
	}
}
