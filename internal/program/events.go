package program

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// eventView is one LearningEvent as the evaluation sees it.
type eventView struct {
	obj    *learningv1alpha1.LearningEvent
	record rules.EventRecord
	// cohorts are the unit's cohorts the event counts for.
	cohorts []*cohortView
}

func newEventView(e *learningv1alpha1.LearningEvent) *eventView {
	status := make(map[string]learningv1alpha1.AttendanceStatus, len(e.Spec.Attendance))
	for _, a := range e.Spec.Attendance {
		status[string(a.Member)] = a.Status
	}
	start := e.Spec.Start.Time
	return &eventView{obj: e, record: rules.EventRecord{
		Name:      e.Name,
		Start:     start,
		End:       start.Add(e.Spec.Duration.Duration),
		Counts:    CountsTowardAttendance(e),
		Cancelled: e.Spec.Cancelled,
		Status:    status,
	}}
}

// CountsTowardAttendance resolves spec.countsTowardAttendance: when unset, gatherings,
// check-ins and intensives count and other events do not.
func CountsTowardAttendance(e *learningv1alpha1.LearningEvent) bool {
	if e.Spec.CountsTowardAttendance != nil {
		return *e.Spec.CountsTowardAttendance
	}
	switch e.Spec.Type {
	case learningv1alpha1.GatheringEvent, learningv1alpha1.CheckInEvent, learningv1alpha1.IntensiveEvent:
		return true
	}
	return false
}

// ContentHashVersion is the version of the canonical form ContentHash hashes. The
// form is frozen: changing it would void every approval, so a new form gets a new
// version, and the version is part of the hash an approver signs.
const ContentHashVersion = "v1"

// ContentHash is the hash an approver signs off: the event's title, description,
// time, location and audience. Attendance and cancellation are not content.
//
// Canonical form v1: the JSON object {"title","description","start","duration",
// "timeZone","location","audience"}, in that order, as Go's encoding/json writes it
// (no spaces, HTML characters escaped), where start is RFC 3339 in UTC to the second
// and duration is Go's time.Duration string (for example "1h30m0s"); its SHA-256 in
// lower-case hex, written "v1:sha256:<hex>".
func ContentHash(spec *learningv1alpha1.LearningEventSpec) string {
	content := struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Start       string `json:"start"`
		Duration    string `json:"duration"`
		TimeZone    string `json:"timeZone"`
		Location    string `json:"location"`
		Audience    string `json:"audience"`
	}{
		Title:       spec.Title,
		Description: spec.Description,
		Start:       spec.Start.UTC().Format(time.RFC3339),
		Duration:    spec.Duration.Duration.String(),
		TimeZone:    string(spec.TimeZone),
		Location:    spec.Location,
		Audience:    string(spec.Audience),
	}
	data, _ := json.Marshal(content) //nolint:errchkjson // a struct of strings always marshals
	sum := sha256.Sum256(data)
	return ContentHashVersion + ":sha256:" + hex.EncodeToString(sum[:])
}

// CalendarHash is the hash of what a calendar entry publishes: title, description,
// type, time, location and whether the event is cancelled. Any change of it gives the
// entry a new SEQUENCE, so calendar clients replace their copy.
func CalendarHash(spec *learningv1alpha1.LearningEventSpec) string {
	published := struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		Type        string `json:"type"`
		Start       string `json:"start"`
		Duration    string `json:"duration"`
		Location    string `json:"location"`
		Cancelled   bool   `json:"cancelled"`
	}{
		Title:       spec.Title,
		Description: spec.Description,
		Type:        string(spec.Type),
		Start:       spec.Start.UTC().Format(time.RFC3339),
		Duration:    spec.Duration.Duration.String(),
		Location:    spec.Location,
		Cancelled:   spec.Cancelled,
	}
	data, _ := json.Marshal(published) //nolint:errchkjson // a struct of strings always marshals
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// calendarRevision counts the revisions of an event's calendar entry: the first
// publication is sequence 0, and each change of the published fields adds one and
// stamps the revision with the evaluation's clock.
func calendarRevision(previous *learningv1alpha1.EventCalendar, hash string, now metav1.Time) *learningv1alpha1.EventCalendar {
	switch {
	case previous == nil || previous.Hash == "":
		return &learningv1alpha1.EventCalendar{Hash: hash, Revised: &now}
	case previous.Hash == hash:
		return previous.DeepCopy()
	}
	return &learningv1alpha1.EventCalendar{Sequence: previous.Sequence + 1, Hash: hash, Revised: &now}
}

// eventPhase places the event in time.
func eventPhase(e *eventView, now time.Time) learningv1alpha1.EventPhase {
	switch {
	case e.record.Cancelled:
		return learningv1alpha1.EventCancelled
	case now.Before(e.record.Start):
		return learningv1alpha1.EventScheduled
	case now.Before(e.record.End):
		return learningv1alpha1.EventInProgress
	}
	return learningv1alpha1.EventEnded
}

// eventStatus computes a LearningEvent's status from the evaluated unit.
func (u *unit) eventStatus(e *eventView) learningv1alpha1.LearningEventStatus {
	obj := e.obj
	status := *obj.Status.DeepCopy()
	status.ObservedGeneration = obj.Generation
	conds := conditions{list: &status.Conditions, generation: obj.Generation, now: u.stamp()}
	status.Phase = eventPhase(e, u.now)
	end := metav1.NewTime(e.record.End)
	status.End = &end
	status.ContentHash = ContentHash(&obj.Spec)
	if status.ContentHash != obj.Status.ContentHash || status.ContentChanged == nil {
		changed := u.stamp()
		status.ContentChanged = &changed
	}
	status.Calendar = calendarRevision(obj.Status.Calendar, CalendarHash(&obj.Spec), u.stamp())
	if !e.record.Cancelled {
		u.observeBoundary(e.record.Start)
		u.observeBoundary(e.record.End)
	}

	cohorts := e.cohorts
	refType, refName, missing := learningv1alpha1.CohortFoundCondition, "", learningv1alpha1.CohortNotFoundReason
	found := len(cohorts) > 0
	switch {
	case obj.Spec.CohortRef != nil:
		refName = "cohort " + string(obj.Spec.CohortRef.Name)
	case obj.Spec.CommunityRef != nil:
		refType, missing = learningv1alpha1.CommunityFoundCondition, learningv1alpha1.CommunityNotFoundReason
		refName = "community " + string(obj.Spec.CommunityRef.Name)
		found = u.community != nil && u.community.Name == string(obj.Spec.CommunityRef.Name)
	}
	if !found {
		conds.set(refType, metav1.ConditionFalse, missing, "%s not found", refName)
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, missing, "%s not found", refName)
		setApproved(conds, obj, status.ContentHash, u.policyMissing)
		return status
	}
	conds.set(refType, metav1.ConditionTrue, learningv1alpha1.FoundReason, "%s", refName)
	setApproved(conds, obj, status.ContentHash, u.policyMissing)
	status.Attendance = u.setAttendanceRecorded(conds, e, cohorts, status.Phase)
	conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason, "%s", eventSummary(status))
	return status
}

// eventSummary says in a sentence where the event stands.
func eventSummary(status learningv1alpha1.LearningEventStatus) string {
	parts := []string{string(status.Phase)}
	for _, c := range status.Conditions {
		if (c.Type == learningv1alpha1.ApprovedCondition || c.Type == learningv1alpha1.AttendanceRecordedCondition) && c.Status == metav1.ConditionFalse {
			parts = append(parts, c.Message)
		}
	}
	return strings.Join(parts, "; ")
}

// setApproved: Internal events need no approval; External ones are approved while
// spec.approval carries the current content hash.
func setApproved(conds conditions, e *learningv1alpha1.LearningEvent, hash, policyMissing string) {
	a := e.Spec.Approval
	switch {
	case e.Spec.Audience != learningv1alpha1.ExternalAudience:
		conds.set(learningv1alpha1.ApprovedCondition, metav1.ConditionTrue, learningv1alpha1.NotRequiredReason, "internal events need no approval")
	case a == nil:
		conds.set(learningv1alpha1.ApprovedCondition, metav1.ConditionFalse, learningv1alpha1.AwaitingApprovalReason,
			"an approver must set spec.approval with contentHash %s", hash)
	case a.ContentHash != hash:
		conds.set(learningv1alpha1.ApprovedCondition, metav1.ConditionFalse, learningv1alpha1.ContentChangedReason,
			"approved by %s for other content; the current contentHash is %s", a.Approver, hash)
	case policyMissing != "":
		conds.set(learningv1alpha1.ApprovedCondition, metav1.ConditionFalse, learningv1alpha1.PolicyMissingReason,
			"approved by %s, but approvals are not trusted: %s", a.Approver, policyMissing)
	default:
		conds.set(learningv1alpha1.ApprovedCondition, metav1.ConditionTrue, learningv1alpha1.ApprovedReason, "approved by %s", a.Approver)
	}
}

// setAttendanceRecorded counts the recorded attendance, reports entries that name no
// membership of the event's cohorts, and judges whether every member expected at an
// ended event that counts has an entry. A member is expected when its term includes the
// event's start and it held a seat by the event's end (and still holds it, or held it
// until its term ended).
func (u *unit) setAttendanceRecorded(conds conditions, e *eventView, cohorts []*cohortView, phase learningv1alpha1.EventPhase) *learningv1alpha1.EventAttendance {
	summary := &learningv1alpha1.EventAttendance{}
	known := map[string]bool{}
	var expected []string
	for _, cv := range cohorts {
		for _, m := range cv.members {
			known[m.obj.Name] = true
			if expectedAt(m, e) {
				expected = append(expected, m.obj.Name)
			}
		}
	}
	var unknown []string
	for _, a := range e.obj.Spec.Attendance {
		if !known[string(a.Member)] {
			unknown = append(unknown, string(a.Member))
			continue
		}
		switch a.Status {
		case learningv1alpha1.AttendancePresent:
			summary.Present++
		case learningv1alpha1.AttendanceLate:
			summary.Late++
		case learningv1alpha1.AttendanceExcused:
			summary.Excused++
		case learningv1alpha1.AttendanceAbsent:
			summary.Absent++
		}
	}
	var missing []string
	for _, name := range expected {
		if _, ok := e.record.Status[name]; !ok {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	slices.Sort(unknown)
	summary.Expected = int32(len(expected))
	summary.Unrecorded = int32(len(missing))
	summary.Unknown = int32(len(unknown))
	switch {
	case len(unknown) > 0:
		conds.set(learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionFalse, learningv1alpha1.UnknownMembersReason,
			"spec.attendance names %d memberships that are not in the event's cohort or community, and they are not counted: %s",
			len(unknown), abbreviate(unknown, ", ", 5))
	case phase == learningv1alpha1.EventCancelled:
		conds.set(learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionTrue, learningv1alpha1.CancelledReason, "the event was cancelled")
	case !e.record.Counts:
		conds.set(learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionTrue, learningv1alpha1.NotRequiredReason, "the event does not count toward attendance")
	case phase != learningv1alpha1.EventEnded:
		conds.set(learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionUnknown, learningv1alpha1.NotEndedReason, "attendance is due when the event ends")
	case len(missing) > 0:
		conds.set(learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionFalse, learningv1alpha1.NotRecordedReason,
			"%d of %d seated members have no attendance recorded: %s", len(missing), len(expected), abbreviate(missing, ", ", 5))
	default:
		conds.set(learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionTrue, learningv1alpha1.RecordedReason,
			"attendance recorded for all %d seated members", len(expected))
	}
	return summary
}

// expectedAt reports whether the member is expected at the event.
func expectedAt(m *memberView, e *eventView) bool {
	if !m.evaluated() || !m.heldSeat() || m.seatedSince.After(e.record.End) {
		return false
	}
	return !e.record.Start.Before(m.term.Start) && e.record.Start.Before(m.term.End)
}

// abbreviate joins the first n items with sep and says how many more there are,
// keeping condition messages well inside their size limit.
func abbreviate(items []string, sep string, n int) string {
	if len(items) <= n {
		return strings.Join(items, sep)
	}
	return strings.Join(items[:n], sep) + sep + "and " + strconv.Itoa(len(items)-n) + " more"
}
