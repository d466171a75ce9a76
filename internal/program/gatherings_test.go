package program

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
		e = e.DeepCopy()
		e.UID = types.UID("uid-" + e.Name)
		out = append(out, e)
	}
	return out
}

// recording returns the cohort with the events recorded as its generated gatherings.
func recording(c *learningv1alpha1.Cohort, events []*learningv1alpha1.LearningEvent) *learningv1alpha1.Cohort {
	c = c.DeepCopy()
	c.Status.Gatherings = nil
	for _, e := range events {
		c.Status.Gatherings = append(c.Status.Gatherings, learningv1alpha1.GeneratedGathering{Name: e.Name, UID: string(e.UID)})
	}
	return c
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
			got := plan(t, recording(tc.cohort, tc.existing), tc.existing, day("2026-01-20"))
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

// forged is an event a person declared, whose owner patched in the schedule's label
// and a generated-spec annotation matching its own spec: untouched to anyone who reads
// labels.
func forged(name string, start time.Time) *learningv1alpha1.LearningEvent {
	e := gathering(name, "alpha", start)
	e.UID = types.UID("uid-" + name)
	e.Spec.Audience = learningv1alpha1.ExternalAudience
	e.Spec.Approval = &learningv1alpha1.Approval{Approver: "olu"}
	e.Labels = map[string]string{ScheduleLabel: "alpha"}
	e.Annotations = map[string]string{GeneratedAnnotation: GeneratedHash(&e.Spec)}
	return e
}

// TestPlanGatheringsTrustsOnlyTheRecord: the operator rewrites and deletes only the
// gatherings status.gatherings records by name and UID; an unrecorded event is adopted
// only when it is exactly what the generator would create now.
func TestPlanGatheringsTrustsOnlyTheRecord(t *testing.T) {
	twoTuesdays := scheduledCohort("alpha")
	thirdTuesday := twoTuesdays.DeepCopy()
	thirdTuesday.Spec.Schedule.RRule = "FREQ=MONTHLY;BYDAY=3TU"
	deleted := twoTuesdays.DeepCopy()
	deleted.DeletionTimestamp = &metav1.Time{Time: day("2026-01-20")}
	generated := generatedAt(t, twoTuesdays, day("2026-01-05"))
	const (
		february = "alpha-20260210-1200"
		march    = "alpha-20260310-1200"
		april    = "alpha-20260414-1200"
	)
	// A forged event at a name the schedule wants, and one elsewhere.
	forgedApril, forgedOther := forged(april, instant("2026-04-14T17:00:00Z")), forged("board-meeting", instant("2026-02-03T17:00:00Z"))
	replaced := generatedAt(t, twoTuesdays, day("2026-01-05"))
	replaced[1].UID = "uid-recreated" // deleted and created again by someone else

	cases := map[string]struct {
		cohort   *learningv1alpha1.Cohort
		existing []*learningv1alpha1.LearningEvent
		want     planned
		keep     []string
		skipped  []string
	}{
		"forged events are never rewritten or deleted; the schedule skips the occurrence": {
			cohort: recording(thirdTuesday, generated), existing: append(slices.Clone(generated), forgedApril, forgedOther),
			want: planned{Apply: []string{"alpha-20260120-1200", "alpha-20260217-1200", "alpha-20260317-1200"}, Delete: []string{february, march}},
			keep: []string{february, march},
		},
		"a forged event at a wanted name is skipped": {
			cohort: recording(twoTuesdays, generated), existing: append(slices.Clone(generated), forgedApril),
			want: planned{}, keep: []string{february, march}, skipped: []string{april},
		},
		"a deleted cohort deletes only what it recorded": {
			cohort: recording(deleted, generated), existing: append(slices.Clone(generated), forgedApril, forgedOther),
			want: planned{Delete: []string{february, march}}, keep: []string{february, march},
		},
		"exact unrecorded gatherings are adopted (a lost status write, or an upgrade)": {
			cohort: twoTuesdays, existing: generated,
			want: planned{Apply: []string{april}}, keep: []string{february, march},
		},
		"a deleted cohort adopts its exact gatherings to delete them": {
			cohort: deleted, existing: generated,
			want: planned{Delete: []string{february, march}}, keep: []string{february, march},
		},
		"an unrecorded gathering the schedule no longer wants stays": {
			cohort: thirdTuesday, existing: generated,
			want: planned{Apply: []string{"alpha-20260120-1200", "alpha-20260217-1200", "alpha-20260317-1200"}},
		},
		"a recorded name with another UID is not the operator's": {
			cohort: recording(thirdTuesday, generated), existing: replaced,
			want: planned{Apply: []string{"alpha-20260120-1200", "alpha-20260217-1200", "alpha-20260317-1200"}, Delete: []string{march}},
			keep: []string{march},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := plan(t, tc.cohort, tc.existing, day("2026-01-20"))
			if diff := cmp.Diff(tc.want, namesOf(got)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			var keep []string
			for _, g := range got.Keep {
				keep = append(keep, g.Name)
				if g.UID != "uid-"+g.Name {
					t.Errorf("kept %s with UID %s", g.Name, g.UID)
				}
			}
			if diff := cmp.Diff(tc.keep, keep); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.skipped, got.Skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGatheringRecordComesFromTheFacts: the outcome takes status.gatherings from what
// the gatherings step wrote, keeps it when the step wrote nothing, and reports the
// occurrences the schedule skips because an event outside the unit holds their names.
func TestGatheringRecordComesFromTheFacts(t *testing.T) {
	c := recording(scheduledCohort("alpha"), generatedAt(t, scheduledCohort("alpha"), day("2026-01-05")))
	now := day("2026-01-20")
	taken := ScheduledNames(c, ExpandSchedule(c, now))
	if len(taken) < 2 {
		t.Fatalf("the schedule generates %v: the test needs two names", taken)
	}
	snap := Snapshot{Now: now, Community: community(role("Member", 0, 5)), Cohorts: []*learningv1alpha1.Cohort{c}, Taken: map[string]bool{taken[1]: true}}

	decision := Decide(snap)
	plan := decision.Gatherings["alpha"]
	if !slices.Contains(plan.Skipped, taken[1]) || slices.ContainsFunc(plan.Apply, func(e *learningv1alpha1.LearningEvent) bool { return e.Name == taken[1] }) {
		t.Errorf("plan skips %v and applies %v: the taken name %s must be skipped, never created", plan.Skipped, namesOf(plan).Apply, taken[1])
	}
	record := []learningv1alpha1.GeneratedGathering{{Name: "alpha-20260414-1200", UID: "u"}}
	out := decision.Outcome(Facts{Gatherings: map[string][]learningv1alpha1.GeneratedGathering{"alpha": record}})
	if diff := cmp.Diff(record, out.Cohorts["alpha"].Gatherings); diff != "" {
		t.Errorf("status.gatherings (-written +reported):\n%s", diff)
	}
	if msg := verdictOf(out.Cohorts["alpha"].Conditions, learningv1alpha1.ReadyCondition).Message; !strings.Contains(msg, taken[1]) {
		t.Errorf("Ready message %q does not report the skipped occurrence", msg)
	}
	if diff := cmp.Diff(c.Status.Gatherings, Evaluate(snap).Cohorts["alpha"].Gatherings); diff != "" {
		t.Errorf("without facts, status.gatherings changed (-before +after):\n%s", diff)
	}
}

// TestDecisionJudgesTheUnitWithItsPlannedGatherings: the gatherings a decision creates
// get their status and a place in the published calendar in the same pass.
func TestDecisionJudgesTheUnitWithItsPlannedGatherings(t *testing.T) {
	c := scheduledCohort("alpha")
	decision := Decide(Snapshot{Now: day("2026-01-20"), Community: community(role("Member", 0, 5)), Cohorts: []*learningv1alpha1.Cohort{c}})
	apply := decision.Gatherings["alpha"].Apply
	if len(apply) == 0 {
		t.Fatal("the decision creates no gathering")
	}
	out := decision.Outcome(Facts{})
	for _, want := range apply {
		if _, ok := out.Events[want.Name]; !ok {
			t.Errorf("planned gathering %s has no status", want.Name)
		}
	}
	var uids []string
	for _, e := range decision.Publications["alpha"].Calendar.Events {
		uids = append(uids, e.UID)
	}
	if !slices.ContainsFunc(uids, func(uid string) bool { return strings.Contains(uid, apply[0].Name) }) {
		t.Errorf("the calendar (%v) does not list the planned gathering %s", uids, apply[0].Name)
	}
}
