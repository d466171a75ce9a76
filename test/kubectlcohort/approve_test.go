package kubectlcohort

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// Identities of the approval tests.
const (
	// approverUser is bound to the approvers' ClusterRole, as the operator binds a
	// community's spec.approvers.
	approverUser = "allyship-pillar-lead"
	// facilitatorUser may get, update and patch events, as a role of access Edit, but
	// not approve them.
	facilitatorUser = "allyship-facilitator"
)

// externalEvent builds an External speaker series event of the cohort whose status
// the operator has computed: its content hash, and Approved=False awaiting approval.
func externalEvent(namespace, name string) *learningv1alpha1.LearningEvent {
	e := testutil.Gathering(namespace, name, cohortName, noon(time.December, 15))
	e.Spec.Type = learningv1alpha1.SpeakerSeriesEvent
	e.Spec.Title = "Allyship speaker series: " + name
	e.Spec.Audience = learningv1alpha1.ExternalAudience
	e.Spec.TimeZone = "America/Chicago"
	hash := program.ContentHash(&e.Spec)
	e.Status = learningv1alpha1.LearningEventStatus{
		Phase: learningv1alpha1.EventScheduled, ContentHash: hash,
		Conditions: []metav1.Condition{cond(learningv1alpha1.ApprovedCondition, condFalse, learningv1alpha1.AwaitingApprovalReason,
			"an approver must set spec.approval with contentHash "+hash)},
	}
	return e
}

// approvalSetup creates a namespace with External events, binds the approver and the
// facilitator there, and returns the namespace and their kubeconfigs.
func approvalSetup(t *testing.T, events ...*learningv1alpha1.LearningEvent) (ns, approver, facilitator string) {
	t.Helper()
	ns = testutil.Namespace(t, admin)
	for _, e := range events {
		e.Namespace = ns
		create(t, e)
	}
	edit := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allyship-2026-edit"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{learningv1alpha1.GroupVersion.Group}, Resources: []string{"learningevents"},
			Verbs: []string{"get", "list", "watch", "update", "patch"}}},
	}
	for _, obj := range []client.Object{
		edit,
		binding(ns, "allyship-approvers", rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: testutil.ApproverClusterRole}, approverUser),
		binding(ns, "allyship-2026-edit", rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: edit.Name}, facilitatorUser),
	} {
		if err := admin.Create(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
	}
	waitAuthorized(t, ns, approverUser, "approve")
	waitAuthorized(t, ns, facilitatorUser, "patch")
	var err error
	if approver, err = cluster.WriteKubeconfig(ns+"-approver.kubeconfig", approverUser); err != nil {
		t.Fatal(err)
	}
	if facilitator, err = cluster.WriteKubeconfig(ns+"-facilitator.kubeconfig", facilitatorUser); err != nil {
		t.Fatal(err)
	}
	return ns, approver, facilitator
}

// TestApproveAsTheApprover approves as a user the admission policy lets approve: the
// approval names them and carries the content hash; approving again is refused until
// the operator has seen the approval, and then changes nothing.
func TestApproveAsTheApprover(t *testing.T) {
	ns, approver, _ := approvalSetup(t, externalEvent("", "launch"))
	before := getEvent(t, ns, "launch")

	out := plugin(t, approver, "approve", "launch", "-n", ns, "--wait=0").succeed(t).stdout
	want := fmt.Sprintf(`learningevent.learning.cohort.dev/launch approved by %s for content %s
Not waiting for the operator's Approved condition (--wait=0); look later: kubectl -n %s get learningevent launch -o jsonpath='{.status.conditions[?(@.type=="Approved")]}'
`, approverUser, before.Status.ContentHash, ns)
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	after := getEvent(t, ns, "launch")
	if a := after.Spec.Approval; a == nil || a.Approver != approverUser || a.ContentHash != before.Status.ContentHash {
		t.Errorf("spec.approval = %+v, want %s for %s", a, approverUser, before.Status.ContentHash)
	}
	if after.Generation != before.Generation+1 {
		t.Errorf("generation %d after approving at %d: want one change", after.Generation, before.Generation)
	}

	// The approval is a change too: until the operator has seen it, approve cannot
	// tell it from an edit of the content.
	plugin(t, approver, "approve", "launch", "-n", ns).fail(t, "error: learningevent/launch changed after the operator last hashed it (status.observedGeneration 1, metadata.generation 2)")
	after.Status.ObservedGeneration = after.Generation
	if err := admin.Status().Update(t.Context(), after); err != nil {
		t.Fatal(err)
	}
	again := plugin(t, approver, "approve", "launch", "-n", ns, "--wait=0").succeed(t).stdout
	if !strings.Contains(again, "launch already approved by "+approverUser+" for its current content") {
		t.Errorf("approving again:\n%s", again)
	}
	if g := getEvent(t, ns, "launch").Generation; g != after.Generation {
		t.Errorf("approving again changed the event: generation %d, was %d", g, after.Generation)
	}
}

// TestApproveWaitsForTheOperator approves while a stand-in for the operator reports
// the Approved condition, and prints the event with -o json.
func TestApproveWaitsForTheOperator(t *testing.T) {
	ns, approver, _ := approvalSetup(t, externalEvent("", "panel"))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	operator := make(chan error, 1)
	go func() { operator <- reportApproval(ctx, ns, "panel") }()

	out := plugin(t, approver, "approve", "panel", "-n", ns, "--wait=20s", "-o", "json").succeed(t).stdout
	if err := <-operator; err != nil {
		t.Fatal(err)
	}
	var e learningv1alpha1.LearningEvent
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	c := apimeta.FindStatusCondition(e.Status.Conditions, learningv1alpha1.ApprovedCondition)
	if e.Kind != "LearningEvent" || e.APIVersion != learningv1alpha1.GroupVersion.String() || e.ManagedFields != nil {
		t.Errorf("printed %s %s with managedFields %v, want a LearningEvent without them", e.APIVersion, e.Kind, e.ManagedFields)
	}
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != e.Generation || e.Spec.Approval == nil {
		t.Errorf("printed approval %+v and Approved condition %+v, want the approval and Approved=True for generation %d", e.Spec.Approval, c, e.Generation)
	}

	text := plugin(t, approver, "approve", "panel", "-n", ns).succeed(t).stdout
	if !strings.HasSuffix(text, "Approved=True (Approved): approved by "+approverUser+".\n") {
		t.Errorf("approving an approved event prints:\n%s", text)
	}
}

// reportApproval acts as the operator once: when the event carries an approval, it
// reports Approved=True for the event's generation.
func reportApproval(ctx context.Context, namespace, name string) error {
	return wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		e := &learningv1alpha1.LearningEvent{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, e); err != nil {
			return false, err
		}
		if e.Spec.Approval == nil {
			return false, nil
		}
		e.Status.ObservedGeneration = e.Generation
		apimeta.SetStatusCondition(&e.Status.Conditions, metav1.Condition{
			Type: learningv1alpha1.ApprovedCondition, Status: metav1.ConditionTrue, Reason: learningv1alpha1.ApprovedReason,
			Message: "approved by " + e.Spec.Approval.Approver, ObservedGeneration: e.Generation,
		})
		return true, admin.Status().Update(ctx, e)
	})
}

// TestApproveRefused checks what approve refuses, and what the API server refuses.
func TestApproveRefused(t *testing.T) {
	internal := externalEvent("", "circle")
	internal.Spec.Audience = learningv1alpha1.InternalAudience
	unhashed := externalEvent("", "unhashed")
	unhashed.Status.ContentHash = ""
	ns, approver, facilitator := approvalSetup(t, externalEvent("", "launch"), externalEvent("", "edited"), internal, unhashed)

	// The content changes after the operator hashed it: the hash in status is stale.
	edited := getEvent(t, ns, "edited")
	edited.Spec.Title = "Allyship speaker series: a new title"
	if err := admin.Update(t.Context(), edited); err != nil {
		t.Fatal(err)
	}

	plugin(t, approver, "approve", "edited", "-n", ns).fail(t,
		"error: learningevent/edited changed after the operator last hashed it (status.observedGeneration 1, metadata.generation 2), so status.contentHash may not match its content")
	plugin(t, approver, "approve", "circle", "-n", ns).fail(t, "error: learningevent/circle is not External (spec.audience is Internal)")
	plugin(t, approver, "approve", "unhashed", "-n", ns).fail(t, "error: learningevent/unhashed has no status.contentHash yet")
	plugin(t, approver, "approve", "missing", "-n", ns).fail(t, `Error from server (NotFound): learningevents.learning.cohort.dev "missing" not found`)
	// The facilitator may patch the event but not approve it: the admission policy
	// refuses, in its own words.
	plugin(t, facilitator, "approve", "launch", "-n", ns).fail(t,
		"Error from server (Forbidden):", `user "`+facilitatorUser+`" `+testutil.DeniedVerbApprove+"launch in namespace "+ns)

	for _, name := range []string{"edited", "circle", "unhashed", "launch"} {
		if a := getEvent(t, ns, name).Spec.Approval; a != nil {
			t.Errorf("%s: approved by %+v after a refusal", name, a)
		}
	}
}

func getEvent(t *testing.T, namespace, name string) *learningv1alpha1.LearningEvent {
	t.Helper()
	e := &learningv1alpha1.LearningEvent{}
	if err := admin.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: name}, e); err != nil {
		t.Fatal(err)
	}
	return e
}

// binding binds users to a role in namespace.
func binding(namespace, name string, role rbacv1.RoleRef, users ...string) *rbacv1.RoleBinding {
	b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, RoleRef: role}
	for _, u := range users {
		b.Subjects = append(b.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: u})
	}
	return b
}

// waitAuthorized waits until the authorizer allows user verb on learningevents in
// namespace: RBAC follows new bindings within moments, not at once.
func waitAuthorized(t *testing.T, namespace, user, verb string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		return testutil.Authorized(ctx, admin, user, verb, namespace, "")
	})
	if err != nil {
		t.Fatalf("%s may not %s learningevents in %s: %v", user, verb, namespace, err)
	}
}
