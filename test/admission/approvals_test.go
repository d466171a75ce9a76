package admission

import (
	"context"
	"fmt"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// soloApproverUser is granted approve on a single event, besides the matrix's four
// identities (testutil.ApproverUser and the others).
const soloApproverUser = "ap-solo-approver@example.org"

// soloApprover is the actor granted approve on the event "solo" only.
const soloApprover testutil.ApprovalActor = "solo-approver"

// TestApprovalMatrixWithoutManager runs the admission rows of the approval matrix
// with no operator running: the API server alone admits or refuses them, given the
// grants the operator would make, created here by hand. The approver is bound to the
// approvers' ClusterRole, the facilitator may get, update and patch the cohort's
// events (a role of access Edit), the member may get them (Read), the outsider has
// nothing. To create events, which the operator lets nobody do, the approver and the
// facilitator get the verb create.
func TestApprovalMatrixWithoutManager(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, admin)
	events := []string{"launch", "circle", "solo", "other"}
	launch := testutil.Gathering(ns, "launch", "spring", time.Date(2030, 3, 10, 18, 0, 0, 0, time.UTC))
	launch.Spec.Type = learningv1alpha1.SpeakerSeriesEvent
	launch.Spec.Title = "Public launch"
	launch.Spec.Audience = learningv1alpha1.ExternalAudience
	solo, other := launch.DeepCopy(), launch.DeepCopy()
	solo.Name, other.Name = "solo", "other"
	circle := testutil.Gathering(ns, "circle", "spring", time.Date(2030, 3, 3, 18, 0, 0, 0, time.UTC))
	grant := func(name string, rule rbacv1.PolicyRule, users ...string) []client.Object {
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: []rbacv1.PolicyRule{rule}}
		return []client.Object{role, binding(ns, name, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}, users...)}
	}
	rule := func(names []string, verbs ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: []string{learningv1alpha1.GroupVersion.Group}, Resources: []string{"learningevents"}, ResourceNames: names, Verbs: verbs}
	}
	objs := []client.Object{launch, circle, solo, other,
		binding(ns, "cop-approvers", rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: testutil.ApproverClusterRole}, testutil.ApproverUser)}
	objs = append(objs, grant("spring-edit", rule(events, "get", "update", "patch"), testutil.FacilitatorUser)...)
	objs = append(objs, grant("spring-read", rule(events, "get"), testutil.MemberUser)...)
	objs = append(objs, grant("event-creator", rule(nil, "create"), testutil.ApproverUser, testutil.FacilitatorUser)...)
	objs = append(objs, grant("solo-patch", rule([]string{"solo", "other"}, "patch"), soloApproverUser)...)
	objs = append(objs, grant("solo-approve", rule([]string{"solo"}, "approve"), soloApproverUser)...)
	for _, obj := range objs {
		if err := admin.Create(ctx, obj); err != nil {
			t.Fatalf("creating %s: %v", obj.GetName(), err)
		}
	}

	m := testutil.ApprovalMatrix{
		Namespace: ns, Cohort: "spring", External: "launch", Internal: "circle", Membership: "member",
		Users: map[testutil.ApprovalActor]string{
			testutil.ApprovalApprover: testutil.ApproverUser, testutil.ApprovalFacilitator: testutil.FacilitatorUser,
			testutil.ApprovalMember: testutil.MemberUser, testutil.ApprovalOutsider: testutil.OutsiderUser, soloApprover: soloApproverUser,
		},
		Clients: map[testutil.ApprovalActor]client.Client{},
		Reader:  admin,
		// No operator computes status.contentHash: the approver hashes the content
		// as the operator would.
		Hash: func(e *learningv1alpha1.LearningEvent) string { return program.ContentHash(&e.Spec) },
	}
	for actor, user := range m.Users {
		var err error
		if m.Clients[actor], err = testutil.UserClient(cluster, user); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []struct{ user, verb, event string }{
		{testutil.ApproverUser, "approve", "launch"}, {testutil.ApproverUser, "create", ""}, {testutil.FacilitatorUser, "update", "launch"},
		{testutil.FacilitatorUser, "create", ""}, {testutil.MemberUser, "get", "launch"}, {soloApproverUser, "approve", "solo"},
	} {
		waitAuthorized(t, ns, g.user, g.verb, g.event)
	}

	approval := func(event string) *learningv1alpha1.Approval {
		e := &learningv1alpha1.LearningEvent{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: event}, e); err != nil {
			t.Fatal(err)
		}
		if e.Status.ObservedGeneration != 0 || len(e.Status.Conditions) > 0 {
			t.Fatalf("event %s has a status: an operator is running (%+v)", event, e.Status)
		}
		return e.Spec.Approval
	}
	after := map[string]func(){
		"approve": func() {
			if a := approval("launch"); a == nil || a.Approver != testutil.ApproverUser {
				t.Errorf("spec.approval = %+v after the approver approved", a)
			}
		},
		"withdraw": func() {
			if a := approval("launch"); a != nil {
				t.Errorf("spec.approval = %+v after the approver removed it", a)
			}
		},
	}
	rows := append(m.AdmissionRows(), m.CreateRows("made")...)
	rows = append(rows,
		testutil.ApprovalRow{Name: "a user granted approve on one event approves it", Actor: soloApprover,
			Do: m.Approve("solo", soloApproverUser)},
		testutil.ApprovalRow{Name: "a user granted approve on one event approves another", Actor: soloApprover,
			Do: m.Approve("other", soloApproverUser), Deny: metav1.StatusReasonForbidden, Message: testutil.DeniedVerbApprove + "other"},
	)
	for i, row := range rows {
		observed, err := m.Attempt(ctx, row)
		t.Logf("%2d. %-13s %-78s want %s; got %s", i+1, row.Actor, row.Name, row.Expected(), observed)
		if err != nil {
			t.Error(err)
		}
		if check, ok := after[row.ID]; ok {
			check()
		}
	}
	if a := approval("launch"); a == nil || a.Approver != testutil.ApproverUser || a.ContentHash != m.Hash(mustEvent(t, ns, "launch")) {
		t.Errorf("after the matrix spec.approval = %+v, want the approver's approval of the current content", a)
	}
}

// binding binds users to a role in namespace.
func binding(namespace, name string, role rbacv1.RoleRef, users ...string) *rbacv1.RoleBinding {
	b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, RoleRef: role}
	for _, u := range users {
		b.Subjects = append(b.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: u})
	}
	return b
}

// waitAuthorized waits until the API server's authorizer allows user verb on the
// named learningevent (any, when event is empty): RBAC follows new bindings within
// moments, not at once.
func waitAuthorized(t *testing.T, namespace, user, verb, event string) {
	t.Helper()
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ok, err := testutil.Authorized(context.Background(), admin, user, verb, namespace, event)
		if ok {
			return
		}
		last = err
		if err == nil {
			last = fmt.Errorf("not allowed")
		}
	}
	t.Fatalf("%s may %s learningevents/%s: %v", user, verb, event, last)
}

func mustEvent(t *testing.T, namespace, name string) *learningv1alpha1.LearningEvent {
	t.Helper()
	e := &learningv1alpha1.LearningEvent{}
	if err := admin.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, e); err != nil {
		t.Fatal(err)
	}
	return e
}
