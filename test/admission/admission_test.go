package admission

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// admissionCase is one manifest sent to the API server. spec is the YAML of the
// object's spec; update, when set, is applied to the created object as a second spec.
type admissionCase struct {
	name   string
	kind   string
	spec   string
	update string
	// want is a fragment of the rejection message; empty means the manifest is accepted.
	want string
}

func manifest(t *testing.T, kind, name, spec string) *unstructured.Unstructured {
	t.Helper()
	var s map[string]any
	if err := yaml.Unmarshal([]byte(spec), &s); err != nil {
		t.Fatalf("bad spec YAML in test: %v", err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "learning.cohort.dev/v1alpha1",
		"kind":       kind,
		"metadata":   map[string]any{"name": name},
		"spec":       s,
	}}
	return u
}

func runCases(t *testing.T, cases []admissionCase) {
	t.Helper()
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := manifest(t, tc.kind, fmt.Sprintf("case-%d", i), tc.spec)
			obj.SetNamespace(ns)
			err := k8s.Create(ctx, obj)
			if tc.update != "" {
				if err != nil {
					t.Fatalf("creating the object to update: %v", err)
				}
				next := manifest(t, tc.kind, obj.GetName(), tc.update)
				obj.Object["spec"] = next.Object["spec"]
				err = k8s.Update(ctx, obj)
			}
			checkResult(t, err, tc.want)
		})
	}
}

func checkResult(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("want the manifest accepted, got: %v", err)
	case want == "":
		return
	case err == nil:
		t.Fatalf("want a rejection mentioning %q, the manifest was accepted", want)
	case !apierrors.IsInvalid(err):
		t.Fatalf("want an Invalid error mentioning %q, got %v", want, err)
	case !strings.Contains(err.Error(), want):
		t.Fatalf("rejection does not mention %q:\n%v", want, err)
	}
}

func TestSamplesAreAccepted(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	samples := testutil.Samples(t)
	if err := testutil.CreateAll(ctx, k8s, ns, samples); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, s := range samples {
		counts[s.GetKind()]++
	}
	// The allyship program: 1 community, 1 cohort, 24 memberships, 11 gatherings and a
	// listening session. The equity cohort: 1 cohort, 22 memberships, 2 events.
	want := map[string]int{"CommunityOfPractice": 1, "Cohort": 2, "Membership": 46, "LearningEvent": 14}
	for kind, n := range want {
		if counts[kind] != n {
			t.Errorf("samples hold %d %s objects, want %d", counts[kind], kind, n)
		}
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion("learning.cohort.dev/v1alpha1")
		list.SetKind(kind + "List")
		if err := k8s.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != n {
			t.Errorf("the API server holds %d %s objects, want %d", len(list.Items), kind, n)
		}
	}
}

// TestEveryCELRuleIsBroken reads the generated CRDs and checks that the message of
// every CEL rule appears in a case that expects a rejection.
func TestEveryCELRuleIsBroken(t *testing.T) {
	covered := map[string]bool{}
	for _, cases := range [][]admissionCase{communityCases, cohortCases, membershipCases, eventCases} {
		for _, tc := range cases {
			if tc.want != "" {
				covered[tc.want] = true
			}
		}
	}
	files, err := filepath.Glob(testutil.Path("config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) != 4 {
		t.Fatalf("want 4 CRDs, found %d (%v)", len(files), err)
	}
	var messages []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd map[string]any
		if err := yaml.Unmarshal(data, &crd); err != nil {
			t.Fatal(err)
		}
		messages = append(messages, celMessages(crd)...)
	}
	if len(messages) < 15 {
		t.Fatalf("found only %d CEL rules in the CRDs; the walk is broken", len(messages))
	}
	sort.Strings(messages)
	for _, msg := range messages {
		found := false
		for want := range covered {
			if strings.Contains(msg, want) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no case breaks the CEL rule %q", msg)
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
