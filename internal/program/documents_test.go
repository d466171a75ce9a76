package program

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/ics"
	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// uidsOf are the names of the calendar's events, from their UIDs.
func uidsOf(c ics.Calendar) []string {
	var out []string
	for _, e := range c.Events {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(e.UID, "learningevent/"+ns+"/"), "@learning.cohort.dev"))
	}
	return out
}

// TestCalendarWindow: the calendar holds the events that overlap the past 90 days and
// the next 366 days, at the evaluation's clock, edges exactly.
func TestCalendarWindow(t *testing.T) {
	from, to := now.Add(-90*24*time.Hour), now.Add(366*24*time.Hour)
	const length = 90 * time.Minute // of every gathering
	events := []*learningv1alpha1.LearningEvent{
		gathering("a-ended-before", "alpha", from.Add(-length-time.Second)),
		gathering("b-ends-as-it-opens", "alpha", from.Add(-length)),
		communityGathering("c-ends-after-it-opens", from.Add(-length+time.Second)),
		gathering("d-today", "alpha", now),
		gathering("e-starts-before-it-closes", "alpha", to.Add(-time.Second)),
		communityGathering("f-starts-as-it-closes", to),
		gathering("g-next-decade", "alpha", now.AddDate(10, 0, 0)),
	}
	s := Snapshot{Now: now, Community: community(readers(5)), Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)}, Events: events}
	p, out := publicationOf(t, s, "alpha")
	want := []string{"c-ends-after-it-opens", "d-today", "e-starts-before-it-closes"}
	if diff := cmp.Diff(want, uidsOf(p.Calendar)); diff != "" {
		t.Errorf("calendar (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Omissions{Window: 3}, p.Omitted); diff != "" {
		t.Errorf("omitted (-want +got):\n%s", diff)
	}
	got := verdictOf(out.Cohorts["alpha"].Conditions, learningv1alpha1.DocumentsCompleteCondition)
	wantVerdict := verdict{Status: metav1.ConditionTrue, Reason: learningv1alpha1.DocumentsCompleteReason,
		Message: "the calendar holds all 3 published events from the past 90 days to the next 366 days; the roster (0 members) is published in 1 ConfigMap, the overview in 1 ConfigMap"}
	if diff := cmp.Diff(wantVerdict, got); diff != "" {
		t.Errorf("DocumentsComplete (-want +got):\n%s", diff)
	}
	// The portal's overview is not windowed: the next events stay listed.
	if n := len(p.Overview.Upcoming); n != 4 {
		t.Errorf("overview lists %d upcoming events, want 4", n)
	}
	// The clock alone changes the calendar when the first event leaves the window.
	if want := from.Add(-length + time.Second).Add(length).Add(90 * 24 * time.Hour); !out.Next.Equal(want) {
		t.Errorf("Next = %v, want %v (the first event leaving the window)", out.Next, want)
	}
}

// longEvent sets a description of 4,000 three-byte characters, the longest the API
// admits, and a 200-character title.
func longEvent() func(*learningv1alpha1.LearningEvent) {
	return func(e *learningv1alpha1.LearningEvent) {
		e.Spec.Title = strings.Repeat("題", 200)
		e.Spec.Description = strings.Repeat("界", 4000)
	}
}

// TestCalendarOverBudget: 120 long community-wide events, well over 1 MiB of feed,
// leave out their oldest until the feed fits the budget, and say so in
// DocumentsComplete, which never touches Ready.
func TestCalendarOverBudget(t *testing.T) {
	var events []*learningv1alpha1.LearningEvent
	first := now.AddDate(0, 0, -60)
	for i := range 120 {
		e := communityGathering(fmt.Sprintf("town-hall-%03d", i), first.AddDate(0, 0, 3*i))
		longEvent()(e)
		events = append(events, e)
	}
	s := Snapshot{Now: now, Community: community(readers(5)), Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)}, Events: events}
	p, out := publicationOf(t, s, "alpha")

	if n := len(p.Documents.Calendar); n > publish.Budget {
		t.Fatalf("the feed is %d bytes, over the budget of %d", n, publish.Budget)
	}
	dropped := p.Omitted.OverBudget
	if dropped == 0 || dropped+len(p.Calendar.Events) != 120 || p.Omitted.Window != 120 {
		t.Fatalf("omitted %+v with %d events kept, want some of 120 left out", p.Omitted, len(p.Calendar.Events))
	}
	// The oldest are left out, and no more than needed.
	if got := uidsOf(p.Calendar)[0]; got != fmt.Sprintf("town-hall-%03d", dropped) {
		t.Errorf("the calendar starts with %s, want town-hall-%03d", got, dropped)
	}
	fuller := p.Calendar
	fuller.Events = append([]ics.Event{calendarEntry(newEventView(events[dropped-1]), &out)}, p.Calendar.Events...)
	if feed, err := ics.Render(fuller); err != nil || len(feed) <= publish.Budget {
		t.Errorf("one more event (%d bytes, %v) still fits: more were left out than needed", len(feed), err)
	}
	if got, err := ics.Render(p.Calendar); err != nil || string(got) != string(p.Documents.Calendar) {
		t.Errorf("the published feed is not the calendar rendered (%v)", err)
	}

	status := out.Cohorts["alpha"]
	got := verdictOf(status.Conditions, learningv1alpha1.DocumentsCompleteCondition)
	wantMsg := fmt.Sprintf("%d of the 120 published events from the past 90 days to the next 366 days are left out of the calendar: the %d oldest, to keep the calendar within 900 KiB; ", dropped, dropped)
	if got.Status != metav1.ConditionFalse || got.Reason != learningv1alpha1.CalendarTruncatedReason || !strings.HasPrefix(got.Message, wantMsg) {
		t.Errorf("DocumentsComplete = %+v, want False/CalendarTruncated starting %q", got, wantMsg)
	}
	if ready := verdictOf(status.Conditions, learningv1alpha1.ReadyCondition); ready.Status != metav1.ConditionTrue {
		t.Errorf("Ready = %+v: DocumentsComplete is informational", ready)
	}
}

// TestFitCalendar: the fewest oldest events are left out; what fits is untouched.
func TestFitCalendar(t *testing.T) {
	start := time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC)
	c := ics.Calendar{Name: "Spring"}
	for i := range 10 {
		c.Events = append(c.Events, ics.Event{UID: fmt.Sprintf("e%d", i), Stamp: start, Summary: strings.Repeat("x", 100*(i+1)),
			Start: start.AddDate(0, 0, i), End: start.AddDate(0, 0, i).Add(time.Hour)})
	}
	whole, err := ics.Render(c)
	if err != nil {
		t.Fatal(err)
	}
	render := func(events []ics.Event) int {
		b, err := ics.Render(ics.Calendar{Name: c.Name, Events: events})
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	cases := map[string]struct {
		budget int
		drop   int
	}{
		"everything fits":         {budget: len(whole), drop: 0},
		"one byte short":          {budget: len(whole) - 1, drop: 1},
		"room for the last three": {budget: render(c.Events[7:]), drop: 7},
		"room for no event":       {budget: render(nil), drop: 10},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, feed, dropped, err := fitCalendar(c, tc.budget)
			if err != nil {
				t.Fatalf("fitCalendar: %v", err)
			}
			if dropped != tc.drop || len(got.Events) != 10-tc.drop || len(feed) > tc.budget {
				t.Errorf("left out %d, kept %d, feed %d bytes; want %d left out within %d", dropped, len(got.Events), len(feed), tc.drop, tc.budget)
			}
			if tc.drop < 10 && got.Events[0].UID != c.Events[tc.drop].UID {
				t.Errorf("kept from %s, want from %s", got.Events[0].UID, c.Events[tc.drop].UID)
			}
		})
	}
	if _, _, _, err := fitCalendar(c, 10); err == nil {
		t.Errorf("a budget no calendar fits: no error")
	}
}

// TestUnwritableEventsAreLeftOut: an event the feed cannot hold is left out and
// counted, instead of failing the cohort's whole calendar.
func TestUnwritableEventsAreLeftOut(t *testing.T) {
	instantEvent := gathering("instant", "alpha", now)
	instantEvent.Spec.Duration = metav1.Duration{Duration: 500 * time.Millisecond} // ends within its first second
	s := Snapshot{Now: now, Community: community(readers(5)), Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
		Events: []*learningv1alpha1.LearningEvent{instantEvent, gathering("fine", "alpha", now)}}
	p, out := publicationOf(t, s, "alpha")
	if diff := cmp.Diff([]string{"fine"}, uidsOf(p.Calendar)); diff != "" {
		t.Errorf("calendar (-want +got):\n%s", diff)
	}
	got := verdictOf(out.Cohorts["alpha"].Conditions, learningv1alpha1.DocumentsCompleteCondition)
	if got.Reason != learningv1alpha1.CalendarTruncatedReason || !strings.Contains(got.Message, "1 whose times cannot be written in iCalendar") {
		t.Errorf("DocumentsComplete = %+v, want the unwritable event counted", got)
	}
}

// TestFrozenCohortKeepsDocumentsComplete: a cohort whose seats are frozen publishes
// nothing new, so its DocumentsComplete stays as it was.
func TestFrozenCohortKeepsDocumentsComplete(t *testing.T) {
	frozen := cohort("alpha", "2026-01-01", 12, overriding(role("Member", 5, 1)))
	before := metav1.Condition{Type: learningv1alpha1.DocumentsCompleteCondition, Status: metav1.ConditionTrue, Reason: learningv1alpha1.DocumentsCompleteReason, Message: "before"}
	frozen.Status.Conditions = []metav1.Condition{before}
	out := Evaluate(Snapshot{Now: now, Community: community(readers(5)), Cohorts: []*learningv1alpha1.Cohort{frozen}})
	if !out.Publications["alpha"].Frozen {
		t.Fatalf("the cohort is not frozen; conditions %v", out.Cohorts["alpha"].Conditions)
	}
	if got := verdictOf(out.Cohorts["alpha"].Conditions, learningv1alpha1.DocumentsCompleteCondition); got.Message != "before" {
		t.Errorf("DocumentsComplete = %+v, want it kept", got)
	}
}
