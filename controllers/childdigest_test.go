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

// cachedAs is live as the manager's cache hands it out, after the cache's transform.
func cachedAs(t *testing.T, live client.Object) client.Object {
	t.Helper()
	obj := live.DeepCopyObject().(client.Object)
	obj.SetAnnotations(map[string]string{"note": "kept by nobody"})
	obj.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: fieldOwner, Operation: metav1.ManagedFieldsOperationApply}})
	cached, err := slimForCache(obj)
	if err != nil {
		t.Fatal(err)
	}
	out := live.DeepCopyObject().(client.Object)
	if err := copyCached(cached, out, false); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSlimChildren: the cache keeps a child's metadata and the digest of its content;
// the content, the annotations and managedFields are gone. The child matches its
// declaration while the digest is the declared content's: any change to the content
// is a difference, whoever made it. The approvers' bindings, and objects of other
// managers, are kept whole.
func TestSlimChildren(t *testing.T) {
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-read", Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentAccess}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"spring-roster"}, Verbs: []string{"get"}}},
	}
	cached := cachedAs(t, role).(*rbacv1.Role)
	if cached.Rules != nil || cached.ManagedFields != nil || cached.Annotations != nil {
		t.Errorf("the cached Role keeps its rules, managedFields or annotations: %+v", cached)
	}
	if digest, slimmed := cachedDigest(cached); !slimmed || digest != contentDigest(role) {
		t.Errorf("cached state %q (slimmed %v), want the content digest %s", cached.GenerateName, slimmed, contentDigest(role))
	}
	if !childMatches(role, cached) {
		t.Error("the Role as declared does not match its declaration")
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
	// A rule added by anyone, under any field manager's name, changes the digest.
	edited := role.DeepCopy()
	edited.Rules = append(edited.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}})
	if childMatches(role, cachedAs(t, edited)) {
		t.Error("a Role with a rule added by hand matches its declaration")
	}
	// Metadata written by others is not content.
	annotated := role.DeepCopy()
	annotated.Annotations = map[string]string{"reviewed-by": "ada"}
	if !childMatches(role, cachedAs(t, annotated)) {
		t.Error("an annotation added by hand is taken for a change of content")
	}

	// A copy read from the API server is compared in full, whatever its generateName.
	generated := role.DeepCopy()
	generated.GenerateName = "spring-"
	if _, slimmed := cachedDigest(generated); slimmed {
		t.Error("a child read from the API server with a generateName is taken for a cached copy")
	}

	approvers := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "allyship-approvers", Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentApprovals}},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "ada"}}}
	if c := cachedAs(t, approvers).(*rbacv1.RoleBinding); len(c.Subjects) != 1 {
		t.Error("the approvers' binding lost its subjects in the cache")
	}
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "settings"}, Data: map[string]string{"a": "b"}}
	if c := cachedAs(t, foreign).(*corev1.ConfigMap); c.Data["a"] != "b" {
		t.Error("a ConfigMap of another manager was slimmed")
	}
}

// TestVerifiedChildren: a Deployment as the API server stores it, with fields it
// defaulted, does not match its declaration by digest; once a full comparison found
// that content to hold the declaration, it matches until the content or the
// declaration changes, or the Deployment is deleted.
func TestVerifiedChildren(t *testing.T) {
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-portal", Labels: map[string]string{ManagedByLabel: ManagedBy, ComponentLabel: componentPortal}},
		Spec: appsv1.DeploymentSpec{Replicas: new(int32(1))}}
	stored := deploy.DeepCopy()
	stored.Spec.RevisionHistoryLimit = new(int32(10)) // defaulted
	stored.Status.AvailableReplicas = 1
	cached := cachedAs(t, stored).(*appsv1.Deployment)
	if cached.Spec.Replicas != nil || cached.Status.AvailableReplicas != 1 {
		t.Errorf("the cached Deployment keeps its spec or lost its status: %+v", cached)
	}
	if digestIsExact(deploy) || childMatches(deploy, cached) {
		t.Fatal("a Deployment the API server defaulted matches by digest alone")
	}
	if !childMatches(deploy, stored) {
		t.Fatal("the full comparison does not find the declaration in the stored Deployment")
	}
	var v verifiedChildren
	content, _ := cachedDigest(cached)
	declared := contentDigest(deploy)
	if v.matches(deploy, content, declared) {
		t.Error("a content is verified before any comparison")
	}
	v.remember(deploy, stored, declared)
	if !v.matches(deploy, content, declared) {
		t.Error("the verified content does not match")
	}
	restarted := stored.DeepCopy()
	restarted.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "now"}
	if v.matches(deploy, contentDigest(restarted), declared) {
		t.Error("a changed content matches without a comparison")
	}
	scaled := deploy.DeepCopy()
	scaled.Spec.Replicas = new(int32(2))
	if v.matches(scaled, content, contentDigest(scaled)) {
		t.Error("a changed declaration matches without a comparison")
	}
	v.forget(cached)
	if v.matches(deploy, content, declared) {
		t.Error("a deleted Deployment's content is still verified")
	}
	// Contents the API server stores as declared need no memory.
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-read"}}
	v.remember(role, role, contentDigest(role))
	if len(v.byRef) != 0 {
		t.Errorf("a content whose digest is the declaration's is remembered: %v", v.byRef)
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
	if len(a) != 22 || strings.ContainsAny(a, "+/=") {
		t.Errorf("digest %q is not 22 characters of URL-safe base64", a)
	}
	binding := &rbacv1.RoleBinding{RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "r"}}
	withSubject := binding.DeepCopy()
	withSubject.Subjects = []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "mallory"}}
	if contentDigest(binding) == contentDigest(withSubject) {
		t.Error("a subject does not change a RoleBinding's digest")
	}
	// The API server stores an empty list as absent: so does the digest.
	empty := binding.DeepCopy()
	empty.Subjects = []rbacv1.Subject{}
	if contentDigest(binding) != contentDigest(empty) {
		t.Error("a RoleBinding without subjects has two digests")
	}
}
