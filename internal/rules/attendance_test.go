package rules

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

const (
	present = learningv1alpha1.AttendancePresent
	late    = learningv1alpha1.AttendanceLate
	excused = learningv1alpha1.AttendanceExcused
	absent  = learningv1alpha1.AttendanceAbsent
)

// attendanceTerm is the term of member "ana" in the attendance tests.
var attendanceTerm = year(2026)

// monthly returns a two-hour gathering on the 10th of month m of 2026 (months past 12
// roll into 2027) with ana's status, or nothing recorded when status is empty.
func monthly(m int, status learningv1alpha1.AttendanceStatus) EventRecord {
	start := time.Date(2026, time.Month(m), 10, 17, 0, 0, 0, time.UTC)
	e := EventRecord{Name: fmt.Sprintf("gathering-%02d", m), Start: start, End: start.Add(2 * time.Hour), Counts: true}
	if status != "" {
		e.Status = map[string]learningv1alpha1.AttendanceStatus{"ana": status, "bea": present}
	}
	return e
}

// sessions returns monthly gatherings from January with the given statuses.
func sessions(statuses ...learningv1alpha1.AttendanceStatus) []EventRecord {
	out := make([]EventRecord, len(statuses))
	for i, s := range statuses {
		out[i] = monthly(i+1, s)
	}
	return out
}

// future returns n gatherings from month first on, still ahead at attendanceNow.
func future(first, n int) []EventRecord {
	out := make([]EventRecord, n)
	for i := range out {
		out[i] = monthly(first+i, "")
	}
	return out
}

// attendanceNow is just after the fifth gathering (May) ended.
var attendanceNow = time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)

type attendanceCase struct {
	policy      AttendancePolicy
	term        Term
	events      []EventRecord
	seatedSince time.Time
	projected   []time.Time
	want        AttendanceResult
}

// runAttendance judges ana at attendanceNow; a zero policy or term in a case means the
// default policy or attendanceTerm.
func runAttendance(t *testing.T, cases map[string]attendanceCase) {
	t.Helper()
	policy := AttendancePolicy{RequiredPercent: 80, MinimumEvents: 3, LateWeightPercent: 100}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := tc.policy
			if p == (AttendancePolicy{}) {
				p = policy
			}
			term := tc.term
			if term == (Term{}) {
				term = attendanceTerm
			}
			got := MemberAttendance(AttendanceInput{
				Policy: p, Member: "ana", Term: term, Events: tc.events,
				SeatedSince: tc.seatedSince, Projected: tc.projected, Now: attendanceNow,
			})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MemberAttendance (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMemberAttendance covers the judgement: percent, thresholds and states.
func TestMemberAttendance(t *testing.T) {
	runAttendance(t, map[string]attendanceCase{
		"3 of 4 present is below 80%": {
			events: append(sessions(present, present, present, absent), future(6, 7)...),
			want: AttendanceResult{
				EligibleEvents: 4, Present: 3, Absent: 1, Percent: ptr(75), Remaining: 7,
				State: AttendanceBelowThreshold, Message: "75% of 4 events, requires 80%",
			},
		},
		"the fourth excused leaves the denominator": {
			events: append(sessions(present, present, present, excused), future(6, 7)...),
			want: AttendanceResult{
				EligibleEvents: 4, Present: 3, Excused: 1, Percent: ptr(100), Remaining: 7,
				State: AttendanceMet, Message: "100% of 4 events, requires 80%",
			},
		},
		"4 of 5 is exactly 80%": {
			events: sessions(present, present, absent, present, present),
			want: AttendanceResult{
				EligibleEvents: 5, Present: 4, Absent: 1, Percent: ptr(80),
				State: AttendanceMet, Message: "80% of 5 events, requires 80%",
			},
		},
		"late counts in full by default": {
			events: sessions(present, late, late, present),
			want: AttendanceResult{
				EligibleEvents: 4, Present: 2, Late: 2, Percent: ptr(100),
				State: AttendanceMet, Message: "100% of 4 events, requires 80%",
			},
		},
		"late weighs half": {
			policy: AttendancePolicy{RequiredPercent: 80, MinimumEvents: 3, LateWeightPercent: 50},
			events: append(sessions(present, late, late, present), future(6, 2)...),
			want: AttendanceResult{
				EligibleEvents: 4, Present: 2, Late: 2, Percent: ptr(75), Remaining: 2,
				State: AttendanceBelowThreshold, Message: "75% of 4 events, requires 80%",
			},
		},
		"late weighs half and rounds down": {
			policy: AttendancePolicy{RequiredPercent: 80, MinimumEvents: 3, LateWeightPercent: 50},
			events: sessions(present, present, late),
			want: AttendanceResult{
				EligibleEvents: 3, Present: 2, Late: 1, Percent: ptr(83),
				State: AttendanceMet, Message: "83% of 3 events, requires 80%",
			},
		},
		"not enough events below the minimum": {
			events: append(sessions(present, absent), future(6, 3)...),
			want: AttendanceResult{
				EligibleEvents: 2, Present: 1, Absent: 1, Remaining: 3,
				State: AttendanceNotEnoughEvents, Message: "2 of 3 events needed before attendance is judged",
			},
		},
		"cannot reach the threshold with the events left": {
			events: append(sessions(present, present, present, absent, absent), future(6, 2)...),
			want: AttendanceResult{
				EligibleEvents: 5, Present: 3, Absent: 2, Percent: ptr(60), Remaining: 2,
				State: AttendanceCannotReach, Message: "at most 71% reachable with 2 events left, requires 80%",
			},
		},
		"reachable with enough events left": {
			events: append(sessions(present, present, present, absent, absent), future(6, 5)...),
			want: AttendanceResult{
				EligibleEvents: 5, Present: 3, Absent: 2, Percent: ptr(60), Remaining: 5,
				State: AttendanceBelowThreshold, Message: "60% of 5 events, requires 80%",
			},
		},
		"all excused is not judged": {
			events: sessions(excused, excused, excused),
			want: AttendanceResult{
				EligibleEvents: 3, Excused: 3,
				State: AttendanceNotEnoughEvents, Message: "every one of the 3 events was excused; nothing to judge yet",
			},
		},
		"no minimum judges a single event": {
			policy: AttendancePolicy{RequiredPercent: 80, LateWeightPercent: 100},
			events: sessions(absent),
			want: AttendanceResult{
				EligibleEvents: 1, Absent: 1, Percent: ptr(0),
				State: AttendanceCannotReach, Message: "at most 0% reachable with 0 events left, requires 80%",
			},
		},
	})
}

// TestMemberAttendanceEventSelection covers which events count for a member.
func TestMemberAttendanceEventSelection(t *testing.T) {
	cancelled := monthly(3, present)
	cancelled.Cancelled = true
	optional := monthly(3, present)
	optional.Counts = false
	inProgress := monthly(5, "")
	inProgress.End = attendanceNow.Add(time.Hour)
	runAttendance(t, map[string]attendanceCase{
		"nothing recorded counts as absent": {
			events: sessions(present, "", present, ""),
			want: AttendanceResult{
				EligibleEvents: 4, Present: 2, Absent: 2, Percent: ptr(50),
				State: AttendanceCannotReach, Message: "at most 50% reachable with 0 events left, requires 80%",
			},
		},
		"events outside the term are ignored": {
			term: Term{Start: monthly(2, "").Start, End: monthly(5, "").Start},
			events: append(sessions(absent, present, present, present, absent), monthly(7, absent),
				EventRecord{Name: "before", Start: attendanceTerm.Start, End: attendanceTerm.Start.Add(time.Hour), Counts: true}),
			want: AttendanceResult{
				EligibleEvents: 3, Present: 3, Percent: ptr(100),
				State: AttendanceMet, Message: "100% of 3 events, requires 80%",
			},
		},
		"cancelled and optional events are ignored": {
			events: append(sessions(present, present, absent, present, present), cancelled, optional),
			want: AttendanceResult{
				EligibleEvents: 5, Present: 4, Absent: 1, Percent: ptr(80),
				State: AttendanceMet, Message: "80% of 5 events, requires 80%",
			},
		},
		"an event in progress is still ahead": {
			events: append(sessions(present, present, present, present), inProgress),
			want: AttendanceResult{
				EligibleEvents: 4, Present: 4, Percent: ptr(100), Remaining: 1,
				State: AttendanceMet, Message: "100% of 4 events, requires 80%",
			},
		},
	})
}

func TestCohortAttendancePercent(t *testing.T) {
	judged := func(present, late, excused, absent int) AttendanceResult {
		return AttendanceResult{
			EligibleEvents: present + late + excused + absent,
			Present:        present, Late: late, Excused: excused, Absent: absent,
			Percent: ptr(0), // only its presence matters here
		}
	}
	cases := map[string]struct {
		results    []AttendanceResult
		lateWeight int
		want       *int
	}{
		"nobody judged": {
			results: []AttendanceResult{{EligibleEvents: 2, Present: 2, State: AttendanceNotEnoughEvents}},
		},
		"no results": {},
		"pools counts rather than averaging percents": {
			// 3/4 and 10/10 pool to 13/14 = 92%, where averaging gives 87%.
			results:    []AttendanceResult{judged(3, 0, 0, 1), judged(10, 0, 0, 0)},
			lateWeight: 100,
			want:       ptr(92),
		},
		"unjudged members are left out": {
			results:    []AttendanceResult{judged(1, 0, 0, 1), {EligibleEvents: 2, Present: 2}},
			lateWeight: 100,
			want:       ptr(50),
		},
		"late weight and excused": {
			results:    []AttendanceResult{judged(2, 2, 1, 0), judged(1, 0, 1, 1)},
			lateWeight: 50,
			want:       ptr(66), // (200 + 100 + 100) / (4 + 2)
		},
		"everything excused": {
			results:    []AttendanceResult{judged(0, 0, 3, 0)},
			lateWeight: 100,
			want:       ptr(100),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, CohortAttendancePercent(tc.results, tc.lateWeight)); diff != "" {
				t.Errorf("CohortAttendancePercent (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAttendanceProjectionAndSeat covers the schedule's projected occurrences, which
// count as remaining gatherings, and the seat's start, before which only recorded
// gatherings count.
func TestAttendanceProjectionAndSeat(t *testing.T) {
	weekly := func(n int) []time.Time {
		out := make([]time.Time, n)
		for i := range out {
			out[i] = attendanceNow.AddDate(0, 0, 7*(i+1))
		}
		return out
	}
	runAttendance(t, map[string]attendanceCase{
		"2 of 4 with twenty projected gatherings left can still reach 80%": {
			events:    sessions(present, absent, present, absent),
			projected: weekly(20),
			want: AttendanceResult{
				EligibleEvents: 4, Present: 2, Absent: 2, Percent: ptr(50), Remaining: 20,
				State: AttendanceBelowThreshold, Message: "50% of 4 events, requires 80%",
			},
		},
		"2 of 4 with nothing projected cannot": {
			events: sessions(present, absent, present, absent),
			want: AttendanceResult{
				EligibleEvents: 4, Present: 2, Absent: 2, Percent: ptr(50),
				State: AttendanceCannotReach, Message: "at most 50% reachable with 0 events left, requires 80%",
			},
		},
		"projected occurrences after the term do not count": {
			events:    sessions(present, absent, present, absent),
			projected: []time.Time{attendanceTerm.End.Add(time.Hour), attendanceTerm.End.AddDate(0, 1, 0)},
			want: AttendanceResult{
				EligibleEvents: 4, Present: 2, Absent: 2, Percent: ptr(50),
				State: AttendanceCannotReach, Message: "at most 50% reachable with 0 events left, requires 80%",
			},
		},
		"unrecorded gatherings before the seat are not held against the member": {
			events:      sessions("", "", present, present, present),
			seatedSince: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC),
			want: AttendanceResult{
				EligibleEvents: 3, Present: 3, Percent: ptr(100),
				State: AttendanceMet, Message: "100% of 3 events, requires 80%",
			},
		},
		"recorded gatherings before the seat count": {
			events:      sessions(absent, "", present, present, present),
			seatedSince: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC),
			want: AttendanceResult{
				EligibleEvents: 4, Present: 3, Absent: 1, Percent: ptr(75),
				State: AttendanceCannotReach, Message: "at most 75% reachable with 0 events left, requires 80%",
			},
		},
	})
}
