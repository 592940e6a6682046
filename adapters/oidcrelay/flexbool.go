package oidcrelay

import (
	"encoding/json"
	"fmt"
	"strings"
)

// flexibleBool reads email_verified whether the provider sends a JSON
// boolean or, as some do (older Cognito, some ADFS setups), the string
// "true"/"false". Anything else is a decode error, so an unreadable
// email_verified refuses the sign-in rather than passing as "not said".
type flexibleBool bool

func (b *flexibleBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch x := v.(type) {
	case bool:
		*b = flexibleBool(x)
	case string:
		switch strings.ToLower(x) {
		case "true":
			*b = true
		case "false":
			*b = false
		default:
			return fmt.Errorf("email_verified: %q is not a boolean", x)
		}
	default:
		return fmt.Errorf("email_verified: %s is not a boolean", data)
	}
	return nil
}
