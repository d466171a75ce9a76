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

// reviewOf is the review approve shows of an event in namespace with content hash.
func reviewOf(namespace, name, title, hash string) string {
	return fmt.Sprintf(`learningevent/%s in namespace %s, the content to approve:
  Title:          %s
  Start:          Tue 2026-12-15 12:00 CST (America/Chicago; 2026-12-15T18:00:00Z)
  Duration:       1h30m0s, until Tue 2026-12-15 13:30 CST
  Audience:       External
  Location:       <none>
  Description:    <none>
  Content hash:   %s
`, name, namespace, title, hash)
}

// TestApproveAsTheApprover approves as a user the admission policy lets approve, for
// the hash they reviewed: approve shows the content, and the approval names them and
// carries the hash. Approving again, before the operator has seen the approval,
// changes nothing.
func TestApproveAsTheApprover(t *testing.T) {
	ns, approver, _ := approvalSetup(t, externalEvent("", "launch"))
	before := getEvent(t, ns, "launch")
	hash := before.Status.ContentHash

	out := plugin(t, approver, "approve", "launch", "-n", ns, "--expect-hash", hash, "--wait=0").succeed(t).stdout
	want := reviewOf(ns, "launch", before.Spec.Title, hash) + fmt.Sprintf(`learningevent.learning.cohort.dev/launch approved by %s for content %s
Not waiting for the operator's Approved condition (--wait=0); look later: kubectl -n %s get learningevent launch -o jsonpath='{.status.conditions[?(@.type=="Approved")]}'
`, approverUser, hash, ns)
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	after := getEvent(t, ns, "launch")
	if a := after.Spec.Approval; a == nil || a.Approver != approverUser || a.ContentHash != hash {
		t.Errorf("spec.approval = %+v, want %s for %s", a, approverUser, hash)
	}
	if after.Generation != before.Generation+1 {
		t.Errorf("generation %d after approving at %d: want one change", after.Generation, before.Generation)
	}

	// The approval is a change too, which the operator has not seen: approve hashes
	// the content with the operator's function and finds it approved already.
	again := plugin(t, approver, "approve", "launch", "-n", ns, "--expect-hash", hash, "--wait=0").succeed(t).stdout
	if !strings.Contains(again, hash+" (computed: the operator has not reported it for this change yet)") ||
		!strings.Contains(again, "launch already approved by "+approverUser+" for its current content") {
		t.Errorf("approving again:\n%s", again)
	}
	if g := getEvent(t, ns, "launch").Generation; g != after.Generation {
		t.Errorf("approving again changed the event: generation %d, was %d", g, after.Generation)
	}
}

// TestApproveOnlyTheReviewedContent: an approver reviews an event (hash H1), a
// facilitator then edits its title (hash H2). Approving H1 is refused and shows the
// new content; declining at the terminal approves nothing; approving H2 after the
// re-review succeeds, and the operator's stand-in, which applies the operator's rule
// (the approval's hash is the content's), reports the event Approved.
func TestApproveOnlyTheReviewedContent(t *testing.T) {
	ns, approver, _ := approvalSetup(t, externalEvent("", "panel"))
	h1 := getEvent(t, ns, "panel").Status.ContentHash

	// The review: without a terminal or a hash, approve shows the content and refuses.
	plugin(t, approver, "approve", "panel", "-n", ns).fail(t,
		"error: learningevent/panel: not approved: stdin is not a terminal", "Title:          Allyship speaker series: panel",
		"Content hash:   "+h1, "kubectl cohort approve panel -n "+ns+" --expect-hash "+h1)

	facilitator, err := testutil.UserClient(cluster, facilitatorUser)
	if err != nil {
		t.Fatal(err)
	}
	edited := getEvent(t, ns, "panel")
	edited.Spec.Title = "Allyship speaker series: a title nobody reviewed"
	if err := facilitator.Update(t.Context(), edited); err != nil {
		t.Fatal(err)
	}
	h2 := program.ContentHash(&edited.Spec)

	plugin(t, approver, "approve", "panel", "-n", ns, "--expect-hash", h1).fail(t,
		"error: learningevent/panel: the content changed since review: you reviewed "+h1+", its content hash is now "+h2+"; nothing was approved",
		"Title:          Allyship speaker series: a title nobody reviewed", "Content hash:   "+h2, "run approve again with --expect-hash "+h2)
	no := atTerminal(t, approver, "n\n", "approve", "panel", "-n", ns)
	if no.code != 1 || !strings.Contains(no.stdout, "a title nobody reviewed") || !strings.HasSuffix(no.stdout, "Approve this content? [y/N] ") ||
		!strings.Contains(no.stderr, "not approved: you did not answer y") {
		t.Errorf("answering no: exit code %d, stdout:\n%s\nstderr:\n%s", no.code, no.stdout, no.stderr)
	}
	if a := getEvent(t, ns, "panel").Spec.Approval; a != nil {
		t.Fatalf("approved %+v after the refusals", a)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	operator := make(chan error, 1)
	go func() { operator <- reportApproval(ctx, ns, "panel") }()
	out := plugin(t, approver, "approve", "panel", "-n", ns, "--expect-hash", h2, "--wait=20s").succeed(t).stdout
	if err := <-operator; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "approved by "+approverUser+" for content "+h2) || !strings.HasSuffix(out, "Approved=True (Approved): approved by "+approverUser+".\n") {
		t.Errorf("approving the reviewed content:\n%s", out)
	}
	e := getEvent(t, ns, "panel")
	if a := e.Spec.Approval; a == nil || a.ContentHash != h2 || a.Approver != approverUser {
		t.Errorf("spec.approval = %+v, want %s for %s", a, approverUser, h2)
	}
	if c := apimeta.FindStatusCondition(e.Status.Conditions, learningv1alpha1.ApprovedCondition); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Approved condition %+v, want True", c)
	}
}

// TestApproveWaitsForTheOperator approves at a terminal, answering yes, while a
// stand-in for the operator reports the Approved condition, and prints the event
// with -o json: the review and the prompt go to stderr, the event to stdout.
func TestApproveWaitsForTheOperator(t *testing.T) {
	ns, approver, _ := approvalSetup(t, externalEvent("", "panel"))
	hash := getEvent(t, ns, "panel").Status.ContentHash
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	operator := make(chan error, 1)
	go func() { operator <- reportApproval(ctx, ns, "panel") }()

	r := atTerminal(t, approver, "y\n", "approve", "panel", "-n", ns, "--wait=20s", "-o", "json")
	if err := <-operator; err != nil {
		t.Fatal(err)
	}
	if want := reviewOf(ns, "panel", "Allyship speaker series: panel", hash) + "Approve this content? [y/N] "; r.code != 0 || r.stderr != want {
		t.Fatalf("exit code %d, stderr:\n%s\nwant:\n%s", r.code, r.stderr, want)
	}
	var e learningv1alpha1.LearningEvent
	if err := json.Unmarshal([]byte(r.stdout), &e); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	c := apimeta.FindStatusCondition(e.Status.Conditions, learningv1alpha1.ApprovedCondition)
	if e.Kind != "LearningEvent" || e.APIVersion != learningv1alpha1.GroupVersion.String() || e.ManagedFields != nil {
		t.Errorf("printed %s %s with managedFields %v, want a LearningEvent without them", e.APIVersion, e.Kind, e.ManagedFields)
	}
	if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != e.Generation || e.Spec.Approval == nil || e.Spec.Approval.ContentHash != hash {
		t.Errorf("printed approval %+v and Approved condition %+v, want the approval of %s and Approved=True for generation %d", e.Spec.Approval, c, hash, e.Generation)
	}

	text := plugin(t, approver, "approve", "panel", "-n", ns, "--expect-hash", hash).succeed(t).stdout
	if !strings.HasSuffix(text, "Approved=True (Approved): approved by "+approverUser+".\n") {
		t.Errorf("approving an approved event prints:\n%s", text)
	}
}

// reportApproval acts as the operator once, by the operator's rule: when the event
// carries an approval for the hash of its content (program.ContentHash), it reports
// the hash and Approved=True for the event's generation.
func reportApproval(ctx context.Context, namespace, name string) error {
	return wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		e := &learningv1alpha1.LearningEvent{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, e); err != nil {
			return false, err
		}
		hash := program.ContentHash(&e.Spec)
		if e.Spec.Approval == nil || e.Spec.Approval.ContentHash != hash {
			return false, nil
		}
		e.Status.ObservedGeneration, e.Status.ContentHash = e.Generation, hash
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
	skewed := externalEvent("", "skewed")
	skewed.Status.ContentHash = "v2:sha256:a-form-this-plugin-does-not-know"
	ns, approver, facilitator := approvalSetup(t, externalEvent("", "launch"), internal, skewed)
	hash := getEvent(t, ns, "launch").Status.ContentHash

	plugin(t, approver, "approve", "circle", "-n", ns, "--expect-hash", hash).fail(t, "error: learningevent/circle is not External (spec.audience is Internal)")
	plugin(t, approver, "approve", "skewed", "-n", ns, "--expect-hash", skewed.Status.ContentHash).fail(t,
		"error: learningevent/skewed: status.contentHash v2:sha256:a-form-this-plugin-does-not-know is not the hash of the event's content as this plugin computes it")
	plugin(t, approver, "approve", "missing", "-n", ns, "--expect-hash", hash).fail(t, `Error from server (NotFound): learningevents.learning.cohort.dev "missing" not found`)
	// The facilitator may patch the event but not approve it: the admission policy
	// refuses, in its own words.
	r := plugin(t, facilitator, "approve", "launch", "-n", ns, "--expect-hash", hash)
	if r.code != 1 || !strings.Contains(r.stderr, "Error from server (Forbidden):") ||
		!strings.Contains(r.stderr, `user "`+facilitatorUser+`" `+testutil.DeniedVerbApprove+"launch in namespace "+ns) {
		t.Errorf("approving as the facilitator: exit code %d, stderr:\n%s", r.code, r.stderr)
	}

	for _, name := range []string{"circle", "skewed", "launch"} {
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
