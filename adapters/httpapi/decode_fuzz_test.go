package httpapi

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// FuzzJSONFields: the body decoder never panics, accepts only what
// encoding/json accepts as an object, and returns exactly the string values
// encoding/json sees for the named fields.
func FuzzJSONFields(f *testing.F) {
	for _, s := range []string{`{"client_id":"difyctl"}`, `{"client_id":"a","client_id":"b"}`, `[]`, `{"x":1}`,
		`{"client_id":null}`, `{"client_id":1}`, `{} {}`, `{"client_id":"\u00e9"}`, ` {"a":{"b":[1,2]}} `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(bytes.TrimSpace(body)) == 0 {
			return // decodeFields refuses empty bodies before jsonFields runs
		}
		got, err := jsonFields(body, []string{"client_id", "device_label"})
		var ref map[string]any
		refErr := json.Unmarshal(body, &ref)
		if err != nil {
			// The converse: a refusal of an object encoding/json accepts,
			// whose named fields are strings or null, is a repeated field.
			if refErr == nil && ref != nil && !strings.Contains(err.Error(), "repeated") && !strings.Contains(err.Error(), "must be a string") {
				t.Fatalf("refused %q (%v) although encoding/json accepts it as an object", body, err)
			}
			return
		}
		if refErr != nil || ref == nil {
			t.Fatalf("accepted a body encoding/json refuses as an object: %q", body)
		}
		for _, k := range []string{"client_id", "device_label"} {
			want, isString := ref[k].(string)
			if v, ok := got[k]; ok != isString || v != want {
				t.Fatalf("%s: got %q (%v), encoding/json sees %v", k, v, ok, ref[k])
			}
		}
	})
}

// FuzzFormFields: the form decoder never panics, accepts exactly what
// net/url.ParseQuery accepts (less a named field given twice, RFC 6749
// section 3.1), and returns exactly the values net/url sees.
func FuzzFormFields(f *testing.F) {
	for _, s := range []string{"client_id=difyctl&device_label=laptop", "client_id=a&client_id=b", "client_id=%zz",
		"client_id", "=x&client_id=%E2%9C%93", "a=1;b=2", "device_label=a+b%20c&x&&y=", "client_id=\x00"} {
		f.Add(s)
	}
	names := []string{"client_id", "device_label"}
	f.Fuzz(func(t *testing.T, body string) {
		got, err := formFields([]byte(body), names)
		ref, refErr := url.ParseQuery(body)
		repeated := false
		for _, n := range names {
			repeated = repeated || len(ref[n]) > 1
		}
		if (err == nil) != (refErr == nil && !repeated) {
			t.Fatalf("%q: decoder err=%v, net/url err=%v, repeated=%v", body, err, refErr, repeated)
		}
		if err != nil {
			return
		}
		for _, n := range names {
			v, ok := got[n]
			if _, has := ref[n]; ok != has || ok && v != ref.Get(n) {
				t.Fatalf("%s: got %q (%v), net/url sees %q", n, v, ok, ref[n])
			}
		}
	})
}
