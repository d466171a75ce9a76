package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/names"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// may asks the API server's authorizer, as the user c authenticates as, whether it may
// use verb on the named object of resource (with its subresource, if any) in namespace.
func may(ctx context.Context, c client.Client, namespace, group, resource, subresource, verb, name string) (bool, error) {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: namespace, Group: group, Resource: resource, Subresource: subresource, Verb: verb, Name: name,
		},
	}}
	if err := c.Create(ctx, review); err != nil {
		return false, err
	}
	return review.Status.Allowed, nil
}

// grant is one access a user may or may not have, as the authorizer decides.
type grant struct {
	what                                     string
	group, resource, subresource, verb, name string
}

func configMapGet(name string) grant {
	return grant{what: "get ConfigMap " + name, resource: "configmaps", verb: "get", name: name}
}

func proxyGet(service string) grant {
	return grant{what: "the service proxy of " + service, resource: "services", subresource: "proxy", verb: "get", name: service}
}

func eventGet(name string) grant {
	return grant{what: "get LearningEvent " + name, group: learningv1alpha1.GroupVersion.Group, resource: "learningevents", verb: "get", name: name}
}

// wantGrants waits until the authorizer gives c exactly the wanted answer for each
// grant (RBAC follows bindings within moments), then checks it still does a second
// later, after the operator had time to act on anything it watched.
func wantGrants(t *testing.T, c client.Client, who, namespace string, want map[grant]bool) {
	t.Helper()
	check := func() error {
		var wrong []string
		for g, allowed := range want {
			got, err := may(context.Background(), c, namespace, g.group, g.resource, g.subresource, g.verb, g.name)
			if err != nil {
				return err
			}
			if got != allowed {
				wrong = append(wrong, fmt.Sprintf("%s: allowed=%v, want %v", g.what, got, allowed))
			}
		}
		if len(wrong) > 0 {
			slices.Sort(wrong)
			return fmt.Errorf("%s: %s", who, strings.Join(wrong, "; "))
		}
		return nil
	}
	eventually(t, who+"'s access", check)
	time.Sleep(time.Second)
	if err := check(); err != nil {
		t.Error(err)
	}
}

// waitConflict waits until cohort reports Provisioned=False/NameConflict naming each
// of the objects.
func waitConflict(t *testing.T, namespace, cohort string, objects ...string) {
	t.Helper()
	c := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: cohort}}
	eventually(t, cohort+" reports the name conflicts", func() error {
		if err := get(c); err != nil {
			return err
		}
		if err := hasCondition(c.Status.Conditions, learningv1alpha1.ProvisionedCondition, metav1.ConditionFalse, learningv1alpha1.NameConflictReason); err != nil {
			return err
		}
		msg := conditionMessage(c.Status.Conditions, learningv1alpha1.ProvisionedCondition)
		for _, o := range objects {
			if !strings.Contains(msg, o) {
				return fmt.Errorf("the message %q does not name %s", msg, o)
			}
		}
		return nil
	})
}

func standalone(ns, name string, portal bool) *learningv1alpha1.Cohort {
	c := testutil.StandaloneCohort(ns, name, "2026-01-01", 12, learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{testutil.Role("Member", 0, 5)}})
	if portal {
		c.Spec.Services = &learningv1alpha1.CohortServices{Portal: &learningv1alpha1.PortalService{Enabled: true}}
	}
	return c
}

// TestAccessNamesOnlyWhatTheCohortControls: objects the operator never made hold
// names a cohort derives. Its members get nothing through those names: not the
// ConfigMap customer-overview, not the proxy of the Service customer-portal, and
// nothing a Role customer-read grants; the cohort reports each conflict, and the names
// it does control still work.
func TestAccessNamesOnlyWhatTheCohortControls(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	ctx := context.Background()
	secretReader := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "customer-read"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}},
	}
	create(t,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "customer-overview"}, Data: map[string]string{"revenue": "confidential"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "customer-portal"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "payroll"}, StringData: map[string]string{"k": "v"}},
		secretReader,
		standalone(ns, "customer", true),
		testutil.Membership(ns, "member", "customer", "u-customer-member", "Member"),
	)
	waitConflict(t, ns, "customer", "ConfigMap customer-overview", "Service customer-portal", "Role customer-read")
	member := identity(t, "u-customer-member")
	wantGrants(t, member, "the seated member", ns, map[grant]bool{
		configMapGet("customer-overview"): false,
		proxyGet("customer-portal"):       false,
		{what: "get the Secret payroll", resource: "secrets", verb: "get", name: "payroll"}: false,
	})

	// The Read binding grants nothing while its Role is foreign; the Role the operator
	// would have written is not there to name the names it does control, so the test
	// frees the Role's name and checks those are granted, and the foreign ones still not.
	if err := k8s.Delete(ctx, secretReader); err != nil {
		t.Fatal(err)
	}
	update(t, &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "customer"}}, func(c *learningv1alpha1.Cohort) { c.Spec.DisplayName = "Customer cohort" })
	waitConflict(t, ns, "customer", "ConfigMap customer-overview", "Service customer-portal")
	wantGrants(t, member, "the seated member", ns, map[grant]bool{
		configMapGet("customer-roster"):   true,
		configMapGet("customer-calendar"): true,
		configMapGet("customer-overview"): false,
		proxyGet("customer-portal"):       false,
		{what: "get the Secret payroll", resource: "secrets", verb: "get", name: "payroll"}: false,
	})
	role := &rbacv1.Role{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "customer-read"}, role); err != nil {
		t.Fatal(err)
	}
	for _, rule := range role.Rules {
		if len(rule.ResourceNames) == 0 && !createsPlans(rule) {
			t.Errorf("Role customer-read has a rule with no resource names, which grants every object: %+v", rule)
		}
		for _, n := range rule.ResourceNames {
			if strings.Contains(n, "customer-overview") || strings.Contains(n, "customer-portal") {
				t.Errorf("Role customer-read names %s, which the cohort does not control: %+v", n, rule)
			}
		}
	}
	// The portal's Role and binding follow the same rule: its ServiceAccount may read
	// the cohort's own documents, not the foreign overview.
	portalSA := impersonating(t, "system:serviceaccount:"+ns+":customer-portal")
	wantGrants(t, portalSA, "the portal's ServiceAccount", ns, map[grant]bool{
		configMapGet("customer-roster"):   true,
		configMapGet("customer-overview"): false,
	})
	foreign := &corev1.ConfigMap{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "customer-overview"}, foreign); err != nil {
		t.Fatal(err)
	}
	if foreign.Data["revenue"] != "confidential" || len(foreign.OwnerReferences) > 0 {
		t.Errorf("the foreign ConfigMap was changed: %+v", foreign)
	}
}

// TestAccessFoldedNamesGrantNothing: the cohorts team-a and team.a derive one Service
// name, team-a-portal. The first keeps it; the second reports the conflict, and its
// members get no proxy access to the first cohort's portal.
func TestAccessFoldedNamesGrantNothing(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	create(t, standalone(ns, "team-a", true), testutil.Membership(ns, "first", "team-a", "u-team-a", "Member"))
	eventually(t, "team-a is provisioned", func() error {
		c := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team-a"}}
		if err := get(c); err != nil {
			return err
		}
		return hasCondition(c.Status.Conditions, learningv1alpha1.ProvisionedCondition, metav1.ConditionTrue, learningv1alpha1.ProvisionedReason)
	})
	dotted := standalone(ns, "team.a", true)
	if got, want := namesOf(dotted).PortalService, namesOf(standalone(ns, "team-a", true)).PortalService; got != want {
		t.Fatalf("the test needs two cohorts that fold to one Service name; got %s and %s", got, want)
	}
	create(t, dotted, testutil.Membership(ns, "second", "team.a", "u-team-dot-a", "Member"))
	waitConflict(t, ns, "team.a", "Service team-a-portal")

	wantGrants(t, identity(t, "u-team-dot-a"), "the member of team.a", ns, map[grant]bool{
		proxyGet("team-a-portal"):     false,
		configMapGet("team.a-roster"): true,
		configMapGet("team-a-roster"): false,
	})
	wantGrants(t, identity(t, "u-team-a"), "the member of team-a", ns, map[grant]bool{
		proxyGet("team-a-portal"):     true,
		configMapGet("team-a-roster"): true,
		configMapGet("team.a-roster"): false,
	})
}

// TestEventsReadableOnlyWithEdit: attendance notes hold the reasons for absences, so a
// Read member may get no LearningEvent, an Edit lead may get and update the cohort's
// own, and no member role may get a community-wide event.
func TestEventsReadableOnlyWithEdit(t *testing.T) {
	f := newProvisionFixture(t, false)
	wide := testutil.Gathering(f.ns, "town-hall", "", sampleDay.Add(-72*time.Hour))
	wide.Spec.CohortRef = nil
	wide.Spec.CommunityRef = &learningv1alpha1.LocalObjectReference{Name: "cop"}
	create(t, wide)
	edit := grant{what: "update LearningEvent kickoff", group: learningv1alpha1.GroupVersion.Group, resource: "learningevents", verb: "update", name: "kickoff"}
	wantGrants(t, identity(t, "u-member@example.org"), "the seated Read member", f.ns, map[grant]bool{
		eventGet("kickoff"):          false,
		eventGet("town-hall"):        false,
		edit:                         false,
		configMapGet(f.names.Roster): true,
	})
	wantGrants(t, identity(t, "u-lead@example.org"), "the Edit lead", f.ns, map[grant]bool{
		eventGet("kickoff"):   true,
		edit:                  true,
		eventGet("town-hall"): false,
	})
}

// TestAppointingFailsClosed: while the approval policy's binding is missing, or the
// policy no longer covers CommunityOfPractice, a namespace editor who names themselves
// in spec.approvers is admitted by the API server, but the operator binds nobody new:
// the editor may not approve, the community reports PolicyMissing naming them, a
// removal still applies, and the existing approver stays bound.
func TestAppointingFailsClosed(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	editorRole := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "edit-communities"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{learningv1alpha1.GroupVersion.Group}, Resources: []string{"communityofpractices"},
			Verbs: []string{"get", "update", "patch"},
		}},
	}
	create(t, editorRole, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "editors"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: editorRole.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "u-editor"}},
	})
	editor := identity(t, "u-editor")
	approve := grant{what: "approve LearningEvent launch", group: learningv1alpha1.GroupVersion.Group, resource: "learningevents", verb: "approve", name: "launch"}
	community := &learningv1alpha1.CommunityOfPractice{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "cop"}}
	appoint := func(approvers string) error {
		return editor.Patch(ctx, community.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"spec":{"approvers":`+approvers+`}}`)))
	}
	self := `[{"kind":"User","name":"` + testutil.ApproverUser + `"},{"kind":"Group","name":"ap-pillar-leads"},{"kind":"User","name":"u-editor"}]`
	// With the policy as shipped, the API server refuses the self-appointment.
	eventually(t, "the editor may patch the community", func() error {
		if err := appoint(self); err == nil || !strings.Contains(err.Error(), "may not appoint approvers") {
			return fmt.Errorf("the self-appointment: got %w, want the policy's refusal", err)
		}
		return nil
	})

	for _, weaken := range []struct {
		name     string
		do, undo func() error
	}{
		{name: "the binding removed", do: deleteApprovalBinding, undo: restoreApprovalBinding},
		{name: "the policy no longer matching CommunityOfPractice", do: narrowApprovalPolicy, undo: restoreApprovalPolicy},
	} {
		t.Run(weaken.name, func(t *testing.T) {
			t.Cleanup(func() {
				if err := weaken.undo(); err != nil {
					t.Errorf("restoring the approval policy: %v", err)
				}
				eventually(t, "the approval policy is enforced again", f.enforced)
				// The approvers restored while the policy was missing were held; the
				// operator binds them once it has seen the policy back, which must happen
				// before the next case weakens it again.
				wantGrants(t, f.matrix.Clients[testutil.ApprovalApprover], "the appointed approver, the policy back", f.ns, map[grant]bool{approve: true})
			})
			if err := weaken.do(); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the editor appointing themselves is admitted", func() error { return appoint(self) })
			eventually(t, "the community reports PolicyMissing naming the editor", func() error {
				if err := get(community); err != nil {
					return err
				}
				if err := hasCondition(community.Status.Conditions, learningv1alpha1.ProvisionedCondition, metav1.ConditionFalse, learningv1alpha1.PolicyMissingReason); err != nil {
					return err
				}
				if msg := conditionMessage(community.Status.Conditions, learningv1alpha1.ProvisionedCondition); !strings.Contains(msg, "User u-editor") {
					return fmt.Errorf("the message %q does not name the held approver", msg)
				}
				return nil
			})
			wantGrants(t, editor, "the self-appointed editor", f.ns, map[grant]bool{approve: false})
			wantGrants(t, f.matrix.Clients[testutil.ApprovalApprover], "the appointed approver", f.ns, map[grant]bool{approve: true})

			// A removal applies at once, policy or not.
			if err := appoint(`[{"kind":"Group","name":"ap-pillar-leads"},{"kind":"User","name":"u-editor"}]`); err != nil {
				t.Fatal(err)
			}
			wantGrants(t, f.matrix.Clients[testutil.ApprovalApprover], "the removed approver", f.ns, map[grant]bool{approve: false})
			wantGrants(t, editor, "the self-appointed editor", f.ns, map[grant]bool{approve: false})
			// Back to the appointed approvers, by an administrator, before the policy
			// returns (the editor's appointment was never checked).
			update(t, community.DeepCopy(), func(c *learningv1alpha1.CommunityOfPractice) {
				c.Spec.Approvers = []learningv1alpha1.Approver{
					{Kind: learningv1alpha1.UserSubject, Name: testutil.ApproverUser},
					{Kind: learningv1alpha1.GroupSubject, Name: "ap-pillar-leads"},
				}
			})
		})
	}
	f.waitAuthorized(t, testutil.ApproverUser, "approve", "launch", true)
	eventually(t, "the community is provisioned again", func() error {
		if err := get(community); err != nil {
			return err
		}
		return hasCondition(community.Status.Conditions, learningv1alpha1.ProvisionedCondition, metav1.ConditionTrue, learningv1alpha1.ProvisionedReason)
	})
}

func deleteApprovalBinding() error {
	binding, err := approvalBinding()
	if err != nil {
		return err
	}
	return k8s.Delete(context.Background(), binding)
}

func restoreApprovalBinding() error {
	binding, err := approvalBinding()
	if err != nil {
		return err
	}
	if err := k8s.Create(context.Background(), binding); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// narrowApprovalPolicy leaves CommunityOfPractice out of the installed policy's match
// rules: appointing approvers is no longer checked.
func narrowApprovalPolicy() error {
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: testutil.ApprovalPolicy}, policy); err != nil {
		return err
	}
	policy.Spec.MatchConstraints.ResourceRules[0].Resources = []string{"learningevents"}
	return k8s.Update(context.Background(), policy)
}

// restoreApprovalPolicy installs the policy as shipped again.
func restoreApprovalPolicy() error {
	shipped, err := shippedApprovalPolicy()
	if err != nil {
		return err
	}
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Name: testutil.ApprovalPolicy}, policy); err != nil {
		return err
	}
	policy.Spec = *shipped.policy.Spec.DeepCopy()
	return k8s.Update(context.Background(), policy)
}

// TestApproversBindingNameConflictGrantsNothing: a RoleBinding the operator did not make
// holds the name of a community's approvers' binding; it is left alone and reported.
func TestApproversBindingNameConflictGrantsNothing(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	foreign := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: names.Derive("cop", "approvers", names.ObjectLimit)},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "u-someone"}},
	}
	community := testutil.Community(ns, "cop", testutil.Role("Member", 0, 5))
	community.Spec.Approvers = []learningv1alpha1.Approver{{Kind: learningv1alpha1.UserSubject, Name: "u-appointed"}}
	create(t, foreign, community)
	eventually(t, "the community reports the conflict", func() error {
		if err := get(community); err != nil {
			return err
		}
		return hasCondition(community.Status.Conditions, learningv1alpha1.ProvisionedCondition, metav1.ConditionFalse, learningv1alpha1.NameConflictReason)
	})
	if err := get(foreign); err != nil {
		t.Fatal(err)
	}
	if len(foreign.Subjects) != 1 || foreign.Subjects[0].Name != "u-someone" || foreign.RoleRef.Name != "view" {
		t.Errorf("the foreign RoleBinding was changed: %+v", foreign)
	}
}
