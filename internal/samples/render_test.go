package samples

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

func TestRender(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := map[string]struct {
		files   fstest.MapFS
		months  int
		want    string
		wantErr string
	}{
		"files are joined in the listed order, comments kept": {
			files: fstest.MapFS{
				"kustomization.yaml": file("resources:\n- b.yaml\n- a.yaml\n"),
				"a.yaml":             file("# a\n---\nkind: A\n"),
				"b.yaml":             file("# b\n---\nkind: B\n"),
			},
			want: "# b\n---\nkind: B\n---\n# a\n---\nkind: A\n",
		},
		"a file without a final newline gets one": {
			files: fstest.MapFS{
				"kustomization.yaml": file("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml, ./b.yml]\n"),
				"a.yaml":             file("kind: A"),
				"b.yml":              file("kind: B"),
			},
			want: "kind: A\n---\nkind: B\n",
		},
		"dates are shifted, names are not": {
			files: fstest.MapFS{
				"kustomization.yaml": file("resources:\n- a.yaml\n"),
				"a.yaml":             file("metadata:\n  name: allyship-2026-11-10\nspec:\n  start: '2026-11-10T18:00:00Z'\n"),
			},
			months: 3,
			want:   "metadata:\n  name: allyship-2026-11-10\nspec:\n  start: '2027-02-10T18:00:00Z'\n",
		},
		"no kustomization": {
			files:   fstest.MapFS{"a.yaml": file("kind: A\n")},
			wantErr: "reading the samples' kustomization",
		},
		"a kustomization that does more than list resources": {
			files: fstest.MapFS{
				"kustomization.yaml": file("resources: [a.yaml]\nnamePrefix: x-\n"),
				"a.yaml":             file("kind: A\n"),
			},
			wantErr: "only a list of resources can be rendered",
		},
		"a kustomization without resources": {
			files:   fstest.MapFS{"kustomization.yaml": file("resources: []\n")},
			wantErr: "lists no resources",
		},
		"a resource outside the folder": {
			files:   fstest.MapFS{"kustomization.yaml": file("resources: [../a.yaml]\n")},
			wantErr: `resource "../a.yaml" is not a YAML file inside the samples folder`,
		},
		"a resource that is a folder": {
			files: fstest.MapFS{
				"kustomization.yaml": file("resources: [base]\n"),
				"base/a.yaml":        file("kind: A\n"),
			},
			wantErr: `resource "base" is not a YAML file`,
		},
		"a listed file that is missing": {
			files:   fstest.MapFS{"kustomization.yaml": file("resources: [a.yaml]\n")},
			wantErr: "reading sample a.yaml",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Render(tc.files, tc.months)
			if diff := cmp.Diff(tc.wantErr, errorText(err, tc.wantErr)); diff != "" {
				t.Fatalf("error mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Render mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// errorText returns want when err's message contains it, and otherwise err's whole
// message (or "" for no error), so that cmp.Diff shows what was returned.
func errorText(err error, want string) string {
	switch {
	case err == nil:
		return ""
	case want != "" && strings.Contains(err.Error(), want):
		return want
	default:
		return err.Error()
	}
}

// sampleObject is the part of a sample the calendar checks read.
type sampleObject struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		StartDate      string    `json:"startDate"`
		DurationMonths int       `json:"durationMonths"`
		Start          time.Time `json:"start"`
		Title          string    `json:"title"`
		Audience       string    `json:"audience"`
		Attendance     []any     `json:"attendance"`
	} `json:"spec"`
}

// TestRenderedTitlesNameTheirMonth: a sample event whose title names a month starts
// in that month, however far the samples are shifted (make demo shows both).
func TestRenderedTitlesNameTheirMonth(t *testing.T) {
	fsys := os.DirFS("../../config/samples")
	for _, months := range []int{0, 1, 2, 6, 11, 12, 13, 25, -1, -14} {
		titled := 0
		for _, o := range decodeSamples(t, fsys, months) {
			named := monthNamePattern.FindAllString(o.Spec.Title, -1)
			if o.Kind != "LearningEvent" || len(named) == 0 {
				continue
			}
			titled++
			if got := o.Spec.Start.UTC().Month().String(); len(named) != 1 || named[0] != got {
				t.Errorf("shifted by %d months: event %s is titled %q and starts %s, in %s", months, o.Metadata.Name, o.Spec.Title, o.Spec.Start.Format(time.RFC3339), got)
			}
		}
		if titled < 11 {
			t.Errorf("shifted by %d months: %d events are titled with a month, want the 11 monthly gatherings", months, titled)
		}
	}
}

// TestRenderedSamplesAreInProgress renders config/samples for every month of several
// years and checks, on the first and the last instant of that month, what the demo and
// the e2e suite rely on: both cohorts are in progress, every event with attendance
// recorded has started and the External events are still to come.
func TestRenderedSamplesAreInProgress(t *testing.T) {
	fsys := os.DirFS("../../config/samples")
	original := decodeSamples(t, fsys, 0)
	for month := time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC); month.Year() < 2030; month = month.AddDate(0, 1, 0) {
		objs := decodeSamples(t, fsys, ShiftFor(month))
		if diff := cmp.Diff(names(original), names(objs)); diff != "" {
			t.Fatalf("%s: the shifted samples hold other objects (-want +got):\n%s", month.Format("2006-01"), diff)
		}
		for _, now := range []time.Time{month, month.AddDate(0, 1, 0).Add(-time.Second)} {
			for _, problem := range calendarProblems(t, objs, now) {
				t.Errorf("on %s: %s", now.Format(time.RFC3339), problem)
			}
		}
	}
}

// calendarProblems lists what is untrue of the samples on day now.
func calendarProblems(t *testing.T, objs []sampleObject, now time.Time) []string {
	t.Helper()
	var problems []string
	cohorts, external := 0, 0
	for _, o := range objs {
		switch {
		case o.Kind == "Cohort":
			cohorts++
			start, err := time.Parse(time.DateOnly, o.Spec.StartDate)
			if err != nil {
				t.Fatalf("cohort %s: %v", o.Metadata.Name, err)
			}
			if end := start.AddDate(0, o.Spec.DurationMonths, 0); now.Before(start) || !now.Before(end) {
				problems = append(problems, "cohort "+o.Metadata.Name+" runs "+start.Format(time.DateOnly)+" to "+end.Format(time.DateOnly))
			}
		case o.Kind == "LearningEvent" && len(o.Spec.Attendance) > 0 && !o.Spec.Start.Before(now):
			problems = append(problems, "event "+o.Metadata.Name+" has attendance but starts "+o.Spec.Start.Format(time.RFC3339))
		case o.Kind == "LearningEvent" && o.Spec.Audience == "External":
			external++
			if !o.Spec.Start.After(now) {
				problems = append(problems, "external event "+o.Metadata.Name+" is not upcoming: "+o.Spec.Start.Format(time.RFC3339))
			}
		}
	}
	if cohorts != 2 || external != 2 {
		problems = append(problems, "the samples changed: update this test")
	}
	return problems
}

// decodeSamples renders the samples shifted by months and decodes every object.
func decodeSamples(t *testing.T, fsys fs.FS, months int) []sampleObject {
	t.Helper()
	text, err := Render(fsys, months)
	if err != nil {
		t.Fatal(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	var objs []sampleObject
	for {
		var o sampleObject
		if err := dec.Decode(&o); err != nil {
			if errors.Is(err, io.EOF) {
				return objs
			}
			t.Fatalf("decoding the samples shifted by %d months: %v", months, err)
		}
		if o.Kind != "" {
			objs = append(objs, o)
		}
	}
}

// names lists the kind and name of every object.
func names(objs []sampleObject) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.Kind+"/"+o.Metadata.Name)
	}
	return out
}

// TestPlanSamplesByOwner: the committed plan samples split by owner, each owner's
// stream holding exactly their plans, shifted like the rest.
func TestPlanSamplesByOwner(t *testing.T) {
	text, err := Render(os.DirFS("../../config/samples/plans"), 1)
	if err != nil {
		t.Fatal(err)
	}
	owners, plans, err := ByOwner(text)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"u-ally-003", "u-ally-004", "u-ally-005", "u-oe-arizona-1", "u-oe-colorado-1", "u-oe-iowa-1"}
	if !slices.Equal(owners, want) {
		t.Fatalf("owners %q, want %q", owners, want)
	}
	for _, owner := range owners {
		if n := strings.Count(plans[owner], "kind: ActionPlan"); n != 1 {
			t.Errorf("%s has %d plans, want 1:\n%s", owner, n, plans[owner])
		}
		if strings.Count(plans[owner], "owner: "+owner) != 1 {
			t.Errorf("%s's stream holds another owner's plan:\n%s", owner, plans[owner])
		}
	}
	if !strings.Contains(plans["u-ally-003"], "due: '2026-11-30'") {
		t.Errorf("Casey's mentoring action is not shifted by a month:\n%s", plans["u-ally-003"])
	}
	if _, _, err := ByOwner("kind: ActionPlan\nmetadata: {name: x}\nspec: {}\n"); err == nil || !strings.Contains(err.Error(), "ActionPlan x has no spec.owner") {
		t.Errorf("a plan without an owner: %v", err)
	}
}
