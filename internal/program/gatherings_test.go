package program

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// scheduledCohort is a twelve-month cohort with gatherings at noon Chicago time on the
// second Tuesday of every month, three at a time.
func scheduledCohort(name string) *learningv1alpha1.Cohort {
	return cohort(name, "2026-01-01", 12, scheduled(testutil.MonthlySchedule()))
}

// plan runs PlanGatherings and fails the test on an error.
func plan(t *testing.T, c *learningv1alpha1.Cohort, existing []*learningv1alpha1.LearningEvent, at time.Time) GatheringPlan {
	t.Helper()
	p, err := PlanGatherings(c, existing, at)
	if err != nil {
		t.Fatalf("PlanGatherings: %v", err)
	}
	return p
}

// planned summarises a plan by event names.
type planned struct{ Apply, Delete []string }

func namesOf(p GatheringPlan) planned {
	var out planned
	for _, e := range p.Apply {
		out.Apply = append(out.Apply, e.Name)
	}
	for _, e := range p.Delete {
		out.Delete = append(out.Delete, e.Name)
	}
	return out
}

// generatedAt returns the gatherings the cohort's schedule generates at a clock, as
// they would exist in the cluster.
func generatedAt(t *testing.T, c *learningv1alpha1.Cohort, at time.Time) []*learningv1alpha1.LearningEvent {
	t.Helper()
	var out []*learningv1alpha1.LearningEvent
	for _, e := range plan(t, c, nil, at).Apply {
		out = append(out, e.DeepCopy())
	}
	return out
}

func TestPlanGatheringsCreatesTheNextOccurrences(t *testing.T) {
	c := scheduledCohort("allyship-2026")
	got := plan(t, c, nil, day("2026-01-05"))

	wantNames := planned{Apply: []string{
		"allyship-2026-20260113-1200", "allyship-2026-20260210-1200", "allyship-2026-20260310-1200",
	}}
	if diff := cmp.Diff(wantNames, namesOf(got)); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	first := got.Apply[0]
	want := &learningv1alpha1.LearningEvent{
		ObjectMeta: metav1.ObjectMeta{
			Name: "allyship-2026-20260113-1200", Namespace: ns,
			Labels: map[string]string{ScheduleLabel: "allyship-2026"},
		},
		Spec: learningv1alpha1.LearningEventSpec{
			CohortRef: &learningv1alpha1.LocalObjectReference{Name: "allyship-2026"},
			Type:      learningv1alpha1.GatheringEvent,
			Title:     "allyship-2026 Gathering, January 13, 2026",
			Start:     metav1.NewTime(instant("2026-01-13T18:00:00Z")),
			Duration:  metav1.Duration{Duration: 90 * time.Minute},
			TimeZone:  "America/Chicago",
			Audience:  learningv1alpha1.InternalAudience,
		},
	}
	want.Annotations = map[string]string{GeneratedAnnotation: GeneratedHash(&want.Spec)}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("first gathering (-want +got):\n%s", diff)
	}
	if len(first.OwnerReferences) != 0 {
		t.Errorf("a generated gathering has owner references %v; deleting the cohort must never delete records", first.OwnerReferences)
	}
	for _, e := range got.Apply {
		if Touched(e) {
			t.Errorf("%s: a freshly generated gathering reads as touched", e.Name)
		}
	}
}

func TestPlanGatherings(t *testing.T) {
	twoTuesdays := scheduledCohort("alpha")
	// The schedule moves to the third Tuesday: the second-Tuesday gatherings are no
	// longer wanted.
	thirdTuesday := twoTuesdays.DeepCopy()
	thirdTuesday.Spec.Schedule.RRule = "FREQ=MONTHLY;BYDAY=3TU"
	unscheduled := twoTuesdays.DeepCopy()
	unscheduled.Spec.Schedule = nil
	deleted := twoTuesdays.DeepCopy()
	deleted.DeletionTimestamp = &metav1.Time{Time: day("2026-01-20")}
	moved := twoTuesdays.DeepCopy()
	moved.Spec.Schedule.Location = "Room 2"

	// Generated on January 5: January 13 (past on January 20), February 10, March 10.
	existing := func() []*learningv1alpha1.LearningEvent { return generatedAt(t, twoTuesdays, day("2026-01-05")) }
	recorded := func(es []*learningv1alpha1.LearningEvent) []*learningv1alpha1.LearningEvent {
		es[1].Spec.Attendance = []learningv1alpha1.AttendanceRecord{present("ann")}
		return es
	}
	cancelled := func(es []*learningv1alpha1.LearningEvent) []*learningv1alpha1.LearningEvent {
		es[1].Spec.Cancelled = true
		return es
	}
	edited := func(es []*learningv1alpha1.LearningEvent) []*learningv1alpha1.LearningEvent {
		es[1].Spec.Title = "Listening session with the board"
		return es
	}
	third := []string{"alpha-20260120-1200", "alpha-20260217-1200", "alpha-20260317-1200"}
	const (
		february = "alpha-20260210-1200"
		march    = "alpha-20260310-1200"
		april    = "alpha-20260414-1200"
	)
	cases := map[string]struct {
		cohort   *learningv1alpha1.Cohort
		existing []*learningv1alpha1.LearningEvent
		want     planned
	}{
		"nothing to do when the gatherings exist": {
			cohort: twoTuesdays, existing: existing(),
			want: planned{Apply: []string{april}},
		},
		"an untouched gathering whose schedule changed is rewritten": {
			cohort: moved, existing: existing(),
			want: planned{Apply: []string{february, march, april}},
		},
		"a gathering edited by a person is not rewritten": {
			cohort: moved, existing: edited(existing()),
			want: planned{Apply: []string{march, april}},
		},
		"a changed rule deletes the untouched future gatherings, not past ones": {
			cohort: thirdTuesday, existing: existing(),
			want: planned{Apply: third, Delete: []string{february, march}},
		},
		"a changed rule keeps a gathering with attendance recorded": {
			cohort: thirdTuesday, existing: recorded(existing()),
			want: planned{Apply: third, Delete: []string{march}},
		},
		"a changed rule keeps a cancelled gathering": {
			cohort: thirdTuesday, existing: cancelled(existing()),
			want: planned{Apply: third, Delete: []string{march}},
		},
		"a changed rule keeps an edited gathering": {
			cohort: thirdTuesday, existing: edited(existing()),
			want: planned{Apply: third, Delete: []string{march}},
		},
		"a removed schedule deletes the untouched future gatherings": {
			cohort: unscheduled, existing: existing(),
			want: planned{Delete: []string{february, march}},
		},
		"a removed schedule keeps touched gatherings": {
			cohort: unscheduled, existing: recorded(existing()),
			want: planned{Delete: []string{march}},
		},
		"a deleted cohort deletes its untouched future gatherings": {
			cohort: deleted, existing: existing(),
			want: planned{Delete: []string{february, march}},
		},
		"a deleted cohort keeps touched gatherings": {
			cohort: deleted, existing: edited(existing()),
			want: planned{Delete: []string{march}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := plan(t, tc.cohort, tc.existing, day("2026-01-20"))
			if diff := cmp.Diff(tc.want, namesOf(got)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanGatheringsKeepsAnOccurrenceInProgress(t *testing.T) {
	c := scheduledCohort("alpha")
	got := plan(t, c, nil, instant("2026-01-13T18:45:00Z"))
	want := planned{Apply: []string{"alpha-20260113-1200", "alpha-20260210-1200", "alpha-20260310-1200"}}
	if diff := cmp.Diff(want, namesOf(got)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func TestPlanGatheringsInvalidSchedulePlansNothing(t *testing.T) {
	c := scheduledCohort("alpha")
	existing := generatedAt(t, c, day("2026-01-05"))
	c.Spec.Schedule.TimeZone = "Mars/Olympus"
	got, err := PlanGatherings(c, existing, day("2026-01-20"))
	if err == nil {
		t.Fatalf("PlanGatherings with an unknown time zone: no error")
	}
	if diff := cmp.Diff(planned{}, namesOf(got)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func TestPlanGatheringsLongCohortName(t *testing.T) {
	// 253 characters, the longest object name, with a dot and a dash where derived
	// names are cut.
	var b strings.Builder
	for b.Len() < 253 {
		b.WriteString("learning-cohort.")
	}
	name := []byte(b.String()[:253])
	name[252] = 'z'
	name[243], name[53] = '.', '-'
	long := string(name)
	if errs := validation.IsDNS1123Subdomain(long); len(errs) > 0 {
		t.Fatalf("test cohort name is invalid: %v", errs)
	}

	got := plan(t, scheduledCohort(long), nil, day("2026-01-05"))
	if len(got.Apply) != 3 {
		t.Fatalf("planned %d gatherings, want 3", len(got.Apply))
	}
	seen := map[string]bool{}
	for _, e := range got.Apply {
		if errs := validation.IsDNS1123Subdomain(e.Name); len(errs) > 0 {
			t.Errorf("name %q: %v", e.Name, errs)
		}
		if seen[e.Name] {
			t.Errorf("name %q is generated twice", e.Name)
		}
		seen[e.Name] = true
		label := e.Labels[ScheduleLabel]
		if errs := validation.IsValidLabelValue(label); len(errs) > 0 {
			t.Errorf("label value %q: %v", label, errs)
		}
		if string(e.Spec.CohortRef.Name) != long {
			t.Errorf("cohortRef %q, want the cohort's full name", e.Spec.CohortRef.Name)
		}
	}
	// Stable: planning again gives the same names.
	again := plan(t, scheduledCohort(long), nil, day("2026-01-05"))
	if diff := cmp.Diff(namesOf(got), namesOf(again)); diff != "" {
		t.Errorf("names changed between plans (-first +second):\n%s", diff)
	}
}
