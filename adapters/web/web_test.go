package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func newPages(t *testing.T) *echo.Echo {
	t.Helper()
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	p.Register(e)
	return e
}

func get(e *echo.Echo, path string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// TestPagesHeadersAndSize: both pages carry the strict CSP, are never cached,
// and weigh (with the script, the stylesheet and one catalogue) under 100 KB.
func TestPagesHeadersAndSize(t *testing.T) {
	e := newPages(t)
	assetsSize := 0
	for _, a := range []string{"app.js", "app.css"} {
		rec := get(e, AssetPrefix+a, nil)
		if rec.Code != 200 || rec.Header().Get("ETag") == "" {
			t.Fatalf("%s: %d %v", a, rec.Code, rec.Header())
		}
		assetsSize += rec.Body.Len()
	}
	for _, page := range []string{"/device", "/signin"} {
		rec := get(e, page, nil)
		if rec.Code != 200 {
			t.Fatalf("%s: %d", page, rec.Code)
		}
		h := rec.Header()
		if h.Get("Content-Security-Policy") != CSP || h.Get("Cache-Control") != "no-store" ||
			!strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Errorf("%s headers: %v", page, h)
		}
		if total := rec.Body.Len() + assetsSize; total >= 100_000 {
			t.Errorf("%s weighs %d bytes with its assets, want < 100 KB", page, total)
		}
		body := rec.Body.String()
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]|style=|<style|\son[a-z]+=`).MatchString(
			strings.ReplaceAll(body, `<script type="application/json" id="catalog">`, "")) {
			t.Errorf("%s has inline script or style (the CSP would block it)", page)
		}
		if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
			t.Errorf("%s refers to another host", page)
		}
	}
	if rec := get(e, AssetPrefix+"nope.js", nil); rec.Code != 404 {
		t.Errorf("unknown asset: %d", rec.Code)
	}
	if rec := get(e, AssetPrefix+"../web.go", nil); rec.Code != 404 {
		t.Errorf("path traversal: %d", rec.Code)
	}
}

// TestLanguage: the cookie wins, then Accept-Language by q, then English.
func TestLanguage(t *testing.T) {
	e := newPages(t)
	for _, tc := range []struct {
		accept, cookie, want string
	}{
		{"", "", "en"},
		{"zh-CN,zh;q=0.9,en;q=0.8", "", "zh"},
		{"en-GB,zh;q=0.9", "", "en"},
		{"fr, zh-TW;q=0.5", "", "zh"},
		{"zh;q=0.2, en;q=0.8", "", "en"},
		{"zh-CN", "en", "en"},
		{"en", "zh", "zh"},
		{"zh-CN", "xx", "zh"},
		{"zh;q=bogus", "", "en"},
	} {
		hdr := map[string]string{"Accept-Language": tc.accept}
		if tc.cookie != "" {
			hdr["Cookie"] = LangCookie + "=" + tc.cookie
		}
		body := get(e, "/device", hdr).Body.String()
		if !strings.Contains(body, `<html lang="`+tc.want+`">`) {
			t.Errorf("Accept-Language %q cookie %q: want lang %s", tc.accept, tc.cookie, tc.want)
		}
	}
	zh := get(e, "/signin", map[string]string{"Accept-Language": "zh"}).Body.String()
	if !strings.Contains(zh, "<title data-i18n=\"signin.title\">登录 · devicegate</title>") {
		t.Errorf("Chinese sign-in page not rendered in Chinese")
	}
}

// TestCatalogueCoversEveryString: every key the pages and the script use is
// in each catalogue, and the catalogues hold nothing else.
func TestCatalogueCoversEveryString(t *testing.T) {
	cats, err := loadCatalogues(assets)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	keyRe := regexp.MustCompile(`data-i18n="([a-z_.]+)"|\{\{t "([a-z_.]+)"\}\}|\bt\("([a-z_.]+)"|say\([a-z]+, "([a-z_.]+)"\)|waitText\("([a-z_.]+)"|\? "([a-z_]+\.[a-z_.]+)"|Title: "([a-z_.]+)"`)
	for _, name := range []string{"assets/device.html", "assets/signin.html", "assets/head.html", "assets/app.js", "web.go"} {
		src, err := os.ReadFile(name) // the package directory is the working directory
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(src), -1) {
			for _, k := range m[1:] {
				if k != "" {
					used[k] = true
				}
			}
		}
	}
	for k := range used {
		if strings.HasSuffix(k, "_") || strings.HasSuffix(k, ".") { // waitText prefixes
			for _, unit := range []string{"seconds", "minutes"} {
				used[k+unit] = true
			}
			delete(used, k)
		}
	}
	for lang, cat := range cats {
		for k := range used {
			if cat[k] == "" {
				t.Errorf("%s catalogue lacks %q", lang, k)
			}
		}
	}
	for k := range cats["en"] {
		if !used[k] && k != "lang.other_code" {
			t.Errorf("catalogue key %q is never used", k)
		}
	}
}
