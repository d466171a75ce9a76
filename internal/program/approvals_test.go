package program

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/ics"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// ---- content hash ----------------------------------------------------------------

// goldenSpec is the spec whose v1 content hash is frozen: a title with characters
// encoding/json escapes and a non-ASCII one, a description with a quote and a line
// break, and a start in a zone other than UTC.
func goldenSpec() learningv1alpha1.LearningEventSpec {
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err)
	}
	return learningv1alpha1.LearningEventSpec{
		CohortRef:   &learningv1alpha1.LocalObjectReference{Name: "alpha"},
		Type:        learningv1alpha1.SpeakerSeriesEvent,
		Title:       "Q&A <live> in Zürich",
		Description: "Bring a \"question\".\nAll welcome.",
		// Noon in Chicago on March 17, 2026, daylight saving time (UTC-5).
		Start:      metav1.NewTime(time.Date(2026, time.March, 17, 12, 0, 0, 0, chicago)),
		Duration:   metav1.Duration{Duration: 90 * time.Minute},
		TimeZone:   "America/Chicago",
		Location:   "Room 1, Civic Center",
		Audience:   learningv1alpha1.ExternalAudience,
		Attendance: []learningv1alpha1.AttendanceRecord{present("ann")},
	}
}

// goldenCanonical is goldenSpec in canonical form v1, written out by hand from the form
// ContentHash documents: the seven keys in order, no spaces, <, > and & escaped as
// encoding/json escapes HTML characters, other non-ASCII characters as UTF-8, the start
// in UTC to the second and the duration as time.Duration prints it.
const goldenCanonical = `{"title":"Q\u0026A \u003clive\u003e in Zürich",` +
	`"description":"Bring a \"question\".\nAll welcome.",` +
	`"start":"2026-03-17T17:00:00Z",` +
	`"duration":"1h30m0s",` +
	`"timeZone":"America/Chicago",` +
	`"location":"Room 1, Civic Center",` +
	`"audience":"External"}`

// approvalHashPattern is the pattern the API admits in spec.approval.contentHash.
var approvalHashPattern = regexp.MustCompile(`^v[1-9][0-9]{0,2}:sha256:[a-f0-9]{64}$`)

// TestContentHashGolden freezes canonical form v1: approvals already given carry hashes
// of this form, so any change of it, however small, voids them all. A new form needs a
// new ContentHashVersion, and this test then stays as it is for v1.
func TestContentHashGolden(t *testing.T) {
	if !json.Valid([]byte(goldenCanonical)) {
		t.Fatalf("the hand-written canonical form is not JSON: %s", goldenCanonical)
	}
	sum := sha256.Sum256([]byte(goldenCanonical))
	want := "v1:sha256:" + hex.EncodeToString(sum[:])

	spec := goldenSpec()
	if got := ContentHash(&spec); got != want {
		t.Errorf("ContentHash = %s, want %s, the hash of canonical form v1:\n%s", got, want, goldenCanonical)
	}
	if ContentHashVersion != "v1" {
		t.Errorf("ContentHashVersion = %q: a new version needs a golden test of its own, next to v1's", ContentHashVersion)
	}
}

func TestContentHashForm(t *testing.T) {
	spec := goldenSpec()
	hash := ContentHash(&spec)
	if prefix := ContentHashVersion + ":sha256:"; !strings.HasPrefix(hash, prefix) {
		t.Errorf("ContentHash = %s, want the prefix %s", hash, prefix)
	}
	if !approvalHashPattern.MatchString(hash) || len(hash) > 80 {
		t.Errorf("ContentHash = %s (%d characters): the API would not admit it in spec.approval.contentHash", hash, len(hash))
	}
}

func TestContentHashFields(t *testing.T) {
	base := goldenSpec()
	cases := map[string]struct {
		change  func(*learningv1alpha1.LearningEventSpec)
		changes bool
	}{
		"title":       {change: func(s *learningv1alpha1.LearningEventSpec) { s.Title = "Q&A <live> in Zurich" }, changes: true},
		"description": {change: func(s *learningv1alpha1.LearningEventSpec) { s.Description += " Bring a friend." }, changes: true},
		"start": {change: func(s *learningv1alpha1.LearningEventSpec) {
			s.Start = metav1.NewTime(s.Start.Add(time.Minute))
		}, changes: true},
		"duration": {change: func(s *learningv1alpha1.LearningEventSpec) { s.Duration.Duration = time.Hour }, changes: true},
		"timeZone": {change: func(s *learningv1alpha1.LearningEventSpec) { s.TimeZone = "America/Denver" }, changes: true},
		"location": {change: func(s *learningv1alpha1.LearningEventSpec) { s.Location = "Room 2, Civic Center" }, changes: true},
		"audience": {change: func(s *learningv1alpha1.LearningEventSpec) { s.Audience = learningv1alpha1.InternalAudience }, changes: true},

		"attendance": {change: func(s *learningv1alpha1.LearningEventSpec) {
			s.Attendance = append(s.Attendance, absent("bob"))
		}},
		"cancellation": {change: func(s *learningv1alpha1.LearningEventSpec) { s.Cancelled = true }},
		"countsTowardAttendance": {change: func(s *learningv1alpha1.LearningEventSpec) {
			s.CountsTowardAttendance = testutil.Ptr(true)
		}},
		"approval": {change: func(s *learningv1alpha1.LearningEventSpec) {
			s.Approval = &learningv1alpha1.Approval{Approver: "pillar-lead", ContentHash: ContentHash(s)}
		}},
		"the same instant in UTC": {change: func(s *learningv1alpha1.LearningEventSpec) {
			s.Start = metav1.NewTime(s.Start.UTC())
		}},
		"a fraction of a second": {change: func(s *learningv1alpha1.LearningEventSpec) {
			s.Start = metav1.NewTime(s.Start.Add(500 * time.Millisecond))
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			changed := *base.DeepCopy()
			tc.change(&changed)
			before, after := ContentHash(&base), ContentHash(&changed)
			if (before != after) != tc.changes {
				t.Errorf("changing the %s: hash %s -> %s, want a change: %t", name, before, after, tc.changes)
			}
		})
	}
}

// ---- approvals without the admission policy ---------------------------------------

// policyMissing is what the controller reports when the policy that verifies approvers
// is not installed.
const policyMissing = "ValidatingAdmissionPolicyBinding learningevent-approvers is not installed"

// talkStart is when the community's talk begins: after now, so it is upcoming.
var talkStart = instant("2026-03-12T18:00:00Z")

// talk builds the community's talk, which every cohort publishes when it may.
func talk(opts ...eventOption) *learningv1alpha1.LearningEvent {
	return event("talk", "", talkStart, append([]eventOption{ofCommunity(), typed(learningv1alpha1.SpeakerSeriesEvent)}, opts...)...)
}

// talkSnapshot is a community of two cohorts with the talk.
func talkSnapshot(e *learningv1alpha1.LearningEvent, missing string) Snapshot {
	return Snapshot{
		Now: now, Community: community(readers(2)),
		Cohorts:               []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12), cohort("beta", "2026-01-01", 12)},
		Events:                []*learningv1alpha1.LearningEvent{e},
		ApprovalPolicyMissing: missing,
	}
}

// placement is where a cohort's publication shows the talk.
type placement struct{ Calendar, Upcoming bool }

// talkPlacement reads where each cohort's publication shows the talk.
func talkPlacement(out Outcome) map[string]placement {
	got := map[string]placement{}
	for name, p := range out.Publications {
		var at placement
		for _, e := range p.Calendar.Events {
			at.Calendar = at.Calendar || e.UID == ics.UID(ns, "talk")
		}
		for _, e := range p.Overview.Upcoming {
			at.Upcoming = at.Upcoming || e.Start.Equal(talkStart)
		}
		got[name] = at
	}
	return got
}

func TestApprovalPolicyMissing(t *testing.T) {
	cases := map[string]struct {
		event   *learningv1alpha1.LearningEvent
		missing string
		want    verdict // the Approved condition; its message is checked by mentions
		// mentions are the texts the Approved message must contain.
		mentions []string
		listed   bool
	}{
		"approved, the policy installed": {
			event:    talk(externalAudience(), approvedBy("pillar-lead")),
			want:     verdict{Status: metav1.ConditionTrue, Reason: learningv1alpha1.ApprovedReason},
			mentions: []string{"pillar-lead"},
			listed:   true,
		},
		"approved, the policy missing": {
			event:    talk(externalAudience(), approvedBy("pillar-lead")),
			missing:  policyMissing,
			want:     verdict{Status: metav1.ConditionFalse, Reason: learningv1alpha1.PolicyMissingReason},
			mentions: []string{"pillar-lead", policyMissing},
		},
		"internal, the policy missing": {
			event:   talk(),
			missing: policyMissing,
			want:    verdict{Status: metav1.ConditionTrue, Reason: learningv1alpha1.NotRequiredReason},
			listed:  true,
		},
		"external without approval, the policy missing": {
			event:   talk(externalAudience()),
			missing: policyMissing,
			want:    verdict{Status: metav1.ConditionFalse, Reason: learningv1alpha1.AwaitingApprovalReason},
		},
		"approved for other content, the policy missing": {
			event: talk(externalAudience(), approvedBy("pillar-lead"), func(e *learningv1alpha1.LearningEvent) {
				e.Spec.Location = "Elsewhere"
			}),
			missing:  policyMissing,
			want:     verdict{Status: metav1.ConditionFalse, Reason: learningv1alpha1.ContentChangedReason},
			mentions: []string{"pillar-lead"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := Evaluate(talkSnapshot(tc.event, tc.missing))
			got := verdictOf(out.Events["talk"].Conditions, learningv1alpha1.ApprovedCondition)
			message := got.Message
			got.Message = ""
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Approved (-want +got):\n%s", diff)
			}
			for _, text := range tc.mentions {
				if !strings.Contains(message, text) {
					t.Errorf("the Approved message %q does not mention %q", message, text)
				}
			}
			want := map[string]placement{"alpha": {tc.listed, tc.listed}, "beta": {tc.listed, tc.listed}}
			if diff := cmp.Diff(want, talkPlacement(out)); diff != "" {
				t.Errorf("the talk in each cohort's calendar and upcoming events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEventTransitionsOfThePolicy(t *testing.T) {
	e := talk(externalAudience(), approvedBy("pillar-lead"))
	at := func(reason string) *learningv1alpha1.LearningEventStatus {
		return &learningv1alpha1.LearningEventStatus{Conditions: []metav1.Condition{{Type: learningv1alpha1.ApprovedCondition, Reason: reason}}}
	}
	voided := Transition{corev1.EventTypeWarning, "ApprovalVoided", "VoidApproval",
		"the admission policy that verifies approvers is missing; the approval is not trusted until it is installed"}
	approved := Transition{corev1.EventTypeNormal, "Approved", "Approve", "approved by pillar-lead"}
	cases := map[string]struct {
		before, after *learningv1alpha1.LearningEventStatus
		want          []Transition
	}{
		"the policy goes missing": {
			before: at(learningv1alpha1.ApprovedReason), after: at(learningv1alpha1.PolicyMissingReason),
			want: []Transition{voided},
		},
		"the policy is installed again": {
			before: at(learningv1alpha1.PolicyMissingReason), after: at(learningv1alpha1.ApprovedReason),
			want: []Transition{approved},
		},
		"still missing": {before: at(learningv1alpha1.PolicyMissingReason), after: at(learningv1alpha1.PolicyMissingReason)},
		"approved while the policy is missing: never trusted, nothing voided": {
			before: at(learningv1alpha1.AwaitingApprovalReason), after: at(learningv1alpha1.PolicyMissingReason),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, EventTransitions(e, tc.before, tc.after)); diff != "" {
				t.Errorf("EventTransitions (-want +got):\n%s", diff)
			}
		})
	}
}

// TestApprovalPolicyMissingOverEvaluations removes the policy from under an approved
// event and installs it again, feeding each outcome back as the controller writes it.
func TestApprovalPolicyMissingOverEvaluations(t *testing.T) {
	steps := []struct {
		missing string
		reason  string   // of the Approved condition
		events  []string // the reasons of the transitions
	}{
		{reason: learningv1alpha1.ApprovedReason, events: []string{"Approved"}},
		{missing: policyMissing, reason: learningv1alpha1.PolicyMissingReason, events: []string{"ApprovalVoided"}},
		{missing: policyMissing, reason: learningv1alpha1.PolicyMissingReason},
		{reason: learningv1alpha1.ApprovedReason, events: []string{"Approved"}},
		{reason: learningv1alpha1.ApprovedReason},
	}
	s := talkSnapshot(talk(externalAudience(), approvedBy("pillar-lead")), "")
	for i, step := range steps {
		s.Now = now.Add(time.Duration(i) * time.Hour)
		s.ApprovalPolicyMissing = step.missing
		out := Evaluate(s)
		before, after := s.Events[0], out.Events["talk"]
		if got := condReason(after.Conditions, learningv1alpha1.ApprovedCondition); got != step.reason {
			t.Errorf("step %d: Approved is %s, want %s", i, got, step.reason)
		}
		var got []string
		for _, tr := range EventTransitions(before, &before.Status, &after) {
			got = append(got, tr.Reason)
			if tr.Reason == "ApprovalVoided" && tr.Type != corev1.EventTypeWarning {
				t.Errorf("step %d: ApprovalVoided is a %s event, want a Warning", i, tr.Type)
			}
		}
		if diff := cmp.Diff(step.events, got); diff != "" {
			t.Errorf("step %d: transitions (-want +got):\n%s", i, diff)
		}
		missing := s.ApprovalPolicyMissing
		s = withStatuses(s, out)
		s.ApprovalPolicyMissing = missing
	}
}

// ---- contentChanged --------------------------------------------------------------

func TestContentChanged(t *testing.T) {
	snapshot := func() Snapshot {
		return talkSnapshot(talk(externalAudience()), "")
	}
	first := Evaluate(snapshot())
	if got := first.Events["talk"].ContentChanged; got == nil || !got.Time.Equal(now) {
		t.Fatalf("first evaluation: contentChanged = %s, want %s", rfc(got), now.Format(time.RFC3339))
	}

	// Half a second past the hour: the status keeps times to the second, as the API
	// server stores them.
	later, laterStamp := now.Add(time.Hour+500*time.Millisecond), now.Add(time.Hour)
	cases := map[string]struct {
		change func(*learningv1alpha1.LearningEvent)
		want   time.Time
	}{
		"nothing changed":        {change: func(*learningv1alpha1.LearningEvent) {}, want: now},
		"attendance recorded":    {change: attended(present("ann")), want: now},
		"cancelled":              {change: cancelled(), want: now},
		"countsTowardAttendance": {change: func(e *learningv1alpha1.LearningEvent) { e.Spec.CountsTowardAttendance = testutil.Ptr(true) }, want: now},
		"approved":               {change: approvedBy("pillar-lead"), want: now},
		"title":                  {change: func(e *learningv1alpha1.LearningEvent) { e.Spec.Title = "Another talk" }, want: laterStamp},
		"location":               {change: func(e *learningv1alpha1.LearningEvent) { e.Spec.Location = "Room 2" }, want: laterStamp},
		"start": {change: func(e *learningv1alpha1.LearningEvent) {
			e.Spec.Start = metav1.NewTime(talkStart.Add(time.Hour))
		}, want: laterStamp},
		"a status written before contentChanged existed": {
			change: func(e *learningv1alpha1.LearningEvent) { e.Status.ContentChanged = nil },
			want:   laterStamp,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			next := withStatuses(snapshot(), first)
			next.Now = later
			tc.change(next.Events[0])
			got := Evaluate(next).Events["talk"].ContentChanged
			if got == nil || !got.Time.Equal(tc.want) {
				t.Errorf("contentChanged = %v, want %s", got, tc.want.Format(time.RFC3339))
			}
		})
	}

	t.Run("kept after a change once the content stays", func(t *testing.T) {
		s := withStatuses(snapshot(), first)
		s.Now = later
		s.Events[0].Spec.Title = "Another talk"
		out := Evaluate(s)
		s = withStatuses(s, out)
		s.Now = later.Add(24 * time.Hour)
		if got := Evaluate(s).Events["talk"].ContentChanged; got == nil || !got.Time.Equal(laterStamp) {
			t.Errorf("contentChanged = %v, want %s", got, laterStamp.Format(time.RFC3339))
		}
	})
}

// ---- Isolated --------------------------------------------------------------------

func TestCommunityIsolated(t *testing.T) {
	cases := map[string]struct {
		neighbours []string
		want       verdict // the message is checked by mentions
		mentions   []string
	}{
		"alone in its namespace": {
			want:     verdict{Status: metav1.ConditionTrue, Reason: learningv1alpha1.OwnNamespaceReason},
			mentions: []string{ns},
		},
		"an empty list of neighbours": {
			neighbours: []string{},
			want:       verdict{Status: metav1.ConditionTrue, Reason: learningv1alpha1.OwnNamespaceReason},
			mentions:   []string{ns},
		},
		"one neighbour": {
			neighbours: []string{"housing"},
			want:       verdict{Status: metav1.ConditionFalse, Reason: learningv1alpha1.SharedNamespaceReason},
			mentions:   []string{ns, "housing"},
		},
		"two neighbours": {
			neighbours: []string{"housing", "climate"},
			want:       verdict{Status: metav1.ConditionFalse, Reason: learningv1alpha1.SharedNamespaceReason},
			mentions:   []string{ns, "housing", "climate"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := Evaluate(Snapshot{
				Now: now, Community: community(readers(2)),
				Cohorts:    []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
				Neighbours: tc.neighbours,
			})
			if out.Community == nil {
				t.Fatal("no community status")
			}
			got := verdictOf(out.Community.Conditions, learningv1alpha1.IsolatedCondition)
			message := got.Message
			got.Message = ""
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Isolated (-want +got):\n%s", diff)
			}
			for _, text := range tc.mentions {
				if !strings.Contains(message, text) {
					t.Errorf("the Isolated message %q does not mention %q", message, text)
				}
			}
		})
	}
}

// TestCommunityIsolatedNeighbourOrder: the cache lists a namespace's communities in no
// particular order, and the status must not change with it, or every evaluation of an
// unchanged unit would write the community's status again.
func TestCommunityIsolatedNeighbourOrder(t *testing.T) {
	isolated := func(neighbours ...string) metav1.Condition {
		out := Evaluate(Snapshot{
			Now: now, Community: community(readers(2)),
			Cohorts:    []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
			Neighbours: neighbours,
		})
		for _, c := range out.Community.Conditions {
			if c.Type == learningv1alpha1.IsolatedCondition {
				return c
			}
		}
		t.Fatalf("no Isolated condition")
		return metav1.Condition{}
	}
	listed := []string{"housing", "climate", "arts"}
	want := isolated(listed...)
	reversed := slices.Clone(listed)
	slices.Reverse(reversed)
	if diff := cmp.Diff(want, isolated(reversed...)); diff != "" {
		t.Errorf("Isolated depends on the order of Snapshot.Neighbours (-listed +reversed):\n%s", diff)
	}
}

func TestCommunityIsolatedTransitionTime(t *testing.T) {
	later := now.Add(time.Hour)
	cases := map[string]struct {
		before, after []string // the neighbours at each evaluation
		want          time.Time
	}{
		"still alone":                    {want: now},
		"still shared":                   {before: []string{"housing"}, after: []string{"housing"}, want: now},
		"shared with one more community": {before: []string{"housing"}, after: []string{"housing", "climate"}, want: now},
		"a neighbour arrives":            {after: []string{"housing"}, want: later},
		"the last neighbour leaves":      {before: []string{"housing"}, want: later},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := Snapshot{
				Now: now, Community: community(readers(2)),
				Cohorts:    []*learningv1alpha1.Cohort{cohort("alpha", "2026-01-01", 12)},
				Neighbours: tc.before,
			}
			next := withStatuses(s, Evaluate(s))
			next.Now = later
			next.Neighbours = tc.after
			out := Evaluate(next)
			var got *metav1.Condition
			for i, c := range out.Community.Conditions {
				if c.Type == learningv1alpha1.IsolatedCondition {
					got = &out.Community.Conditions[i]
				}
			}
			if got == nil {
				t.Fatal("no Isolated condition")
			}
			if !got.LastTransitionTime.Time.Equal(tc.want) {
				t.Errorf("Isolated lastTransitionTime = %s, want %s", rfc(&got.LastTransitionTime), tc.want.Format(time.RFC3339))
			}
			if tc.after != nil && !strings.Contains(got.Message, tc.after[len(tc.after)-1]) {
				t.Errorf("the Isolated message %q does not name %s", got.Message, tc.after[len(tc.after)-1])
			}
		})
	}
}
