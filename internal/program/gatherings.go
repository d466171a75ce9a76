package program

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/calendar"
	"github.com/cohort-dev/cohort-operator/internal/names"
)

const (
	// ScheduleLabel marks a LearningEvent generated from a cohort's schedule. Its value
	// is the cohort's name, shortened by the naming rule when longer than a label value
	// may be (names.CohortLabel).
	ScheduleLabel = "learning.cohort.dev/schedule"

	// GeneratedAnnotation holds the hash of the spec the generator last wrote. A
	// generated event whose spec no longer has that hash was edited by a person, and the
	// generator leaves it alone like a declared event.
	GeneratedAnnotation = "learning.cohort.dev/generated-spec"
)

// GatheringPlan is what the generator does to a cohort's generated gatherings.
type GatheringPlan struct {
	// Apply are the gatherings to create, or to bring back to the schedule when they
	// exist untouched.
	Apply []*learningv1alpha1.LearningEvent
	// Delete are untouched future gatherings the schedule no longer wants.
	Delete []*learningv1alpha1.LearningEvent
}

// PlanGatherings decides the generated gatherings of a cohort at now: the schedule's next
// lookahead occurrences (one in progress included) exist with stable names, and
// untouched future ones that the schedule no longer wants are deleted. A gathering that
// a person touched (attendance recorded, cancelled or otherwise edited) is never
// rewritten or deleted. existing are the cohort's generated events. A deleted cohort, or
// one without a schedule, wants none; an invalid schedule plans nothing at all, so a
// typo never deletes gatherings.
func PlanGatherings(cohort *learningv1alpha1.Cohort, existing []*learningv1alpha1.LearningEvent, now time.Time) (GatheringPlan, error) {
	var plan GatheringPlan
	wanted := map[string]bool{}
	if s := cohort.Spec.Schedule; s != nil && cohort.DeletionTimestamp == nil {
		desired, err := desiredGatherings(cohort, now)
		if err != nil {
			return GatheringPlan{}, err
		}
		have := make(map[string]*learningv1alpha1.LearningEvent, len(existing))
		for _, e := range existing {
			have[e.Name] = e
		}
		for _, want := range desired {
			wanted[want.Name] = true
			if e := have[want.Name]; e == nil || (!Touched(e) && GeneratedHash(&e.Spec) != GeneratedHash(&want.Spec)) {
				plan.Apply = append(plan.Apply, want)
			}
		}
	}
	for _, e := range existing {
		if !wanted[e.Name] && !Touched(e) && e.Spec.Start.After(now) {
			plan.Delete = append(plan.Delete, e)
		}
	}
	return plan, nil
}

// desiredGatherings builds the generated LearningEvents of the next lookahead
// occurrences.
func desiredGatherings(cohort *learningv1alpha1.Cohort, now time.Time) ([]*learningv1alpha1.LearningEvent, error) {
	s := cohort.Spec.Schedule
	loc, err := time.LoadLocation(string(s.TimeZone))
	if err != nil {
		return nil, err
	}
	_, term, _, err := cohortWindow(cohort)
	if err != nil {
		return nil, err
	}
	occurrences, err := calendar.Expand(*s, term.Start, term.End, now.Add(-s.Duration.Duration), int(s.Lookahead))
	if err != nil {
		return nil, err
	}
	out := make([]*learningv1alpha1.LearningEvent, 0, len(occurrences))
	for _, occ := range occurrences {
		out = append(out, desiredGathering(cohort, occ, loc))
	}
	return out, nil
}

// desiredGathering builds the generated LearningEvent of one occurrence.
func desiredGathering(cohort *learningv1alpha1.Cohort, occ calendar.Occurrence, loc *time.Location) *learningv1alpha1.LearningEvent {
	s := cohort.Spec.Schedule
	title := s.Title
	if title == "" {
		title = cohort.Spec.DisplayName
		if title == "" {
			title = cohort.Name
		}
		title += " " + string(s.Type)
	}
	// Leave room for ", September 30, 2026" within the 200 characters of a title.
	if len(title) > 170 {
		title = strings.TrimSpace(strings.ToValidUTF8(title[:170], ""))
	}
	e := &learningv1alpha1.LearningEvent{
		ObjectMeta: metav1.ObjectMeta{
			Name:      calendar.EventName(cohort.Name, occ.Start, loc),
			Namespace: cohort.Namespace,
			Labels:    map[string]string{ScheduleLabel: names.CohortLabel(cohort.Name)},
		},
		Spec: learningv1alpha1.LearningEventSpec{
			CohortRef: &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(cohort.Name)},
			Type:      s.Type,
			Title:     title + ", " + occ.Start.In(loc).Format("January 2, 2006"),
			Start:     metav1.NewTime(occ.Start.UTC()),
			Duration:  s.Duration,
			TimeZone:  s.TimeZone,
			Location:  s.Location,
			Audience:  learningv1alpha1.InternalAudience,
		},
	}
	e.Annotations = map[string]string{GeneratedAnnotation: GeneratedHash(&e.Spec)}
	return e
}

// Touched reports whether a person changed a generated gathering: recorded attendance,
// cancelled it, or edited its spec since the generator wrote it. The generator never
// rewrites or deletes a touched gathering.
func Touched(e *learningv1alpha1.LearningEvent) bool {
	return len(e.Spec.Attendance) > 0 || e.Spec.Cancelled || e.Annotations[GeneratedAnnotation] != GeneratedHash(&e.Spec)
}

// GeneratedHash is the hash of a generated gathering's spec, recorded in
// GeneratedAnnotation.
func GeneratedHash(spec *learningv1alpha1.LearningEventSpec) string {
	data, _ := json.Marshal(spec) //nolint:errchkjson // the spec always marshals
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}
