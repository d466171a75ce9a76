package kubectlcohort

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// noon is noon in Chicago on a day of 2026, as UTC.
func noon(month time.Month, day int) time.Time {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err)
	}
	return time.Date(2026, month, day, 12, 0, 0, 0, chicago)
}

func community(requiredPercent *int32) *learningv1alpha1.CommunityOfPractice {
	c := testutil.Community(ns, "allyship", testutil.Role("Lead", 1, 2), testutil.Role("Member", 1, 20))
	if requiredPercent != nil {
		c.Spec.Policy.Attendance = &learningv1alpha1.AttendancePolicy{RequiredPercent: requiredPercent}
	}
	return c
}

// attendanceEvents are the events of the namespace: the cohort's, its community's and
// others', ended or not, counting or not.
func attendanceEvents() []learningv1alpha1.LearningEvent {
	p, l, e, a := learningv1alpha1.AttendancePresent, learningv1alpha1.AttendanceLate, learningv1alpha1.AttendanceExcused, learningv1alpha1.AttendanceAbsent
	g := func(name, cohort string, start time.Time, records ...learningv1alpha1.AttendanceRecord) learningv1alpha1.LearningEvent {
		return *testutil.Gathering(ns, name, cohort, start, records...)
	}
	communityWide := func(e learningv1alpha1.LearningEvent, community string) learningv1alpha1.LearningEvent {
		e.Spec.CohortRef = nil
		e.Spec.CommunityRef = &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(community)}
		return e
	}
	listening := communityWide(g("listening", "", noon(time.March, 3), testutil.Attended("m-ada", p)), "allyship")
	listening.Spec.Type = learningv1alpha1.ListeningSessionEvent
	workshop := g("workshop", "allyship-2026", noon(time.April, 14), testutil.Attended("m-ada", p), testutil.Attended("m-gus", a))
	workshop.Spec.Type = learningv1alpha1.WorkshopEvent
	workshop.Spec.CountsTowardAttendance = ptr(true)
	cancelled := g("cancelled", "allyship-2026", noon(time.May, 12))
	cancelled.Spec.Cancelled = true
	return []learningv1alpha1.LearningEvent{
		workshop,
		g("gathering-02", "allyship-2026", noon(time.February, 10), testutil.Attended("m-ada", a)),
		g("gathering-01", "allyship-2026", noon(time.January, 13), testutil.Attended("m-ada", p), testutil.Attended("m-gus", l), testutil.Attended("m-cleo", e)),
		communityWide(g("community-gathering", "", noon(time.March, 10), testutil.Attended("m-ada", l)), "allyship"),
		listening,
		cancelled,
		g("gathering-12", "allyship-2026", noon(time.December, 8)),
		g("other-cohort", "allyship-2025", noon(time.January, 14), testutil.Attended("m-ada", p)),
		communityWide(g("other-community", "", noon(time.January, 15)), "equity"),
	}
}

func attendanceMembers() []learningv1alpha1.Membership {
	gus := seated("2026-03-01", "2026-12-31", ptr(int32(75)))
	gus.SeatedSince = &metav1.Time{Time: noon(time.March, 1)}
	withdrawn := seated("2026-01-01", "2026-12-31", nil)
	withdrawn.Phase = learningv1alpha1.MembershipWithdrawn
	withdrawn.Conditions[1] = cond(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.WithdrawnReason, "withdrawn")
	return []learningv1alpha1.Membership{
		member("m-gus", "Gus Berg", "gus", "Lakeside Bank", "Member", gus),
		member("m-ada", "Ada Lind", "ada", "Northstar Health", "Lead", seated("2026-01-01", "2026-12-31", ptr(int32(66)))),
		member("m-cleo", "Cleo Ruiz", "cleo", "Northstar Health", "Member", waitlisted(1)),
		member("m-ben", "Ben Okafor", "ben", "Northstar Health", "Member", waitlisted(2)),
		member("m-eve", "Eve Park", "eve", "", "Member", withdrawn),
	}
}

func TestBuildAttendance(t *testing.T) {
	g := BuildAttendance(cohort(), community(ptr(int32(75))), attendanceMembers(), attendanceEvents(), now)
	var columns []string
	for _, e := range g.Events {
		columns = append(columns, e.Name+" "+e.Date)
	}
	wantColumns := []string{
		"gathering-01 2026-01-13", "gathering-02 2026-02-10", "community-gathering 2026-03-10", "workshop 2026-04-14",
	}
	if diff := cmp.Diff(wantColumns, columns); diff != "" {
		t.Errorf("columns: ended events of the cohort and its community that count (-want +got):\n%s", diff)
	}
	got := map[string]map[string]string{}
	below := map[string]bool{}
	for _, r := range g.Members {
		got[r.Membership] = r.Attendance
		below[r.Membership] = r.BelowThreshold
	}
	want := map[string]map[string]string{
		"m-ada": {"gathering-01": "Present", "gathering-02": "Absent", "community-gathering": "Late", "workshop": "Present"},
		// Seated on March 1: the January entry is shown as recorded, February's absence
		// of one is not held against Gus, March's is.
		"m-gus": {"gathering-01": "Late", "gathering-02": CellNotExpected, "community-gathering": CellNotRecorded, "workshop": "Absent"},
		// Never seated, but recorded once.
		"m-cleo": {"gathering-01": "Excused", "gathering-02": CellNotExpected, "community-gathering": CellNotExpected, "workshop": CellNotExpected},
		// Held a seat until withdrawn: the row stays, and nothing is expected of them.
		"m-eve": {"gathering-01": CellNotExpected, "gathering-02": CellNotExpected, "community-gathering": CellNotExpected, "workshop": CellNotExpected},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cells; Ben, waitlisted with nothing recorded, has no row (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]bool{"m-ada": true, "m-gus": false, "m-cleo": false, "m-eve": false}, below); diff != "" {
		t.Errorf("below the threshold of 75%% (-want +got):\n%s", diff)
	}
}

func TestRequiredPercent(t *testing.T) {
	withOwn := cohort()
	withOwn.Spec.Policy = &learningv1alpha1.ProgramPolicy{Attendance: &learningv1alpha1.AttendancePolicy{RequiredPercent: ptr(int32(90))}}
	cases := map[string]struct {
		cohort     *learningv1alpha1.Cohort
		community  *learningv1alpha1.CommunityOfPractice
		want       int32
		wantSource string
	}{
		"the cohort's own":              {withOwn, community(ptr(int32(75))), 90, thresholdFromCohort},
		"the community's":               {cohort(), community(ptr(int32(75))), 75, thresholdFromCommunity},
		"the default":                   {cohort(), community(nil), 80, thresholdFromDefault},
		"the default without community": {cohort(), nil, 80, thresholdFromDefault},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, source := RequiredPercent(tc.cohort, tc.community)
			if got != tc.want || source != tc.wantSource {
				t.Errorf("RequiredPercent = %d from %s, want %d from %s", got, source, tc.want, tc.wantSource)
			}
		})
	}
}

func TestAttendanceTable(t *testing.T) {
	var out bytes.Buffer
	if err := BuildAttendance(cohort(), community(ptr(int32(75))), attendanceMembers(), attendanceEvents(), now).WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	golden(t, "attendance", out.String())
}

func TestAttendanceJSON(t *testing.T) {
	var out bytes.Buffer
	if err := writeData(&out, outputJSON, BuildAttendance(cohort(), community(ptr(int32(75))), attendanceMembers(), attendanceEvents(), now)); err != nil {
		t.Fatal(err)
	}
	golden(t, "attendance.json", out.String())
}

func TestAttendanceTableWithoutEndedEvents(t *testing.T) {
	var out bytes.Buffer
	early := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	if err := BuildAttendance(cohort(), nil, attendanceMembers(), attendanceEvents(), early).WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	golden(t, "attendance-none-ended", out.String())
}
