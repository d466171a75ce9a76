package controllers

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// How the manager keeps its provisioned objects in memory.
//
// A cluster at scale holds tens of thousands of provisioned objects (each member with a
// plan has a Role and a RoleBinding of their own), and the cache kept full copies of
// all of them to compare with what the operator declares. It now keeps their metadata
// and a digest of their content instead:
//
//   - The cache's transform (slimChild) computes the digest of the child's content as
//     the API server holds it (contentDigest: rules, subjects, data, specs), then
//     drops the content and the annotations (a Deployment keeps its status) and keeps
//     the digest as the copy's cached state (see cachedStateMarker).
//   - A child matches its declaration when its labels hold the declared ones and its
//     content digest is the declared content's. That is exact for the kinds the API
//     server does not default (Roles, RoleBindings, ConfigMaps, ServiceAccounts as the
//     operator declares them): any change to their content, by anyone under any field
//     manager name, changes the digest, and the next pass applies the declaration
//     again without reading the object first.
//   - The API server defaults fields of the other kinds (a Deployment's strategy, a
//     Service's cluster IP), so their digest differs from the declaration's. A full
//     comparison (childMatches) that finds a content holding the declaration is
//     remembered by content digest (verifiedChildren): after each apply, from the
//     object the API server answered, and after a full read of a child whose content
//     changed. While neither the content nor the declaration changes, the child
//     matches without another read.
//
// So a subject added by hand to a RoleBinding is always seen and repaired: the
// binding's content digest changes, whoever wrote it. Writes that only touch metadata
// (kube-controller-manager's revision annotation on a Deployment) do not change the
// digest: labels are compared from the cached metadata, and annotations are not the
// operator's to declare.

// cachedStateMarker starts the cached state of a child, which the slimmed object read
// from the cache carries in metadata.generateName: "#" and the digest of its content.
// A child is created by name, so generateName means nothing on it, and the manager
// never writes a cached copy back. But generateName is anyone's to write on an update,
// and the API server lets a Role's hold a "#": so no object is trusted for its state
// unless the cache made it. The cache's transform computes the digest of what it is
// given, whatever its generateName says, and every object read from the API server
// otherwise is cleared of a state-looking generateName before it is compared
// (fromAPIServer).
const cachedStateMarker = "#"

// fromAPIServer clears, on an object read from the API server, a generateName that
// looks like the cache's state (cachedStateMarker): whoever wrote it, it says nothing
// of the object's content.
func fromAPIServer(obj client.Object) {
	if _, looksCached := cachedDigest(obj); looksCached {
		obj.SetGenerateName("")
	}
}

// contentDigest is the digest of what the operator declares in a child: its content
// (everything but metadata and status), as JSON, hashed with SHA-256, of which the
// first 128 bits are written in URL-safe base64 without padding (22 characters: the
// cache keeps one per child, and finding another content with the same digest takes
// 2^128 tries).
func contentDigest(obj client.Object) string {
	// Empty lists and maps are written as absent, as the API server stores them.
	var content any
	switch o := obj.(type) {
	case *rbacv1.Role:
		content = struct {
			Rules []rbacv1.PolicyRule `json:"rules,omitempty"`
		}{o.Rules}
	case *rbacv1.RoleBinding:
		content = struct {
			RoleRef  rbacv1.RoleRef   `json:"roleRef"`
			Subjects []rbacv1.Subject `json:"subjects,omitempty"`
		}{o.RoleRef, o.Subjects}
	case *corev1.ConfigMap:
		content = struct {
			Data       map[string]string `json:"data,omitempty"`
			BinaryData map[string][]byte `json:"binaryData,omitempty"`
		}{o.Data, o.BinaryData}
	case *corev1.ServiceAccount:
		content = o.AutomountServiceAccountToken
	case *appsv1.Deployment:
		content = o.Spec
	case *corev1.Service:
		content = o.Spec
	case *networkingv1.NetworkPolicy:
		content = o.Spec
	default:
		return ""
	}
	h := sha256.New()
	// Encoding typed values of these kinds cannot fail.
	_ = json.NewEncoder(h).Encode(content)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// digestIsExact tells the kinds whose content the API server stores as the operator
// declares it, defaulting nothing: a content digest other than the declaration's
// means that the child differs from it.
func digestIsExact(obj client.Object) bool {
	switch obj.(type) {
	case *rbacv1.Role, *rbacv1.RoleBinding, *corev1.ConfigMap, *corev1.ServiceAccount:
		return true
	}
	return false
}

// slimChild replaces, in the cache's copy of a provisioned object, its content by its
// digest (see cachedStateMarker). The approvers' RoleBindings keep their subjects:
// provisioning reads who is already bound while the approval policy is missing, and
// there are few of them. The digest is always of the content given: the object comes
// from the API server (a copy the cache made is never transformed again; see slim).
// It reports whether it slimmed obj.
func slimChild(obj client.Object) bool {
	labels := obj.GetLabels()
	if labels[ManagedByLabel] != ManagedBy || labels[ComponentLabel] == componentApprovals {
		return false
	}
	digest := contentDigest(obj)
	switch o := obj.(type) {
	case *rbacv1.Role:
		o.Rules = nil
	case *rbacv1.RoleBinding:
		o.Subjects = nil
		o.RoleRef.APIGroup, o.RoleRef.Kind = intern(o.RoleRef.APIGroup), intern(o.RoleRef.Kind)
	case *corev1.ConfigMap:
		o.Data, o.BinaryData = nil, nil
	case *corev1.ServiceAccount:
		o.AutomountServiceAccountToken = nil
		o.Secrets, o.ImagePullSecrets = nil, nil
	case *appsv1.Deployment:
		// The portal's availability is judged from the replica counts alone.
		o.Spec = appsv1.DeploymentSpec{}
		o.Status.Conditions = nil
	case *corev1.Service:
		o.Spec = corev1.ServiceSpec{}
	case *networkingv1.NetworkPolicy:
		o.Spec = networkingv1.NetworkPolicySpec{}
	default:
		return false
	}
	// The annotations are not compared: only the digest is kept.
	obj.SetAnnotations(nil)
	obj.SetGenerateName(cachedState(digest))
	return true
}

// cachedState is the cached state of a child whose content has the given digest.
func cachedState(digest string) string { return cachedStateMarker + digest }

// cachedDigest returns the content digest a cached child's copy records, and whether
// the copy is a slimmed one at all.
func cachedDigest(live client.Object) (digest string, slimmed bool) {
	return strings.CutPrefix(live.GetGenerateName(), cachedStateMarker)
}

// slimMatches reports, for a slimmed cached copy, whether it holds what desired
// declares, whose content digest is declared: its labels include desired's and its
// content is the declared one.
func slimMatches(desired, live client.Object, declared string) bool {
	content, _ := cachedDigest(live)
	return content == declared && equality.Semantic.DeepDerivative(desired.GetLabels(), live.GetLabels())
}

// verifiedChildren remembers the children whose content a full comparison found to
// hold what the operator declares although its digest differs (the API server
// defaulted some of its fields): by child, the digest of the content compared and of
// the declaration it matched. While neither changes, the child matches without
// another read.
type verifiedChildren struct {
	mu    sync.Mutex
	byRef map[childRef]verifiedChild
}

type verifiedChild struct {
	content, declared string
}

// verifiedLimit bounds verifiedChildren, which forgets a child when it is deleted: past
// the bound the memory is cleared, and the children are compared in full again once.
// A cohort has three children of kinds the API server defaults.
const verifiedLimit = 1 << 17

// matches reports whether a full comparison found the content of desired's child
// whose digest is content to hold desired, whose digest is declared.
func (v *verifiedChildren) matches(desired client.Object, content, declared string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	got, ok := v.byRef[refOf(desired)]
	return ok && got == verifiedChild{content: content, declared: declared}
}

// remember records that live, compared in full, holds desired, whose digest is
// declared. A content whose digest is the declaration's needs no record.
func (v *verifiedChildren) remember(desired, live client.Object, declared string) {
	content := contentDigest(live)
	v.mu.Lock()
	defer v.mu.Unlock()
	if content == declared {
		delete(v.byRef, refOf(desired))
		return
	}
	if v.byRef == nil || len(v.byRef) >= verifiedLimit {
		v.byRef = map[childRef]verifiedChild{}
	}
	v.byRef[refOf(desired)] = verifiedChild{content: content, declared: declared}
}

// forget drops what is remembered of a deleted child.
func (v *verifiedChildren) forget(obj client.Object) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.byRef, refOf(obj))
}
