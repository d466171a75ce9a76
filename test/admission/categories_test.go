package admission

import (
	"context"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestKubectlGetByCategory runs kubectl get against a namespace holding every kind, as
// a program operator would. kubectl expands a category before a resource name, so a
// category named like a plural would make `kubectl get cohorts` list every kind; the
// `learning` category must list all five.
func TestKubectlGetByCategory(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	samples := testutil.Samples(t)
	if err := testutil.CreateAll(ctx, k8s, ns, samples); err != nil {
		t.Fatal(err)
	}
	kubectl := newKubectl(t, "category-user")

	cases := []struct {
		resource string
		// kinds are the kinds whose samples must be listed; none other may be.
		kinds []string
	}{
		{resource: "cohorts", kinds: []string{"Cohort"}},
		{resource: "learning", kinds: []string{"CommunityOfPractice", "Cohort", "Membership", "LearningEvent", "ActionPlan"}},
	}
	for _, tc := range cases {
		t.Run(tc.resource, func(t *testing.T) {
			want := objectNames(samples, tc.kinds...)
			got := sortedLines(kubectl.eventually(t, "get", tc.resource, "--namespace", ns, "--output", "name"))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("kubectl get %s lists:\n%s\nwant:\n%s", tc.resource, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// objectNames returns the names kubectl get --output name prints for the objects of
// kinds in objs, sorted: kind.group/name, the kind in lower case.
func objectNames(objs []*unstructured.Unstructured, kinds ...string) []string {
	var out []string
	for _, o := range objs {
		for _, k := range kinds {
			if o.GetKind() == k {
				out = append(out, strings.ToLower(k)+"."+o.GroupVersionKind().Group+"/"+o.GetName())
			}
		}
	}
	sort.Strings(out)
	return out
}

// sortedLines splits out into its non-empty lines, sorted.
func sortedLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return lines
}
