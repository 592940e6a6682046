package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/devicegate/devicegate/adapters/web"
)

// TestPagesServed: the real graph serves /device and /signin with the pages'
// strict CSP on top of SPEC 1.2's headers, and /signin embeds only a
// server-checked return target.
func TestPagesServed(t *testing.T) {
	in := startInstance(t, sqliteVars(t))
	for path, want := range map[string]string{
		"/device":                          `data-page="device"`,
		"/signin?return_to=%2F%2Fevil.com": `data-return-to="/device"`,
		"/signin?return_to=%2Fdevice%3Fuser_code%3DABCD-EFGH":     `data-return-to="/device?user_code=ABCD-EFGH"`,
		"/signin?return_to=%2Fdevice%3Fuser_code%3DX%26next%3D..": `data-return-to="/device"`,
	} {
		resp, err := http.Get(in.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Security-Policy") != web.CSP || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %v", path, resp.StatusCode, h)
		}
		if !strings.Contains(string(body), want) {
			t.Errorf("%s: body lacks %s", path, want)
		}
	}
}
