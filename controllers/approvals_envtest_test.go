package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/ics"
	"github.com/cohort-dev/cohort-operator/internal/names"
	"github.com/cohort-dev/cohort-operator/internal/publish"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// approvalFixture is a community whose approver is testutil.ApproverUser, with a Facilitator
// role of access Edit and a Member role of access Read; a cohort with a seated
// facilitator and a seated member; an External event "launch" a week ahead, not yet
// approved, and an Internal event "circle". The operator has bound the approver and
// provisioned the members' access before it returns.
type approvalFixture struct {
	ns     string
	names  childNames
	matrix testutil.ApprovalMatrix
}

func newApprovalFixture(t *testing.T) approvalFixture {
	t.Helper()
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	facilitator := testutil.Role("Facilitator", 1, 2)
	facilitator.Access = learningv1alpha1.AccessEdit
	community := testutil.Community(ns, "cop", facilitator, testutil.Role("Member", 0, 5))
	community.Spec.Approvers = []learningv1alpha1.Approver{
		{Kind: learningv1alpha1.UserSubject, Name: testutil.ApproverUser},
		{Kind: learningv1alpha1.GroupSubject, Name: "ap-pillar-leads"},
	}
	cohort := testutil.Cohort(ns, "spring", "cop", "2026-01-01", 12)
	create(t, community, cohort,
		testutil.Membership(ns, "facilitator", "spring", testutil.FacilitatorUser, "Facilitator"),
		testutil.Membership(ns, "member", "spring", testutil.MemberUser, "Member"))
	launch := testutil.Gathering(ns, "launch", "spring", sampleDay.Add(7*24*time.Hour))
	launch.Spec.Type = learningv1alpha1.SpeakerSeriesEvent
	launch.Spec.Title = "Public launch"
	launch.Spec.Audience = learningv1alpha1.ExternalAudience
	create(t, launch, testutil.Gathering(ns, "circle", "spring", sampleDay.Add(3*24*time.Hour)))

	f := approvalFixture{ns: ns, names: namesOf(cohort)}
	f.matrix = testutil.ApprovalMatrix{
		Namespace: ns, Cohort: "spring", External: "launch", Internal: "circle", Membership: "member",
		Users: map[testutil.ApprovalActor]string{
			testutil.ApprovalApprover: testutil.ApproverUser, testutil.ApprovalFacilitator: testutil.FacilitatorUser,
			testutil.ApprovalMember: testutil.MemberUser, testutil.ApprovalOutsider: testutil.OutsiderUser,
		},
		Clients: map[testutil.ApprovalActor]client.Client{},
		Reader:  k8s,
		Hash:    func(e *learningv1alpha1.LearningEvent) string { return e.Status.ContentHash },
	}
	for actor, user := range f.matrix.Users {
		f.matrix.Clients[actor] = identity(t, user)
	}

	f.waitApproved(t, "circle", metav1.ConditionTrue, learningv1alpha1.NotRequiredReason)
	f.waitApproved(t, "launch", metav1.ConditionFalse, learningv1alpha1.AwaitingApprovalReason)
	f.waitCalendar(t, "circle", true)
	f.waitCalendar(t, "launch", false)
	// The operator's grants, as the API server's authorizer sees them.
	f.waitAuthorized(t, testutil.ApproverUser, "approve", "launch", true)
	f.waitAuthorized(t, testutil.FacilitatorUser, "update", "launch", true)
	f.waitAuthorized(t, testutil.FacilitatorUser, "get", "launch", true)
	// Attendance notes hold reasons for absences: a Read member gets no event.
	f.waitAuthorized(t, testutil.MemberUser, "get", "launch", false)
	return f
}

func (f approvalFixture) key(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: f.ns, Name: name}
}

// waitApproved waits until the event's Approved condition, computed for its current
// generation, has status and reason.
func (f approvalFixture) waitApproved(t *testing.T, event string, status metav1.ConditionStatus, reason string) *learningv1alpha1.LearningEvent {
	t.Helper()
	e := &learningv1alpha1.LearningEvent{}
	eventually(t, fmt.Sprintf("event %s is Approved=%s/%s", event, status, reason), func() error {
		if err := k8s.Get(context.Background(), f.key(event), e); err != nil {
			return err
		}
		if e.Status.ObservedGeneration != e.Generation || e.Status.ContentHash == "" {
			return fmt.Errorf("status of generation %d not computed (observed %d, contentHash %q)", e.Generation, e.Status.ObservedGeneration, e.Status.ContentHash)
		}
		return hasCondition(e.Status.Conditions, learningv1alpha1.ApprovedCondition, status, reason)
	})
	return e
}

// waitCalendar waits until the cohort's calendar feed lists the event, or does not.
func (f approvalFixture) waitCalendar(t *testing.T, event string, listed bool) {
	t.Helper()
	uid := "UID:" + ics.UID(f.ns, event)
	eventually(t, fmt.Sprintf("the calendar lists %s: %v", event, listed), func() error {
		cm := &corev1.ConfigMap{}
		if err := k8s.Get(context.Background(), f.key(f.names.Calendar), cm); err != nil {
			return err
		}
		// Lines of the feed are folded at 75 octets (RFC 5545, 3.1).
		feed := strings.ReplaceAll(cm.Data[publish.CalendarKey], "\r\n ", "")
		if strings.Contains(feed, uid) != listed {
			return fmt.Errorf("%s listed %v, want %v:\n%s", uid, !listed, listed, feed)
		}
		return nil
	})
}

// waitAuthorized waits until the API server's authorizer allows user verb on the
// event, or denies it.
func (f approvalFixture) waitAuthorized(t *testing.T, user, verb, event string, want bool) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s may %s learningevents/%s: %v", user, verb, event, want), func() error {
		got, err := testutil.Authorized(context.Background(), k8s, user, verb, f.ns, event)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("allowed = %v", got)
		}
		return nil
	})
}

// accessRows are the rows the operator's provisioned RBAC decides: the documents, and
// what the approvers' ClusterRole does not grant.
func (f approvalFixture) accessRows() []testutil.ApprovalRow {
	ctx := context.Background()
	forbidden := func(verb, resource string) string { return fmt.Sprintf("cannot %s resource %q", verb, resource) }
	getRoster := func(_ context.Context, c client.Client) error {
		return c.Get(ctx, f.key(f.names.Roster), &corev1.ConfigMap{})
	}
	getEvent := func(_ context.Context, c client.Client) error {
		e := &learningv1alpha1.LearningEvent{}
		if err := c.Get(ctx, f.key("launch"), e); err != nil {
			return err
		}
		if e.Status.ContentHash == "" {
			return fmt.Errorf("read the event without status.contentHash")
		}
		return nil
	}
	return []testutil.ApprovalRow{
		{Name: "an outsider gets the roster ConfigMap", Actor: testutil.ApprovalOutsider, Do: getRoster,
			Deny: metav1.StatusReasonForbidden, Message: forbidden("get", "configmaps")},
		{Name: "an outsider gets the External event", Actor: testutil.ApprovalOutsider, Do: getEvent,
			Deny: metav1.StatusReasonForbidden, Message: forbidden("get", "learningevents")},
		{Name: "a seated member gets the roster ConfigMap", Actor: testutil.ApprovalMember, Do: getRoster},
		{Name: "a seated Read member gets the External event", Actor: testutil.ApprovalMember, Do: getEvent,
			Deny: metav1.StatusReasonForbidden, Message: forbidden("get", "learningevents")},
		{Name: "the facilitator (Edit) gets the External event", Actor: testutil.ApprovalFacilitator, Do: getEvent},
		{Name: "the approver gets the External event and its contentHash", Actor: testutil.ApprovalApprover, Do: getEvent},
		{Name: "the approver lists the namespace's events", Actor: testutil.ApprovalApprover, Do: func(_ context.Context, c client.Client) error {
			return c.List(ctx, &learningv1alpha1.LearningEventList{}, client.InNamespace(f.ns))
		}},
		{Name: "the approver gets the roster ConfigMap", Actor: testutil.ApprovalApprover, Do: getRoster,
			Deny: metav1.StatusReasonForbidden, Message: forbidden("get", "configmaps")},
		{Name: "the approver updates a membership", Actor: testutil.ApprovalApprover, Do: func(_ context.Context, c client.Client) error {
			m := &learningv1alpha1.Membership{}
			if err := k8s.Get(ctx, f.key("member"), m); err != nil {
				return err
			}
			m.Spec.DisplayName = "Renamed by the approver"
			return c.Update(ctx, m)
		}, Deny: metav1.StatusReasonForbidden, Message: forbidden("update", "memberships")},
		{Name: "the approver patches the cohort", Actor: testutil.ApprovalApprover, Do: func(_ context.Context, c client.Client) error {
			cohort := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "spring"}}
			return c.Patch(ctx, cohort, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"suspend":true}}`)))
		}, Deny: metav1.StatusReasonForbidden, Message: forbidden("patch", "cohorts")},
		{Name: "the approver creates an event", Actor: testutil.ApprovalApprover, Do: f.matrix.CreateExternal("by-approver", "", ""),
			Deny: metav1.StatusReasonForbidden, Message: forbidden("create", "learningevents")},
		{Name: "the facilitator creates an event", Actor: testutil.ApprovalFacilitator, Do: f.matrix.CreateExternal("by-facilitator", "", ""),
			Deny: metav1.StatusReasonForbidden, Message: forbidden("create", "learningevents")},
	}
}

// runRow attempts a row once and logs it as a line of the matrix.
func runRow(t *testing.T, m testutil.ApprovalMatrix, n int, row testutil.ApprovalRow) {
	t.Helper()
	observed, err := m.Attempt(context.Background(), row)
	t.Logf("%2d. %-11s %-78s want %s; got %s", n, row.Actor, row.Name, row.Expected(), observed)
	if err != nil {
		t.Error(err)
	}
}

// TestApprovalMatrix attempts, with the operator running and four identities the
// API server authenticates, every action of the approval matrix, and checks what the
// operator makes of the admitted ones: an approval gives Approved=True and publishes
// the event; an edit of its content voids it and unpublishes it; attendance is not
// content.
func TestApprovalMatrix(t *testing.T) {
	f := newApprovalFixture(t)
	m := f.matrix
	var approvedHash string
	after := map[string]func(){
		"approve": func() {
			e := f.waitApproved(t, "launch", metav1.ConditionTrue, learningv1alpha1.ApprovedReason)
			if a := e.Spec.Approval; a == nil || a.Approver != testutil.ApproverUser || a.ContentHash != e.Status.ContentHash {
				t.Errorf("spec.approval = %+v, want %s for %s", a, testutil.ApproverUser, e.Status.ContentHash)
			}
			approvedHash = e.Status.ContentHash
			f.waitCalendar(t, "launch", true)
		},
		"facilitator-attendance": func() {
			e := f.waitApproved(t, "launch", metav1.ConditionTrue, learningv1alpha1.ApprovedReason)
			if a := e.Spec.Approval; a == nil || a.Approver != testutil.ApproverUser || a.ContentHash != approvedHash || e.Status.ContentHash != approvedHash {
				t.Errorf("recording attendance touched the approval: spec.approval = %+v, status.contentHash %s", a, e.Status.ContentHash)
			}
			if !slices.ContainsFunc(e.Spec.Attendance, func(r learningv1alpha1.AttendanceRecord) bool {
				return r.Member == "member" && r.Status == learningv1alpha1.AttendanceExcused
			}) {
				t.Errorf("attendance = %+v, want member Excused", e.Spec.Attendance)
			}
		},
		"edit-title": func() {
			e := f.waitApproved(t, "launch", metav1.ConditionFalse, learningv1alpha1.ContentChangedReason)
			if e.Status.ContentHash == approvedHash {
				t.Errorf("status.contentHash did not change with the title: %s", e.Status.ContentHash)
			}
			f.waitCalendar(t, "launch", false)
		},
		"withdraw": func() {
			e := f.waitApproved(t, "launch", metav1.ConditionFalse, learningv1alpha1.AwaitingApprovalReason)
			if e.Spec.Approval != nil {
				t.Errorf("spec.approval = %+v after its removal", e.Spec.Approval)
			}
		},
		"reapprove": func() {
			f.waitApproved(t, "launch", metav1.ConditionTrue, learningv1alpha1.ApprovedReason)
			f.waitCalendar(t, "launch", true)
		},
		"facilitator-edits-internal": func() {
			f.waitApproved(t, "circle", metav1.ConditionTrue, learningv1alpha1.NotRequiredReason)
		},
	}

	rows := append(f.accessRows(), m.AdmissionRows()...)
	if len(rows) < 12 {
		t.Fatalf("the matrix has %d rows, want at least 12", len(rows))
	}
	for i, row := range rows {
		runRow(t, m, i+1, row)
		if check, ok := after[row.ID]; ok {
			check()
			delete(after, row.ID)
		}
	}
	for id := range after {
		t.Errorf("no row %q to check the effects of", id)
	}
	// The malformed approvals changed nothing: the event is still approved.
	f.waitApproved(t, "launch", metav1.ConditionTrue, learningv1alpha1.ApprovedReason)
}

// approvalBinding is the ValidatingAdmissionPolicyBinding the suite installed.
func approvalBinding() (*admissionregistrationv1.ValidatingAdmissionPolicyBinding, error) {
	objs, err := testutil.ApprovalObjects()
	if err != nil {
		return nil, err
	}
	for _, obj := range objs {
		if obj.GetKind() == "ValidatingAdmissionPolicyBinding" {
			b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, b); err != nil {
				return nil, err
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("no ValidatingAdmissionPolicyBinding in config/admission")
}

// enforced says whether the API server enforces the approval policy now: a forged
// approval by the facilitator, sent as a dry run, is refused by the policy.
func (f approvalFixture) enforced() error {
	dryRun := func(ctx context.Context, c client.Client) error {
		e := &learningv1alpha1.LearningEvent{}
		if err := k8s.Get(ctx, f.key("launch"), e); err != nil {
			return err
		}
		patch := fmt.Sprintf(`{"spec":{"approval":{"approver":%q,"contentHash":%q}}}`, testutil.FacilitatorUser, e.Status.ContentHash)
		return c.Patch(ctx, e, client.RawPatch(types.MergePatchType, []byte(patch)), client.DryRunAll)
	}
	_, err := f.matrix.Attempt(context.Background(), testutil.ApprovalRow{
		Name: "the facilitator approves as themselves (dry run)", Actor: testutil.ApprovalFacilitator, Do: dryRun,
		Deny: metav1.StatusReasonForbidden, Message: testutil.DeniedVerbApprove,
	})
	return err
}

// TestApprovalFailsClosedWithoutPolicyBinding deletes the binding of the admission
// policy that verifies approvers: an approved event is no longer trusted
// (PolicyMissing) and leaves the calendar; re-creating the binding restores it.
func TestApprovalFailsClosedWithoutPolicyBinding(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	approve := f.matrix.Approve("launch", testutil.ApproverUser)
	if err := approve(ctx, f.matrix.Clients[testutil.ApprovalApprover]); err != nil {
		t.Fatalf("the approver approving: %v", err)
	}
	f.waitApproved(t, "launch", metav1.ConditionTrue, learningv1alpha1.ApprovedReason)
	f.waitCalendar(t, "launch", true)

	binding, err := approvalBinding()
	if err != nil {
		t.Fatal(err)
	}
	// Other tests share the cluster: whatever happens here, the binding is back, and
	// enforced, when this test ends.
	t.Cleanup(func() {
		if err := k8s.Create(ctx, binding.DeepCopy()); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Errorf("restoring the ValidatingAdmissionPolicyBinding: %v", err)
		}
		eventually(t, "the approval policy is enforced again", f.enforced)
	})
	if err := k8s.Delete(ctx, binding.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	e := f.waitApproved(t, "launch", metav1.ConditionFalse, learningv1alpha1.PolicyMissingReason)
	if msg := conditionMessage(e.Status.Conditions, learningv1alpha1.ApprovedCondition); !strings.Contains(msg, "ValidatingAdmissionPolicyBinding "+testutil.ApprovalPolicy) {
		t.Errorf("the PolicyMissing message %q does not name the missing binding", msg)
	}
	f.waitCalendar(t, "launch", false)
	f.waitApproved(t, "circle", metav1.ConditionTrue, learningv1alpha1.NotRequiredReason)
	f.waitCalendar(t, "circle", true)

	if err := k8s.Create(ctx, binding.DeepCopy()); err != nil {
		t.Fatal(err)
	}
	f.waitApproved(t, "launch", metav1.ConditionTrue, learningv1alpha1.ApprovedReason)
	f.waitCalendar(t, "launch", true)
	eventually(t, "the approval policy is enforced again", f.enforced)
}

// TestApprovalRevokedWhenApproverRemoved removes the approver from the community's
// spec.approvers: the operator removes them from the approvers' RoleBinding, keeps
// the other approvers, and the API server refuses the next approval.
func TestApprovalRevokedWhenApproverRemoved(t *testing.T) {
	f := newApprovalFixture(t)
	bindingName := names.Derive("cop", "approvers", names.ObjectLimit)
	subjects := func() ([]string, error) {
		b := &rbacv1.RoleBinding{}
		if err := k8s.Get(context.Background(), f.key(bindingName), b); err != nil {
			return nil, err
		}
		var got []string
		for _, s := range b.Subjects {
			got = append(got, s.Kind+":"+s.Name)
		}
		slices.Sort(got)
		return got, nil
	}
	got, err := subjects()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Group:ap-pillar-leads", "User:" + testutil.ApproverUser}; !slices.Equal(got, want) {
		t.Fatalf("RoleBinding %s subjects = %v, want %v", bindingName, got, want)
	}

	update(t, &learningv1alpha1.CommunityOfPractice{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "cop"}}, func(c *learningv1alpha1.CommunityOfPractice) {
		c.Spec.Approvers = []learningv1alpha1.Approver{{Kind: learningv1alpha1.GroupSubject, Name: "ap-pillar-leads"}}
	})
	eventually(t, "the approver leaves the RoleBinding", func() error {
		got, err := subjects()
		if err != nil {
			return err
		}
		if !slices.Equal(got, []string{"Group:ap-pillar-leads"}) {
			return fmt.Errorf("subjects = %v", got)
		}
		return nil
	})
	f.waitAuthorized(t, testutil.ApproverUser, "approve", "launch", false)
	runRow(t, f.matrix, 1, testutil.ApprovalRow{
		Name: "the removed approver approves as themselves", Actor: testutil.ApprovalApprover,
		Do:   f.matrix.Approve("launch", testutil.ApproverUser),
		Deny: metav1.StatusReasonForbidden, Message: `cannot patch resource "learningevents"`,
	})
	f.waitApproved(t, "launch", metav1.ConditionFalse, learningv1alpha1.AwaitingApprovalReason)
}

// TestApprovalBindingDriftIsRepaired adds a subject by hand to the approvers'
// RoleBinding of a community: the operator removes it, as it removes subjects added
// to the members' RoleBindings. The community has no cohort and no event, so no
// clock boundary re-evaluates it by chance.
func TestApprovalBindingDriftIsRepaired(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	community := testutil.Community(ns, "cop", testutil.Role("Member", 0, 5))
	community.Spec.Approvers = []learningv1alpha1.Approver{{Kind: learningv1alpha1.UserSubject, Name: testutil.ApproverUser}}
	create(t, community)
	b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: names.Derive("cop", "approvers", names.ObjectLimit)}}
	onlyTheApprover := func() error {
		if err := get(b); err != nil {
			return err
		}
		if len(b.Subjects) != 1 || b.Subjects[0].Name != testutil.ApproverUser {
			return fmt.Errorf("subjects = %v", b.Subjects)
		}
		return nil
	}
	eventually(t, "the approver is bound", onlyTheApprover)
	update(t, b, func(b *rbacv1.RoleBinding) {
		b.Subjects = append(b.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "intruder"})
	})
	// Nothing else changes, so only the watch of the binding, owned by the community,
	// can bring the repair.
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return onlyTheApprover() == nil, nil
	})
	if err != nil {
		t.Fatalf("an approver added by hand to RoleBinding %s is still bound 10s later: %v", b.Name, onlyTheApprover())
	}
}

// TestApprovalSharedNamespaceWarns creates a second community in the namespace of a
// first: both report Isolated=False/SharedNamespace naming the other, since approvals
// are granted per namespace; once it is gone the first is isolated again.
func TestApprovalSharedNamespaceWarns(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	a := testutil.Community(ns, "cop-a", testutil.Role("Member", 0, 5))
	a.Spec.Approvers = []learningv1alpha1.Approver{{Kind: learningv1alpha1.UserSubject, Name: testutil.ApproverUser}}
	create(t, a)
	isolated := func(name string, status metav1.ConditionStatus, reason, mentions string) {
		t.Helper()
		eventually(t, fmt.Sprintf("community %s is Isolated=%s/%s", name, status, reason), func() error {
			c := &learningv1alpha1.CommunityOfPractice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
			if err := get(c); err != nil {
				return err
			}
			if err := hasCondition(c.Status.Conditions, learningv1alpha1.IsolatedCondition, status, reason); err != nil {
				return err
			}
			if msg := conditionMessage(c.Status.Conditions, learningv1alpha1.IsolatedCondition); !strings.Contains(msg, mentions) {
				return fmt.Errorf("the Isolated message %q does not mention %q", msg, mentions)
			}
			return nil
		})
	}
	isolated("cop-a", metav1.ConditionTrue, learningv1alpha1.OwnNamespaceReason, ns)

	b := testutil.Community(ns, "cop-b", testutil.Role("Member", 0, 5))
	create(t, b)
	isolated("cop-a", metav1.ConditionFalse, learningv1alpha1.SharedNamespaceReason, "cop-b")
	isolated("cop-b", metav1.ConditionFalse, learningv1alpha1.SharedNamespaceReason, "cop-a")

	if err := k8s.Delete(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	isolated("cop-a", metav1.ConditionTrue, learningv1alpha1.OwnNamespaceReason, ns)
}
