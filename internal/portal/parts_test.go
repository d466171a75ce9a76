package portal

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// partConfigMaps are the ConfigMaps of a document split in parts, as the manager
// writes them: the first under first, the others under first-2, first-3...
func partConfigMaps(t *testing.T, first, key string, d publish.Document) []*corev1.ConfigMap {
	t.Helper()
	names := []string{first}
	for i := 2; i <= len(d.Parts); i++ {
		names = append(names, fmt.Sprintf("%s-%d", first, i))
	}
	var out []*corev1.ConfigMap
	for i, part := range d.Parts {
		m := publish.Manifest{Part: i + 1, Parts: len(d.Parts), Digest: d.Digest}
		if i == 0 {
			m.Next = names[1:]
		}
		cm := configMap(names[i], key, string(part))
		cm.Data[publish.PartsKey] = mustJSON(t, m)
		out = append(out, cm)
	}
	return out
}

// splitDocuments publishes the sample documents with a budget that splits the roster
// in three parts or more and the overview in two or more.
func splitDocuments(t *testing.T, docs Documents) (roster, overview []*corev1.ConfigMap) {
	t.Helper()
	r, err := publish.SplitRoster(docs.Roster, 2000)
	if err != nil {
		t.Fatal(err)
	}
	o, err := publish.SplitOverview(docs.Overview, 3000)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Parts) < 3 || len(o.Parts) < 2 {
		t.Fatalf("roster in %d parts, overview in %d: the sample is too small for the test", len(r.Parts), len(o.Parts))
	}
	return partConfigMaps(t, testOptions.RosterConfigMap, publish.RosterKey, r), partConfigMaps(t, testOptions.OverviewConfigMap, publish.OverviewKey, o)
}

func objects(cms ...[]*corev1.ConfigMap) []runtime.Object {
	var out []runtime.Object
	for _, list := range cms {
		for _, cm := range list {
			out = append(out, cm)
		}
	}
	return out
}

// TestConfigMapSourceMergesParts: a roster and an overview split over several
// ConfigMaps load whole, each part read once by name.
func TestConfigMapSourceMergesParts(t *testing.T) {
	want := allyshipDocuments()
	want.Overview.Reports = nil // the first part carries them whole; the budget here is for the attendance
	roster, overview := splitDocuments(t, want)
	calendar := []*corev1.ConfigMap{configMap(testOptions.CalendarConfigMap, publish.CalendarKey, string(want.Calendar))}
	client := fake.NewClientset(objects(roster, overview, calendar)...)
	s := NewServer(NewConfigMapSource(client, testOptions), testOptions.Cohort, clocktesting.NewFakePassiveClock(sampleNow))
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if diff := cmp.Diff(want, s.current.Load().docs); diff != "" {
		t.Errorf("documents (-published +loaded):\n%s", diff)
	}
	var got []string
	for _, a := range client.Actions() {
		g, ok := a.(k8stesting.GetAction)
		if !ok {
			t.Fatalf("unexpected %s request", a.GetVerb())
		}
		got = append(got, g.GetName())
	}
	var wantGets []string
	for _, cm := range append(append(roster, overview...), calendar...) {
		wantGets = append(wantGets, cm.Name)
	}
	if diff := cmp.Diff(wantGets, got); diff != "" {
		t.Errorf("gets (-want +got):\n%s", diff)
	}

	res := get(t, s.Handler(), "GET", "/roster.json")
	var served publish.Roster
	if err := json.Unmarshal([]byte(res.body), &served); err != nil {
		t.Fatalf("/roster.json: %v", err)
	}
	if diff := cmp.Diff(want.Roster, served); diff != "" {
		t.Errorf("/roster.json (-published +served):\n%s", diff)
	}
	page := get(t, s.Handler(), "GET", "/")
	mustContain(t, "the page", page.body, "Yael", "Avery (co-lead)")
}

// TestConfigMapSourcePartsOfTwoRenders: parts that do not belong together (the manager
// rewriting them, a part missing) fail the load, and the server keeps what it served.
func TestConfigMapSourcePartsOfTwoRenders(t *testing.T) {
	docs := allyshipDocuments()
	docs.Overview.Reports = nil // the first part carries them whole; the budget here is for the attendance
	calendar := configMap(testOptions.CalendarConfigMap, publish.CalendarKey, string(docs.Calendar))
	cases := map[string]struct {
		edit func(roster []*corev1.ConfigMap) []*corev1.ConfigMap
		want string
	}{
		"a part of another render": {
			edit: func(r []*corev1.ConfigMap) []*corev1.ConfigMap {
				r[1].Data[publish.PartsKey] = strings.Replace(r[1].Data[publish.PartsKey], `"sha256:`, `"sha256:0`, 1)
				return r
			},
			want: "is not part 2 of the roster.json its first part allyship-2026-roster describes",
		},
		"a part without its manifest": {
			edit: func(r []*corev1.ConfigMap) []*corev1.ConfigMap {
				delete(r[2].Data, publish.PartsKey)
				return r
			},
			want: "is not part 3",
		},
		"a missing part": {
			edit: func(r []*corev1.ConfigMap) []*corev1.ConfigMap { return r[:2] },
			want: "getting ConfigMap learning/allyship-2026-roster-3",
		},
		"a first part that is not the first": {
			edit: func(r []*corev1.ConfigMap) []*corev1.ConfigMap {
				r[0].Data[publish.PartsKey] = mustJSON(t, publish.Manifest{Part: 2, Parts: 3})
				return r
			},
			want: "want the first part naming the others",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			roster, overview := splitDocuments(t, docs)
			s, _ := newLoadedServer(t, docs)
			client := fake.NewClientset(objects(tc.edit(roster), overview, []*corev1.ConfigMap{calendar})...)
			s.source = NewConfigMapSource(client, testOptions)
			err := s.Refresh(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Refresh = %v, want an error containing %q", err, tc.want)
			}
			if diff := cmp.Diff(docs, s.current.Load().docs); diff != "" {
				t.Errorf("served documents changed (-before +after):\n%s", diff)
			}
		})
	}
}
