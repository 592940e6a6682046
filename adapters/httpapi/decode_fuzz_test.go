package httpapi

import (
	"bytes"
	"encoding/json"
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
		if err != nil {
			return
		}
		var ref map[string]any
		if err := json.Unmarshal(body, &ref); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %q", body)
		}
		for _, k := range []string{"client_id", "device_label"} {
			want, isString := ref[k].(string)
			if v, ok := got[k]; ok != isString || v != want {
				t.Fatalf("%s: got %q (%v), encoding/json sees %v", k, v, ok, ref[k])
			}
		}
	})
}
