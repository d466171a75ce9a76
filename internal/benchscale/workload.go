// Package benchscale measures the operator at scale on the local control plane: it
// generates a workload of communities, cohorts, memberships and learning events, runs
// the manager as its own process, and measures convergence, API requests, memory, idle
// writes and change latency against the raw write floor of the same API server.
// hack/benchscale runs it (make bench-scale) and writes docs/benchmarks.md.
package benchscale

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// The shape of the workload, per community and per cohort, at every scale.
const (
	cohortsPerCommunity  = 10
	leadsPerCohort       = 2
	membersPerCohort     = 18
	eventsPerCohort      = 12
	communitiesPerNS     = 10
	scheduleLookahead    = 2
	childrenPerCohort    = 13 // read and edit Roles and RoleBindings, three ConfigMaps, six portal objects
	childrenPerCommunity = 1  // the approvers' RoleBinding
	childrenPerPlan      = 2  // the owner's Role and RoleBinding for their plan
	membershipsPerCohort = leadsPerCohort + membersPerCohort
	monthsRunning        = 11 // the cohorts began eleven whole months ago
	// reportsPerCommunity are the reports of a community: one per month from the
	// cohorts' start to the current month, and one per cohort's run.
	reportsPerCommunity    = monthsRunning + 1 + cohortsPerCommunity
	fullScaleCommunities   = 100
	attendanceAbsentPeriod = 7 // every 7th entry of the generated attendance is Absent
)

// Scale is the size of a workload: its number of communities, each reporting monthly
// and with ten cohorts of two leads and eighteen members, each member with an action
// plan, and twelve past gatherings with attendance recorded. Scale S (Full) is 100
// communities: 1,000 cohorts, 20,000 memberships, 20,000 action plans and 12,000
// learning events, plus the 2,000 gatherings the cohorts' schedules generate and the
// 2,200 reports the operator keeps (twelve months and ten cohort runs per community).
type Scale struct {
	Communities int
}

// Full is the scale S of the benchmark.
var Full = Scale{Communities: fullScaleCommunities}

// Fraction is S multiplied by f, at least one community.
func Fraction(f float64) Scale {
	return Scale{Communities: max(1, int(math.Round(fullScaleCommunities*f)))}
}

// Cohorts is the number of cohorts at this scale.
func (s Scale) Cohorts() int { return s.Communities * cohortsPerCommunity }

// Memberships is the number of memberships at this scale.
func (s Scale) Memberships() int { return s.Cohorts() * membershipsPerCohort }

// Plans is the number of action plans at this scale: one per membership.
func (s Scale) Plans() int { return s.Memberships() }

// Reports is the number of program reports the operator keeps at this scale.
func (s Scale) Reports() int { return s.Communities * reportsPerCommunity }

// Events is the number of declared learning events at this scale.
func (s Scale) Events() int { return s.Cohorts() * eventsPerCohort }

// Gatherings is the number of gatherings the cohorts' schedules generate at this scale.
func (s Scale) Gatherings() int { return s.Cohorts() * scheduleLookahead }

// Generated is the number of objects with a status the operator creates at this
// scale: the gatherings the cohorts' schedules generate and the program reports.
func (s Scale) Generated() int { return s.Gatherings() + s.Reports() }

// Declared is the number of objects a user declares at this scale.
func (s Scale) Declared() int {
	return s.Communities + s.Cohorts() + s.Memberships() + s.Plans() + s.Events()
}

// Children is the number of objects the operator provisions at this scale.
func (s Scale) Children() int {
	return s.Cohorts()*childrenPerCohort + s.Communities*childrenPerCommunity + s.Plans()*childrenPerPlan
}

func (s Scale) String() string {
	return fmt.Sprintf("%d communities, %d cohorts, %d memberships, %d plans, %d events, and the %d gatherings and %d program reports the operator generates",
		s.Communities, s.Cohorts(), s.Memberships(), s.Plans(), s.Events(), s.Gatherings(), s.Reports())
}

// Workload is the generated program of one scale, dated relative to now so that no
// clock boundary of the rules falls within the benchmark: the cohorts started eleven
// months ago (whole months, so terms end a month ahead), their twelve declared
// gatherings all ended months ago, their weekly schedules next meet three days from
// now, and the plans' open actions are due in two months. The reports' clock
// boundaries are the month's first day and the eighth (the previous month's report
// freezes at the end of its seven days' grace).
type Workload struct {
	Scale      Scale
	Namespaces []*corev1.Namespace
	// Units are the communities with their cohorts, memberships and events, each in
	// the order a person would apply them.
	Units [][]client.Object
}

// NewWorkload generates the workload of scale s dated relative to now.
func NewWorkload(s Scale, now time.Time) *Workload {
	w := &Workload{Scale: s}
	now = now.UTC()
	start := time.Date(now.Year(), now.Month()-monthsRunning, 1, 0, 0, 0, 0, time.UTC)
	due := learningv1alpha1.Date(time.Date(now.Year(), now.Month()+2, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err)
	}
	meetDay := now.In(chicago).AddDate(0, 0, 3).Weekday()
	for i := range s.Communities {
		ns := NamespaceOf(i)
		if i%communitiesPerNS == 0 {
			w.Namespaces = append(w.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		}
		community := CommunityName(i)
		unit := []client.Object{newCommunity(ns, community)}
		for k := range cohortsPerCommunity {
			cohort := CohortName(i, k)
			unit = append(unit, newCohort(ns, cohort, community, start, meetDay))
			for m := range membershipsPerCohort {
				unit = append(unit, newMembership(ns, cohort, m))
			}
			for m := range membershipsPerCohort {
				unit = append(unit, newPlan(ns, cohort, m, start, due))
			}
			for e := range eventsPerCohort {
				unit = append(unit, newGathering(ns, cohort, e, start))
			}
		}
		w.Units = append(w.Units, unit)
	}
	return w
}

// NamespaceOf is the namespace of community i.
func NamespaceOf(community int) string { return fmt.Sprintf("bench-%02d", community/communitiesPerNS) }

// CommunityName is the name of community i.
func CommunityName(i int) string { return fmt.Sprintf("community-%03d", i) }

// CohortName is the name of cohort k of community i.
func CohortName(i, k int) string { return fmt.Sprintf("community-%03d-k%d", i, k) }

// MembershipName is the name of membership m of a cohort: two leads, then members.
func MembershipName(cohort string, m int) string {
	if m < leadsPerCohort {
		return fmt.Sprintf("%s-lead-%d", cohort, m+1)
	}
	return fmt.Sprintf("%s-m-%02d", cohort, m-leadsPerCohort+1)
}

// GatheringName is the name of declared gathering e of a cohort.
func GatheringName(cohort string, e int) string { return fmt.Sprintf("%s-g-%02d", cohort, e+1) }

// PresentAt reports whether membership m attended gathering e in the generated
// attendance (the others were absent).
func PresentAt(m, e int) bool { return (m+e)%attendanceAbsentPeriod != 0 }

func newCommunity(ns, name string) *learningv1alpha1.CommunityOfPractice {
	months := int32(12)
	return &learningv1alpha1.CommunityOfPractice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: learningv1alpha1.CommunityOfPracticeSpec{
			DisplayName: "Community " + name,
			Policy: learningv1alpha1.ProgramPolicy{
				Roles: []learningv1alpha1.RolePolicy{
					{Name: "Lead", MinMembers: ptr[int32](1), MaxMembers: ptr[int32](leadsPerCohort), TermMonths: &months, Access: learningv1alpha1.AccessEdit},
					{Name: "Member", MinMembers: ptr[int32](15), MaxMembers: ptr[int32](20), TermMonths: &months},
				},
				Attendance: &learningv1alpha1.AttendancePolicy{RequiredPercent: ptr[int32](80), MinimumEvents: ptr[int32](3)},
			},
			Approvers: []learningv1alpha1.Approver{{Kind: learningv1alpha1.UserSubject, Name: name + "-lead"}},
			Reporting: &learningv1alpha1.ReportingPolicy{
				Cadence: learningv1alpha1.MonthlyReports,
				KPIs: []learningv1alpha1.KPITarget{
					{Name: "AttendanceRate", Target: 80, Direction: "AtLeast"},
					{Name: "SeatsFilled", Qualifier: "Member", Target: 15, Direction: "AtLeast"},
					{Name: "GatheringsHeld", Target: 2, Direction: "AtLeast"},
					{Name: "Withdrawals", Target: 1, Direction: "AtMost"},
					{Name: "PlansCurrent", Target: 75, Direction: "AtLeast"},
					{Name: "ActionsDone", Target: 1, Direction: "AtLeast"},
				},
			},
		},
	}
}

func newCohort(ns, name, community string, start time.Time, meetDay time.Weekday) *learningv1alpha1.Cohort {
	months := int32(12)
	return &learningv1alpha1.Cohort{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: learningv1alpha1.CohortSpec{
			CommunityRef:   &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(community)},
			DisplayName:    "Cohort " + name,
			StartDate:      learningv1alpha1.Date(start.Format(time.DateOnly)),
			DurationMonths: &months,
			TimeZone:       "America/Chicago",
			Schedule: &learningv1alpha1.Schedule{
				RRule:     learningv1alpha1.RecurrenceRule("FREQ=WEEKLY;BYDAY=" + rruleDays[meetDay]),
				StartTime: "12:00",
				Duration:  metav1.Duration{Duration: 90 * time.Minute},
				TimeZone:  "America/Chicago",
				Lookahead: scheduleLookahead,
				Type:      learningv1alpha1.GatheringEvent,
				Title:     "Weekly gathering",
				Location:  "Virtual",
			},
			Services: &learningv1alpha1.CohortServices{Portal: &learningv1alpha1.PortalService{Enabled: true, Replicas: ptr[int32](1)}},
		},
	}
}

var rruleDays = map[time.Weekday]string{
	time.Monday: "MO", time.Tuesday: "TU", time.Wednesday: "WE", time.Thursday: "TH",
	time.Friday: "FR", time.Saturday: "SA", time.Sunday: "SU",
}

func newMembership(ns, cohort string, m int) *learningv1alpha1.Membership {
	role := learningv1alpha1.RoleName("Member")
	if m < leadsPerCohort {
		role = "Lead"
	}
	name := MembershipName(cohort, m)
	return &learningv1alpha1.Membership{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: learningv1alpha1.MembershipSpec{
			CohortRef:   learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(cohort)},
			Member:      memberUser(ns, name),
			DisplayName: "Person " + name,
			Role:        role,
		},
	}
}

// PlanName is the name of the action plan of membership m of a cohort.
func PlanName(cohort string, m int) string { return MembershipName(cohort, m) + "-plan" }

// newPlan is the personal action plan of membership m of a cohort: an action done
// and reflected on at the cohort's first gathering, and one in progress, due later.
func newPlan(ns, cohort string, m int, cohortStart time.Time, due learningv1alpha1.Date) *learningv1alpha1.ActionPlan {
	membership := MembershipName(cohort, m)
	return &learningv1alpha1.ActionPlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: PlanName(cohort, m)},
		Spec: learningv1alpha1.ActionPlanSpec{
			MembershipRef: &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(membership)},
			Owner:         memberUser(ns, membership),
			Actions: []learningv1alpha1.PlannedAction{
				{ID: "listen", Title: "Hold a listening session with my team", Status: learningv1alpha1.ActionDone,
					Outcome: "Eight colleagues came; two asked for a follow-up."},
				{ID: "mentor", Title: "Mentor a new colleague", Due: &due, Status: learningv1alpha1.ActionInProgress},
			},
			CheckIns: []learningv1alpha1.CheckIn{{
				ID:       "first",
				At:       metav1.NewTime(cohortStart.AddDate(0, 0, 3).Add(20 * time.Hour)),
				Author:   memberUser(ns, membership),
				EventRef: &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(GatheringName(cohort, 0))},
				Progress: []learningv1alpha1.ActionProgress{{ActionID: "listen", Status: learningv1alpha1.ActionDone}},
				Learned:  "People speak up more in small groups.",
			}},
		},
	}
}

// memberUser is the user name of a membership's person.
func memberUser(ns, membership string) string { return "u-" + ns + "-" + membership }

// newGathering is declared gathering e of a cohort: every two weeks from the cohort's
// fourth day, 90 minutes at 18:00 UTC, with everyone's attendance recorded.
func newGathering(ns, cohort string, e int, cohortStart time.Time) *learningv1alpha1.LearningEvent {
	start := cohortStart.AddDate(0, 0, 3+14*e).Add(18 * time.Hour)
	attendance := make([]learningv1alpha1.AttendanceRecord, 0, membershipsPerCohort)
	for m := range membershipsPerCohort {
		status := learningv1alpha1.AttendancePresent
		if !PresentAt(m, e) {
			status = learningv1alpha1.AttendanceAbsent
		}
		attendance = append(attendance, learningv1alpha1.AttendanceRecord{Member: learningv1alpha1.ObjectName(MembershipName(cohort, m)), Status: status})
	}
	return &learningv1alpha1.LearningEvent{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: GatheringName(cohort, e)},
		Spec: learningv1alpha1.LearningEventSpec{
			CohortRef:  &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(cohort)},
			Type:       learningv1alpha1.GatheringEvent,
			Title:      fmt.Sprintf("Gathering %d", e+1),
			Start:      metav1.NewTime(start),
			Duration:   metav1.Duration{Duration: 90 * time.Minute},
			Location:   "Virtual",
			Attendance: attendance,
		},
	}
}

func ptr[T any](v T) *T { return &v }
