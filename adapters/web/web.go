package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/labstack/echo/v4"
)

//go:embed assets
var assets embed.FS

// CSP is the pages' Content-Security-Policy: nothing inline, nothing from
// another host, never framed (SPEC 1.2 and 8).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// AssetPrefix is where the script, stylesheet and catalogues are served.
const AssetPrefix = "/assets/web/"

// Config is what the pages need to know about the server.
type Config struct {
	// SSOEnabled, asked on every render, shows the chooser's single-sign-on
	// choice and lets the page read the SSO return parameters. It must be
	// true only when the SSO endpoints (SPEC 1 rows 6-9) are served and can
	// reach an identity provider; nil means never.
	SSOEnabled func(context.Context) bool
}

// Pages serves /device, /signin and their assets.
type Pages struct {
	cfg   Config
	cats  catalogues
	tmpl  map[string]*template.Template
	files map[string]asset
}

// asset is one static file with its precomputed ETag.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// New parses the embedded pages and catalogues; an error means the binary
// was built from broken assets.
func New(cfg Config) (*Pages, error) {
	cats, err := loadCatalogues(assets)
	if err != nil {
		return nil, err
	}
	p := &Pages{cfg: cfg, cats: cats, tmpl: map[string]*template.Template{}, files: map[string]asset{}}
	for _, name := range []string{"device", "signin"} {
		t, err := template.New(name+".html").Funcs(template.FuncMap{"t": func(string) string { return "" }}).
			ParseFS(assets, "assets/"+name+".html", "assets/head.html")
		if err != nil {
			return nil, err
		}
		p.tmpl[name] = t
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".json": "application/json"}
	err = fs.WalkDir(assets, "assets", func(name string, d fs.DirEntry, err error) error {
		ct, ok := types[path.Ext(name)]
		if err != nil || d.IsDir() || !ok {
			return err
		}
		body, err := fs.ReadFile(assets, name)
		sum := sha256.Sum256(body)
		p.files[name[len("assets/"):]] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return err
	})
	return p, err
}

// Register mounts the pages on e (GET and HEAD).
func (p *Pages) Register(e *echo.Echo) {
	methods := []string{http.MethodGet, http.MethodHead}
	e.Match(methods, "/device", p.device)
	e.Match(methods, "/signin", p.signin)
	e.Match(methods, AssetPrefix+"*", p.asset)
}

// pageData is what a page template sees.
type pageData struct {
	Lang     string
	Title    string // catalogue key of the <title>
	SSO      bool
	ReturnTo string
	Catalog  map[string]string
}

func (p *Pages) device(c echo.Context) error {
	sso := p.cfg.SSOEnabled != nil && p.cfg.SSOEnabled(c.Request().Context())
	return p.render(c, "device", pageData{Title: "device.title", SSO: sso})
}

// signin embeds the server-checked return target (SafeReturnTo); the
// script goes nowhere else after signing in.
func (p *Pages) signin(c echo.Context) error {
	return p.render(c, "signin", pageData{Title: "signin.title", ReturnTo: SafeReturnTo(c.QueryParam("return_to"))})
}

func (p *Pages) render(c echo.Context, name string, d pageData) error {
	d.Lang = pickLanguage(c.Request())
	d.Catalog = p.cats[d.Lang]
	cat := d.Catalog
	var buf bytes.Buffer
	t, err := p.tmpl[name].Clone()
	if err == nil {
		err = t.Funcs(template.FuncMap{"t": func(key string) string { return cat[key] }}).Execute(&buf, d)
	}
	if err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentSecurityPolicy, CSP)
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set(echo.HeaderVary, "Accept-Language, Cookie")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

func (p *Pages) asset(c echo.Context) error {
	a, ok := p.files[c.Param("*")]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, a.contentType)
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(a.body))
	return nil
}
