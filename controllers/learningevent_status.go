package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// contentHash is the hash an approver signs off: the event's title, description, time,
// location and audience. Attendance and cancellation are not content.
func contentHash(spec *learningv1alpha1.LearningEventSpec) string {
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
	return "sha256:" + hex.EncodeToString(sum[:])
}

// eventPhase places the event in time.
func eventPhase(e *learningv1alpha1.LearningEvent, now time.Time) learningv1alpha1.EventPhase {
	start := e.Spec.Start.Time
	switch {
	case e.Spec.Cancelled:
		return learningv1alpha1.EventCancelled
	case now.Before(start):
		return learningv1alpha1.EventScheduled
	case now.Before(start.Add(e.Spec.Duration.Duration)):
		return learningv1alpha1.EventInProgress
	}
	return learningv1alpha1.EventEnded
}

// eventBoundary is the next instant the event's phase changes, or zero.
func eventBoundary(e *learningv1alpha1.LearningEvent, now time.Time) time.Time {
	if e.Spec.Cancelled {
		return time.Time{}
	}
	start := e.Spec.Start.Time
	for _, t := range []time.Time{start, start.Add(e.Spec.Duration.Duration)} {
		if t.After(now) {
			return t
		}
	}
	return time.Time{}
}

// eventStatus computes a LearningEvent's status. It is a pure function of its inputs
// and the previous status.
func eventStatus(e *learningv1alpha1.LearningEvent, obs eventObservation, now time.Time) learningv1alpha1.LearningEventStatus {
	status := *e.Status.DeepCopy()
	status.ObservedGeneration = e.Generation
	conds := conditionSet{conditions: &status.Conditions, generation: e.Generation}
	status.Phase = eventPhase(e, now)
	end := metav1.NewTime(e.Spec.Start.Add(e.Spec.Duration.Duration))
	status.End = &end
	status.ContentHash = contentHash(&e.Spec)

	refType, refName := learningv1alpha1.CohortFoundCondition, ""
	missing := learningv1alpha1.CohortNotFoundReason
	if e.Spec.CohortRef != nil {
		refName = "cohort " + string(e.Spec.CohortRef.Name)
	} else if e.Spec.CommunityRef != nil {
		refType, refName, missing = learningv1alpha1.CommunityFoundCondition, "community "+string(e.Spec.CommunityRef.Name), learningv1alpha1.CommunityNotFoundReason
	}
	if obs.refFound {
		conds.set(refType, metav1.ConditionTrue, learningv1alpha1.FoundReason, "%s", refName)
	} else {
		conds.set(refType, metav1.ConditionFalse, missing, "%s not found", refName)
	}
	setApproved(conds, e, status.ContentHash)
	status.Attendance = setAttendanceRecorded(conds, e, obs, status.Phase)

	// Ready is False only while the cohort or community is missing; approval and
	// attendance are outcomes that their own conditions report.
	if !obs.refFound {
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, missing, "%s not found", refName)
	} else {
		conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason, "%s", eventSummary(status))
	}
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
func setApproved(conds conditionSet, e *learningv1alpha1.LearningEvent, hash string) {
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
	default:
		conds.set(learningv1alpha1.ApprovedCondition, metav1.ConditionTrue, learningv1alpha1.ApprovedReason, "approved by %s", a.Approver)
	}
}

// setAttendanceRecorded counts the recorded attendance and judges whether every
// expected seated member has an entry once an event that counts has ended.
func setAttendanceRecorded(conds conditionSet, e *learningv1alpha1.LearningEvent, obs eventObservation, phase learningv1alpha1.EventPhase) *learningv1alpha1.EventAttendance {
	summary := &learningv1alpha1.EventAttendance{Expected: int32(len(obs.expected))}
	recorded := map[string]bool{}
	for _, a := range e.Spec.Attendance {
		recorded[string(a.Member)] = true
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
	for _, name := range obs.expected {
		if !recorded[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	summary.Unrecorded = int32(len(missing))
	switch {
	case phase == learningv1alpha1.EventCancelled:
		conds.set(learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionTrue, learningv1alpha1.CancelledReason, "the event was cancelled")
	case !countsTowardAttendance(e):
		conds.set(learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionTrue, learningv1alpha1.NotRequiredReason, "the event does not count toward attendance")
	case phase != learningv1alpha1.EventEnded:
		conds.set(learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionUnknown, learningv1alpha1.NotEndedReason, "attendance is due when the event ends")
	case len(missing) > 0:
		conds.set(learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionFalse, learningv1alpha1.NotRecordedReason,
			"%d of %d seated members have no attendance recorded: %s", len(missing), len(obs.expected), abbreviate(missing, 5))
	default:
		conds.set(learningv1alpha1.AttendanceRecordedCondition, metav1.ConditionTrue, learningv1alpha1.RecordedReason,
			"attendance recorded for all %d seated members", len(obs.expected))
	}
	return summary
}

// abbreviate joins the first n names and says how many more there are.
func abbreviate(names []string, n int) string {
	return abbreviateJoin(names, ", ", n)
}

// abbreviateJoin joins the first n items with sep and says how many more there are,
// keeping condition messages well inside their size limit.
func abbreviateJoin(items []string, sep string, n int) string {
	if len(items) <= n {
		return strings.Join(items, sep)
	}
	return strings.Join(items[:n], sep) + sep + "and " + strconv.Itoa(len(items)-n) + " more"
}
