package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Languages the pages speak; the first is the fallback.
var Languages = []string{"en", "zh"}

// LangCookie holds the person's language choice (the only thing the pages
// remember in the browser besides the console cookies).
const LangCookie = "devicegate_lang"

// catalogues are the copy of every language, one JSON file each.
type catalogues map[string]map[string]string

func loadCatalogues(files fs.FS) (catalogues, error) {
	cs := catalogues{}
	for _, lang := range Languages {
		raw, err := fs.ReadFile(files, "assets/i18n/"+lang+".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("catalogue %s: %w", lang, err)
		}
		cs[lang] = m
	}
	for _, lang := range Languages[1:] {
		if missing := diffKeys(cs[Languages[0]], cs[lang]); len(missing) > 0 {
			return nil, fmt.Errorf("catalogue %s lacks or adds keys %v", lang, missing)
		}
	}
	return cs, nil
}

// diffKeys lists the keys in exactly one of a and b.
func diffKeys(a, b map[string]string) []string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// pickLanguage is the cookie's choice if it names a language, else the
// best Accept-Language match (by q, then order), else the fallback.
func pickLanguage(r *http.Request) string {
	if c, err := r.Cookie(LangCookie); err == nil && known(c.Value) {
		return c.Value
	}
	best, bestQ := Languages[0], 0.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if known(base) && q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

func known(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}
