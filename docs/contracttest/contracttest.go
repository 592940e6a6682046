package contracttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/devicegate/devicegate/docs"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Prefix is where the document's paths are mounted (its servers entry).
const Prefix = "/openapi/v1"

var (
	loadOnce sync.Once
	loaded   *openapi3.T
	loadErr  error
)

// Document parses and validates docs/openapi.yaml (once per process).
func Document() (*openapi3.T, error) {
	loadOnce.Do(func() {
		l := openapi3.NewLoader()
		doc, err := l.LoadFromData(docs.OpenAPI)
		if err != nil {
			loadErr = fmt.Errorf("docs/openapi.yaml: %w", err)
			return
		}
		if !doc.IsOpenAPI31OrLater() {
			loadErr = fmt.Errorf("docs/openapi.yaml: openapi %q, want 3.1", doc.OpenAPI)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			loadErr = fmt.Errorf("docs/openapi.yaml is not a valid OpenAPI document: %w", err)
			return
		}
		loaded = doc
	})
	return loaded, loadErr
}

// Find returns the documented path template matching a request path under
// Prefix, with its path parameters; literal segments win over parameters
// (/oauth/authorizations/self before /oauth/authorizations/{id}).
func Find(doc *openapi3.T, path string) (template string, params map[string]string, ok bool) {
	rel, found := strings.CutPrefix(path, Prefix)
	if !found {
		return "", nil, false
	}
	segs := strings.Split(rel, "/")
	best, bestScore := "", -1
	var bestParams map[string]string
	for tmpl := range doc.Paths.Map() {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		score, p := 0, map[string]string{}
		for i, t := range ts {
			switch {
			case strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}"):
				p[strings.Trim(t, "{}")] = segs[i]
			case t == segs[i]:
				score++
			default:
				score = -1
			}
			if score < 0 {
				break
			}
		}
		if score > bestScore {
			best, bestScore, bestParams = tmpl, score, p
		}
	}
	return best, bestParams, bestScore >= 0
}

// CheckRequest validates a request the server accepted (answered below
// 400) against the operation's parameters and request body, so the
// document never refuses what the server takes. body is the request body
// (req.Body is not read). Security requirements are not evaluated.
func CheckRequest(req *http.Request, body []byte) error {
	doc, err := Document()
	if err != nil {
		return err
	}
	tmpl, params, ok := Find(doc, req.URL.Path)
	if !ok {
		return nil
	}
	item := doc.Paths.Value(tmpl)
	method := req.Method
	if method == http.MethodHead && item.Get != nil {
		method = http.MethodGet
	}
	op := item.GetOperation(method)
	if op == nil {
		return nil
	}
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{
		Request: r, PathParams: params,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		Route:   &routers.Route{Spec: doc, Server: doc.Servers[0], Path: tmpl, PathItem: item, Method: method, Operation: op},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s was accepted by the server but docs/openapi.yaml refuses it: %w\nbody: %s", req.Method, req.URL.Path, err, clip(body))
	}
	return nil
}

// Check validates one exchange: a request under Prefix whose path and
// method are documented must get a documented status, with the documented
// headers and a body matching its schema. An undocumented path must be a
// 404 and an undocumented method a 404 or 405 (the error bodies of those
// are checked by the callers' own assertions). HEAD is checked as GET
// without a body. It returns nil for requests outside Prefix.
func Check(req *http.Request, status int, header http.Header, body []byte) error {
	if !strings.HasPrefix(req.URL.Path, Prefix+"/") {
		return nil
	}
	doc, err := Document()
	if err != nil {
		return err
	}
	tmpl, params, ok := Find(doc, req.URL.Path)
	if !ok {
		if status != http.StatusNotFound {
			return fmt.Errorf("%s %s: path not in docs/openapi.yaml but answered %d", req.Method, req.URL.Path, status)
		}
		return nil
	}
	item := doc.Paths.Value(tmpl)
	method := req.Method
	if method == http.MethodHead && item.Get != nil {
		method, body = http.MethodGet, nil
	}
	op := item.GetOperation(method)
	if op == nil && method == http.MethodOptions && (req.Header.Get("Access-Control-Request-Method") != "" || status == http.StatusNoContent) {
		// A CORS preflight, answered by the middleware (OPENAPI_CORS_ALLOW_ORIGINS),
		// or a plain OPTIONS, which Echo's router answers 204 with the Allow header
		// on every route (RFC 9110 9.3.7): neither is an operation of the API.
		return nil
	}
	if op == nil && status == http.StatusMethodNotAllowed {
		// A wrong method: its body must be the path's documented 405.
		for m, o := range item.Operations() {
			if o.Responses.Status(http.StatusMethodNotAllowed) != nil {
				method, op = m, o
				break
			}
		}
	}
	if op == nil {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return fmt.Errorf("%s %s: method not in docs/openapi.yaml but answered %d", req.Method, tmpl, status)
		}
		return nil
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true,
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	if body == nil {
		opts.ExcludeResponseBody = true
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Options: opts,
			Route: &routers.Route{Spec: doc, Server: doc.Servers[0], Path: tmpl, PathItem: item, Method: method, Operation: op},
		},
		Status: status, Header: header, Options: opts,
	}
	in.SetBodyBytes(bytes.Clone(body))
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		if status == http.StatusNotFound && unservedRoute(body) {
			return nil
		}
		return fmt.Errorf("%s %s -> %d does not match docs/openapi.yaml: %w\nbody: %s", req.Method, req.URL.Path, status, err, clip(body))
	}
	return nil
}

// OperationCodes returns every error code the operations of doc list in
// their responses: the `code` (canonical) or `error` (OAuth) enums of the
// inline allOf parts of each response schema, which narrow the referenced
// error shape to the codes of that operation and status.
func OperationCodes(doc *openapi3.T) map[string]bool {
	set := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, resp := range op.Responses.Map() {
				for _, mt := range resp.Value.Content {
					if mt.Schema == nil {
						continue
					}
					for _, part := range mt.Schema.Value.AllOf {
						if part.Ref != "" {
							continue // the shape itself (OAuthError, CanonicalError): every code
						}
						for _, field := range []string{"code", "error"} {
							if p := part.Value.Properties[field]; p != nil {
								for _, v := range p.Value.Enum {
									if c, ok := v.(string); ok {
										set[c] = true
									}
								}
							}
						}
					}
				}
			}
		}
	}
	return set
}

// unservedRoute reports the bare 404 of a route this deployment does not
// serve (OPENAPI_ENABLED=false, a gated SSO branch, introspection off): the
// body of an unknown path, which the document's introduction describes.
func unservedRoute(body []byte) bool {
	var e struct {
		Code   string `json:"code"`
		Status int    `json:"status"`
	}
	return json.Unmarshal(body, &e) == nil && e.Code == "not_found" && e.Status == http.StatusNotFound
}

func clip(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}

// Transport is an http.RoundTripper that checks every response to a
// request under Prefix with Check and hands each violation to Report. The
// body is read in full and handed on unchanged.
type Transport struct {
	Base   http.RoundTripper
	Report func(error)
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, Prefix+"/") {
		return t.Base.RoundTrip(req)
	}
	var sent []byte
	if req.Body != nil && req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			sent, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	resp, err := t.Base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err := Check(req, resp.StatusCode, resp.Header, body); err != nil {
		t.Report(err)
	}
	if resp.StatusCode < 400 && (req.Body == nil || req.GetBody != nil) {
		if err := CheckRequest(req, sent); err != nil {
			t.Report(err)
		}
	}
	return resp, nil
}

// Route is one (method, path) a router registers; path uses Echo's
// ":name" parameters.
type Route struct{ Method, Path string }

// CompareRoutes reports every route registered under Prefix that doc does
// not document and every documented operation that is not registered. HEAD
// is covered by a documented GET; a path registered for every method (a
// dispatcher answering the undocumented ones 405) must register the
// documented methods and be documented.
func CompareRoutes(doc *openapi3.T, routes []Route) []string {
	served := map[string][]string{}
	for _, r := range routes {
		p, ok := strings.CutPrefix(r.Path, Prefix)
		if !ok {
			continue
		}
		segs := strings.Split(p, "/")
		for i, s := range segs {
			if name, ok := strings.CutPrefix(s, ":"); ok {
				segs[i] = "{" + name + "}"
			}
		}
		p = strings.Join(segs, "/")
		served[p] = append(served[p], r.Method)
	}
	var problems []string
	for p, item := range doc.Paths.Map() {
		for m := range item.Operations() {
			if !slices.Contains(served[p], m) {
				problems = append(problems, fmt.Sprintf("docs/openapi.yaml documents %s %s, which the server does not route", m, p))
			}
		}
	}
	for p, ms := range served {
		item := doc.Paths.Value(p)
		if len(ms) >= 9 { // echo's Any
			if item == nil {
				problems = append(problems, fmt.Sprintf("the server routes %s (every method), which docs/openapi.yaml does not document", p))
			}
			continue
		}
		for _, m := range ms {
			if item != nil && (item.GetOperation(m) != nil || (m == http.MethodHead && item.Get != nil)) {
				continue
			}
			problems = append(problems, fmt.Sprintf("the server routes %s %s, which docs/openapi.yaml does not document", m, p))
		}
	}
	sort.Strings(problems)
	return problems
}
