package kubectlcohort

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/rules"
)

// PlanAction is one action of a plan, as the actions grid shows it.
type PlanAction struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status string `json:"status"`
	Due    string `json:"due,omitempty"`
	// Overdue is true when the action is neither Done nor Dropped after its due day,
	// in the cohort's time zone.
	Overdue bool `json:"overdue"`
}

// PlanRow is one ActionPlan of the cohort.
type PlanRow struct {
	Name string `json:"name"`
	// Membership names a personal plan's membership, Team a team workplan's
	// organization.
	Membership string `json:"membership,omitempty"`
	Team       string `json:"team,omitempty"`
	Owner      string `json:"owner"`
	Partner    string `json:"partner,omitempty"`
	// State is the PlanCurrent reason the operator reported (Current, Overdue, Stale,
	// OwnerNotSeated), or Unknown before it did; Message its message.
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
	// Ready is false, with Problem, when the plan names what does not belong to its
	// cohort.
	Ready       bool   `json:"ready"`
	Problem     string `json:"problem,omitempty"`
	LastCheckIn string `json:"lastCheckIn,omitempty"`
	NextDue     string `json:"nextDue,omitempty"`
	// Shared is how many check-ins the owner shared with the cohort.
	Shared  int          `json:"sharedCheckIns"`
	Actions []PlanAction `json:"actions"`
}

// ActionsReport is the cohort's ActionPlans with their actions.
type ActionsReport struct {
	Cohort    string    `json:"cohort"`
	Namespace string    `json:"namespace"`
	TimeZone  string    `json:"timeZone"`
	Plans     []PlanRow `json:"plans"`
	// Figures are the cohort's status.actionPlans.
	Figures *learningv1alpha1.ActionPlanFigures `json:"figures,omitempty"`
}

// BuildActions gathers the plans of a cohort: the personal plans of its memberships
// and its teams' workplans, ordered by holder and name, each action marked overdue as
// the operator judges it at now.
func BuildActions(cohort *learningv1alpha1.Cohort, memberships []learningv1alpha1.Membership, plans []learningv1alpha1.ActionPlan, now time.Time) ActionsReport {
	loc := cohortLocation(cohort)
	r := ActionsReport{Cohort: cohort.Name, Namespace: cohort.Namespace, TimeZone: loc.String(), Plans: []PlanRow{}, Figures: cohort.Status.ActionPlans}
	ofCohort := map[string]bool{}
	for _, m := range memberships {
		if string(m.Spec.CohortRef.Name) == cohort.Name {
			ofCohort[m.Name] = true
		}
	}
	for i := range plans {
		p := &plans[i]
		spec := p.Spec
		row := PlanRow{Name: p.Name, Owner: spec.Owner, State: "Unknown", Actions: []PlanAction{}}
		switch {
		case spec.MembershipRef != nil && ofCohort[string(spec.MembershipRef.Name)]:
			row.Membership = string(spec.MembershipRef.Name)
		case spec.Team != nil && string(spec.Team.CohortRef.Name) == cohort.Name:
			row.Team = string(spec.Team.Organization)
		default:
			continue
		}
		if spec.PartnerRef != nil {
			row.Partner = string(spec.PartnerRef.Name)
		}
		if c := apimeta.FindStatusCondition(p.Status.Conditions, learningv1alpha1.PlanCurrentCondition); c != nil && c.ObservedGeneration == p.Generation {
			row.State, row.Message = c.Reason, c.Message
		}
		row.Ready = true
		if c := apimeta.FindStatusCondition(p.Status.Conditions, learningv1alpha1.ReadyCondition); c != nil && c.Status == metav1.ConditionFalse {
			row.Ready, row.Problem = false, c.Message
		}
		var last time.Time
		for _, c := range spec.CheckIns {
			if c.At.After(last) {
				last = c.At.Time
			}
			if c.Shared {
				row.Shared++
			}
		}
		if !last.IsZero() {
			row.LastCheckIn = last.In(loc).Format(time.DateOnly)
		}
		for _, a := range spec.Actions {
			pa := PlanAction{ID: a.ID, Title: a.Title, Status: string(cmp.Or(a.Status, learningv1alpha1.ActionPlanned))}
			if a.Due != nil {
				pa.Due = string(*a.Due)
				open := a.Status != learningv1alpha1.ActionDone && a.Status != learningv1alpha1.ActionDropped
				if day, err := rules.ParseDate(*a.Due, loc); err == nil && open {
					pa.Overdue = !now.Before(day.AddDate(0, 0, 1))
					if row.NextDue == "" || pa.Due < row.NextDue {
						row.NextDue = pa.Due
					}
				}
			}
			row.Actions = append(row.Actions, pa)
		}
		r.Plans = append(r.Plans, row)
	}
	slices.SortFunc(r.Plans, func(a, b PlanRow) int {
		return cmp.Or(cmp.Compare(a.Team, b.Team), cmp.Compare(a.Membership, b.Membership), cmp.Compare(a.Name, b.Name))
	})
	return r
}

// WriteTable writes one row per action, the plan's columns on its first row, then the
// cohort's figures.
func (r ActionsReport) WriteTable(w io.Writer) error {
	t := newTable(w)
	t.row("PLAN", "HOLDER", "STATE", "LAST CHECK-IN", "ACTION", "STATUS", "DUE")
	for _, p := range r.Plans {
		holder := p.Membership
		if p.Team != "" {
			holder = "team " + p.Team
		}
		state := p.State
		if !p.Ready {
			state += " (not ready)"
		}
		first := []string{p.Name, holder, state, orNone(p.LastCheckIn)}
		if len(p.Actions) == 0 {
			t.row(append(first, "<none>", "", "")...)
			continue
		}
		for i, a := range p.Actions {
			due := orNone(a.Due)
			if a.Overdue {
				due += " overdue"
			}
			cells := []string{"", "", "", ""}
			if i == 0 {
				cells = first
			}
			t.row(append(cells, a.ID, a.Status, due)...)
		}
	}
	if err := t.flush(); err != nil {
		return err
	}
	p := &printer{w: w}
	if f := r.Figures; f != nil && f.Summary != "" {
		p.printf("\n%s.\n", f.Summary)
	}
	for _, pl := range r.Plans {
		if !pl.Ready && pl.Problem != "" {
			p.printf("%s: %s\n", pl.Name, pl.Problem)
		}
	}
	p.printf("Due days are in %s; STATE is the operator's judgement (Current, Overdue, Stale, OwnerNotSeated).\n", r.TimeZone)
	return p.err
}

// runActions prints the actions grid of a cohort. Plans are their owners': listing
// them needs a role that grants it (the built-in view and edit roles do not).
func runActions(ctx context.Context, s *session, name string) error {
	cohort, memberships, err := s.cohortAndMemberships(ctx, name)
	if err != nil {
		return err
	}
	plans := &learningv1alpha1.ActionPlanList{}
	if err := s.client.List(ctx, plans, client.InNamespace(s.namespace)); err != nil {
		if apierrors.IsForbidden(err) {
			summary := "none yet"
			if f := cohort.Status.ActionPlans; f != nil {
				summary = f.Summary
			}
			return fmt.Errorf("%w\nActionPlans are their owners': the cohort's figures are %s (kubectl cohort status %s)", err, summary, name)
		}
		return err
	}
	r := BuildActions(cohort, memberships, plans.Items, s.clock.Now())
	if s.opts.output != outputTable {
		return writeData(s.out, s.opts.output, r)
	}
	if len(r.Plans) == 0 {
		_, err := fmt.Fprintf(s.err, "No ActionPlans of cohort %s found in %s namespace.\n", name, s.namespace)
		return err
	}
	return r.WriteTable(s.out)
}

// checkIn is what kubectl cohort checkin records.
type checkIn struct {
	id, event, learned, adjust string
	shared                     bool
	progress                   []string
}

// parseProgress reads --progress values: ACTION=STATUS or ACTION=STATUS:NOTE.
func parseProgress(values []string, actions []learningv1alpha1.PlannedAction) ([]learningv1alpha1.ActionProgress, error) {
	var out []learningv1alpha1.ActionProgress
	for _, v := range values {
		id, rest, ok := strings.Cut(v, "=")
		if !ok || id == "" || rest == "" {
			return nil, usageError{fmt.Errorf("--progress %q: want ACTION=STATUS or ACTION=STATUS:NOTE", v)}
		}
		status, note, _ := strings.Cut(rest, ":")
		st := learningv1alpha1.ActionStatus(status)
		if !slices.Contains([]learningv1alpha1.ActionStatus{learningv1alpha1.ActionPlanned, learningv1alpha1.ActionInProgress, learningv1alpha1.ActionDone, learningv1alpha1.ActionDropped}, st) {
			return nil, usageError{fmt.Errorf("--progress %q: status %q is not Planned, InProgress, Done or Dropped", v, status)}
		}
		if !slices.ContainsFunc(actions, func(a learningv1alpha1.PlannedAction) bool { return a.ID == id }) {
			return nil, fmt.Errorf("--progress %q: the plan has no action %q", v, id)
		}
		out = append(out, learningv1alpha1.ActionProgress{ActionID: id, Status: st, Note: strings.TrimSpace(note)})
	}
	return out, nil
}

// recordCheckIn appends a check-in authored by the caller to the plan, and sets the
// status of each action it reports progress on, with an update guarded by the plan's
// resourceVersion (read again on a conflict). The API server's admission policy
// admits it only from its author.
func recordCheckIn(ctx context.Context, c client.Client, key client.ObjectKey, author string, at time.Time, ci checkIn) (*learningv1alpha1.ActionPlan, error) {
	plan := &learningv1alpha1.ActionPlan{}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(ctx, key, plan); err != nil {
			return err
		}
		progress, err := parseProgress(ci.progress, plan.Spec.Actions)
		if err != nil {
			return err
		}
		id := ci.id
		if id == "" {
			id = uniqueCheckInID(plan.Spec.CheckIns, at)
		} else if slices.ContainsFunc(plan.Spec.CheckIns, func(c learningv1alpha1.CheckIn) bool { return c.ID == id }) {
			return fmt.Errorf("--id %s: plan %s has a check-in %s already", id, key.Name, id)
		}
		entry := learningv1alpha1.CheckIn{
			ID: id, At: metav1.NewTime(at.UTC().Truncate(time.Second)), Author: author, Progress: progress,
			Learned: ci.learned, Adjust: ci.adjust, Shared: ci.shared,
		}
		if ci.event != "" {
			entry.EventRef = &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(ci.event)}
		}
		plan.Spec.CheckIns = append(plan.Spec.CheckIns, entry)
		for _, pr := range progress {
			for i := range plan.Spec.Actions {
				if plan.Spec.Actions[i].ID == pr.ActionID {
					plan.Spec.Actions[i].Status = pr.Status
				}
			}
		}
		return c.Update(ctx, plan)
	})
	return plan, err
}

// uniqueCheckInID is the check-in's id by its day, "2026-03-10", with "-2" and on
// when the plan has one that day already.
func uniqueCheckInID(existing []learningv1alpha1.CheckIn, at time.Time) string {
	base := at.UTC().Format(time.DateOnly)
	id := base
	for n := 2; slices.ContainsFunc(existing, func(c learningv1alpha1.CheckIn) bool { return c.ID == id }); n++ {
		id = fmt.Sprintf("%s-%d", base, n)
	}
	return id
}

// runCheckIn records a check-in on a plan as the caller.
func runCheckIn(ctx context.Context, s *session, name string) error {
	if s.opts.checkIn.learned == "" && s.opts.checkIn.adjust == "" && len(s.opts.checkIn.progress) == 0 {
		return usageError{errors.New("a check-in needs at least one of --learned, --adjust or --progress")}
	}
	author, err := whoAmI(ctx, s.client)
	if err != nil {
		return err
	}
	plan, err := recordCheckIn(ctx, s.client, client.ObjectKey{Namespace: s.namespace, Name: name}, author, s.clock.Now(), s.opts.checkIn)
	if err != nil {
		return err
	}
	if s.opts.output != outputTable {
		plan.APIVersion, plan.Kind = learningv1alpha1.GroupVersion.String(), "ActionPlan"
		plan.ManagedFields = nil
		return writeData(s.out, s.opts.output, plan)
	}
	last := plan.Spec.CheckIns[len(plan.Spec.CheckIns)-1]
	shared := "private to you, your team and your partner"
	if last.Shared {
		shared = "shared with the cohort: it is on the agenda of the next gathering"
	}
	p := &printer{w: s.out}
	p.printf("actionplan.learning.cohort.dev/%s: check-in %s recorded as %s, %s.\n", name, last.ID, author, shared)
	return p.err
}
