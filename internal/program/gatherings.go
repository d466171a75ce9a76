package program

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
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
	// Apply are the gatherings to create (no UID), or to bring back to the schedule
	// when they are recorded and untouched (the existing event's name and UID).
	Apply []*learningv1alpha1.LearningEvent
	// Delete are recorded, untouched future gatherings the schedule no longer wants.
	Delete []*learningv1alpha1.LearningEvent
	// Keep are the gatherings recorded before any write: the recorded ones that have
	// not ended, and those adopted now. The gatherings step records them with the ones
	// it creates, less the ones it deletes.
	Keep []learningv1alpha1.GeneratedGathering
	// Skipped are the names of scheduled occurrences held by an event the operator
	// did not generate; the schedule skips them.
	Skipped []string
}

// planGatherings plans every cohort's generated gatherings (PlanScheduledGatherings)
// and returns the plans, by cohort name, with the unit's events as the plans' writes
// will leave them: created gatherings added, rewritten ones in their new form, deleted
// ones gone. A suspended cohort writes nothing (a deleted one still deletes); a cohort
// whose schedule is invalid or whose planning panics gets no plan (the panic is its
// failure) and keeps its record.
func planGatherings(s Snapshot) (map[string]GatheringPlan, []*learningv1alpha1.LearningEvent, map[string][]*StepFailure) {
	plans := make(map[string]GatheringPlan, len(s.Cohorts))
	failures := map[string][]*StepFailure{}
	events := s.Events
	for _, c := range s.Cohorts {
		sched := s.Schedules[c.Name]
		var plan GatheringPlan
		var err error
		if f := Guard(c.Name, StepGatherings, func() { plan, err = PlanScheduledGatherings(c, sched, events, s.Taken, s.Now) }); f != nil {
			failures[c.Name] = append(failures[c.Name], f)
			continue
		}
		if err != nil {
			continue // the evaluation reports the schedule; nothing is written
		}
		if c.Spec.Suspend && c.DeletionTimestamp == nil {
			plan.Apply, plan.Delete = nil, nil
		}
		plans[c.Name] = plan
		events = plan.applyTo(events)
	}
	return plans, events, failures
}

// applyTo returns events as the plan's writes leave them; events is not modified.
func (p GatheringPlan) applyTo(events []*learningv1alpha1.LearningEvent) []*learningv1alpha1.LearningEvent {
	if len(p.Apply) == 0 && len(p.Delete) == 0 {
		return events
	}
	byName := make(map[string]int, len(events))
	for i, e := range events {
		byName[e.Name] = i
	}
	out := slices.Clone(events)
	for _, want := range p.Apply {
		if i, ok := byName[want.Name]; ok && want.UID != "" && out[i].UID == want.UID {
			out[i] = Rewritten(out[i], want)
		} else {
			out = append(out, want)
		}
	}
	return slices.DeleteFunc(out, func(e *learningv1alpha1.LearningEvent) bool {
		return slices.ContainsFunc(p.Delete, func(d *learningv1alpha1.LearningEvent) bool { return d.Name == e.Name && d.UID == e.UID })
	})
}

// Rewritten is the gathering have brought back to the schedule's want: want's spec,
// schedule label and generated-spec annotation, with have's other metadata and status.
func Rewritten(have, want *learningv1alpha1.LearningEvent) *learningv1alpha1.LearningEvent {
	updated := have.DeepCopy()
	updated.Spec = *want.Spec.DeepCopy()
	if updated.Labels == nil {
		updated.Labels = map[string]string{}
	}
	updated.Labels[ScheduleLabel] = want.Labels[ScheduleLabel]
	if updated.Annotations == nil {
		updated.Annotations = map[string]string{}
	}
	updated.Annotations[GeneratedAnnotation] = want.Annotations[GeneratedAnnotation]
	return updated
}

// ScheduledNames are the names of the gatherings the cohort's schedule, expanded as
// sched, generates in this pass; nil when it generates none. A controller looks them
// up outside the unit to fill Snapshot.Taken.
func ScheduledNames(cohort *learningv1alpha1.Cohort, sched *Schedule) []string {
	if sched == nil || sched.Err != nil || cohort.DeletionTimestamp != nil {
		return nil
	}
	desired := desiredGatherings(cohort, sched)
	names := make([]string, len(desired))
	for i, e := range desired {
		names[i] = e.Name
	}
	return names
}

// PlanGatherings expands the cohort's schedule at now and plans its gatherings from it
// (PlanScheduledGatherings). events are the events of the cohort's unit.
func PlanGatherings(cohort *learningv1alpha1.Cohort, events []*learningv1alpha1.LearningEvent, now time.Time) (GatheringPlan, error) {
	return PlanScheduledGatherings(cohort, ExpandSchedule(cohort, now), events, nil, now)
}

// PlanScheduledGatherings decides the generated gatherings of a cohort at now from its
// schedule expanded for this pass: the schedule's next lookahead occurrences (one in
// progress included) exist with stable names, and untouched future ones that the
// schedule no longer wants are deleted. events are the events of the cohort's unit.
//
// The operator rewrites or deletes only the gatherings it generated, as recorded by
// name and UID in the cohort's status.gatherings: the schedule label and the
// generated-spec annotation are written by anyone who may patch an event, so they
// prove nothing. A recorded gathering stays recorded until it has ended; while a
// person has touched it (attendance recorded, cancelled or otherwise edited), it is
// neither rewritten nor deleted.
//
// A create whose status write (the record) failed or never happened leaves an event
// the record does not list. It is adopted when it is exactly what the generator would
// create now: the same spec, labels and annotations, so no attendance, no
// cancellation and no approval. Deleting it later loses nothing a person declared.
// (Recording a name before creating would cost a second status write per creation
// and still leave open whether the event found at a name recorded without a UID is
// the operator's; adoption decides that by what the event holds.) Gatherings
// generated before the record existed are adopted by the same rule. Any
// other event at a generated name belongs to a person: it is never rewritten or
// deleted, and the schedule skips that occurrence (Skipped), as it skips the names
// taken by events outside the unit.
//
// A deleted cohort, or one without a schedule, wants none; an invalid schedule plans
// nothing at all and keeps the record, so a typo never deletes gatherings.
func PlanScheduledGatherings(cohort *learningv1alpha1.Cohort, sched *Schedule, events []*learningv1alpha1.LearningEvent, taken map[string]bool, now time.Time) (GatheringPlan, error) {
	recorded := make(map[string]string, len(cohort.Status.Gatherings))
	for _, g := range cohort.Status.Gatherings {
		recorded[g.Name] = g.UID
	}
	byName := make(map[string]*learningv1alpha1.LearningEvent, len(events))
	for _, e := range events {
		byName[e.Name] = e
	}
	mine := func(e *learningv1alpha1.LearningEvent) bool {
		uid, ok := recorded[e.Name]
		return ok && uid == string(e.UID) && refersTo(e, cohort.Name)
	}
	if sched != nil && sched.Err != nil {
		return GatheringPlan{Keep: slices.Clone(cohort.Status.Gatherings)}, sched.Err
	}
	var desired []*learningv1alpha1.LearningEvent
	if sched != nil {
		desired = desiredGatherings(cohort, sched)
	}
	var plan GatheringPlan
	deleting := cohort.DeletionTimestamp != nil
	owned := map[string]*learningv1alpha1.LearningEvent{}
	for _, want := range desired {
		switch e := byName[want.Name]; {
		case e == nil && taken[want.Name] && !deleting:
			plan.Skipped = append(plan.Skipped, want.Name)
		case e == nil:
		case mine(e) || adoptable(e, want):
			owned[e.Name] = e
		case !deleting:
			plan.Skipped = append(plan.Skipped, want.Name)
		}
	}
	for _, e := range events {
		if mine(e) {
			owned[e.Name] = e
		}
	}
	wanted := map[string]bool{}
	for _, want := range desired {
		if deleting || slices.Contains(plan.Skipped, want.Name) {
			continue
		}
		wanted[want.Name] = true
		if e, ok := owned[want.Name]; !ok {
			plan.Apply = append(plan.Apply, want)
		} else if !Touched(e) && GeneratedHash(&e.Spec) != GeneratedHash(&want.Spec) {
			rewrite := want.DeepCopy()
			rewrite.UID, rewrite.ResourceVersion = e.UID, e.ResourceVersion
			plan.Apply = append(plan.Apply, rewrite)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(owned)) {
		e := owned[name]
		if !wanted[name] && !e.Spec.Start.Add(e.Spec.Duration.Duration).After(now) {
			continue // over: nothing will rewrite or delete it, so the record lets go of it
		}
		if len(plan.Keep) < MaxRecordedGatherings {
			plan.Keep = append(plan.Keep, learningv1alpha1.GeneratedGathering{Name: name, UID: string(e.UID)})
		}
		if !wanted[name] && !Touched(e) && e.Spec.Start.After(now) {
			plan.Delete = append(plan.Delete, e)
		}
	}
	return plan, nil
}

// MaxRecordedGatherings is how many gatherings status.gatherings holds at most (the
// API's limit): the lookahead (52 at most), and the recorded gatherings the schedule no
// longer wants that have not ended, which are deleted in the same pass unless a person
// touched them. A gathering beyond the limit is not recorded, so it is never rewritten
// or deleted: the safe side.
const MaxRecordedGatherings = 512

// refersTo reports whether the event is declared for the named cohort.
func refersTo(e *learningv1alpha1.LearningEvent, cohort string) bool {
	return e.Spec.CohortRef != nil && string(e.Spec.CohortRef.Name) == cohort
}

// adoptable reports whether an event the record does not list is exactly the
// generated gathering want: spec, labels and annotations, so nothing a person declared
// (attendance, a cancellation, an approval, a label of their own) is on it.
func adoptable(e, want *learningv1alpha1.LearningEvent) bool {
	return e.DeletionTimestamp == nil && len(e.Spec.Attendance) == 0 && !e.Spec.Cancelled && e.Spec.Approval == nil &&
		maps.Equal(e.Labels, want.Labels) && maps.Equal(e.Annotations, want.Annotations) &&
		GeneratedHash(&e.Spec) == GeneratedHash(&want.Spec)
}

// desiredGatherings builds the generated LearningEvents of the schedule's next
// lookahead occurrences.
func desiredGatherings(cohort *learningv1alpha1.Cohort, sched *Schedule) []*learningv1alpha1.LearningEvent {
	occurrences := sched.Occurrences[:min(len(sched.Occurrences), int(cohort.Spec.Schedule.Lookahead))]
	out := make([]*learningv1alpha1.LearningEvent, 0, len(occurrences))
	for _, occ := range occurrences {
		out = append(out, desiredGathering(cohort, occ, sched.Loc))
	}
	return out
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
