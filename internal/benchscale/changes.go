package benchscale

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// changeTimeout bounds the wait for one change's statuses.
const changeTimeout = 30 * time.Second

// changes makes opts.Changes changes one at a time, each in another cohort spread over
// the workload, alternating a member's withdrawal and an edit of one attendance entry
// from Present to Absent, and measures each from just before its write until every
// status it affects shows it in the tracker's watch: for a withdrawal the membership's
// phase and the cohort's count of withdrawn members, for an attendance edit the event's observed
// generation and the member's absence count.
func (e *env) changes(ctx context.Context, mgr *managerProcess, w *Workload) (ChangeResult, error) {
	var r ChangeResult
	before, err := mgr.counters()
	if err != nil {
		return r, err
	}
	cohorts := w.Scale.Cohorts()
	n := min(e.opts.Changes, cohorts)
	for i := range n {
		c := i * cohorts / n
		community, k := c/cohortsPerCommunity, c%cohortsPerCommunity
		ns, cohort := NamespaceOf(community), CohortName(community, k)
		if i%2 == 0 {
			d, err := e.withdraw(ctx, ns, cohort, MembershipName(cohort, leadsPerCohort+(i/2)%membersPerCohort))
			if err != nil {
				return r, fmt.Errorf("change %d: %w", i, err)
			}
			r.Withdrawals = append(r.Withdrawals, d)
			continue
		}
		event := (i / 2) % eventsPerCohort
		member := presentFrom(event, (i/2)%membershipsPerCohort)
		d, err := e.markAbsent(ctx, ns, cohort, event, member)
		if err != nil {
			return r, fmt.Errorf("change %d: %w", i, err)
		}
		r.AttendanceEdits = append(r.AttendanceEdits, d)
	}
	after, err := mgr.counters()
	if err != nil {
		return r, err
	}
	r.Requests = after.since(before)
	return r, nil
}

// withdraw withdraws a member and waits until the membership is Withdrawn and the
// cohort counts one seated member fewer.
func (e *env) withdraw(ctx context.Context, ns, cohort, member string) (time.Duration, error) {
	c := &learningv1alpha1.Cohort{}
	if err := e.tracker.cache.Get(ctx, client.ObjectKey{Namespace: ns, Name: cohort}, c); err != nil {
		return 0, err
	}
	if c.Status.Members == nil {
		return 0, fmt.Errorf("cohort %s/%s has no member counts", ns, cohort)
	}
	withdrawn := c.Status.Members.Withdrawn
	m := &learningv1alpha1.Membership{}
	m.Namespace, m.Name = ns, member
	start := time.Now()
	if err := e.client.Patch(ctx, m, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"withdrawn":true}}`))); err != nil {
		return 0, err
	}
	generation := m.Generation
	err := e.tracker.waitFor(ctx, changeTimeout, func(r client.Reader) bool {
		got := &learningv1alpha1.Membership{}
		if r.Get(ctx, client.ObjectKey{Namespace: ns, Name: member}, got) != nil || got.Status.ObservedGeneration < generation || got.Status.Phase != learningv1alpha1.MembershipWithdrawn {
			return false
		}
		c := &learningv1alpha1.Cohort{}
		return r.Get(ctx, client.ObjectKey{Namespace: ns, Name: cohort}, c) == nil && c.Status.Members != nil && c.Status.Members.Withdrawn == withdrawn+1
	})
	if err != nil {
		return 0, fmt.Errorf("withdrawal of %s/%s not shown within %s: %w", ns, member, changeTimeout, err)
	}
	return time.Since(start), nil
}

// markAbsent changes member's entry on declared gathering event of cohort from Present
// to Absent and waits until the event's status observes it and the member's status
// counts one more absence.
func (e *env) markAbsent(ctx context.Context, ns, cohort string, event, member int) (time.Duration, error) {
	name := MembershipName(cohort, member)
	m := &learningv1alpha1.Membership{}
	if err := e.tracker.cache.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m); err != nil {
		return 0, err
	}
	if m.Status.Attendance == nil {
		return 0, fmt.Errorf("membership %s/%s has no attendance summary", ns, name)
	}
	absent := m.Status.Attendance.Absent
	ev := &learningv1alpha1.LearningEvent{}
	if err := e.tracker.cache.Get(ctx, client.ObjectKey{Namespace: ns, Name: GatheringName(cohort, event)}, ev); err != nil {
		return 0, err
	}
	attendance := slices.Clone(ev.Spec.Attendance)
	i := slices.IndexFunc(attendance, func(a learningv1alpha1.AttendanceRecord) bool { return string(a.Member) == name })
	if i < 0 || attendance[i].Status != learningv1alpha1.AttendancePresent {
		return 0, fmt.Errorf("%s was not recorded present at %s", name, ev.Name)
	}
	attendance[i].Status = learningv1alpha1.AttendanceAbsent
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"attendance": attendance}})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := e.client.Patch(ctx, ev, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return 0, err
	}
	generation := ev.Generation
	err = e.tracker.waitFor(ctx, changeTimeout, func(r client.Reader) bool {
		got := &learningv1alpha1.LearningEvent{}
		if r.Get(ctx, client.ObjectKeyFromObject(ev), got) != nil || got.Status.ObservedGeneration < generation {
			return false
		}
		m := &learningv1alpha1.Membership{}
		return r.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m) == nil && m.Status.Attendance != nil && m.Status.Attendance.Absent == absent+1
	})
	if err != nil {
		return 0, fmt.Errorf("absence of %s at %s not shown within %s: %w", name, ev.Name, changeTimeout, err)
	}
	return time.Since(start), nil
}

// presentFrom is the first membership from m on, cyclically, recorded present at
// declared gathering event.
func presentFrom(event, m int) int {
	for !PresentAt(m, event) {
		m = (m + 1) % membershipsPerCohort
	}
	return m
}

// percentile is the p-th percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (p*len(sorted) + 99) / 100
	return sorted[min(max(i, 1), len(sorted))-1]
}
