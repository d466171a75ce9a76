package chart

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// manifest is a rendered release, decoded.
type manifest []*unstructured.Unstructured

// render runs helm template for a release of the chart in chart and decodes the output.
func render(t *testing.T, chart, release, namespace string, args ...string) (string, manifest) {
	t.Helper()
	args = append([]string{"template", release, chart, "--namespace", namespace}, args...)
	out := mustHelm(t, args...)
	return out, decode(t, out)
}

func decode(t *testing.T, text string) manifest {
	t.Helper()
	objs, err := testutil.DecodeManifests([]byte(text))
	if err != nil {
		t.Fatalf("decoding the rendered chart: %v", err)
	}
	return objs
}

// get returns the object of a kind and name, failing the test when there is none.
func (m manifest) get(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	if o := m.find(kind, name); o != nil {
		return o
	}
	t.Fatalf("no %s %q among %v", kind, name, m.names())
	return nil
}

func (m manifest) find(kind, name string) *unstructured.Unstructured {
	for _, o := range m {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// ofKind returns the objects of a kind.
func (m manifest) ofKind(kind string) manifest {
	var out manifest
	for _, o := range m {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func (m manifest) names() []string {
	var out []string
	for _, o := range m {
		out = append(out, o.GetKind()+"/"+o.GetName())
	}
	return out
}

// nested reads a field of an object, failing the test when it is missing.
func nested(t *testing.T, o *unstructured.Unstructured, path ...string) any {
	t.Helper()
	v, ok, err := unstructured.NestedFieldNoCopy(o.Object, path...)
	if err != nil || !ok {
		t.Fatalf("%s/%s has no %s", o.GetKind(), o.GetName(), strings.Join(path, "."))
	}
	return v
}

// managerContainer returns the manager container of the release's Deployment.
func managerContainer(t *testing.T, deploy *unstructured.Unstructured) map[string]any {
	t.Helper()
	containers, _ := nested(t, deploy, "spec", "template", "spec", "containers").([]any)
	for _, c := range containers {
		if c, ok := c.(map[string]any); ok && c["name"] == "manager" {
			return c
		}
	}
	t.Fatalf("the Deployment %s has no manager container", deploy.GetName())
	return nil
}

// args returns a container's arguments.
func args(c map[string]any) []string {
	list, _ := c["args"].([]any)
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, fmt.Sprint(a))
	}
	return out
}

// rulesGranting returns the rules of a role that name a resource with a verb.
func rulesGranting(t *testing.T, role *unstructured.Unstructured, resource, verb string) []map[string]any {
	t.Helper()
	rules, _ := nested(t, role, "rules").([]any)
	var out []map[string]any
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		if contains(rule["resources"], resource) && contains(rule["verbs"], verb) {
			out = append(out, rule)
		}
	}
	return out
}

func contains(list any, s string) bool {
	l, _ := list.([]any)
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
