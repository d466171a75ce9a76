package admission

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// crd is what the tests read of one generated CustomResourceDefinition.
type crd struct {
	// kind is the CRD's spec.names.kind, e.g. Cohort.
	kind string
	// plural is the CRD's spec.names.plural, e.g. cohorts.
	plural string
	// schema is the openAPIV3Schema of the CRD's only version.
	schema map[string]any
}

// loadCRDs reads the generated CRDs of config/crd/bases, sorted by kind. The tests
// derive what they check from them, so a new field or rule is checked without anyone
// remembering to list it.
func loadCRDs(t testing.TB) []crd {
	t.Helper()
	files, err := filepath.Glob(testutil.Path("config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) != 6 {
		t.Fatalf("want 6 CRDs, found %d (%v)", len(files), err)
	}
	out := make([]crd, 0, len(files))
	for _, f := range files {
		out = append(out, readCRD(t, f))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].kind < out[j].kind })
	return out
}

// readCRD parses one CRD file; the operator's API has a single version.
func readCRD(t testing.TB, file string) crd {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	c := crd{
		kind:   str(dig(doc, "spec", "names", "kind")),
		plural: str(dig(doc, "spec", "names", "plural")),
	}
	versions, _ := dig(doc, "spec", "versions").([]any)
	if len(versions) != 1 {
		t.Fatalf("%s: want exactly one version, found %d", file, len(versions))
	}
	c.schema, _ = dig(versions[0], "schema", "openAPIV3Schema").(map[string]any)
	if c.kind == "" || c.plural == "" || c.schema == nil {
		t.Fatalf("%s: no kind, plural or schema", file)
	}
	return c
}

// specSchema returns the schema of the kind's spec.
func (c crd) specSchema(t *testing.T) map[string]any {
	t.Helper()
	spec, ok := dig(c.schema, "properties", "spec").(map[string]any)
	if !ok {
		t.Fatalf("%s: the CRD has no spec schema", c.kind)
	}
	return spec
}

// dig follows keys through nested maps and returns nil where the path ends early.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// str returns v when it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// fieldPaths lists every field below schema as a dotted path (policy.roles.name),
// sorted. The fields of an array's items and of a map's values are listed under the
// array or map, as kubectl explain shows them.
func fieldPaths(schema map[string]any) []string {
	var out []string
	walkFields(schema, "", &out)
	sort.Strings(out)
	return out
}

func walkFields(schema map[string]any, prefix string, out *[]string) {
	for _, nested := range []string{"items", "additionalProperties"} {
		if s, ok := schema[nested].(map[string]any); ok {
			walkFields(s, prefix, out)
		}
	}
	props, _ := schema["properties"].(map[string]any)
	for name, child := range props {
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		*out = append(*out, path)
		if c, ok := child.(map[string]any); ok {
			walkFields(c, path, out)
		}
	}
}

// celMessages collects the messages of every x-kubernetes-validations rule in v.
func celMessages(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if k == "x-kubernetes-validations" {
				for _, rule := range child.([]any) {
					out = append(out, rule.(map[string]any)["message"].(string))
				}
				continue
			}
			out = append(out, celMessages(child)...)
		}
	case []any:
		for _, child := range x {
			out = append(out, celMessages(child)...)
		}
	}
	return out
}
