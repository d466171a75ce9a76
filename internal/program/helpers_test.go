package program

import (
	// The tests need time-zone data on every machine, with or without a zoneinfo
	// database installed.
	_ "time/tzdata"

	"fmt"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// ns is the namespace every test object lives in.
const ns = "learning"

// communityName is the name of the community the tests' cohorts run under.
const communityName = "equity"

// day is the UTC midnight that begins the calendar day d (YYYY-MM-DD).
func day(d string) time.Time {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		panic(err)
	}
	return t
}

// instant parses an RFC 3339 instant.
func instant(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// rfc renders a time as the API server stores it, for comparisons that read well.
func rfc(t *metav1.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// ---- policy ----------------------------------------------------------------------

// roleOption adjusts a role policy.
type roleOption func(*learningv1alpha1.RolePolicy)

// role builds a role with seat bounds.
func role(name string, minMembers, maxMembers int32, opts ...roleOption) learningv1alpha1.RolePolicy {
	r := testutil.Role(name, minMembers, maxMembers)
	for _, o := range opts {
		o(&r)
	}
	return r
}

// termLimit sets maxConsecutiveTerms.
func termLimit(n int32) roleOption {
	return func(r *learningv1alpha1.RolePolicy) { r.MaxConsecutiveTerms = &n }
}

// termMonths sets the length of the role's terms.
func termMonths(n int32) roleOption {
	return func(r *learningv1alpha1.RolePolicy) { r.TermMonths = &n }
}

// community builds the tests' community with the given roles.
func community(roles ...learningv1alpha1.RolePolicy) *learningv1alpha1.CommunityOfPractice {
	c := testutil.Community(ns, communityName, roles...)
	c.Generation = 1
	return c
}

// ---- cohorts ---------------------------------------------------------------------

// cohortOption adjusts a cohort.
type cohortOption func(*learningv1alpha1.Cohort)

// cohort builds a cohort of the tests' community, from start for months.
func cohort(name, start string, months int32, opts ...cohortOption) *learningv1alpha1.Cohort {
	c := testutil.Cohort(ns, name, communityName, learningv1alpha1.Date(start), months)
	c.Generation = 1
	for _, o := range opts {
		o(c)
	}
	return c
}

// ending replaces durationMonths with an explicit last day.
func ending(last string) cohortOption {
	return func(c *learningv1alpha1.Cohort) {
		c.Spec.DurationMonths = nil
		c.Spec.EndDate = testutil.Ptr(learningv1alpha1.Date(last))
	}
}

// enrollmentCloses sets the last day of the enrollment window.
func enrollmentCloses(d string) cohortOption {
	return func(c *learningv1alpha1.Cohort) {
		c.Spec.Enrollment = &learningv1alpha1.EnrollmentWindow{Closes: testutil.Ptr(learningv1alpha1.Date(d))}
	}
}

// overriding sets the cohort's policy overrides.
func overriding(roles ...learningv1alpha1.RolePolicy) cohortOption {
	return func(c *learningv1alpha1.Cohort) {
		c.Spec.Policy = &learningv1alpha1.ProgramPolicy{Roles: roles}
	}
}

// scheduled gives the cohort a recurring schedule.
func scheduled(s *learningv1alpha1.Schedule) cohortOption {
	return func(c *learningv1alpha1.Cohort) { c.Spec.Schedule = s }
}

// weekly is a schedule of 90-minute gatherings at noon UTC every Tuesday.
func weekly() *learningv1alpha1.Schedule {
	return &learningv1alpha1.Schedule{
		RRule:     "FREQ=WEEKLY;BYDAY=TU",
		StartTime: "12:00",
		Duration:  metav1.Duration{Duration: 90 * time.Minute},
		TimeZone:  "UTC",
		Lookahead: 3,
		Type:      learningv1alpha1.GatheringEvent,
	}
}

// ---- memberships -----------------------------------------------------------------

// memberOption adjusts a membership.
type memberOption func(*learningv1alpha1.Membership)

// member builds a membership of person in cohort with role, created at created.
func member(name, cohort, person, role string, created time.Time, opts ...memberOption) *learningv1alpha1.Membership {
	m := testutil.Membership(ns, name, cohort, person, role)
	m.Generation = 1
	m.CreationTimestamp = metav1.NewTime(created)
	for _, o := range opts {
		o(m)
	}
	return m
}

// starting sets the membership's explicit first day.
func starting(d string) memberOption {
	return func(m *learningv1alpha1.Membership) { m.Spec.StartDate = testutil.Ptr(learningv1alpha1.Date(d)) }
}

// until sets the membership's explicit last day.
func until(d string) memberOption {
	return func(m *learningv1alpha1.Membership) { m.Spec.EndDate = testutil.Ptr(learningv1alpha1.Date(d)) }
}

// withdrawn marks the membership withdrawn.
func withdrawn() memberOption {
	return func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true }
}

// from sets the membership's organization.
func from(org string) memberOption {
	return func(m *learningv1alpha1.Membership) {
		m.Spec.Organization = learningv1alpha1.OrganizationName(org)
	}
}

// previously records a condition in the membership's previous status.
func previously(typ string, status metav1.ConditionStatus, reason string, since time.Time) memberOption {
	return func(m *learningv1alpha1.Membership) {
		apimeta.SetStatusCondition(&m.Status.Conditions, metav1.Condition{
			Type: typ, Status: status, Reason: reason, Message: "previously",
			ObservedGeneration: m.Generation, LastTransitionTime: metav1.NewTime(since),
		})
	}
}

// heldSince records a seat held since t in the previous status, as the evaluator
// writes it.
func heldSince(t time.Time) memberOption {
	return func(m *learningv1alpha1.Membership) {
		previously(learningv1alpha1.SeatedCondition, metav1.ConditionTrue, learningv1alpha1.SeatedReason, t)(m)
		m.Status.SeatedSince = testutil.Ptr(metav1.NewTime(t))
	}
}

// seatedBeforeUpgrade records a seat held since t as an evaluator that did not know
// status.seatedSince wrote it: only the Seated condition says since when.
func seatedBeforeUpgrade(t time.Time) memberOption {
	return previously(learningv1alpha1.SeatedCondition, metav1.ConditionTrue, learningv1alpha1.SeatedReason, t)
}

// waitingAt records a waitlist position in the previous status.
func waitingAt(position int32, since time.Time) memberOption {
	return func(m *learningv1alpha1.Membership) {
		previously(learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.WaitlistedReason, since)(m)
		m.Status.WaitlistPosition = &position
	}
}

// ---- events ----------------------------------------------------------------------

// gathering builds a 90-minute gathering of a cohort with attendance recorded.
func gathering(name, cohort string, start time.Time, attendance ...learningv1alpha1.AttendanceRecord) *learningv1alpha1.LearningEvent {
	e := testutil.Gathering(ns, name, cohort, start, attendance...)
	e.Generation = 1
	return e
}

// communityGathering builds a 90-minute gathering of the whole community.
func communityGathering(name string, start time.Time, attendance ...learningv1alpha1.AttendanceRecord) *learningv1alpha1.LearningEvent {
	e := gathering(name, "", start, attendance...)
	e.Spec.CohortRef = nil
	e.Spec.CommunityRef = &learningv1alpha1.LocalObjectReference{Name: communityName}
	return e
}

// present and absent record one membership's attendance.
func present(m string) learningv1alpha1.AttendanceRecord {
	return testutil.Attended(m, learningv1alpha1.AttendancePresent)
}

func absent(m string) learningv1alpha1.AttendanceRecord {
	return testutil.Attended(m, learningv1alpha1.AttendanceAbsent)
}

// weeklyGatherings builds n gatherings of a cohort a week apart from first, each with
// the attendance that record returns for its index.
func weeklyGatherings(prefix, cohort string, first time.Time, n int, record func(i int) []learningv1alpha1.AttendanceRecord) []*learningv1alpha1.LearningEvent {
	events := make([]*learningv1alpha1.LearningEvent, n)
	for i := range n {
		events[i] = gathering(fmt.Sprintf("%s-%d", prefix, i+1), cohort, first.AddDate(0, 0, 7*i), record(i)...)
	}
	return events
}

// ---- reading outcomes ------------------------------------------------------------

// seat is where one membership stands on seats, as a table test reads it.
type seat struct {
	Seated   string // reason of the Seated condition
	Eligible string // reason of the Eligible condition
	Position int32  // status.waitlistPosition, 0 when unset
	Since    string // status.seatedSince in RFC 3339, "" when unset
}

// seatsOf summarises every membership's seat in an outcome.
func seatsOf(out Outcome) map[string]seat {
	seats := make(map[string]seat, len(out.Memberships))
	for name, s := range out.Memberships {
		var pos int32
		if s.WaitlistPosition != nil {
			pos = *s.WaitlistPosition
		}
		seats[name] = seat{
			Seated:   condReason(s.Conditions, learningv1alpha1.SeatedCondition),
			Eligible: condReason(s.Conditions, learningv1alpha1.EligibleCondition),
			Position: pos,
			Since:    rfc(s.SeatedSince),
		}
	}
	return seats
}

// verdict is a condition without its bookkeeping, for tables.
type verdict struct {
	Status  metav1.ConditionStatus
	Reason  string
	Message string
}

// verdictOf returns the condition of type typ, or the zero verdict when absent.
func verdictOf(conds []metav1.Condition, typ string) verdict {
	c := apimeta.FindStatusCondition(conds, typ)
	if c == nil {
		return verdict{}
	}
	return verdict{Status: c.Status, Reason: c.Reason, Message: c.Message}
}

// condReason returns the reason of the condition of type typ, "" when absent.
func condReason(conds []metav1.Condition, typ string) string {
	return verdictOf(conds, typ).Reason
}
