package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// secretName matches the names of values that are secrets or are compared
// against one (CSRF tokens, shared secrets, PKCE verifiers and challenges,
// nonces and their owners, claim ids, passwords, tokens and their hashes).
var secretName = regexp.MustCompile(`(?i)csrf|secret|passw|verifier|challenge|nonce|owner|claimid|token|assertion|grant|hash|credential|cookie|signature`)

// module is the repository root, seen from cmd/devicegate.
const module = "../.."

// comparison is one == or != found by secretComparisons.
type comparison struct {
	site string // path:func
	expr string
}

// secretComparisons walks every non-test Go file of the module and returns
// each == / != whose operands are both non-constant and one of which names
// a secret, and each bytes.Equal / strings.EqualFold on such names; plus,
// per path:func, whether it calls subtle.ConstantTimeCompare or hmac.Equal.
func secretComparisons(t *testing.T) (found []comparison, constantTime map[string]bool) {
	t.Helper()
	fset := token.NewFileSet()
	constantTime = map[string]bool{}
	err := filepath.WalkDir(module, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Test support (porttest, tokenclienttest, the mock OpenID provider
		// oidctest) compares expected values, not secrets.
		if d.IsDir() && path != module && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" ||
			d.Name() == "porttest" || d.Name() == "tokenclienttest" || d.Name() == "oidctest") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkgs := map[string]bool{}
		for _, im := range f.Imports {
			name := strings.Trim(im.Path.Value, `"`)
			name = name[strings.LastIndex(name, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			pkgs[name] = true
		}
		rel, _ := filepath.Rel(module, path)
		rel = filepath.ToSlash(rel)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			site := rel + ":" + fn.Name.Name
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BinaryExpr:
					if (n.Op == token.EQL || n.Op == token.NEQ) && variable(n.X, pkgs) && variable(n.Y, pkgs) &&
						(secretName.MatchString(exprText(n.X)) || secretName.MatchString(exprText(n.Y))) {
						found = append(found, comparison{site, exprText(n.X) + " " + n.Op.String() + " " + exprText(n.Y)})
					}
				case *ast.CallExpr:
					switch name := exprText(n.Fun); name {
					case "subtle.ConstantTimeCompare", "hmac.Equal":
						constantTime[site] = true
					case "bytes.Equal", "strings.EqualFold", "reflect.DeepEqual", "strings.Compare", "bytes.Compare":
						for _, a := range n.Args {
							if secretName.MatchString(exprText(a)) {
								found = append(found, comparison{site, name + "(" + exprText(n.Args[0]) + ", ...)"})
								break
							}
						}
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found, constantTime
}

// variable reports whether e may hold a request's value: not a literal,
// nil, a len/cap, or a package-level name of an imported package
// (domain.GrantTypeDevice and the like are constants of the protocol).
func variable(e ast.Expr, pkgs map[string]bool) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return false
	case *ast.Ident:
		return e.Name != "nil" && e.Name != "true" && e.Name != "false"
	case *ast.SelectorExpr:
		if id, ok := e.X.(*ast.Ident); ok && pkgs[id.Name] {
			return false
		}
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") {
			return false
		}
	case *ast.ParenExpr:
		return variable(e.X, pkgs)
	}
	return true
}

// exprText renders e compactly (enough to name it).
func exprText(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprText(e.X) + "." + e.Sel.Name
	case *ast.CallExpr:
		return exprText(e.Fun) + "()"
	case *ast.IndexExpr:
		return exprText(e.X) + "[" + exprText(e.Index) + "]"
	case *ast.StarExpr:
		return "*" + exprText(e.X)
	case *ast.ParenExpr:
		return "(" + exprText(e.X) + ")"
	case *ast.BasicLit:
		return e.Value
	case *ast.UnaryExpr:
		return e.Op.String() + exprText(e.X)
	case *ast.SliceExpr:
		return exprText(e.X) + "[:]"
	}
	return "?"
}

// constantTimeSites are the functions that check a secret a client
// presents; each must compare with subtle.ConstantTimeCompare or hmac.Equal.
// (JWS signatures are checked inside jwx with hmac.Equal; the Redis Lua
// scripts compare server-made claim ids and nonce owners, see docs/SECURITY.md.)
var constantTimeSites = map[string]string{
	"app/decide.go:CheckCSRF":                      "X-CSRF-Token against the console session's CSRF secret",
	"adapters/httpapi/routes_console.go:checkCSRF": "X-CSRF-Token against the csrf_token cookie (double submit)",
	"app/sso_approve.go:AdmitExternal":             "X-CSRF-Token against the approval grant's csrf_token",
	"app/introspect.go:Authorize":                  "the resource server's credential against INTROSPECTION_SECRET",
	"domain/flow.go:Poll":                          "the PKCE verifier's challenge against the flow's",
	"adapters/passwordhash/argon2id.go:Verify":     "the argon2id key against the stored hash",
	"adapters/memstore/nonce.go:Release":           "a nonce reservation's owner",
}

// plainComparisons are == / != on secret-named values that are not checks
// of a presented secret, each with the reason.
var plainComparisons = map[comparison]string{
	{"adapters/memstore/flows.go:remove", "s.byCode[f.UserCode] == hash"}: "index upkeep: both sides are hashes the store holds",
	{"adapters/redisstore/tokenmemo.go:lookup", "e.hash == hash"}: "memo hit check on SHA-256 hashes of tokens: a timing " +
		"difference could at most reveal a hash's bytes, which do not yield the token",
	{"cmd/devicegate/config_sso.go:checkSSO", "c.SecretKeyPrevious == strings.TrimSpace()"}: "start-up configuration check, no client input",
	{"domain/flow.go:FinishClaim", "f.ClaimID != claimID"}:                                  "claim ids are made by the server for one poll and never leave it",
	{"cmd/devicectl/cli/commands.go:revokeSession", "id == tok.TokenID"}:                    "the CLI compares a session id (public, listed by the server) with its own token's id",
	{"cmd/devicectl/deviceclient/pace.go:RoundTrip", "req.URL.String() != p.tokenURL"}:      "the CLI matches a request URL against the token endpoint URL: neither is secret",
}

// TestSecretComparisonsAreConstantTime: every function that checks a
// presented secret compares in constant time, and every other == / != (or
// bytes.Equal, EqualFold, DeepEqual) on a secret-named value anywhere in the
// module's non-test code is a listed, justified non-check. A new comparison
// of a secret with == fails this test until it is made constant-time or
// listed with its reason.
func TestSecretComparisonsAreConstantTime(t *testing.T) {
	found, constantTime := secretComparisons(t)
	for site, what := range constantTimeSites {
		if !constantTime[site] {
			t.Errorf("%s (%s) does not compare with subtle.ConstantTimeCompare or hmac.Equal", site, what)
		}
	}
	seen := map[comparison]bool{}
	for _, c := range found {
		seen[c] = true
		if _, ok := plainComparisons[c]; !ok {
			t.Errorf("%s: %s compares a secret-named value with a variable-time operator", c.site, c.expr)
		}
	}
	for c := range plainComparisons {
		if !seen[c] {
			t.Errorf("listed comparison %s: %s no longer exists: drop it from plainComparisons", c.site, c.expr)
		}
	}
}
