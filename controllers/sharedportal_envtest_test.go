package controllers

import (
	"context"
	"fmt"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestSharedPortalNamespace runs a cohort that enables its portal in a namespace the
// manager leaves to a shared portal: the cohort is provisioned without a portal of its
// own (no ServiceAccount, Role, RoleBinding, Deployment, Service or NetworkPolicy, and
// no services/proxy grant), its members may still get the overview ConfigMap the shared
// portal authorizes them by, and PortalAvailable names the shared portal.
func TestSharedPortalNamespace(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ctx := context.Background()
	ns := sharedPortalNamespace
	create(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	cohort := testutil.Cohort(ns, "spring", "cop", "2026-01-01", 12)
	cohort.Spec.Services = &learningv1alpha1.CohortServices{Portal: &learningv1alpha1.PortalService{Enabled: true}}
	create(t, testutil.Community(ns, "cop", testutil.Role("Lead", 1, 2), testutil.Role("Member", 0, 3)), cohort,
		testutil.Membership(ns, "lead", "spring", "u-lead@example.org", "Lead"))
	n := namesOf(cohort)

	eventually(t, "the cohort is provisioned and served by the shared portal", func() error {
		c := &learningv1alpha1.Cohort{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(cohort), c); err != nil {
			return err
		}
		if err := hasCondition(c.Status.Conditions, learningv1alpha1.ProvisionedCondition, metav1.ConditionTrue, learningv1alpha1.ProvisionedReason); err != nil {
			return err
		}
		if err := hasCondition(c.Status.Conditions, learningv1alpha1.PortalAvailableCondition, metav1.ConditionTrue, learningv1alpha1.SharedPortalReason); err != nil {
			return err
		}
		if msg := findMessage(c.Status.Conditions, learningv1alpha1.PortalAvailableCondition); msg != "served by the shared portal of namespace shared-portals under /cohorts/spring/" {
			return fmt.Errorf("PortalAvailable says %q", msg)
		}
		return nil
	})

	for _, obj := range []client.Object{&corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}, &appsv1.Deployment{}, &networkingv1.NetworkPolicy{}} {
		if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: n.Portal}, obj); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s: %v, want it not provisioned in a namespace with a shared portal", obj, n.Portal, err)
		}
	}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: n.PortalService}, &corev1.Service{}); !apierrors.IsNotFound(err) {
		t.Errorf("Service %s: %v, want it not provisioned", n.PortalService, err)
	}

	read := &rbacv1.Role{}
	if err := k8s.Get(ctx, types.NamespacedName{Namespace: ns, Name: n.Read}, read); err != nil {
		t.Fatal(err)
	}
	overview := false
	for _, r := range read.Rules {
		if slices.Contains(r.Resources, "services/proxy") {
			t.Errorf("the Read Role grants services/proxy %v without a portal of the cohort's own", r.ResourceNames)
		}
		overview = overview || slices.Contains(r.Resources, "configmaps") && slices.Contains(r.ResourceNames, n.Overview) && slices.Contains(r.Verbs, "get")
	}
	if !overview {
		t.Errorf("the Read Role does not grant get on %s, which the shared portal authorizes members by: %v", n.Overview, read.Rules)
	}
	lead := impersonating(t, "u-lead@example.org")
	allowed(t, "the seated lead getting the overview ConfigMap", func() error {
		return lead.Get(ctx, types.NamespacedName{Namespace: ns, Name: n.Overview}, &corev1.ConfigMap{})
	})
}
