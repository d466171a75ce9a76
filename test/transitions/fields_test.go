package transitions

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// specFields lists the leaves of every kind's spec in the generated CRDs, as
// "Kind spec.a.b" with "[]" for the items of a list of objects. A list of strings is
// one leaf.
func specFields(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(testutil.Path("config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	var fields []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd crdSchema
		if err := yaml.Unmarshal(data, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, v := range crd.Spec.Versions {
			spec, ok := v.Schema.OpenAPIV3Schema.Properties["spec"]
			if !ok {
				t.Fatalf("%s %s has no spec", crd.Spec.Names.Kind, v.Name)
			}
			fields = append(fields, leaves(crd.Spec.Names.Kind+" spec", spec)...)
		}
	}
	sort.Strings(fields)
	return slices.Compact(fields)
}

// crdSchema is the part of a CustomResourceDefinition the walk reads.
type crdSchema struct {
	Spec struct {
		Names    struct{ Kind string }
		Versions []struct {
			Name   string
			Schema struct {
				OpenAPIV3Schema openAPISchema `json:"openAPIV3Schema"`
			}
		}
	}
}

// openAPISchema is an OpenAPI schema, as far as the walk needs it.
type openAPISchema struct {
	Type       string
	Properties map[string]openAPISchema
	Items      *openAPISchema
}

func leaves(path string, s openAPISchema) []string {
	switch {
	case s.Type == "object" && len(s.Properties) > 0:
		var out []string
		for name, p := range s.Properties {
			out = append(out, leaves(path+"."+name, p)...)
		}
		return out
	case s.Type == "array" && s.Items != nil && s.Items.Type == "object":
		return leaves(path+"[]", *s.Items)
	}
	return []string{path}
}

// TestEveryFieldHasATransition fails when a spec field of a CRD has no transition case,
// or a case names a field the CRDs do not have: a new field comes with its
// transitions. Fields without an admitted change on update say why.
func TestEveryFieldHasATransition(t *testing.T) {
	fields := specFields(t)
	covered := map[string]bool{}
	for _, c := range transitions() {
		covered[c.field] = true
		if c.invalid == nil && !c.oneWay {
			t.Errorf("%s: no invalid change", c.field)
		}
		if !strings.Contains(c.want, fieldName(c.field)) {
			t.Errorf("%s: the expected refusal %q does not name the field %s", c.field, c.want, fieldName(c.field))
		}
		if c.valid == nil && c.noValid == "" {
			t.Errorf("%s: no valid change and no reason why", c.field)
		}
	}
	for _, f := range fields {
		if !covered[f] {
			t.Errorf("spec field %s has no transition case", f)
		}
	}
	for f := range covered {
		if !slices.Contains(fields, f) {
			t.Errorf("transition case for %s, which no CRD declares", f)
		}
	}
	kinds := map[string]bool{}
	for _, f := range fields {
		kind, _, _ := strings.Cut(f, " ")
		kinds[kind] = true
	}
	t.Logf("%d spec fields in %d CRDs, %d transition cases", len(fields), len(kinds), len(transitions()))
}
