package admission

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

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
	// within, when set, bounds how long the API server may take to answer the create.
	within time.Duration
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
			err := timedCreate(t, obj, tc.within)
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

// timedCreate creates obj and, when within is set, fails the test if the API server
// took longer than within to answer.
func timedCreate(t *testing.T, obj client.Object, within time.Duration) error {
	t.Helper()
	start := time.Now()
	err := k8s.Create(context.Background(), obj)
	took := time.Since(start)
	if within > 0 {
		t.Logf("the API server answered the create in %s", took.Round(time.Millisecond))
	}
	if within > 0 && took > within {
		t.Errorf("the API server took %s to answer the create, want at most %s", took.Round(time.Millisecond), within)
	}
	return err
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
	case !mentions(err.Error(), want):
		t.Fatalf("rejection does not mention %q:\n%v", want, err)
	}
}

// anyValue stands in a case's expected rejection for the value the API server quotes
// back, which may be long or hold characters escaped in its own way.
const anyValue = "<value>"

// mentions reports whether text contains want, where each anyValue in want stands for
// any run of characters.
func mentions(text, want string) bool {
	for _, part := range strings.Split(want, anyValue) {
		i := strings.Index(text, part)
		if i < 0 {
			return false
		}
		text = text[i+len(part):]
	}
	return true
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
	want := map[string]int{"CommunityOfPractice": 1, "Cohort": 2, "Membership": 46, "LearningEvent": 15}
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

// TestEveryCELRuleIsBroken reads the generated CRDs and checks, kind by kind, that the
// message of every CEL rule of a kind appears whole in the expected rejection of a case
// of that same kind. runCases checks that the API server's error contains that
// expectation, so every rule is shown to fire, with its message, on its own kind: a
// Cohort case cannot stand in for a CommunityOfPractice rule of the same wording.
func TestEveryCELRuleIsBroken(t *testing.T) {
	rejections := rejectionsByKind(allCases)
	total := 0
	for _, c := range loadCRDs(t) {
		messages := celMessages(c.schema)
		sort.Strings(messages)
		total += len(messages)
		for _, msg := range messages {
			if !anyContains(rejections[c.kind], msg) {
				t.Errorf("%s: no %s case is rejected with the CEL message %q", c.kind, c.kind, msg)
			}
		}
	}
	if total < 15 {
		t.Fatalf("found only %d CEL rules in the CRDs; the walk is broken", total)
	}
}

// rejectionsByKind maps each kind to the expected rejections of its cases.
func rejectionsByKind(groups [][]admissionCase) map[string][]string {
	out := map[string][]string{}
	for _, cases := range groups {
		for _, tc := range cases {
			if tc.want != "" {
				out[tc.kind] = append(out[tc.kind], tc.want)
			}
		}
	}
	return out
}

// anyContains reports whether one of texts contains fragment.
func anyContains(texts []string, fragment string) bool {
	for _, s := range texts {
		if strings.Contains(s, fragment) {
			return true
		}
	}
	return false
}
