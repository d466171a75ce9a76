package program

import (
	stdcmp "cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/ics"
	"github.com/cohort-dev/cohort-operator/internal/publish"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// ---- fixtures of the publication tests -------------------------------------------

// withAccess sets the role's access level.
func withAccess(a learningv1alpha1.AccessLevel) roleOption {
	return func(r *learningv1alpha1.RolePolicy) { r.Access = a }
}

// editors and readers are the roles of the publication tests: Lead may edit, Member
// reads (the default access).
func editors() learningv1alpha1.RolePolicy {
	return role("Lead", 0, 2, withAccess(learningv1alpha1.AccessEdit))
}

func readers(maxMembers int32) learningv1alpha1.RolePolicy { return role("Member", 0, maxMembers) }

// mail is the user name of a person: an e-mail address, which must never be published.
func mail(person string) string { return person + "@example.org" }

// named sets the membership's display name.
func named(display string) memberOption {
	return func(m *learningv1alpha1.Membership) { m.Spec.DisplayName = display }
}

// eventOption adjusts a LearningEvent.
type eventOption func(*learningv1alpha1.LearningEvent)

// event builds a gathering of a cohort, created a month before it starts.
func event(name, cohort string, start time.Time, opts ...eventOption) *learningv1alpha1.LearningEvent {
	e := gathering(name, cohort, start)
	e.CreationTimestamp = metav1.NewTime(start.AddDate(0, -1, 0))
	for _, o := range opts {
		o(e)
	}
	return e
}

// ofCommunity makes the event the whole community's.
func ofCommunity() eventOption {
	return func(e *learningv1alpha1.LearningEvent) {
		e.Spec.CohortRef = nil
		e.Spec.CommunityRef = &learningv1alpha1.LocalObjectReference{Name: communityName}
	}
}

// cancelled cancels the event.
func cancelled() eventOption {
	return func(e *learningv1alpha1.LearningEvent) { e.Spec.Cancelled = true }
}

// typed sets the event's type.
func typed(t learningv1alpha1.EventType) eventOption {
	return func(e *learningv1alpha1.LearningEvent) { e.Spec.Type = t }
}

// externalAudience makes the event an external communication that needs an approval.
func externalAudience() eventOption {
	return func(e *learningv1alpha1.LearningEvent) { e.Spec.Audience = learningv1alpha1.ExternalAudience }
}

// approvedBy approves the event's content as it is when the option runs.
func approvedBy(approver string) eventOption {
	return func(e *learningv1alpha1.LearningEvent) {
		e.Spec.Approval = &learningv1alpha1.Approval{Approver: approver, ContentHash: ContentHash(&e.Spec)}
	}
}

// attended records attendance on the event.
func attended(records ...learningv1alpha1.AttendanceRecord) eventOption {
	return func(e *learningv1alpha1.LearningEvent) { e.Spec.Attendance = records }
}

// publicationOf evaluates the snapshot and returns the cohort's publication.
func publicationOf(t *testing.T, s Snapshot, cohortName string) (Publication, Outcome) {
	t.Helper()
	out := Evaluate(s)
	p, ok := out.Publications[cohortName]
	if !ok {
		t.Fatalf("no publication for cohort %s; publications: %v", cohortName, keysOf(out.Publications))
	}
	return p, out
}

func keysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// ---- access ----------------------------------------------------------------------

func TestPublicationAccess(t *testing.T) {
	type access struct{ Edit, Read []string }
	cases := map[string]struct {
		now     time.Time // defaults to now
		orgs    []learningv1alpha1.OrganizationName
		cohort  *learningv1alpha1.Cohort // defaults to alpha, 2026-01-01 for 12 months
		seats   int32                    // Member seats; defaults to 4
		members []*learningv1alpha1.Membership
		want    access
		// phases checks the membership phases the case relies on.
		phases map[string]learningv1alpha1.MembershipPhase
	}{
		"a seated member of an Edit role may edit": {
			members: []*learningv1alpha1.Membership{member("lee", "alpha", mail("lee"), "Lead", day("2025-12-01"))},
			want:    access{Edit: []string{mail("lee")}},
		},
		"a seated member of a role without access declared may read": {
			members: []*learningv1alpha1.Membership{member("ann", "alpha", mail("ann"), "Member", day("2025-12-01"))},
			want:    access{Read: []string{mail("ann")}},
		},
		"a waitlisted member gets nothing": {
			seats: 1,
			members: []*learningv1alpha1.Membership{
				member("ann", "alpha", mail("ann"), "Member", day("2025-12-01")),
				member("bob", "alpha", mail("bob"), "Member", day("2025-12-02")),
			},
			want: access{Read: []string{mail("ann")}},
		},
		"a member of an organization that is not eligible gets nothing": {
			orgs: []learningv1alpha1.OrganizationName{"Northstar"},
			members: []*learningv1alpha1.Membership{
				member("ann", "alpha", mail("ann"), "Member", day("2025-12-01"), from("Lakeside")),
				member("lee", "alpha", mail("lee"), "Lead", day("2025-12-01"), from("Elsewhere")),
			},
			want: access{},
		},
		"a withdrawn member loses access": {
			members: []*learningv1alpha1.Membership{
				member("ann", "alpha", mail("ann"), "Member", day("2025-12-01"), withdrawn(), heldSince(day("2026-01-01"))),
				member("lee", "alpha", mail("lee"), "Lead", day("2025-12-01"), withdrawn(), heldSince(day("2026-01-01"))),
			},
			want:   access{},
			phases: map[string]learningv1alpha1.MembershipPhase{"ann": learningv1alpha1.MembershipWithdrawn, "lee": learningv1alpha1.MembershipWithdrawn},
		},
		"an expired member loses access": {
			members: []*learningv1alpha1.Membership{
				member("ann", "alpha", mail("ann"), "Member", day("2025-12-01"), until("2026-02-28"), heldSince(day("2026-01-01"))),
				member("lee", "alpha", mail("lee"), "Lead", day("2025-12-01"), until("2026-02-28"), heldSince(day("2026-01-01"))),
			},
			want:   access{},
			phases: map[string]learningv1alpha1.MembershipPhase{"ann": learningv1alpha1.MembershipExpired, "lee": learningv1alpha1.MembershipExpired},
		},
		"seated members of a cohort that has not started get access to prepare": {
			cohort: cohort("alpha", "2026-04-01", 12),
			members: []*learningv1alpha1.Membership{
				member("ann", "alpha", mail("ann"), "Member", day("2025-12-01")),
				member("lee", "alpha", mail("lee"), "Lead", day("2025-12-01")),
			},
			want:   access{Edit: []string{mail("lee")}, Read: []string{mail("ann")}},
			phases: map[string]learningv1alpha1.MembershipPhase{"ann": learningv1alpha1.MembershipPending, "lee": learningv1alpha1.MembershipPending},
		},
		"a person seated in an Edit and a Read role is listed under Edit only": {
			// Two terms one after the other: a member until May, a lead from June.
			members: []*learningv1alpha1.Membership{
				member("pat-member", "alpha", mail("pat"), "Member", day("2025-12-01"), until("2026-05-31"), heldSince(day("2026-01-01"))),
				member("pat-lead", "alpha", mail("pat"), "Lead", day("2025-12-01"), starting("2026-06-01")),
			},
			want:   access{Edit: []string{mail("pat")}},
			phases: map[string]learningv1alpha1.MembershipPhase{"pat-member": learningv1alpha1.MembershipActive, "pat-lead": learningv1alpha1.MembershipPending},
		},
		"lists are sorted and name each person once": {
			members: []*learningv1alpha1.Membership{
				member("zoe", "alpha", mail("zoe"), "Member", day("2025-12-01")),
				member("amy", "alpha", mail("amy"), "Member", day("2025-12-02")),
				member("mia-1", "alpha", mail("mia"), "Member", day("2025-12-03"), until("2026-05-31")),
				member("mia-2", "alpha", mail("mia"), "Member", day("2025-12-03"), starting("2026-06-01")),
				member("ron", "alpha", mail("ron"), "Lead", day("2025-12-04")),
				member("kim", "alpha", mail("kim"), "Lead", day("2025-12-05")),
			},
			want: access{Edit: []string{mail("kim"), mail("ron")}, Read: []string{mail("amy"), mail("mia"), mail("zoe")}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			seats := stdcmp.Or(tc.seats, 4)
			s := Snapshot{
				Now:         tc.now,
				Community:   community(editors(), readers(seats)),
				Cohorts:     []*learningv1alpha1.Cohort{tc.cohort},
				Memberships: tc.members,
			}
			if s.Now.IsZero() {
				s.Now = now
			}
			if tc.cohort == nil {
				s.Cohorts[0] = cohort("alpha", "2026-01-01", 12)
			}
			s.Community.Spec.EligibleOrganizations = tc.orgs
			p, out := publicationOf(t, s, "alpha")
			for m, want := range tc.phases {
				if got := out.Memberships[m].Phase; got != want {
					t.Fatalf("membership %s is %s, want %s: the case does not test what it says", m, got, want)
				}
			}
			if diff := cmp.Diff(tc.want, access{Edit: p.Edit, Read: p.Read}, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("access (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPublicationAccessWithBothSeatsHeld checks the premise of the Edit-over-Read case:
// the person really holds both seats, so Read lost the name to Edit and not to the
// seat allocation.
func TestPublicationAccessWithBothSeatsHeld(t *testing.T) {
	s := Snapshot{
		Now: now, Community: community(editors(), readers(4)),
		Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("pat-member", "alpha", mail("pat"), "Member", day("2025-12-01"), until("2026-05-31"), heldSince(day("2026-01-01"))),
			member("pat-lead", "alpha", mail("pat"), "Lead", day("2025-12-01"), starting("2026-06-01")),
		},
	}
	p, out := publicationOf(t, s, "alpha")
	for _, m := range []string{"pat-member", "pat-lead"} {
		if !isSeated(out.Memberships[m]) {
			t.Fatalf("membership %s holds no seat: %+v", m, verdictOf(out.Memberships[m].Conditions, learningv1alpha1.SeatedCondition))
		}
	}
	if diff := cmp.Diff([]string{mail("pat")}, p.Edit); diff != "" {
		t.Errorf("Edit (-want +got):\n%s", diff)
	}
	if len(p.Read) != 0 {
		t.Errorf("Read = %q, want nobody: a person with Edit is listed under Edit only", p.Read)
	}
}

// TestPublicationAccessWhileSeatsAreFrozen: while a cohort cannot be evaluated its seats
// stay exactly as they were, and so must the access that follows them: a typo in
// spec.timeZone must not revoke every member's access. The publication says it is
// frozen, and the controller then leaves the cohort's children as they are.
func TestPublicationAccessWhileSeatsAreFrozen(t *testing.T) {
	s := Snapshot{
		Now: now, Community: community(editors(), readers(4)),
		Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("ann", "alpha", mail("ann"), "Member", day("2025-12-01")),
			member("lee", "alpha", mail("lee"), "Lead", day("2025-12-01")),
		},
	}
	before, out := publicationOf(t, s, "alpha")
	if before.Frozen || !slices.Equal(before.Edit, []string{mail("lee")}) || !slices.Equal(before.Read, []string{mail("ann")}) {
		t.Fatalf("before: Frozen %v, Edit %q, Read %q", before.Frozen, before.Edit, before.Read)
	}
	frozen := withStatuses(s, out)
	frozen.Cohorts[0].Spec.TimeZone = "Europe/Atlantis"
	after, out := publicationOf(t, frozen, "alpha")
	if got := verdictOf(out.Cohorts["alpha"].Conditions, learningv1alpha1.StalledCondition); got.Status != metav1.ConditionTrue {
		t.Fatalf("the cohort is not Stalled: %+v", got)
	}
	if diff := cmp.Diff(Publication{Frozen: true}, after, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("publication while the seats are frozen (-want +got):\n%s", diff)
	}
}

// ---- events ----------------------------------------------------------------------

func TestPublicationEvents(t *testing.T) {
	s := Snapshot{
		Now: now, Community: community(readers(4)),
		Cohorts: []*learningv1alpha1.Cohort{cohort("beta", "2026-01-01", 12), cohort("alpha", "2026-01-01", 12)},
		Events: []*learningv1alpha1.LearningEvent{
			event("b-kickoff", "beta", instant("2026-01-13T12:00:00Z")),
			event("town-hall", "", instant("2026-02-03T17:00:00Z"), ofCommunity()),
			event("a-kickoff", "alpha", instant("2026-01-06T12:00:00Z")),
			event("a-retro", "alpha", instant("2026-06-30T12:00:00Z")),
			event("other-cohort", "gamma", instant("2026-01-06T12:00:00Z")),
		},
	}
	out := Evaluate(s)
	// Only the cohort's own events: a community-wide event (town-hall) is Edit's to
	// read in no cohort, and another cohort's never.
	want := map[string][]string{"alpha": {"a-kickoff", "a-retro"}, "beta": {"b-kickoff"}}
	got := map[string][]string{}
	for name, p := range out.Publications {
		got[name] = p.OwnEvents
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("own events per cohort (-want +got):\n%s", diff)
	}
}

// ---- roster ----------------------------------------------------------------------

func TestPublicationRoster(t *testing.T) {
	s := Snapshot{
		Now: now, Community: community(editors(), readers(1)),
		Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("ann", "alpha", mail("ann"), "Member", day("2025-12-01"), from("Northstar"), named("Ann Archer"), heldSince(day("2026-01-01"))),
			member("lee", "alpha", mail("lee"), "Lead", day("2025-12-01"), from("Northstar"), named("Lee Lead"), func(m *learningv1alpha1.Membership) {
				m.Spec.TeamRole = "Facilitator"
			}),
			// Waitlisted, the first without a display name.
			member("bob", "alpha", mail("bob"), "Member", day("2025-12-02"), from("Lakeside")),
			member("cy", "alpha", mail("cy"), "Member", day("2025-12-03"), from("Lakeside"), named("Cy Cole")),
			// Left out: withdrawn, and of an organization that is not eligible.
			member("cat", "alpha", mail("cat"), "Member", day("2025-11-01"), from("Northstar"), named("Cat Cho"), withdrawn(), heldSince(day("2026-01-01"))),
			member("dan", "alpha", mail("dan"), "Lead", day("2025-11-01"), from("Elsewhere"), named("Dan Doe")),
			// Held a seat for a term that has ended.
			member("eve", "alpha", mail("eve"), "Member", day("2025-11-01"), from("Lakeside"), named("Eve Early"), until("2026-02-28"), heldSince(day("2026-01-01"))),
			// Expired without ever holding a seat: left out.
			member("fay", "alpha", mail("fay"), "Member", day("2025-12-04"), from("Lakeside"), named("Fay Late"), until("2026-02-28")),
		},
	}
	s.Community.Spec.EligibleOrganizations = []learningv1alpha1.OrganizationName{"Northstar", "Lakeside"}
	p, out := publicationOf(t, s, "alpha")
	if got := out.Memberships["dan"]; condReason(got.Conditions, learningv1alpha1.EligibleCondition) != learningv1alpha1.OrganizationNotEligibleReason {
		t.Fatalf("dan is not ineligible by organization: %+v", verdictOf(got.Conditions, learningv1alpha1.EligibleCondition))
	}

	want := publish.Roster{Cohort: "alpha", Members: []publish.RosterEntry{
		// Ordered by organization, role, seat (seated first, then the waitlist in its
		// order) and display name.
		{DisplayName: "Eve Early", Organization: "Lakeside", Role: "Member", Seat: publish.SeatHeld, Phase: "Expired", TermStart: "2026-01-01", TermEnd: "2026-02-28"},
		{DisplayName: "bob", Organization: "Lakeside", Role: "Member", Seat: publish.SeatWaitlisted, WaitlistPosition: 1, Phase: "Active", TermStart: "2026-01-01", TermEnd: "2026-12-31"},
		{DisplayName: "Cy Cole", Organization: "Lakeside", Role: "Member", Seat: publish.SeatWaitlisted, WaitlistPosition: 2, Phase: "Active", TermStart: "2026-01-01", TermEnd: "2026-12-31"},
		{DisplayName: "Lee Lead", Organization: "Northstar", Role: "Lead", TeamRole: "Facilitator", Seat: publish.SeatHeld, Phase: "Active", TermStart: "2026-01-01", TermEnd: "2026-12-31"},
		{DisplayName: "Ann Archer", Organization: "Northstar", Role: "Member", Seat: publish.SeatHeld, Phase: "Active", TermStart: "2026-01-01", TermEnd: "2026-12-31"},
	}}
	if diff := cmp.Diff(want, p.Roster); diff != "" {
		t.Errorf("roster (-want +got):\n%s", diff)
	}

	data, err := json.Marshal(p.Roster)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Memberships {
		if strings.Contains(string(data), m.Spec.Member) {
			t.Errorf("the roster publishes spec.member %q:\n%s", m.Spec.Member, data)
		}
	}
	if strings.Contains(string(data), "@") {
		t.Errorf("the roster holds an e-mail address:\n%s", data)
	}
}

func TestPublicationRosterAttendance(t *testing.T) {
	events := weeklyGatherings("w", "alpha", instant("2026-01-06T12:00:00Z"), 4, func(i int) []learningv1alpha1.AttendanceRecord {
		if i == 0 {
			return []learningv1alpha1.AttendanceRecord{absent("ann")}
		}
		return []learningv1alpha1.AttendanceRecord{present("ann")}
	})
	s := Snapshot{
		Now: now, Community: community(readers(2)),
		Cohorts:     []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{member("ann", "alpha", mail("ann"), "Member", day("2025-12-01"), heldSince(day("2026-01-01")))},
		Events:      events,
	}
	p, out := publicationOf(t, s, "alpha")
	if len(p.Roster.Members) != 1 {
		t.Fatalf("roster = %+v, want ann alone", p.Roster.Members)
	}
	got, status := p.Roster.Members[0].AttendancePercent, out.Memberships["ann"].Attendance
	if got == nil || status == nil || status.Percent == nil || *got != *status.Percent || *got != 75 {
		t.Errorf("roster attendance = %v, membership status %+v; want 75%% in both", got, status)
	}
}

// ---- overview --------------------------------------------------------------------

func TestPublicationOverviewUpcoming(t *testing.T) {
	// Twelve weekly gatherings from March 17, named so that name order is the reverse
	// of time order, one of them cancelled; an ended one; a community event; and an
	// external talk.
	var events []*learningv1alpha1.LearningEvent
	first := instant("2026-03-17T12:00:00Z")
	for i := range 12 {
		var opts []eventOption
		if i == 1 {
			opts = append(opts, cancelled())
		}
		events = append(events, event(fmt.Sprintf("g-%02d", 12-i), "alpha", first.AddDate(0, 0, 7*i), opts...))
	}
	events = append(events,
		event("ended", "alpha", instant("2026-03-03T12:00:00Z")),
		event("in-progress", "alpha", now.Add(-30*time.Minute)),
		event("town-hall", "", instant("2026-03-19T17:00:00Z"), ofCommunity()),
	)
	talk := event("talk", "alpha", instant("2026-03-12T18:00:00Z"), externalAudience(), typed(learningv1alpha1.SpeakerSeriesEvent))

	type upcoming struct {
		Title     string
		Start     time.Time
		Cancelled bool
	}
	wantWith := func(talkListed bool) []upcoming {
		want := []upcoming{{Title: "Gathering in-progress", Start: now.Add(-30 * time.Minute)}}
		if talkListed {
			want = append(want, upcoming{Title: "Gathering talk", Start: instant("2026-03-12T18:00:00Z")})
		}
		want = append(want,
			upcoming{Title: "Gathering g-12", Start: first},
			upcoming{Title: "Gathering town-hall", Start: instant("2026-03-19T17:00:00Z")},
			upcoming{Title: "Gathering g-11", Start: first.AddDate(0, 0, 7), Cancelled: true},
		)
		for i := 2; len(want) < upcomingLimit; i++ {
			want = append(want, upcoming{Title: fmt.Sprintf("Gathering g-%02d", 12-i), Start: first.AddDate(0, 0, 7*i)})
		}
		return want
	}
	cases := map[string]struct {
		talk       *learningv1alpha1.LearningEvent
		talkListed bool
	}{
		"an external event without approval is not published": {talk: talk},
		"an approved external event is published":             {talk: withOptions(talk, approvedBy("pillar-lead")), talkListed: true},
		"an external event changed after approval is not published": {
			talk: withOptions(talk, approvedBy("pillar-lead"), func(e *learningv1alpha1.LearningEvent) { e.Spec.Location = "Elsewhere" }),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := Snapshot{
				Now: now, Community: community(readers(2)),
				Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
				Events:  append(append([]*learningv1alpha1.LearningEvent{}, events...), tc.talk),
			}
			p, _ := publicationOf(t, s, "alpha")
			var got []upcoming
			for _, e := range p.Overview.Upcoming {
				got = append(got, upcoming{Title: e.Title, Start: e.Start, Cancelled: e.Cancelled})
			}
			if diff := cmp.Diff(wantWith(tc.talkListed), got); diff != "" {
				t.Errorf("upcoming (-want +got):\n%s", diff)
			}
			for _, e := range p.Overview.Upcoming {
				if e.Start.Location() != time.UTC || e.End.Location() != time.UTC {
					t.Errorf("upcoming %q is not in UTC: %s - %s", e.Title, e.Start, e.End)
				}
			}
			var inCalendar bool
			for _, e := range p.Calendar.Events {
				inCalendar = inCalendar || e.UID == ics.UID(ns, "talk")
			}
			if inCalendar != tc.talkListed {
				t.Errorf("talk in the calendar: %t, want %t", inCalendar, tc.talkListed)
			}
		})
	}
}

// withOptions returns a copy of the event with opts applied.
func withOptions(e *learningv1alpha1.LearningEvent, opts ...eventOption) *learningv1alpha1.LearningEvent {
	e = e.DeepCopy()
	for _, o := range opts {
		o(e)
	}
	return e
}

func TestPublicationOverviewAttendance(t *testing.T) {
	late := func(m string) learningv1alpha1.AttendanceRecord {
		return testutil.Attended(m, learningv1alpha1.AttendanceLate)
	}
	excused := func(m string) learningv1alpha1.AttendanceRecord {
		return testutil.Attended(m, learningv1alpha1.AttendanceExcused)
	}
	c := community(readers(6))
	c.Spec.DisplayName = "Equity community"
	c.Spec.Policy.Attendance = &learningv1alpha1.AttendancePolicy{LateWeightPercent: testutil.Ptr(int32(50))}
	alpha := cohort("alpha", "2026-01-01", 12)
	alpha.Spec.DisplayName = "Alpha 2026"
	s := Snapshot{
		Now: now, Community: c,
		Cohorts: []*learningv1alpha1.Cohort{alpha, cohort("beta", "2026-01-01", 12)},
		Memberships: []*learningv1alpha1.Membership{
			member("ann", "alpha", mail("ann"), "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
			member("bob", "alpha", mail("bob"), "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
			member("cy", "alpha", mail("cy"), "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
			member("dan", "alpha", mail("dan"), "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
			member("bea", "beta", mail("bea"), "Member", day("2025-12-01"), heldSince(day("2026-01-01"))),
		},
		Events: []*learningv1alpha1.LearningEvent{
			event("jan-13", "alpha", instant("2026-01-13T12:00:00Z"), attended(present("ann"), late("bob"), absent("cy"), excused("dan"))),
			event("jan-06", "alpha", instant("2026-01-06T12:00:00Z"), attended(present("ann"), present("bob"))),
			// Ended, but cancelled, or not counted: not listed.
			event("jan-20", "alpha", instant("2026-01-20T12:00:00Z"), cancelled(), attended(absent("ann"))),
			event("jan-22", "alpha", instant("2026-01-22T18:00:00Z"), typed(learningv1alpha1.SpeakerSeriesEvent), attended(present("ann"))),
			// The community's: only this cohort's members count.
			event("all-hands", "", instant("2026-02-03T17:00:00Z"), ofCommunity(), attended(present("ann"), absent("bea"))),
			// Not ended yet.
			event("in-progress", "alpha", now.Add(-30*time.Minute), attended(present("ann"))),
			event("mar-17", "alpha", instant("2026-03-17T12:00:00Z")),
		},
	}
	p, out := publicationOf(t, s, "alpha")

	want := []publish.EventAttendance{
		{Title: "Gathering jan-06", Start: instant("2026-01-06T12:00:00Z"), Present: 2, Percent: testutil.Ptr(int32(100))},
		// (100 x 1 present + 50 x 1 late) / 3 judged; the excused are not judged.
		{Title: "Gathering jan-13", Start: instant("2026-01-13T12:00:00Z"), Present: 1, Late: 1, Excused: 1, Absent: 1, Percent: testutil.Ptr(int32(50))},
		{Title: "Gathering all-hands", Start: instant("2026-02-03T17:00:00Z"), Present: 1, Percent: testutil.Ptr(int32(100))},
	}
	if diff := cmp.Diff(want, p.Overview.Attendance); diff != "" {
		t.Errorf("alpha's attendance (-want +got):\n%s", diff)
	}
	wantBeta := []publish.EventAttendance{
		{Title: "Gathering all-hands", Start: instant("2026-02-03T17:00:00Z"), Absent: 1, Percent: testutil.Ptr(int32(0))},
	}
	if diff := cmp.Diff(wantBeta, out.Publications["beta"].Overview.Attendance); diff != "" {
		t.Errorf("beta's attendance (-want +got):\n%s", diff)
	}

	status := out.Cohorts["alpha"]
	wantCohort := publish.CohortSummary{
		Name: "alpha", DisplayName: "Alpha 2026", Phase: string(status.Phase),
		StartDate: "2026-01-01", EndDate: "2026-12-31",
	}
	if diff := cmp.Diff(wantCohort, p.Overview.Cohort); diff != "" {
		t.Errorf("cohort summary (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&publish.Community{Name: communityName, DisplayName: "Equity community"}, p.Overview.Community); diff != "" {
		t.Errorf("community (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]publish.RoleSeats{{Name: "Member", MinMembers: 0, MaxMembers: 6, Seated: 4}}, p.Overview.Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	if p.Overview.RequiredPercent != 80 {
		t.Errorf("requiredPercent = %d, want the default 80", p.Overview.RequiredPercent)
	}
	if diff := cmp.Diff(status.AttendancePercent, p.Overview.AttendancePercent); diff != "" {
		t.Errorf("attendance percent differs from the cohort's status (-status +overview):\n%s", diff)
	}
}

// ---- calendar --------------------------------------------------------------------

func TestPublicationCalendar(t *testing.T) {
	c := community(readers(2))
	c.Spec.DisplayName = "Equity community"
	alpha := cohort("alpha", "2026-01-01", 12)
	alpha.Spec.DisplayName = "Alpha 2026"
	kickoff := event("kickoff", "alpha", instant("2026-01-06T12:00:00Z"), typed(learningv1alpha1.IntensiveEvent), func(e *learningv1alpha1.LearningEvent) {
		e.Spec.Description = "Two days to begin"
		e.Spec.Location = "Room 1"
	})
	s := Snapshot{
		Now: now, Community: c,
		Cohorts: []*learningv1alpha1.Cohort{alpha},
		Events: []*learningv1alpha1.LearningEvent{
			event("mar-24", "alpha", instant("2026-03-24T12:00:00Z"), cancelled()),
			kickoff,
			event("town-hall", "", instant("2026-02-03T17:00:00Z"), ofCommunity()),
			event("talk", "alpha", instant("2026-03-12T18:00:00Z"), externalAudience()),
		},
	}
	p, _ := publicationOf(t, s, "alpha")
	stamp := now // the first evaluation revises every entry
	want := ics.Calendar{Name: "Alpha 2026", Description: "Equity community", Events: []ics.Event{
		{
			UID: ics.UID(ns, "kickoff"), Stamp: stamp, Summary: "Gathering kickoff", Description: "Two days to begin", Location: "Room 1",
			Categories: "Intensive", Start: instant("2026-01-06T12:00:00Z"), End: instant("2026-01-06T13:30:00Z"),
		},
		{
			UID: ics.UID(ns, "town-hall"), Stamp: stamp, Summary: "Gathering town-hall",
			Categories: "Gathering", Start: instant("2026-02-03T17:00:00Z"), End: instant("2026-02-03T18:30:00Z"),
		},
		{
			UID: ics.UID(ns, "mar-24"), Stamp: stamp, Summary: "Gathering mar-24",
			Categories: "Gathering", Start: instant("2026-03-24T12:00:00Z"), End: instant("2026-03-24T13:30:00Z"), Cancelled: true,
		},
	}}
	if diff := cmp.Diff(want, p.Calendar); diff != "" {
		t.Errorf("calendar (-want +got):\n%s", diff)
	}
	if _, err := ics.Render(p.Calendar); err != nil {
		t.Errorf("the calendar does not render: %v", err)
	}
}

func TestCalendarHash(t *testing.T) {
	base := event("g", "alpha", instant("2026-03-17T12:00:00Z"), attended(present("ann"))).Spec
	cases := map[string]struct {
		change  func(*learningv1alpha1.LearningEventSpec)
		changes bool
	}{
		"title":       {change: func(s *learningv1alpha1.LearningEventSpec) { s.Title = "Another title" }, changes: true},
		"description": {change: func(s *learningv1alpha1.LearningEventSpec) { s.Description = "More" }, changes: true},
		"type":        {change: func(s *learningv1alpha1.LearningEventSpec) { s.Type = learningv1alpha1.WorkshopEvent }, changes: true},
		"start": {change: func(s *learningv1alpha1.LearningEventSpec) {
			s.Start = metav1.NewTime(s.Start.Add(time.Hour))
		}, changes: true},
		"duration":  {change: func(s *learningv1alpha1.LearningEventSpec) { s.Duration.Duration = time.Hour }, changes: true},
		"location":  {change: func(s *learningv1alpha1.LearningEventSpec) { s.Location = "Room 2" }, changes: true},
		"cancelled": {change: func(s *learningv1alpha1.LearningEventSpec) { s.Cancelled = true }, changes: true},
		"attendance": {change: func(s *learningv1alpha1.LearningEventSpec) {
			s.Attendance = append(s.Attendance, absent("bob"))
		}},
		"approval": {change: func(s *learningv1alpha1.LearningEventSpec) {
			s.Approval = &learningv1alpha1.Approval{Approver: "pillar-lead", ContentHash: ContentHash(s)}
		}},
		"the same instant in another zone": {change: func(s *learningv1alpha1.LearningEventSpec) {
			s.Start = metav1.NewTime(s.Start.In(time.FixedZone("UTC-6", -6*3600)))
		}},
		"countsTowardAttendance": {change: func(s *learningv1alpha1.LearningEventSpec) { s.CountsTowardAttendance = testutil.Ptr(false) }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			changed := *base.DeepCopy()
			tc.change(&changed)
			before, after := CalendarHash(&base), CalendarHash(&changed)
			if (before != after) != tc.changes {
				t.Errorf("changing the %s: hash %s -> %s, want a change: %t", name, before, after, tc.changes)
			}
		})
	}
}

func TestCalendarRevision(t *testing.T) {
	first := metav1.NewTime(instant("2026-03-01T08:00:00Z"))
	later := metav1.NewTime(instant("2026-03-10T10:00:00Z"))
	cases := map[string]struct {
		previous *learningv1alpha1.EventCalendar
		hash     string
		want     *learningv1alpha1.EventCalendar
	}{
		"first publication": {
			hash: "sha256:a",
			want: &learningv1alpha1.EventCalendar{Hash: "sha256:a", Revised: &later},
		},
		"a status written before the hash existed": {
			previous: &learningv1alpha1.EventCalendar{},
			hash:     "sha256:a",
			want:     &learningv1alpha1.EventCalendar{Hash: "sha256:a", Revised: &later},
		},
		"unchanged": {
			previous: &learningv1alpha1.EventCalendar{Sequence: 3, Hash: "sha256:a", Revised: &first},
			hash:     "sha256:a",
			want:     &learningv1alpha1.EventCalendar{Sequence: 3, Hash: "sha256:a", Revised: &first},
		},
		"changed": {
			previous: &learningv1alpha1.EventCalendar{Sequence: 3, Hash: "sha256:a", Revised: &first},
			hash:     "sha256:b",
			want:     &learningv1alpha1.EventCalendar{Sequence: 4, Hash: "sha256:b", Revised: &later},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var before *learningv1alpha1.EventCalendar
			if tc.previous != nil {
				before = tc.previous.DeepCopy()
			}
			got := calendarRevision(tc.previous, tc.hash, later)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("revision (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.previous); diff != "" {
				t.Errorf("the previous revision was modified (-before +after):\n%s", diff)
			}
		})
	}
}

// TestCalendarSequence evaluates a unit, feeds the statuses back as the controller
// writes them, changes the event and evaluates again an hour later.
func TestCalendarSequence(t *testing.T) {
	start := instant("2026-03-17T12:00:00Z")
	snapshot := func() Snapshot {
		return Snapshot{
			Now: now, Community: community(readers(2)),
			Cohorts:     []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
			Memberships: []*learningv1alpha1.Membership{member("ann", "alpha", mail("ann"), "Member", day("2025-12-01"))},
			Events: []*learningv1alpha1.LearningEvent{
				event("g", "alpha", start, func(e *learningv1alpha1.LearningEvent) { e.Spec.Location = "Room 1" }),
				event("other", "alpha", start.AddDate(0, 0, 7)),
			},
		}
	}
	type entry struct {
		Sequence int32
		Stamp    time.Time
	}
	// entryOf reads event g's calendar entry and checks it against its status.
	entryOf := func(t *testing.T, out Outcome) entry {
		t.Helper()
		for _, e := range out.Publications["alpha"].Calendar.Events {
			if e.UID != ics.UID(ns, "g") {
				continue
			}
			cal := out.Events["g"].Calendar
			if cal == nil || cal.Revised == nil {
				t.Fatalf("status.calendar of g = %+v, want a revision", cal)
			}
			if cal.Sequence != e.Sequence || !cal.Revised.Time.Equal(e.Stamp) {
				t.Errorf("calendar entry (sequence %d, stamp %s) differs from status.calendar %+v", e.Sequence, e.Stamp, cal)
			}
			return entry{Sequence: e.Sequence, Stamp: e.Stamp}
		}
		t.Fatalf("g is not in the calendar")
		return entry{}
	}

	first := Evaluate(snapshot())
	if got, want := entryOf(t, first), (entry{Sequence: 0, Stamp: now}); got != want {
		t.Fatalf("first evaluation: %+v, want %+v", got, want)
	}
	if got, want := first.Events["g"].Calendar.Hash, CalendarHash(&snapshot().Events[0].Spec); got != want {
		t.Errorf("status.calendar.hash = %s, want CalendarHash = %s", got, want)
	}

	hourLater := now.Add(time.Hour)
	cases := map[string]struct {
		change func(*learningv1alpha1.LearningEvent)
		want   entry
	}{
		"nothing changed": {change: func(*learningv1alpha1.LearningEvent) {}, want: entry{Sequence: 0, Stamp: now}},
		"attendance recorded": {
			change: func(e *learningv1alpha1.LearningEvent) {
				e.Spec.Attendance = []learningv1alpha1.AttendanceRecord{present("ann")}
			},
			want: entry{Sequence: 0, Stamp: now},
		},
		"title": {
			change: func(e *learningv1alpha1.LearningEvent) { e.Spec.Title = "Rescheduled" },
			want:   entry{Sequence: 1, Stamp: hourLater},
		},
		"time": {
			change: func(e *learningv1alpha1.LearningEvent) { e.Spec.Start = metav1.NewTime(start.Add(time.Hour)) },
			want:   entry{Sequence: 1, Stamp: hourLater},
		},
		"location": {
			change: func(e *learningv1alpha1.LearningEvent) { e.Spec.Location = "Room 2" },
			want:   entry{Sequence: 1, Stamp: hourLater},
		},
		"cancelled": {
			change: func(e *learningv1alpha1.LearningEvent) { e.Spec.Cancelled = true },
			want:   entry{Sequence: 1, Stamp: hourLater},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			next := withStatuses(snapshot(), first)
			next.Now = hourLater
			tc.change(next.Events[0])
			out := Evaluate(next)
			if got := entryOf(t, out); got != tc.want {
				t.Errorf("after a change of the %s: %+v, want %+v", name, got, tc.want)
			}
			// The other event did not change.
			other := out.Events["other"].Calendar
			if other == nil || other.Sequence != 0 || other.Revised == nil || !other.Revised.Time.Equal(now) {
				t.Errorf("status.calendar of the unchanged event = %+v, want sequence 0 revised at %s", other, now)
			}
			if name == "cancelled" {
				for _, e := range out.Publications["alpha"].Calendar.Events {
					if e.UID == ics.UID(ns, "g") && !e.Cancelled {
						t.Errorf("the cancelled event is not marked cancelled in the calendar")
					}
				}
			}
		})
	}

	t.Run("each change adds one", func(t *testing.T) {
		s := snapshot()
		out := Evaluate(s)
		clock := now
		for i, title := range []string{"One", "Two", "Two", "Three"} {
			s = withStatuses(s, out)
			clock = clock.Add(time.Hour)
			s.Now = clock
			s.Events[0].Spec.Title = title
			out = Evaluate(s)
			wantSeq := []int32{1, 2, 2, 3}[i]
			if got := out.Events["g"].Calendar.Sequence; got != wantSeq {
				t.Errorf("after title %q: sequence %d, want %d", title, got, wantSeq)
			}
		}
	})
}

// TestCalendarLeavesOutWhatTheFeedCannotHold checks that an event the API admits but
// the feed cannot write (one ending after year 9999, or starting at the zero time)
// is left out of the calendar instead of failing its render for every event.
func TestCalendarLeavesOutWhatTheFeedCannotHold(t *testing.T) {
	for name, start := range map[string]string{
		"ends after year 9999":       "9999-12-31T23:00:00Z",
		"starts at the zero time":    "0001-01-01T00:00:00Z",
		"starts in its first second": "0001-01-01T00:00:00.5Z",
	} {
		t.Run(name, func(t *testing.T) {
			far := event("far", "alpha", instant(start))
			s := Snapshot{
				Now: now, Community: community(readers(2)),
				Cohorts: []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
				Events:  []*learningv1alpha1.LearningEvent{far, event("kept", "alpha", instant("2026-03-24T12:00:00Z"))},
			}
			p, _ := publicationOf(t, s, "alpha")
			if len(p.Calendar.Events) != 1 || p.Calendar.Events[0].UID != ics.UID(ns, "kept") {
				t.Fatalf("calendar events %+v, want only the event kept", p.Calendar.Events)
			}
			if _, err := ics.Render(p.Calendar); err != nil {
				t.Errorf("the calendar does not render: %v", err)
			}
		})
	}
}
