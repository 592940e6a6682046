package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The configuration has one source of truth: the variables this package
// reads. README.md's configuration table must list exactly those, and the
// deployment files may set only those (deploy_test.go). To add a variable:
// read it in config.go through getenv or one of the helpers below, and add
// its row to the README table. A variable read by a library rather than by
// config.go (e.g. the OpenTelemetry SDK's OTEL_*) is documented as a family
// row, "`OTEL_*`", which covers every name with that prefix.

// envReaders are the functions whose first argument, a string literal, is
// the name of an environment variable being read. A new reading helper in
// config.go (say duration("SHUTDOWN_TIMEOUT", ...)) is added here.
var envReaders = map[string]bool{
	"getenv": true, "Getenv": true, "LookupEnv": true, // os.Getenv, the getenv parameter
	"str": true, "boolean": true, "integer": true, "httpURL": true, // LoadConfig's helpers
	"duration": true, // loadOps' helper (SHUTDOWN_TIMEOUT, SHUTDOWN_DELAY)
}

// envName is what an environment variable name looks like.
var envName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// binaryFiles lists the Go files of this module that are compiled into
// the binary (go list -deps), so a variable read by an adapter counts too.
func binaryFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	return strings.Fields(string(out))
}

// readVariables returns every variable the binary's own code reads, with
// the file:line of the first read.
func readVariables(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	out := map[string]string{}
	for _, name := range binaryFiles(t) {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			var fn string
			switch f := call.Fun.(type) {
			case *ast.Ident:
				fn = f.Name
			case *ast.SelectorExpr:
				fn = f.Sel.Name
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !envReaders[fn] || !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil || !envName.MatchString(v) {
				return true
			}
			if _, seen := out[v]; !seen {
				out[v] = fset.Position(lit.Pos()).String()
			}
			return true
		})
	}
	return out
}

// documentedVariables returns the names in the first column of the table
// under README.md's "## Configuration" heading: exact names, and families
// (a name ending in "*", returned without it) covering a prefix.
func documentedVariables(t *testing.T) (names, families []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Configuration\n")
	if !ok {
		t.Fatal(`README.md has no "## Configuration" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	code := regexp.MustCompile("`([A-Z][A-Z0-9_]*\\*?)`")
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
		for _, m := range code.FindAllStringSubmatch(first, -1) {
			if p, ok := strings.CutSuffix(m[1], "*"); ok {
				families = append(families, p)
			} else {
				names = append(names, m[1])
			}
		}
	}
	if len(names) == 0 {
		t.Fatal("README.md's configuration table lists no variable")
	}
	return names, families
}

// inFamily reports whether name has one of the documented family prefixes.
func inFamily(name string, families []string) bool {
	for _, p := range families {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// TestConfigurationTableMatchesConfig: README.md's configuration table
// lists every variable the binary reads (config.go, or any package it
// links), and lists nothing it does not read.
func TestConfigurationTableMatchesConfig(t *testing.T) {
	read := readVariables(t)
	names, families := documentedVariables(t)
	if len(read) < 20 {
		t.Fatalf("found only %d variables read in this package; is envReaders out of date?", len(read))
	}
	for _, v := range sortedKeys(read) {
		if !slices.Contains(names, v) && !inFamily(v, families) {
			t.Errorf("%s is read (%s) but not documented in README.md's configuration table", v, read[v])
		}
	}
	for _, v := range names {
		if _, ok := read[v]; !ok {
			t.Errorf("README.md documents %s, which the binary never reads: read it through getenv or a helper listed "+
				"in envReaders (configtable_test.go); a variable only a library reads belongs in a family row like `OTEL_*`", v)
		}
	}
	seen := map[string]bool{}
	for _, v := range names {
		if seen[v] {
			t.Errorf("README.md documents %s twice", v)
		}
		seen[v] = true
	}
}

// TestReadVariablesSeesEveryReader: the scan finds reads through each
// helper, so a variable read through one of them is never missed.
func TestReadVariablesSeesEveryReader(t *testing.T) {
	read := readVariables(t)
	for _, v := range []string{"SECRET_KEY", "DEVICEGATE_ENV", "OPENAPI_ENABLED", "OAUTH_ACCESS_TOKEN_RETENTION_DAYS",
		"PUBLIC_WEB_URL", "OIDC_ISSUER"} {
		if _, ok := read[v]; !ok {
			t.Errorf("the scan missed %s", v)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
