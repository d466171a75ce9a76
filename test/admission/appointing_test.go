package admission

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestAppointingApproversNeedsTheVerb checks, with no manager running, that the
// admission policy refuses a change of a community's spec.approvers from a user who may
// edit communities but may not approve in the namespace (the operator would otherwise
// bind whoever they name), and admits it from one who may approve; edits that leave
// the approvers alone need nothing more than RBAC.
func TestAppointingApproversNeedsTheVerb(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, admin)
	editRole := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edit-communities"},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{learningv1alpha1.GroupVersion.Group}, Resources: []string{"communityofpractices"},
			Verbs: []string{"get", "create", "update", "patch"},
		}},
	}
	if err := admin.Create(ctx, editRole); err != nil {
		t.Fatal(err)
	}
	editRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: editRole.Name}
	approverRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: testutil.ApproverClusterRole}
	for _, b := range []*rbacv1.RoleBinding{
		binding(ns, "editors", editRef, "u-editor", "u-lead-approver"),
		binding(ns, "approvers", approverRef, "u-lead-approver"),
	} {
		if err := admin.Create(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	editor, approver := userClient(t, "u-editor"), userClient(t, "u-lead-approver")
	community := testutil.Community(ns, "cop", testutil.Role("Member", 0, 5))
	community.Spec.Approvers = []learningv1alpha1.Approver{{Kind: learningv1alpha1.UserSubject, Name: "u-editor"}}

	// RBAC decisions follow new bindings within moments: wait until the editor may
	// create communities at all before judging the policy.
	var err error
	_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		err = editor.Create(ctx, community.DeepCopy(), client.DryRunAll)
		return err == nil || !apierrors.IsForbidden(err) || strings.Contains(err.Error(), "spec.approvers"), nil
	})
	wantDenied(t, "the editor creating a community that names themselves approver", err, `spec.approvers: user "u-editor" may not appoint approvers`)

	plain := community.DeepCopy()
	plain.Spec.Approvers = nil
	if err := editor.Create(ctx, plain); err != nil {
		t.Fatalf("the editor creating a community without approvers: %v", err)
	}
	if err := editor.Patch(ctx, plain, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"displayName":"Allyship"}}`))); err != nil {
		t.Errorf("the editor editing the community, approvers untouched: %v", err)
	}
	err = editor.Patch(ctx, plain, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"approvers":[{"kind":"User","name":"u-editor"}]}}`)))
	wantDenied(t, "the editor appointing themselves approver", err, `spec.approvers: user "u-editor" may not appoint approvers`)
	err = editor.Patch(ctx, plain, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"approvers":[{"kind":"Group","name":"editors"}]}}`)))
	wantDenied(t, "the editor appointing a group approver", err, "may not appoint approvers")

	if err := approver.Patch(ctx, plain, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"approvers":[{"kind":"User","name":"u-lead-approver"},{"kind":"User","name":"u-second"}]}}`))); err != nil {
		t.Errorf("an approver appointing another approver: %v", err)
	}
	err = editor.Patch(ctx, plain, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"approvers":null}}`)))
	wantDenied(t, "the editor removing the approvers", err, "may not appoint approvers")
}

// userClient is a client authenticated as user by a client certificate.
func userClient(t *testing.T, user string) client.Client {
	t.Helper()
	c, err := testutil.UserClient(cluster, user)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantDenied fails unless err is the API server's refusal with a message containing
// want.
func wantDenied(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: admitted, want denied with %q", what, want)
	case !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err):
		t.Errorf("%s: %v, want Forbidden with %q", what, err, want)
	case !strings.Contains(err.Error(), want):
		t.Errorf("%s: %v", what, fmt.Errorf("message %q lacks %q", err.Error(), want))
	}
}
