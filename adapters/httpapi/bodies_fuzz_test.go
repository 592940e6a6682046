package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// fuzzBodyEndpoints are the public endpoints that read a body (SPEC 1 rows
// 1, 2 and 14, and introspection with its credential): the fuzz posts the
// same body to each.
var fuzzBodyEndpoints = []string{"/openapi/v1/oauth/device/code", "/openapi/v1/oauth/device/token",
	"/openapi/v1/oauth/revoke", "/openapi/v1/oauth/introspect"}

// FuzzPublicEndpointBodies posts arbitrary bodies, as JSON and as a form, to
// every public endpoint that reads one, through the real router and error
// handler. Never a 5xx, a panic or a 413 (the bodies are small); a body that
// encoding/json (as an object) or net/url refuses is a 400 invalid_request in
// the endpoint's error shape, before any use case runs; and whatever the
// answer, it carries the headers every response must.
func FuzzPublicEndpointBodies(f *testing.F) {
	for _, s := range []string{`{"client_id":"difyctl"}`, `client_id=difyctl&device_label=x`, `{"token":"dfoa_x"}`, "token=%zz",
		`{"client_id":"difyctl","client_id":"difyctl"}`, `[]`, `{"device_code":1}`, "grant_type=x&device_code=dc_&client_id=difyctl",
		`{"client_id":"difyctl"} {}`, "\xff\xfe", `{"a":` + strings.Repeat("[", 200)} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	s := newTestServer(f)
	var n atomic.Uint32
	f.Fuzz(func(t *testing.T, body []byte, form bool) {
		ctype := "application/json"
		if form {
			ctype = "application/x-www-form-urlencoded"
		}
		malformed := len(bytes.TrimSpace(body)) == 0
		if form {
			_, err := url.ParseQuery(string(body))
			malformed = malformed || err != nil
		} else {
			var obj map[string]json.RawMessage
			malformed = malformed || json.Unmarshal(body, &obj) != nil || obj == nil
		}
		for _, path := range fuzzBodyEndpoints {
			hr := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
			hr.Header.Set("Content-Type", ctype)
			hr.Header.Set("Authorization", "Bearer "+testSecret) // introspection's credential
			i := n.Add(1)                                        // a fresh address each time: no rate limit in the way
			hr.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", byte(i>>16), byte(i>>8), byte(i))
			rec := httptest.NewRecorder()
			s.e.ServeHTTP(rec, hr)
			checkCommonHeaders(t, req{method: http.MethodPost, path: path}, rec)
			if rec.Code >= 500 || rec.Code == http.StatusRequestEntityTooLarge {
				t.Fatalf("%s %q (form %v): %d %s", path, body, form, rec.Code, rec.Body)
			}
			if malformed {
				got := decodeBody(t, rec)
				if rec.Code != http.StatusBadRequest || got["error"] != "invalid_request" && got["code"] != "invalid_request" {
					t.Fatalf("%s %q (form %v) is malformed: %d %s, want 400 invalid_request", path, body, form, rec.Code, rec.Body)
				}
			}
		}
	})
}
