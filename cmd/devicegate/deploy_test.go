package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// No Docker engine or cluster runs in CI, so these tests check what can be
// checked without one: every deployment file parses, the Dockerfile's
// stages are well-formed for a shell-less image, the compose stack and the
// Kubernetes manifests hang together, and every variable they set for the
// binary is one it reads and README.md documents (configtable_test.go).

const deployDir = "../../deploy"

// yamlDocs parses every document of a YAML file.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			out = append(out, doc)
		}
	}
}

// TestDeployFilesParse: every YAML and JSON file under deploy/ parses.
func TestDeployFilesParse(t *testing.T) {
	n := 0
	err := filepath.WalkDir(deployDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(path) {
		case ".yaml", ".yml":
			if len(yamlDocs(t, path)) == 0 {
				t.Errorf("%s: no YAML document", path)
			}
			n++
		case ".json":
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Errorf("%s: %v", path, err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 8 {
		t.Fatalf("parsed only %d files under deploy/", n)
	}
}

// dockerStage is one FROM ... [AS name] stage with its instructions.
type dockerStage struct {
	base, name string
	lines      []string // instructions after FROM, continuation lines joined
}

// parseDockerfile splits a Dockerfile into stages (comments dropped,
// backslash continuations joined).
func parseDockerfile(src string) ([]dockerStage, error) {
	var stages []dockerStage
	var logical []string
	cur := ""
	for _, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") || (line == "" && cur == "") {
			continue
		}
		if l, ok := strings.CutSuffix(line, "\\"); ok {
			cur += l + " "
			continue
		}
		logical = append(logical, strings.TrimSpace(cur+line))
		cur = ""
	}
	from := regexp.MustCompile(`(?i)^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$`)
	for _, l := range logical {
		if m := from.FindStringSubmatch(l); m != nil {
			stages = append(stages, dockerStage{base: m[1], name: strings.ToLower(m[2])})
			continue
		}
		if strings.HasPrefix(strings.ToUpper(l), "FROM") {
			return nil, fmt.Errorf("malformed FROM: %q", l)
		}
		if len(stages) == 0 {
			if !strings.HasPrefix(strings.ToUpper(l), "ARG ") {
				return nil, fmt.Errorf("%q before the first FROM", l)
			}
			continue
		}
		stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, l)
	}
	return stages, nil
}

// instruction returns the upper-cased keyword of a Dockerfile line.
func instruction(l string) string {
	kw, _, _ := strings.Cut(l, " ")
	return strings.ToUpper(kw)
}

// checkDockerfile reports what is wrong with a multi-stage Dockerfile for a
// static binary on a shell-less, non-root runtime image.
func checkDockerfile(src string) []string {
	stages, err := parseDockerfile(src)
	if err != nil {
		return []string{err.Error()}
	}
	var bad []string
	if len(stages) < 2 {
		return []string{"not a multi-stage build"}
	}
	copyFrom := regexp.MustCompile(`--from=(\S+)`)
	var names []string
	for i, st := range stages {
		if st.name != "" && slices.Contains(names, st.name) {
			bad = append(bad, fmt.Sprintf("stage name %q used twice", st.name))
		}
		for _, l := range st.lines {
			if instruction(l) != "COPY" {
				continue
			}
			if m := copyFrom.FindStringSubmatch(l); m != nil {
				ref := strings.ToLower(m[1])
				if !slices.Contains(names, ref) && !isEarlierIndex(ref, i) && !strings.ContainsAny(ref, ":/") {
					bad = append(bad, fmt.Sprintf("COPY --from=%s names no earlier stage", m[1]))
				}
			}
		}
		names = append(names, st.name)
	}
	build := strings.Join(stages[0].lines, "\n")
	if !strings.Contains(build, "CGO_ENABLED=0") {
		bad = append(bad, "the build stage does not set CGO_ENABLED=0 (the runtime image has no libc)")
	}
	last := stages[len(stages)-1]
	if !strings.HasPrefix(last.base, "gcr.io/distroless/static") && last.base != "scratch" {
		bad = append(bad, fmt.Sprintf("runtime base %q is not distroless/static or scratch", last.base))
	}
	user := ""
	for _, l := range last.lines {
		switch instruction(l) {
		case "USER":
			user = strings.TrimSpace(l[len("USER"):])
		case "RUN":
			bad = append(bad, "RUN in the runtime stage, which has no shell: "+l)
		case "ENTRYPOINT", "CMD":
			if !strings.HasPrefix(strings.TrimSpace(l[len(instruction(l)):]), "[") {
				bad = append(bad, "shell-form "+l+" (the runtime image has no shell)")
			}
		case "HEALTHCHECK":
			if _, cmd, ok := strings.Cut(l, " CMD "); !ok || !strings.HasPrefix(strings.TrimSpace(cmd), "[") {
				bad = append(bad, "HEALTHCHECK must use the exec form CMD [...] (no shell): "+l)
			}
		}
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "root" || u == "0" {
		bad = append(bad, fmt.Sprintf("the runtime stage runs as %q, not a non-root user", user))
	}
	return bad
}

func isEarlierIndex(ref string, i int) bool {
	var n int
	_, err := fmt.Sscanf(ref, "%d", &n)
	return err == nil && fmt.Sprint(n) == ref && n < i
}

// TestDockerfile: deploy/Dockerfile is well-formed, and the checker catches
// the mistakes it exists for.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range checkDockerfile(string(b)) {
		t.Error("deploy/Dockerfile: " + p)
	}
	good := "FROM golang:1.26 AS build\nRUN CGO_ENABLED=0 go build -o /out/x .\n" +
		"FROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /out/x /x\nUSER 65532\nENTRYPOINT [\"/x\"]\n"
	if p := checkDockerfile(good); len(p) != 0 {
		t.Fatalf("a good Dockerfile was refused: %v", p)
	}
	for name, src := range map[string]string{
		"unknown stage": strings.Replace(good, "--from=build", "--from=builder", 1),
		"root":          strings.Replace(good, "USER 65532", "USER root", 1),
		"no user":       strings.Replace(good, "USER 65532\n", "", 1),
		"cgo":           strings.Replace(good, "CGO_ENABLED=0 ", "", 1),
		"shell form":    strings.Replace(good, `ENTRYPOINT ["/x"]`, "ENTRYPOINT /x", 1),
		"run":           good + "RUN echo hi\n",
		"alpine":        strings.Replace(good, "gcr.io/distroless/static-debian12:nonroot", "alpine:3", 1),
		"shell check":   good + "HEALTHCHECK CMD curl -f localhost/healthz\n",
		"bad from":      strings.Replace(good, "FROM golang:1.26 AS build", "FROM golang:1.26 AS", 1),
	} {
		if len(checkDockerfile(src)) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}

// setVariable is an environment variable a deployment file sets for the binary.
type setVariable struct{ name, where string }

// isDevicegateImage tells the binary's containers from Postgres, Redis and the rest.
func isDevicegateImage(image any) bool {
	s, _ := image.(string)
	return strings.Contains(s, "devicegate")
}

// composeVariables returns what deploy/compose.yaml sets for the services
// built from deploy/Dockerfile or running the devicegate image.
func composeVariables(t *testing.T) []setVariable {
	doc := yamlDocs(t, filepath.Join(deployDir, "compose.yaml"))[0]
	var out []setVariable
	for name, raw := range asMap(doc["services"]) {
		svc := asMap(raw)
		if !isDevicegateImage(svc["image"]) && asMap(svc["build"])["dockerfile"] != "deploy/Dockerfile" {
			continue
		}
		where := "compose.yaml service " + name
		switch env := svc["environment"].(type) {
		case map[string]any:
			for k := range env {
				out = append(out, setVariable{k, where})
			}
		case []any:
			for _, kv := range env {
				k, _, _ := strings.Cut(fmt.Sprint(kv), "=")
				out = append(out, setVariable{k, where})
			}
		}
	}
	return out
}

// k8sDocs returns every document of every manifest under deploy/k8s.
func k8sDocs(t *testing.T) []map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(deployDir, "k8s", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under deploy/k8s: %v", err)
	}
	var out []map[string]any
	for _, f := range files {
		out = append(out, yamlDocs(t, f)...)
	}
	return out
}

// podSpec returns the pod spec of a workload (nil for other kinds).
func podSpec(doc map[string]any) map[string]any {
	spec := asMap(doc["spec"])
	switch doc["kind"] {
	case "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet":
		return asMap(asMap(spec["template"])["spec"])
	case "CronJob":
		return asMap(asMap(asMap(asMap(spec["jobTemplate"])["spec"])["template"])["spec"])
	case "Pod":
		return spec
	}
	return nil
}

// k8sVariables returns what the manifests set for devicegate containers:
// env names and the keys of the ConfigMaps they load with envFrom.
func k8sVariables(t *testing.T, docs []map[string]any) []setVariable {
	configMaps := map[string]map[string]any{}
	for _, d := range docs {
		if d["kind"] == "ConfigMap" {
			configMaps[fmt.Sprint(asMap(d["metadata"])["name"])] = asMap(d["data"])
		}
	}
	var out []setVariable
	for _, d := range docs {
		ps := podSpec(d)
		for _, c := range append(asList(ps["containers"]), asList(ps["initContainers"])...) {
			c := asMap(c)
			if !isDevicegateImage(c["image"]) {
				continue
			}
			where := fmt.Sprintf("k8s %s/%s container %s", d["kind"], asMap(d["metadata"])["name"], c["name"])
			for _, e := range asList(c["env"]) {
				out = append(out, setVariable{fmt.Sprint(asMap(e)["name"]), where})
			}
			for _, ef := range asList(c["envFrom"]) {
				ef := asMap(ef)
				if ef["secretRef"] != nil {
					t.Errorf("%s: envFrom secretRef hides which variables it sets; list them with secretKeyRef", where)
				}
				if ref := asMap(ef["configMapRef"]); ref != nil {
					data, ok := configMaps[fmt.Sprint(ref["name"])]
					if !ok {
						t.Errorf("%s: envFrom names ConfigMap %v, which deploy/k8s does not define", where, ref["name"])
					}
					for k := range data {
						out = append(out, setVariable{k, where + " via ConfigMap " + fmt.Sprint(ref["name"])})
					}
				}
			}
		}
	}
	return out
}

// dockerfileVariables returns the ENV names of the runtime stage.
func dockerfileVariables(t *testing.T) []setVariable {
	b, err := os.ReadFile(filepath.Join(deployDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	stages, err := parseDockerfile(string(b))
	if err != nil {
		t.Fatal(err)
	}
	var out []setVariable
	for _, l := range stages[len(stages)-1].lines {
		if instruction(l) != "ENV" {
			continue
		}
		for _, f := range strings.Fields(l)[1:] {
			if k, _, ok := strings.Cut(f, "="); ok {
				out = append(out, setVariable{k, "Dockerfile"})
			} else {
				out = append(out, setVariable{f, "Dockerfile"}) // ENV KEY value
				break
			}
		}
	}
	return out
}

// TestDeploySetsOnlyKnownVariables: every variable the Dockerfile, compose
// and the Kubernetes manifests set for the binary is one it reads and
// README.md documents.
func TestDeploySetsOnlyKnownVariables(t *testing.T) {
	read := readVariables(t)
	names, families := documentedVariables(t)
	set := append(append(dockerfileVariables(t), composeVariables(t)...), k8sVariables(t, k8sDocs(t))...)
	if len(set) < 10 {
		t.Fatalf("found only %d variables set by deploy/; is the walk broken?", len(set))
	}
	for _, v := range set {
		_, isRead := read[v.name]
		if !isRead && !inFamily(v.name, families) {
			t.Errorf("%s sets %s, which devicegate does not read", v.where, v.name)
		} else if !slices.Contains(names, v.name) && !inFamily(v.name, families) {
			t.Errorf("%s sets %s, which README.md's configuration table does not document", v.where, v.name)
		}
	}
}

// TestComposeStack: migrations run once before the service, which waits
// for them to succeed; every service the stack depends on has a health
// check, and the service's own check needs no shell.
func TestComposeStack(t *testing.T) {
	doc := yamlDocs(t, filepath.Join(deployDir, "compose.yaml"))[0]
	svcs := asMap(doc["services"])
	for _, name := range []string{"postgres", "redis", "migrate", "devicegate"} {
		if svcs[name] == nil {
			t.Fatalf("compose.yaml has no %s service", name)
		}
	}
	if cmd := fmt.Sprint(asMap(svcs["migrate"])["command"]); cmd != "[migrate]" {
		t.Errorf("the migrate service runs %s, want [migrate]", cmd)
	}
	for name, raw := range svcs {
		for dep, cond := range asMap(asMap(raw)["depends_on"]) {
			if svcs[dep] == nil {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			}
			c := asMap(cond)["condition"]
			switch {
			case dep == "migrate" && c != "service_completed_successfully":
				t.Errorf("%s waits for migrate with %v, want service_completed_successfully", name, c)
			case dep != "migrate" && c != "service_healthy":
				t.Errorf("%s waits for %s with %v, want service_healthy", name, dep, c)
			case c == "service_healthy" && asMap(svcs[dep])["healthcheck"] == nil:
				t.Errorf("%s waits for %s to be healthy, but it has no healthcheck", name, dep)
			}
		}
	}
	if asMap(asMap(svcs["devicegate"])["depends_on"])["migrate"] == nil {
		t.Error("devicegate does not wait for migrate")
	}
	hc := asList(asMap(asMap(svcs["devicegate"])["healthcheck"])["test"])
	if len(hc) < 2 || hc[0] != "CMD" || !strings.Contains(fmt.Sprint(hc), "healthcheck") {
		t.Errorf("devicegate's healthcheck is %v, want [CMD ... devicegate healthcheck ...] (the image has no shell)", hc)
	}
}

// TestKubernetesManifests: the workload objects exist and select each
// other, the server has probes on /readyz and /healthz, resources and a
// non-root read-only security context, the migration Job runs migrate, and
// no Secret value is committed.
func TestKubernetesManifests(t *testing.T) {
	docs := k8sDocs(t)
	byKind := map[string][]map[string]any{}
	for _, d := range docs {
		k := fmt.Sprint(d["kind"])
		byKind[k] = append(byKind[k], d)
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Job"} {
		if len(byKind[k]) == 0 {
			t.Errorf("deploy/k8s has no %s", k)
		}
	}
	for _, s := range byKind["Secret"] {
		if asMap(s)["data"] != nil || asMap(s)["stringData"] != nil {
			t.Error("deploy/k8s commits a Secret value; reference the Secret instead")
		}
	}
	if t.Failed() {
		return
	}
	dep := byKind["Deployment"][0]
	depName := asMap(dep["metadata"])["name"]
	podLabels := asMap(asMap(asMap(asMap(dep["spec"])["template"])["metadata"])["labels"])
	selects := func(what string, sel map[string]any) {
		if len(sel) == 0 {
			t.Errorf("%s has an empty selector", what)
		}
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("%s selects %s=%v, which the Deployment's pods do not carry", what, k, v)
			}
		}
	}
	selects("the Deployment", asMap(asMap(asMap(dep["spec"])["selector"])["matchLabels"]))
	selects("the Service", asMap(asMap(byKind["Service"][0]["spec"])["selector"]))
	selects("the PodDisruptionBudget", asMap(asMap(asMap(byKind["PodDisruptionBudget"][0]["spec"])["selector"])["matchLabels"]))
	target := asMap(asMap(byKind["HorizontalPodAutoscaler"][0]["spec"])["scaleTargetRef"])
	if target["kind"] != "Deployment" || target["name"] != depName {
		t.Errorf("the HorizontalPodAutoscaler scales %v %v, not the Deployment %v", target["kind"], target["name"], depName)
	}

	ps := podSpec(dep)
	podNonRoot := asMap(ps["securityContext"])["runAsNonRoot"] == true
	var server map[string]any
	for _, c := range asList(ps["containers"]) {
		if isDevicegateImage(asMap(c)["image"]) {
			server = asMap(c)
		}
	}
	if server == nil {
		t.Fatal("the Deployment runs no devicegate container")
	}
	ports := map[any]bool{}
	for _, p := range asList(server["ports"]) {
		ports[asMap(p)["name"]], ports[asMap(p)["containerPort"]] = true, true
	}
	for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"} {
		get := asMap(asMap(server[probe])["httpGet"])
		if get["path"] != path {
			t.Errorf("%s is %v, want httpGet %s", probe, server[probe], path)
		}
		if !ports[get["port"]] {
			t.Errorf("%s probes port %v, which the container does not expose", probe, get["port"])
		}
	}
	res := asMap(server["resources"])
	for _, k := range []string{"cpu", "memory"} {
		if asMap(res["requests"])[k] == nil {
			t.Errorf("no %s request", k)
		}
	}
	if asMap(res["limits"])["memory"] == nil {
		t.Error("no memory limit")
	}
	sc := asMap(server["securityContext"])
	if sc["readOnlyRootFilesystem"] != true || sc["allowPrivilegeEscalation"] != false {
		t.Errorf("container securityContext %v: want readOnlyRootFilesystem true, allowPrivilegeEscalation false", sc)
	}
	if sc["runAsNonRoot"] != true && !podNonRoot {
		t.Error("the server does not require a non-root user")
	}
	job := byKind["Job"][0]
	jps := podSpec(job)
	migrates := false
	for _, c := range asList(jps["containers"]) {
		if isDevicegateImage(asMap(c)["image"]) && fmt.Sprint(asMap(c)["args"]) == "[migrate]" {
			migrates = true
		}
	}
	if !migrates {
		t.Error("the Job does not run `devicegate migrate`")
	}
	if rp := jps["restartPolicy"]; rp != "Never" && rp != "OnFailure" {
		t.Errorf("the Job's restartPolicy is %v", rp)
	}

	// kustomization.yaml lists every manifest, so `kubectl apply -k` applies them all.
	kust := yamlDocs(t, filepath.Join(deployDir, "k8s", "kustomization.yaml"))[0]
	files, _ := filepath.Glob(filepath.Join(deployDir, "k8s", "*.yaml"))
	for _, f := range files {
		base := filepath.Base(f)
		if base != "kustomization.yaml" && !slices.Contains(asList(kust["resources"]), any(base)) {
			t.Errorf("kustomization.yaml does not list %s", base)
		}
	}
}

// k8sTypes are the API objects deploy/k8s may hold, by apiVersion and kind.
var k8sTypes = map[string]func() any{
	"apps/v1 Deployment":                     func() any { return &appsv1.Deployment{} },
	"v1 Service":                             func() any { return &corev1.Service{} },
	"v1 ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"policy/v1 PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2 HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"batch/v1 Job":                           func() any { return &batchv1.Job{} },
}

// TestKubernetesObjectsAreWellTyped: every manifest decodes strictly into
// the Kubernetes API type of its apiVersion and kind, so a misspelt or
// misplaced field (which a cluster would drop or refuse) fails here.
func TestKubernetesObjectsAreWellTyped(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(deployDir, "k8s", "*.yaml"))
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue // kustomize's own format, not an API object
		}
		for _, d := range yamlDocs(t, f) {
			key := fmt.Sprint(d["apiVersion"], " ", d["kind"])
			newObj, ok := k8sTypes[key]
			if !ok {
				t.Errorf("%s: %s is not a kind deploy/k8s is checked for (add it to k8sTypes)", f, key)
				continue
			}
			if err := strictDecode(d, newObj()); err != nil {
				t.Errorf("%s: %s %v: %v", f, key, asMap(d["metadata"])["name"], err)
			}
		}
	}
	bad := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "spec": map[string]any{"replica": 2}}
	if strictDecode(bad, &appsv1.Deployment{}) == nil {
		t.Error("a misspelt field was accepted")
	}
}

// strictDecode decodes a YAML document into obj through JSON, refusing unknown fields.
func strictDecode(doc map[string]any, obj any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(obj)
}

func asMap(v any) map[string]any { m, _ := v.(map[string]any); return m }

func asList(v any) []any { l, _ := v.([]any); return l }
