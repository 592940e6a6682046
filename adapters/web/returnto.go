package web

import (
	"net/url"
	"regexp"
	"strings"
)

// DevicePath is the verification page, the only place sign-in returns to.
const DevicePath = "/device"

// userCodeParam matches what the page may carry back: a user code as typed
// or normalised (letters, digits, dashes, spaces), never anything longer.
var userCodeParam = regexp.MustCompile(`^[A-Za-z0-9 -]{1,16}$`)

// SafeReturnTo is the server-side check on /signin's return_to: the result is
// always a same-origin path to /device, carrying at most user_code (a code's
// characters) and sso_verified=1, rebuilt from scratch. Anything else
// (another host, another path, a scheme, a backslash, an extra or repeated
// parameter, a fragment, bad escapes) returns plain "/device", so the page
// can never be made an open redirect.
func SafeReturnTo(raw string) string {
	if raw == "" || len(raw) > 256 || strings.ContainsAny(raw, "\\\x00\r\n\t") {
		return DevicePath
	}
	if raw != DevicePath && !strings.HasPrefix(raw, DevicePath+"?") {
		return DevicePath // also refuses //host, /\host, scheme:, /device/../x, /devicex
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		u.Path != DevicePath || u.RawPath != "" || u.Fragment != "" || strings.Contains(raw, "#") {
		return DevicePath
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return DevicePath
	}
	out := url.Values{}
	for k, vs := range q {
		if len(vs) != 1 {
			return DevicePath
		}
		switch {
		case k == "user_code" && userCodeParam.MatchString(vs[0]):
			out.Set(k, vs[0])
		case k == "sso_verified" && vs[0] == "1":
			out.Set(k, "1")
		default:
			return DevicePath
		}
	}
	if len(out) == 0 {
		return DevicePath
	}
	return DevicePath + "?" + out.Encode()
}
