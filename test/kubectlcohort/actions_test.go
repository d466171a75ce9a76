package kubectlcohort

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/kubectlcohort"
	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// planPolicyLabel marks the namespaces where the action-plan policy applies in this
// suite.
const planPolicyLabel = "learning.cohort.dev/test-action-plan-policy"

// planSetup creates the program and, as their owners with the action-plan policy in
// force, Ben's personal plan (an overdue action, a shared check-in), the Lakeside
// Bank team's workplan and a plan of another cohort's membership, with the statuses
// the operator would write. It returns Ben's kubeconfig.
func planSetup(t *testing.T) (ns, ben string) {
	t.Helper()
	ctx := t.Context()
	ns = testutil.Namespace(t, admin)
	namespace := &corev1.Namespace{}
	if err := admin.Get(ctx, client.ObjectKey{Name: ns}, namespace); err != nil {
		t.Fatal(err)
	}
	namespace.Labels = map[string]string{planPolicyLabel: "true"}
	if err := admin.Update(ctx, namespace); err != nil {
		t.Fatal(err)
	}
	if err := testutil.InstallActionPlanPolicy(ctx, admin, "test-action-plans", map[string]string{planPolicyLabel: "true"}); err != nil {
		t.Fatal(err)
	}
	createProgram(t, ns)
	owners := map[string]client.Client{}
	for _, user := range []string{"ben@example.org", "cleo@example.org", "gil@example.org"} {
		c, err := testutil.UserClient(cluster, user, localcluster.AdminGroup)
		if err != nil {
			t.Fatal(err)
		}
		owners[user] = c
	}
	var err error
	if ben, err = cluster.WriteKubeconfig(ns+"-ben.kubeconfig", "ben@example.org", localcluster.AdminGroup); err != nil {
		t.Fatal(err)
	}

	benPlan := testutil.PersonalPlan(ns, "ben-2026", "member-ben", "ben@example.org",
		testutil.Action("mentor", "2026-11-15", learningv1alpha1.ActionInProgress),
		testutil.Action("read", "2026-10-31", learningv1alpha1.ActionDone),
		testutil.Action("speak", "2026-12-15", learningv1alpha1.ActionPlanned))
	benPlan.Spec.PartnerRef = &learningv1alpha1.LocalObjectReference{Name: "member-cleo"}
	benPlan.Spec.CheckIns = []learningv1alpha1.CheckIn{{ID: "2026-10-13", At: metav1.NewTime(noon(10, 13)), Author: "ben@example.org", Learned: "Silence is an answer too.", Shared: true}}
	benPlan.Status.Conditions = []metav1.Condition{
		cond(learningv1alpha1.ReadyCondition, condTrue, learningv1alpha1.SucceededReason, "personal plan of membership member-ben"),
		cond(learningv1alpha1.PlanCurrentCondition, condFalse, learningv1alpha1.PlanOverdueReason, "1 overdue: mentor (due 2026-11-15)"),
	}
	team := testutil.PersonalPlan(ns, "lakeside", "", "cleo@example.org", testutil.Action("budget", "", learningv1alpha1.ActionPlanned))
	team.Spec.MembershipRef = nil
	team.Spec.Team = &learningv1alpha1.PlanTeam{CohortRef: learningv1alpha1.LocalObjectReference{Name: cohortName}, Organization: "Lakeside Bank"}
	team.Status.Conditions = []metav1.Condition{
		cond(learningv1alpha1.ReadyCondition, condTrue, learningv1alpha1.SucceededReason, "team plan"),
		cond(learningv1alpha1.PlanCurrentCondition, condTrue, learningv1alpha1.PlanCurrentReason, "0 of 1 actions done"),
	}
	other := testutil.PersonalPlan(ns, "gil-2025", "member-gil", "gil@example.org")
	for _, p := range []*learningv1alpha1.ActionPlan{benPlan, team, other} {
		saved := p.Status
		if err := owners[p.Spec.Owner].Create(ctx, p); err != nil {
			t.Fatalf("creating %s as its owner: %v", p.Name, err)
		}
		p.Status = saved
		p.Status.ObservedGeneration = p.Generation
		stampConditions(p.Status.Conditions, p.Generation)
		if err := admin.Status().Update(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	return ns, ben
}

// TestActionsGrid shows the cohort's plans, one row per action, overdue marked in the
// cohort's time zone, and not another cohort's plan; -o json carries the same.
func TestActionsGrid(t *testing.T) {
	ns, _ := planSetup(t)
	kubeconfig := kubeconfigIn(t, adminKubeconfig, ns)
	golden(t, "actions", ns, plugin(t, kubeconfig, "actions", cohortName).succeed(t).stdout)

	var r kubectlcohort.ActionsReport
	if err := json.Unmarshal([]byte(plugin(t, kubeconfig, "actions", cohortName, "-o", "json").succeed(t).stdout), &r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range r.Plans {
		for _, a := range p.Actions {
			got = append(got, p.Name+"/"+a.ID+" "+a.Status+" "+a.Due+map[bool]string{true: " overdue"}[a.Overdue])
		}
	}
	want := []string{"ben-2026/mentor InProgress 2026-11-15 overdue", "ben-2026/read Done 2026-10-31", "ben-2026/speak Planned 2026-12-15", "lakeside/budget Planned "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("actions -o json (-want +got):\n%s", diff)
	}

	outsider, err := cluster.WriteKubeconfig(ns+"-outsider.kubeconfig", "outsider")
	if err != nil {
		t.Fatal(err)
	}
	plugin(t, outsider, "actions", cohortName, "-n", ns).fail(t, `Error from server (Forbidden)`)
}

// TestCheckIn records check-ins as the caller, through the action-plan policy: the
// progress sets the actions' status, a second check-in the same day gets its own id,
// and bad progress or an empty check-in is refused naming what is wrong.
func TestCheckIn(t *testing.T) {
	ns, ben := planSetup(t)
	ben = kubeconfigIn(t, ben, ns)
	out := plugin(t, ben, "checkin", "ben-2026", "--learned", "Asking first changed the conversation.", "--progress", "mentor=Done:Met two newcomers", "--shared").succeed(t).stdout
	if want := "actionplan.learning.cohort.dev/ben-2026: check-in 2026-11-22 recorded as ben@example.org, shared with the cohort: it is on the agenda of the next gathering.\n"; out != want {
		t.Errorf("checkin said %q, want %q", out, want)
	}
	plugin(t, ben, "checkin", "ben-2026", "--adjust", "Listen longer.").succeed(t)

	plan := &learningv1alpha1.ActionPlan{}
	if err := admin.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "ben-2026"}, plan); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range plan.Spec.CheckIns {
		got = append(got, c.ID+" "+c.Author+" "+c.Learned+c.Adjust+map[bool]string{true: " shared"}[c.Shared])
	}
	want := []string{"2026-10-13 ben@example.org Silence is an answer too. shared", "2026-11-22 ben@example.org Asking first changed the conversation. shared", "2026-11-22-2 ben@example.org Listen longer."}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("check-ins (-want +got):\n%s", diff)
	}
	if s := plan.Spec.Actions[0].Status; s != learningv1alpha1.ActionDone {
		t.Errorf("mentor is %s after progress mentor=Done, want Done", s)
	}
	if p := plan.Spec.CheckIns[1].Progress; len(p) != 1 || p[0].Note != "Met two newcomers" {
		t.Errorf("progress %+v", p)
	}

	// --as acts as another user, as kubectl's does: Cleo, without any role here, may not.
	admin := kubeconfigIn(t, adminKubeconfig, ns)
	plugin(t, admin, "checkin", "lakeside", "--as", "cleo@example.org", "--learned", "Budget first.").fail(t,
		`Error from server (Forbidden): actionplans.learning.cohort.dev "lakeside" is forbidden: User "cleo@example.org" cannot get resource "actionplans"`)
	plugin(t, ben, "checkin", "ben-2026", "--progress", "listen=Done").fail(t, `error: --progress "listen=Done": the plan has no action "listen"`)
	plugin(t, ben, "checkin", "ben-2026", "--progress", "mentor=Finished").fail(t, `status "Finished" is not Planned, InProgress, Done or Dropped`)
	plugin(t, ben, "checkin", "ben-2026").fail(t, "a check-in needs at least one of --learned, --adjust or --progress")
	plugin(t, ben, "checkin", "ben-2026", "--id", "2026-10-13", "--learned", "again").fail(t, "plan ben-2026 has a check-in 2026-10-13 already")
}
