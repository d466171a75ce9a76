package controllers

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// cachedAs is the cache's copy of a child the operator applied as applied, whose live
// content is live, written by the given field managers (the operator's applies, any
// other's updates of the content), after the cache's transform.
func cachedAs(t *testing.T, applied, live client.Object, managers ...string) client.Object {
	t.Helper()
	obj := live.DeepCopyObject().(client.Object)
	obj.SetAnnotations(map[string]string{AppliedDigestAnnotation: contentDigest(applied), "note": "kept by nobody"})
	var entries []metav1.ManagedFieldsEntry
	for _, m := range managers {
		op := metav1.ManagedFieldsOperationUpdate
		if m == fieldOwner {
			op = metav1.ManagedFieldsOperationApply
		}
		entries = append(entries, metav1.ManagedFieldsEntry{Manager: m, Operation: op, FieldsType: "FieldsV1",
			FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{}},"f:rules":{},"f:subjects":{},"f:data":{}}`)})
	}
	obj.SetManagedFields(entries)
	if _, err := slimForCache(obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// TestSlimChildren: the cache keeps a child's metadata and, when the operator alone
// wrote its content, the digest it applied; the content itself is gone. A child anyone
// else wrote, or one without managedFields, is marked changed; a write that touched
// only metadata or a subresource is not a change. The approvers' bindings, and
// objects of other managers, are kept whole.
func TestSlimChildren(t *testing.T) {
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-read", Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentAccess}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"spring-roster"}, Verbs: []string{"get"}}},
	}
	cached := cachedAs(t, role, role, fieldOwner).(*rbacv1.Role)
	if cached.Rules != nil || cached.ManagedFields != nil {
		t.Errorf("the cached Role keeps its rules or managedFields: %+v", cached)
	}
	if got, want := cached.Annotations, map[string]string{cachedContentAnnotation: cachedAppliedPrefix + contentDigest(role)}; len(got) != 1 || got[cachedContentAnnotation] != want[cachedContentAnnotation] {
		t.Errorf("annotations of the cached Role: %v, want only %v", got, want)
	}
	if !slimMatches(role, cached) || !childMatches(role, cached) {
		t.Error("the Role as applied does not match its declaration")
	}
	changedDecl := role.DeepCopy()
	changedDecl.Rules[0].Verbs = []string{"get", "list"}
	if childMatches(changedDecl, cached) {
		t.Error("a changed declaration matches the Role applied before it")
	}
	relabelled := role.DeepCopy()
	relabelled.Labels["extra"] = "x"
	if childMatches(relabelled, cached) {
		t.Error("a declaration with a label the live Role lacks matches it")
	}

	for name, managers := range map[string][]string{
		"edited by hand":         {fieldOwner, "kubectl-edit"},
		"no managedFields":       nil,
		"written by others only": {"kubectl-client-side-apply"},
	} {
		c := cachedAs(t, role, role, managers...)
		if digest, slimmed := cachedDigest(c); !slimmed || digest != "" {
			t.Errorf("%s: cached state %q (slimmed %v), want changed", name, c.GetAnnotations()[cachedContentAnnotation], slimmed)
		}
		if childMatches(role, c) {
			t.Errorf("%s: a changed copy matches without a full read", name)
		}
	}

	// kube-controller-manager's revision annotation and status of a Deployment.
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-portal", Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentPortal}},
		Spec:   appsv1.DeploymentSpec{Replicas: new(int32(1))},
		Status: appsv1.DeploymentStatus{AvailableReplicas: 1}}
	live := deploy.DeepCopy()
	live.Annotations = map[string]string{AppliedDigestAnnotation: contentDigest(deploy), "deployment.kubernetes.io/revision": "1"}
	live.ManagedFields = []metav1.ManagedFieldsEntry{
		{Manager: fieldOwner, Operation: metav1.ManagedFieldsOperationApply, FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{},"f:spec":{}}`)},
		{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:annotations":{"f:deployment.kubernetes.io/revision":{}}}}`)},
		{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, Subresource: "status", FieldsV1: metav1.NewFieldsV1(`{"f:status":{}}`)},
	}
	if _, err := slimForCache(live); err != nil {
		t.Fatal(err)
	}
	if live.Spec.Replicas != nil || live.Status.AvailableReplicas != 1 {
		t.Errorf("the cached Deployment keeps its spec or lost its status: %+v", live)
	}
	if !childMatches(deploy, live) {
		t.Errorf("a Deployment whose metadata and status others wrote is taken for changed: %v", live.Annotations)
	}

	approvers := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "allyship-approvers", Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentApprovals}},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "ada"}}}
	if c := cachedAs(t, approvers, approvers, fieldOwner).(*rbacv1.RoleBinding); len(c.Subjects) != 1 {
		t.Error("the approvers' binding lost its subjects in the cache")
	}
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "settings"}, Data: map[string]string{"a": "b"}}
	if c := cachedAs(t, foreign, foreign, "helm").(*corev1.ConfigMap); c.Data["a"] != "b" {
		t.Error("a ConfigMap of another manager was slimmed")
	}
}

// TestContentDigest: the digest follows the content a child declares and nothing else,
// and is a valid annotation value.
func TestContentDigest(t *testing.T) {
	cm := func(data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", ResourceVersion: "1"}, Data: data}
	}
	a := contentDigest(cm(map[string]string{"roster.json": "{}", "parts.json": "[]"}))
	if b := contentDigest(cm(map[string]string{"parts.json": "[]", "roster.json": "{}"})); a != b {
		t.Error("the digest depends on the order of the data's keys")
	}
	if b := contentDigest(cm(map[string]string{"roster.json": "{ }", "parts.json": "[]"})); a == b {
		t.Error("a changed document keeps the digest")
	}
	other := cm(map[string]string{"roster.json": "{}", "parts.json": "[]"})
	other.Name, other.ResourceVersion, other.Labels = "y", "9", map[string]string{"a": "b"}
	if contentDigest(other) != a {
		t.Error("metadata changes the digest")
	}
	if len(a) != 43 || strings.ContainsAny(a, "+/=") {
		t.Errorf("digest %q is not 43 characters of URL-safe base64", a)
	}
	binding := &rbacv1.RoleBinding{RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "r"}}
	withSubject := binding.DeepCopy()
	withSubject.Subjects = []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "mallory"}}
	if contentDigest(binding) == contentDigest(withSubject) {
		t.Error("a subject does not change a RoleBinding's digest")
	}
}
