package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/calendar"
	"github.com/cohort-dev/cohort-operator/internal/names"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// gathWait retries check until it returns nil or timeout passes, for the checks that
// take longer than eventually allows.
func gathWait(t *testing.T, what string, timeout time.Duration, check func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		last = check()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what, last)
	}
}

// gathWeekly is a weekly schedule of one-hour gatherings at 18:00 UTC.
func gathWeekly(day string, lookahead int32) *learningv1alpha1.Schedule {
	return &learningv1alpha1.Schedule{
		RRule: learningv1alpha1.RecurrenceRule("FREQ=WEEKLY;BYDAY=" + day), StartTime: "18:00",
		Duration: metav1.Duration{Duration: time.Hour}, TimeZone: "UTC", Lookahead: lookahead,
		Type: learningv1alpha1.GatheringEvent,
	}
}

// gathGenerated lists the gatherings generated for cohort, by the schedule label.
func gathGenerated(ns, cohort string) ([]learningv1alpha1.LearningEvent, error) {
	list := &learningv1alpha1.LearningEventList{}
	err := k8s.List(context.Background(), list, client.InNamespace(ns),
		client.MatchingLabels{program.ScheduleLabel: names.CohortLabel(cohort)})
	slices.SortFunc(list.Items, func(a, b learningv1alpha1.LearningEvent) int { return a.Spec.Start.Compare(b.Spec.Start.Time) })
	return list.Items, err
}

// gathNames are the names of events.
func gathNames(events []learningv1alpha1.LearningEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Name
	}
	return out
}

// gathExactly waits until the generated gatherings of cohort are exactly want.
func gathExactly(t *testing.T, what, ns, cohort string, want ...string) {
	t.Helper()
	slices.Sort(want)
	eventually(t, what, func() error {
		events, err := gathGenerated(ns, cohort)
		if err != nil {
			return err
		}
		got := gathNames(events)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return fmt.Errorf("generated %v, want %v", got, want)
		}
		return nil
	})
}

// gathGone checks that an object no longer exists.
func gathGone(obj client.Object) error {
	switch err := get(obj); {
	case err == nil:
		return fmt.Errorf("%s still exists (deletionTimestamp %v, finalizers %v)", obj.GetName(), obj.GetDeletionTimestamp(), obj.GetFinalizers())
	case apierrors.IsNotFound(err):
		return nil
	default:
		return err
	}
}

// gathMembershipEvents lists the Kubernetes Events about a membership with reason.
func gathMembershipEvents(ns, name, reason string) ([]eventsv1.Event, error) {
	list := &eventsv1.EventList{}
	if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out, nil
}

// TestGatheringsProjectTheSchedule: a member at 2 of 4 ended gatherings is below 80% but
// can still reach it, because the weekly schedule has about twenty gatherings left in
// the term although only two of them (the lookahead) exist as LearningEvents. Counting
// only the generated ones would give "at most 66% reachable": CannotReachThreshold.
func TestGatheringsProjectTheSchedule(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	community := testutil.Community(ns, "club", testutil.Role("Member", 0, 20))
	community.Spec.Policy.Attendance = &learningv1alpha1.AttendancePolicy{
		RequiredPercent: testutil.Ptr[int32](80), MinimumEvents: testutil.Ptr[int32](3),
	}
	cohort := testutil.Cohort(ns, "weekly", "club", "2026-01-01", 6)
	cohort.Spec.Schedule = gathWeekly("WE", 2)
	present, absent := learningv1alpha1.AttendancePresent, learningv1alpha1.AttendanceAbsent
	for i, day := range []int{6, 13, 20, 27} {
		status := present
		if i%2 == 1 {
			status = absent
		}
		create(t, testutil.Gathering(ns, fmt.Sprintf("january-%02d", day), "weekly",
			time.Date(2026, 1, day, 18, 0, 0, 0, time.UTC), testutil.Attended("pat", status)))
	}
	create(t, community, cohort, testutil.Membership(ns, "pat", "weekly", "u-pat", "Member"))

	gathExactly(t, "only the lookahead of two gatherings is generated", ns, "weekly", "weekly-20260204-1800", "weekly-20260211-1800")
	pat := membership(ns, "pat")
	eventually(t, "pat is below the threshold, not out of reach", func() error {
		if err := get(pat); err != nil {
			return err
		}
		if err := hasCondition(pat.Status.Conditions, learningv1alpha1.AttendanceMetCondition, metav1.ConditionFalse, learningv1alpha1.BelowThresholdReason); err != nil {
			return err
		}
		want := learningv1alpha1.AttendanceSummary{EligibleEvents: 4, Present: 2, Absent: 2, Percent: testutil.Ptr[int32](50)}
		if a := pat.Status.Attendance; a == nil || !cmp.Equal(*a, want) {
			return fmt.Errorf("attendance %+v, want %+v", a, want)
		}
		return nil
	})
	if msg := conditionMessage(pat.Status.Conditions, learningv1alpha1.AttendanceMetCondition); strings.Contains(msg, "reachable") {
		t.Errorf("AttendanceMet says %q", msg)
	}
	eventually(t, "an Event warns of low attendance", func() error { return hasEvent(ns, "pat", "AttendanceBelowThreshold") })
	time.Sleep(time.Second) // let any later evaluation emit what it would
	events, err := gathMembershipEvents(ns, "pat", "AttendanceBelowThreshold")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if note := strings.ToLower(e.Note); strings.Contains(note, "reachable") || strings.Contains(note, "cannot reach") {
			t.Errorf("an AttendanceBelowThreshold Event says the threshold is out of reach: %q", e.Note)
		}
	}
}

// TestGatheringsOutcomesKeptAfterTheEnd: when the terms expire and the cohort
// completes, the final attendance and seat figures stay in status, and a completed
// cohort is not reported understaffed.
func TestGatheringsOutcomesKeptAfterTheEnd(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	create(t,
		testutil.Community(ns, "club", testutil.Role("Lead", 1, 1), testutil.Role("Member", 2, 5)),
		testutil.Cohort(ns, "spring", "club", "2026-01-01", 3),
		testutil.Membership(ns, "lee", "spring", "u-lee", "Lead"),
		testutil.Membership(ns, "ana", "spring", "u-ana", "Member"),
		testutil.Membership(ns, "ben", "spring", "u-ben", "Member"),
	)
	p, a := learningv1alpha1.AttendancePresent, learningv1alpha1.AttendanceAbsent
	attendance := map[string][3]learningv1alpha1.AttendanceStatus{"lee": {p, p, p}, "ana": {p, p, a}, "ben": {p, a, a}}
	for i, month := range []time.Month{time.January, time.February, time.March} {
		var records []learningv1alpha1.AttendanceRecord
		for _, name := range []string{"ana", "ben", "lee"} {
			records = append(records, testutil.Attended(name, attendance[name][i]))
		}
		create(t, testutil.Gathering(ns, fmt.Sprintf("g-%d", month), "spring", time.Date(2026, month, 10, 18, 0, 0, 0, time.UTC), records...))
	}

	type figures struct {
		attendance *learningv1alpha1.AttendanceSummary
		met        metav1.Condition
	}
	want := map[string]struct {
		percent int32
		reason  string
	}{
		"lee": {100, learningv1alpha1.AttendanceMetReason},
		"ana": {66, learningv1alpha1.CannotReachThresholdReason},
		"ben": {33, learningv1alpha1.CannotReachThresholdReason},
	}
	during := map[string]figures{}
	for name, w := range want {
		eventually(t, name+" is seated with its attendance", func() error {
			m := membership(ns, name)
			if err := get(m); err != nil {
				return err
			}
			if err := hasCondition(m.Status.Conditions, learningv1alpha1.SeatedCondition, metav1.ConditionTrue, learningv1alpha1.SeatedReason); err != nil {
				return err
			}
			met := apimeta.FindStatusCondition(m.Status.Conditions, learningv1alpha1.AttendanceMetCondition)
			if met == nil || met.Reason != w.reason {
				return fmt.Errorf("AttendanceMet %+v, want reason %s", met, w.reason)
			}
			if at := m.Status.Attendance; at == nil || at.EligibleEvents != 3 || at.Percent == nil || *at.Percent != w.percent {
				return fmt.Errorf("attendance %+v, want %d%% of 3", at, w.percent)
			}
			during[name] = figures{attendance: m.Status.Attendance, met: *met}
			return nil
		})
	}
	cohort := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "spring"}}
	wantSeated := map[learningv1alpha1.RoleName]int32{"Lead": 1, "Member": 2}
	seatedByRole := func(c *learningv1alpha1.Cohort) map[learningv1alpha1.RoleName]int32 {
		out := map[learningv1alpha1.RoleName]int32{}
		for _, r := range c.Status.Roles {
			out[r.Name] = r.Seated
		}
		return out
	}
	eventually(t, "the active cohort is staffed", func() error {
		if err := get(cohort); err != nil {
			return err
		}
		if err := hasCondition(cohort.Status.Conditions, learningv1alpha1.StaffedCondition, metav1.ConditionTrue, learningv1alpha1.StaffedReason); err != nil {
			return err
		}
		if got := seatedByRole(cohort); !cmp.Equal(got, wantSeated) {
			return fmt.Errorf("seated %v, want %v", got, wantSeated)
		}
		if p := cohort.Status.AttendancePercent; p == nil || *p != 66 {
			return fmt.Errorf("attendancePercent %v, want 66 (6 of 9)", p)
		}
		return nil
	})

	fakeClock.SetTime(time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC))
	for name, before := range during {
		eventually(t, name+" expires and keeps its final attendance", func() error {
			m := membership(ns, name)
			if err := get(m); err != nil {
				return err
			}
			if m.Status.Phase != learningv1alpha1.MembershipExpired {
				return fmt.Errorf("phase %s, want Expired", m.Status.Phase)
			}
			if err := hasCondition(m.Status.Conditions, learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.TermExpiredReason); err != nil {
				return err
			}
			if diff := cmp.Diff(before.attendance, m.Status.Attendance); diff != "" {
				return fmt.Errorf("status.attendance changed (-during +after):\n%s", diff)
			}
			met := apimeta.FindStatusCondition(m.Status.Conditions, learningv1alpha1.AttendanceMetCondition)
			if met == nil || met.Status != before.met.Status || met.Reason != before.met.Reason || met.Message != before.met.Message {
				return fmt.Errorf("AttendanceMet is %+v, was %s/%s %q", met, before.met.Status, before.met.Reason, before.met.Message)
			}
			return nil
		})
	}
	eventually(t, "the completed cohort keeps its final figures", func() error {
		if err := get(cohort); err != nil {
			return err
		}
		if cohort.Status.Phase != learningv1alpha1.CohortCompleted {
			return fmt.Errorf("phase %s, want Completed", cohort.Status.Phase)
		}
		if err := hasCondition(cohort.Status.Conditions, learningv1alpha1.StaffedCondition, metav1.ConditionTrue, learningv1alpha1.CompletedReason); err != nil {
			return err
		}
		if got := seatedByRole(cohort); !cmp.Equal(got, wantSeated) {
			return fmt.Errorf("seated %v, want the final %v", got, wantSeated)
		}
		if p := cohort.Status.AttendancePercent; p == nil || *p != 66 {
			return fmt.Errorf("attendancePercent %v, want the final 66", p)
		}
		return nil
	})
}

// TestGatheringsScheduleRemovedOrChanged: removing the schedule deletes only the
// untouched future gatherings; one with attendance and one edited by hand stay as
// they are. Changing the rule replaces the untouched gatherings of the old rule.
func TestGatheringsScheduleRemovedOrChanged(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	removed := testutil.Cohort(ns, "removed", "club", "2026-01-01", 12)
	removed.Spec.Schedule = testutil.MonthlySchedule()
	changed := testutil.Cohort(ns, "changed", "club", "2026-01-01", 12)
	changed.Spec.Schedule = testutil.MonthlySchedule()
	create(t, testutil.Community(ns, "club", testutil.Role("Member", 0, 20)), removed, changed,
		testutil.Membership(ns, "ana", "removed", "u-ana", "Member"),
		testutil.Membership(ns, "bo", "changed", "u-bo", "Member"))
	gathExactly(t, "three gatherings are generated", ns, "removed", "removed-20260210-1200", "removed-20260310-1200", "removed-20260414-1200")
	gathExactly(t, "three gatherings are generated", ns, "changed", "changed-20260210-1200", "changed-20260310-1200", "changed-20260414-1200")

	recorded, edited, untouched := learningEvent(ns, "removed-20260210-1200"), learningEvent(ns, "removed-20260310-1200"), learningEvent(ns, "removed-20260414-1200")
	update(t, recorded, func(e *learningv1alpha1.LearningEvent) {
		e.Spec.Attendance = []learningv1alpha1.AttendanceRecord{testutil.Attended("ana", learningv1alpha1.AttendanceExcused)}
	})
	update(t, edited, func(e *learningv1alpha1.LearningEvent) { e.Spec.Location = "Room 4, moved by hand" })
	update(t, removed, func(c *learningv1alpha1.Cohort) { c.Spec.Schedule = nil })

	eventually(t, "the untouched gathering is deleted", func() error { return gathGone(untouched) })
	time.Sleep(time.Second)
	if err := get(recorded); err != nil {
		t.Fatalf("the gathering with attendance was deleted: %v", err)
	}
	if len(recorded.Spec.Attendance) != 1 {
		t.Errorf("the attendance was rewritten: %v", recorded.Spec.Attendance)
	}
	if err := get(edited); err != nil {
		t.Fatalf("the edited gathering was deleted: %v", err)
	}
	if edited.Spec.Location != "Room 4, moved by hand" {
		t.Errorf("the edit was reverted: location %q", edited.Spec.Location)
	}

	kept := learningEvent(ns, "changed-20260310-1200")
	update(t, kept, func(e *learningv1alpha1.LearningEvent) {
		e.Spec.Attendance = []learningv1alpha1.AttendanceRecord{testutil.Attended("bo", learningv1alpha1.AttendanceExcused)}
	})
	update(t, changed, func(c *learningv1alpha1.Cohort) { c.Spec.Schedule.RRule = "FREQ=MONTHLY;BYDAY=3TU" })
	gathExactly(t, "the third Tuesdays replace the untouched second Tuesdays", ns, "changed",
		"changed-20260217-1200", "changed-20260310-1200", "changed-20260317-1200", "changed-20260421-1200")
	if err := get(kept); err != nil || len(kept.Spec.Attendance) != 1 {
		t.Errorf("the recorded gathering of the old rule did not stay: %v %v", err, kept.Spec.Attendance)
	}
}

// gathLongName is a valid 253-character DNS subdomain with dots where the naming rule
// cuts the label value (54 characters) and the event name (244 characters), so that a
// shortened name that kept a trailing dot would be invalid.
func gathLongName() string {
	b := []byte(strings.Repeat("a", 253))
	b[53], b[150], b[243] = '.', '-', '.'
	return string(b)
}

// TestGatheringsLongCohortName: a cohort whose name has the maximum 253 characters is
// evaluated, and its generated gatherings get valid names and a label value shortened
// by the naming rule.
func TestGatheringsLongCohortName(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	name := gathLongName()
	if errs := validation.IsDNS1123Subdomain(name); len(name) != 253 || len(errs) > 0 {
		t.Fatalf("the test name is not a valid 253-character name: %v", errs)
	}
	cohort := testutil.Cohort(ns, name, "club", "2026-01-01", 12)
	cohort.Spec.TimeZone = "America/Chicago"
	cohort.Spec.Schedule = testutil.MonthlySchedule()
	create(t, testutil.Community(ns, "club", testutil.Role("Member", 0, 20)), cohort, testutil.Membership(ns, "ana", name, "u-ana", "Member"))

	eventually(t, "the cohort has a current status", func() error {
		if err := get(cohort); err != nil {
			return err
		}
		if cohort.Status.ObservedGeneration != cohort.Generation {
			return fmt.Errorf("observedGeneration %d, generation %d", cohort.Status.ObservedGeneration, cohort.Generation)
		}
		return hasCondition(cohort.Status.Conditions, learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason)
	})
	eventually(t, "its membership is seated", func() error {
		s, err := seatOf(ns, "ana")
		if err == nil && s != "seated" {
			err = fmt.Errorf("ana is %s", s)
		}
		return err
	})
	label := names.CohortLabel(name)
	if len(label) > validation.LabelValueMaxLength || len(validation.IsValidLabelValue(label)) > 0 {
		t.Fatalf("names.CohortLabel gives an invalid label value %q", label)
	}
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, start := range []time.Time{
		time.Date(2026, 2, 10, 12, 0, 0, 0, chicago), time.Date(2026, 3, 10, 12, 0, 0, 0, chicago), time.Date(2026, 4, 14, 12, 0, 0, 0, chicago),
	} {
		want = append(want, calendar.EventName(name, start, chicago))
	}
	gathExactly(t, "three gatherings are generated under the cohort's label", ns, name, want...)
	events, err := gathGenerated(ns, name)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range events {
		if errs := validation.IsDNS1123Subdomain(e.Name); len(e.Name) > 253 || len(errs) > 0 {
			t.Errorf("generated name %q (%d characters) is invalid: %v", e.Name, len(e.Name), errs)
		}
		if !strings.HasPrefix(e.Name, name[:200]) {
			t.Errorf("generated name %q does not start with the cohort's name", e.Name)
		}
		if seen[e.Name] {
			t.Errorf("two gatherings are named %q", e.Name)
		}
		seen[e.Name] = true
		if got := e.Labels[program.ScheduleLabel]; got != label || len(got) > 63 {
			t.Errorf("%s is labelled %q, want %q", e.Name, got, label)
		}
		if e.Spec.CohortRef == nil || string(e.Spec.CohortRef.Name) != name {
			t.Errorf("%s refers to %v, want the cohort's full name", e.Name, e.Spec.CohortRef)
		}
	}
	eventually(t, "the generated gatherings find their cohort", func() error {
		for _, n := range want {
			e := learningEvent(ns, n)
			if err := get(e); err != nil {
				return err
			}
			if err := hasCondition(e.Status.Conditions, learningv1alpha1.CohortFoundCondition, metav1.ConditionTrue, learningv1alpha1.FoundReason); err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
		}
		return nil
	})
}

// TestGatheringsUnknownAttendees: attendance entries that name no membership of the
// event's cohort, whether no membership at all or one of a sibling cohort of the same
// community, are reported on the event and never counted.
func TestGatheringsUnknownAttendees(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	present := learningv1alpha1.AttendancePresent
	create(t,
		testutil.Community(ns, "club", testutil.Role("Member", 0, 20)),
		testutil.Cohort(ns, "spring", "club", "2026-01-01", 12),
		testutil.Cohort(ns, "autumn", "club", "2026-01-01", 12),
		testutil.Membership(ns, "ana", "spring", "u-ana", "Member"),
		testutil.Membership(ns, "bo-autumn", "autumn", "u-bo", "Member"),
		testutil.Gathering(ns, "february", "spring", time.Date(2026, 2, 10, 18, 0, 0, 0, time.UTC),
			testutil.Attended("ana", present), testutil.Attended("ghost", present)),
		testutil.Gathering(ns, "january", "spring", time.Date(2026, 1, 13, 18, 0, 0, 0, time.UTC),
			testutil.Attended("ana", present), testutil.Attended("bo-autumn", present)),
	)
	reported := func(event, unknown string) func() error {
		return func() error {
			e := learningEvent(ns, event)
			if err := get(e); err != nil {
				return err
			}
			if err := hasCondition(e.Status.Conditions, learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionFalse, learningv1alpha1.UnknownMembersReason); err != nil {
				return err
			}
			if msg := conditionMessage(e.Status.Conditions, learningv1alpha1.AttendanceRecordedCondition); !strings.Contains(msg, unknown) {
				return fmt.Errorf("the message %q does not name %s", msg, unknown)
			}
			if a := e.Status.Attendance; a == nil || a.Unknown != 1 || a.Present != 1 {
				return fmt.Errorf("attendance %+v, want 1 unknown and only ana present", a)
			}
			return nil
		}
	}
	eventually(t, "ghost is reported", reported("february", "ghost"))
	eventually(t, "a member of another cohort is reported", reported("january", "bo-autumn"))
	eventually(t, "ana's attendance counts both gatherings", func() error {
		m := membership(ns, "ana")
		if err := get(m); err != nil {
			return err
		}
		if a := m.Status.Attendance; a == nil || a.EligibleEvents != 2 || a.Present != 2 {
			return fmt.Errorf("attendance %+v, want 2 of 2", a)
		}
		return nil
	})
	eventually(t, "bo's attendance does not count the other cohort's gathering", func() error {
		m := membership(ns, "bo-autumn")
		if err := get(m); err != nil {
			return err
		}
		if err := hasCondition(m.Status.Conditions, learningv1alpha1.SeatedCondition, metav1.ConditionTrue, learningv1alpha1.SeatedReason); err != nil {
			return err
		}
		if a := m.Status.Attendance; a == nil || a.EligibleEvents != 0 || a.Present != 0 {
			return fmt.Errorf("attendance %+v, want nothing counted", a)
		}
		return nil
	})
}

// gathAttendees is the size of the attendance list the API must hold: a community-wide
// gathering of every seated member.
const gathAttendees = 5000

// gathMembers is how many of the attendees are real memberships, spread over two
// cohorts; the other entries name no membership and must be reported, not dropped.
// With all 5,000 real the manager needs two to four minutes on a two-core machine to
// write 5,000 membership statuses (one each, sequentially) and 5,000 Seated Events,
// far beyond this suite's budget, so a fifth of them are real.
const gathMembers = 1000

// TestGatheringsAttendanceOfFiveThousand: a community-wide gathering holds an
// attendance list of 5,000 entries. Every entry is accounted for: those of the
// memberships of the community's two cohorts are counted, on the event and in every
// member's attendance, and the others are reported as unknown.
func TestGatheringsAttendanceOfFiveThousand(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	began := time.Now()
	roles := []string{"Member", "Mentor", "Guide"}
	community := testutil.Community(ns, "all", testutil.Role(roles[0], 0, 1000), testutil.Role(roles[1], 0, 1000), testutil.Role(roles[2], 0, 1000))
	cohorts := []string{"east", "west"}
	memberName := func(i int) string { return fmt.Sprintf("m-%04d", i) }
	allHands := &learningv1alpha1.LearningEvent{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "all-hands"},
		Spec: learningv1alpha1.LearningEventSpec{
			CommunityRef: &learningv1alpha1.LocalObjectReference{Name: "all"},
			Type:         learningv1alpha1.GatheringEvent,
			Title:        "Community all-hands",
			Start:        metav1.NewTime(time.Date(2026, 2, 10, 18, 0, 0, 0, time.UTC)),
			Duration:     metav1.Duration{Duration: 2 * time.Hour},
		},
	}
	for i := range gathAttendees {
		allHands.Spec.Attendance = append(allHands.Spec.Attendance, testutil.Attended(memberName(i), learningv1alpha1.AttendancePresent))
	}
	// The gathering exists first, so that each membership's status is written once,
	// with its seat and this attendance.
	create(t, community, testutil.Cohort(ns, cohorts[0], "all", "2026-01-01", 12), testutil.Cohort(ns, cohorts[1], "all", "2026-01-01", 12), allHands)
	t.Cleanup(func() { gathDeleteLargeProgram(t, ns, memberName) })
	if err := gathConcurrently(gathMembers, func(i int) error {
		return k8s.Create(context.Background(), testutil.Membership(ns, memberName(i), cohorts[i%2], fmt.Sprintf("u-%04d", i), roles[(i/2)%len(roles)]))
	}); err != nil {
		t.Fatalf("creating the memberships: %v", err)
	}
	created := time.Since(began)

	if err := get(allHands); err != nil || len(allHands.Spec.Attendance) != gathAttendees {
		t.Fatalf("the API did not keep the %d entries: %d (%v)", gathAttendees, len(allHands.Spec.Attendance), err)
	}
	gathWait(t, "the gathering accounts for every entry", 3*time.Minute, func() error {
		if err := get(allHands); err != nil {
			return err
		}
		want := learningv1alpha1.EventAttendance{Expected: gathMembers, Present: gathMembers, Unknown: gathAttendees - gathMembers}
		if a := allHands.Status.Attendance; a == nil || *a != want {
			return fmt.Errorf("attendance %+v, want %+v", a, want)
		}
		if err := hasCondition(allHands.Status.Conditions, learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionFalse, learningv1alpha1.UnknownMembersReason); err != nil {
			return err
		}
		msg := conditionMessage(allHands.Status.Conditions, learningv1alpha1.AttendanceRecordedCondition)
		if !strings.Contains(msg, fmt.Sprint(gathAttendees-gathMembers)) || !strings.Contains(msg, memberName(gathMembers)) {
			return fmt.Errorf("the message %q does not say how many entries are unknown and which", msg)
		}
		return nil
	})
	counted := time.Since(began)
	gathWait(t, "every member's attendance counts the gathering", 3*time.Minute, func() error {
		list := &learningv1alpha1.MembershipList{}
		if err := k8s.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			return err
		}
		var wrong []string
		for _, m := range list.Items {
			if a := m.Status.Attendance; a == nil || a.EligibleEvents != 1 || a.Present != 1 {
				wrong = append(wrong, m.Name)
			}
		}
		if len(list.Items) != gathMembers || len(wrong) > 0 {
			return fmt.Errorf("%d memberships, %d without the gathering counted (first: %v)", len(list.Items), len(wrong), wrong[:min(len(wrong), 3)])
		}
		return nil
	})
	t.Logf("%d memberships created in %s; the event accounted for its %d entries after %s; every membership after %s",
		gathMembers, created.Round(time.Millisecond), gathAttendees, counted.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// gathConcurrently runs do(0) to do(n-1) on 8 goroutines and returns the first error.
func gathConcurrently(n int, do func(int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				mu.Lock()
				stop := first != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := do(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return first
}

// gathDeleteLargeProgram deletes the large program of a namespace, so that the
// manager does not evaluate it again while later tests run (envtest has no namespace
// controller). The event goes first, so that the evaluations the deletions trigger do
// not rewrite its 5,000 entries each time.
func gathDeleteLargeProgram(t *testing.T, ns string, memberName func(int) string) {
	ctx := context.Background()
	began := time.Now()
	if err := client.IgnoreNotFound(k8s.Delete(ctx, learningEvent(ns, "all-hands"))); err != nil {
		t.Logf("deleting the gathering: %v", err)
	}
	if err := gathConcurrently(gathMembers, func(i int) error {
		return client.IgnoreNotFound(k8s.Delete(ctx, membership(ns, memberName(i))))
	}); err != nil {
		t.Logf("deleting the memberships: %v", err)
	}
	for _, obj := range []client.Object{&learningv1alpha1.Cohort{}, &learningv1alpha1.CommunityOfPractice{}} {
		if err := k8s.DeleteAllOf(ctx, obj, client.InNamespace(ns)); err != nil {
			t.Logf("deleting %T: %v", obj, err)
		}
	}
	t.Logf("the program was deleted in %s", time.Since(began).Round(time.Millisecond))
}

// TestGatheringsFinalizer: deleting a cohort deletes its untouched future gatherings
// through the finalizer, then lets the cohort go; the gathering with attendance and the
// memberships stay and report the missing cohort.
func TestGatheringsFinalizer(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	cohort := testutil.Cohort(ns, "closing", "club", "2026-01-01", 12)
	cohort.Spec.Schedule = testutil.MonthlySchedule()
	create(t, testutil.Community(ns, "club", testutil.Role("Member", 0, 20)), cohort,
		testutil.Membership(ns, "ana", "closing", "u-ana", "Member"), testutil.Membership(ns, "bo", "closing", "u-bo", "Member"))
	gathExactly(t, "three gatherings are generated", ns, "closing", "closing-20260210-1200", "closing-20260310-1200", "closing-20260414-1200")
	eventually(t, "the cohort carries the finalizer", func() error {
		if err := get(cohort); err != nil {
			return err
		}
		if !controllerutil.ContainsFinalizer(cohort, GatheringsFinalizer) {
			return fmt.Errorf("finalizers %v", cohort.Finalizers)
		}
		return nil
	})
	record := learningEvent(ns, "closing-20260210-1200")
	update(t, record, func(e *learningv1alpha1.LearningEvent) {
		e.Spec.Attendance = []learningv1alpha1.AttendanceRecord{testutil.Attended("ana", learningv1alpha1.AttendanceExcused)}
	})

	if err := k8s.Delete(context.Background(), cohort); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the cohort is gone", func() error { return gathGone(cohort) })
	for _, name := range []string{"closing-20260310-1200", "closing-20260414-1200"} {
		if err := gathGone(learningEvent(ns, name)); err != nil {
			t.Errorf("the untouched future gathering was not deleted before the cohort went: %v", err)
		}
	}
	if err := get(record); err != nil {
		t.Fatalf("the gathering with attendance was deleted: %v", err)
	}
	if len(record.Spec.Attendance) != 1 || len(record.OwnerReferences) > 0 {
		t.Errorf("the record changed: attendance %v, owners %v", record.Spec.Attendance, record.OwnerReferences)
	}
	for _, obj := range []client.Object{membership(ns, "ana"), membership(ns, "bo"), record} {
		eventually(t, obj.GetName()+" reports CohortFound=False", func() error {
			if err := get(obj); err != nil {
				return err
			}
			var conds []metav1.Condition
			switch o := obj.(type) {
			case *learningv1alpha1.Membership:
				conds = o.Status.Conditions
			case *learningv1alpha1.LearningEvent:
				conds = o.Status.Conditions
			default:
				return errors.New("unexpected kind")
			}
			return hasCondition(conds, learningv1alpha1.CohortFoundCondition, metav1.ConditionFalse, learningv1alpha1.CohortNotFoundReason)
		})
	}
	time.Sleep(time.Second)
	if events, err := gathGenerated(ns, "closing"); err != nil || len(events) != 1 {
		t.Errorf("after the deletion the generated gatherings are %v (%v), want only the record", gathNames(events), err)
	}
}

// TestGatheringsSkipANameHeldOutsideTheUnit: an event of another cohort already holds
// the name of one of the schedule's gatherings. The decision skips that occurrence
// (it looks the name up before deciding), so the pass neither fails on the creation
// nor touches the event, and the cohort says which occurrence it skips.
func TestGatheringsSkipANameHeldOutsideTheUnit(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	taken := testutil.Gathering(ns, "weekly-20260204-1800", "other", time.Date(2026, 2, 4, 9, 0, 0, 0, time.UTC))
	create(t, taken)
	cohort := testutil.Cohort(ns, "weekly", "club", "2026-01-01", 6)
	cohort.Spec.Schedule = gathWeekly("WE", 2)
	create(t, testutil.Community(ns, "club", testutil.Role("Member", 0, 20)), cohort)

	gathExactly(t, "the free occurrence is generated, the taken one is not", ns, "weekly", "weekly-20260211-1800")
	eventually(t, "the cohort is Ready and names the skipped occurrence", func() error {
		if err := get(cohort); err != nil {
			return err
		}
		if err := hasCondition(cohort.Status.Conditions, learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason); err != nil {
			return err
		}
		if msg := conditionMessage(cohort.Status.Conditions, learningv1alpha1.ReadyCondition); !strings.Contains(msg, "skips 1 occurrences") || !strings.Contains(msg, "weekly-20260204-1800") {
			return fmt.Errorf("Ready says %q", msg)
		}
		if got := cohort.Status.Gatherings; len(got) != 1 || got[0].Name != "weekly-20260211-1800" {
			return fmt.Errorf("status.gatherings = %v, want only weekly-20260211-1800", got)
		}
		return nil
	})
	held := &learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: taken.Name}}
	if err := get(held); err != nil {
		t.Fatal(err)
	}
	if held.Spec.CohortRef == nil || held.Spec.CohortRef.Name != "other" || !held.Spec.Start.Equal(&taken.Spec.Start) || len(held.Labels) != 0 {
		t.Errorf("the event of cohort other was changed: %+v, labels %v", held.Spec, held.Labels)
	}
}
