package controllers

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// How the manager keeps its provisioned objects in memory.
//
// A cluster at scale holds tens of thousands of provisioned objects (each member with a
// plan has a Role and a RoleBinding of their own), and the cache kept full copies of
// all of them to compare with what the operator declares. It now keeps their metadata
// and a digest instead:
//
//   - Every child the operator applies carries AppliedDigestAnnotation, the SHA-256 of
//     what it declared (contentDigest).
//   - The cache's transform (slimChild) drops the child's content (rules, subjects,
//     data, specs; a Deployment keeps its status) and records, in the cache-only
//     annotation cachedContentAnnotation, the applied digest when the object's
//     managedFields show that only the operator's field manager wrote its content. A
//     write by anyone else (kubectl edit, a patch, another controller) leaves its
//     manager in managedFields, so the cached copy says "changed" instead.
//   - A child matches its declaration when its labels hold the declared ones and its
//     cached digest is the declared content's. A changed child is read in full from the
//     API server and compared as before (childMatches); a match is remembered by
//     resourceVersion (verifiedChildren), so an object someone else also writes, such
//     as a Deployment restarted with kubectl rollout restart, is read again only when
//     its resourceVersion moves.
//
// So a subject added by hand to a RoleBinding is still seen and repaired: its writer
// is in managedFields, the cached copy says "changed", and the full read finds the
// extra subject. Writes that only touch metadata (kube-controller-manager's revision
// annotation on a Deployment) do not mark a child changed: its labels are compared
// from the cached metadata, and annotations other than the digest are not the
// operator's to declare.
const (
	// AppliedDigestAnnotation is the digest of what the operator declared for a child
	// when it last applied it.
	AppliedDigestAnnotation = "learning.cohort.dev/applied-digest"
	// cachedContentAnnotation exists only on the cache's copies of children: "applied
	// <digest>" when only the operator wrote their content, "changed" otherwise. The
	// manager never writes a cached child back.
	cachedContentAnnotation = "learning.cohort.dev/cached-content"
	cachedChanged           = "changed"
	cachedAppliedPrefix     = "applied "
)

// contentDigest is the digest of what the operator declares in a child: its content
// (everything but metadata and status), as JSON, hashed with SHA-256 and written in
// URL-safe base64 without padding (43 characters, a valid annotation value).
func contentDigest(obj client.Object) string {
	var content any
	switch o := obj.(type) {
	case *rbacv1.Role:
		content = o.Rules
	case *rbacv1.RoleBinding:
		content = struct {
			RoleRef  rbacv1.RoleRef   `json:"roleRef"`
			Subjects []rbacv1.Subject `json:"subjects"`
		}{o.RoleRef, o.Subjects}
	case *corev1.ConfigMap:
		content = struct {
			Data       map[string]string `json:"data"`
			BinaryData map[string][]byte `json:"binaryData"`
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
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// slimChild replaces, in the cache's copy of a provisioned object, its content by what
// the comparison needs (see the comment of AppliedDigestAnnotation). It must run
// before managedFields are dropped. The approvers' RoleBindings keep their subjects:
// provisioning reads who is already bound while the approval policy is missing, and
// there are few of them.
func slimChild(obj client.Object) {
	labels := obj.GetLabels()
	if labels[ManagedByLabel] != ManagedBy || labels[ComponentLabel] == componentApprovals {
		return
	}
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
		return
	}
	state := cachedChanged
	if digest := obj.GetAnnotations()[AppliedDigestAnnotation]; digest != "" && onlyOperatorWroteContent(obj.GetManagedFields()) {
		state = cachedAppliedPrefix + digest
	}
	// The other annotations are not compared: only the state is kept.
	obj.SetAnnotations(map[string]string{cachedContentAnnotation: state})
}

// onlyOperatorWroteContent reports whether the managedFields show that no manager but
// the operator's wrote anything outside metadata and status. No managedFields at all
// (they can be cleared by a write) proves nothing, so it is false.
func onlyOperatorWroteContent(entries []metav1.ManagedFieldsEntry) bool {
	own := false
	for _, e := range entries {
		switch {
		case e.Manager == fieldOwner && e.Operation == metav1.ManagedFieldsOperationApply:
			own = own || e.Subresource == ""
		case e.Subresource != "":
			// Status and other subresources are not the operator's to declare.
		case !onlyMetadata(e.FieldsV1):
			return false
		}
	}
	return own
}

// onlyMetadata reports whether a managedFields entry's field set touches nothing but
// metadata.
func onlyMetadata(fields *metav1.FieldsV1) bool {
	if fields == nil {
		return true
	}
	var set map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(fields.GetRawBytes()))
	if err := dec.Decode(&set); err != nil {
		return false
	}
	for k := range set {
		if k != "f:metadata" && k != "." {
			return false
		}
	}
	return true
}

// cachedDigest returns the applied digest a cached child's copy records, and whether
// the copy is a slimmed one at all.
func cachedDigest(live client.Object) (digest string, slimmed bool) {
	state, ok := live.GetAnnotations()[cachedContentAnnotation]
	if !ok {
		return "", false
	}
	digest, _ = strings.CutPrefix(state, cachedAppliedPrefix)
	if digest == state {
		digest = "" // changed
	}
	return digest, true
}

// slimMatches reports, for a slimmed cached copy, whether it holds what desired
// declares: its labels include desired's and the operator alone wrote the declared
// content. It says nothing (false) for a changed copy, which needs a full read.
func slimMatches(desired, live client.Object) bool {
	digest, _ := cachedDigest(live)
	return digest != "" && digest == contentDigest(desired) &&
		equality.Semantic.DeepDerivative(desired.GetLabels(), live.GetLabels())
}

// verifiedChildren remembers the children that someone besides the operator also
// wrote, but that a full read found to hold what the operator declares: by child, the
// resourceVersion read and the digest of the declaration it matched. While neither
// changes, the child matches without another read.
type verifiedChildren struct {
	mu   sync.Mutex
	byRV map[childRef]verifiedChild
}

type verifiedChild struct {
	resourceVersion, digest string
}

// verifiedLimit bounds verifiedChildren: past it the memory is cleared (children of
// deleted cohorts are not otherwise forgotten), and children are read again once.
const verifiedLimit = 20000

// matches reports whether a full read found live's resourceVersion to hold desired,
// whose content digest is digest (computed by the caller, outside the lock).
func (v *verifiedChildren) matches(desired, live client.Object, digest string) bool {
	v.mu.Lock()
	got, ok := v.byRV[refOf(desired)]
	v.mu.Unlock()
	return ok && got.resourceVersion == live.GetResourceVersion() && got.digest == digest &&
		equality.Semantic.DeepDerivative(desired.GetLabels(), live.GetLabels())
}

// remember records that live, read in full, holds desired, whose digest is digest.
func (v *verifiedChildren) remember(desired, live client.Object, digest string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.byRV == nil || len(v.byRV) >= verifiedLimit {
		v.byRV = map[childRef]verifiedChild{}
	}
	v.byRV[refOf(desired)] = verifiedChild{resourceVersion: live.GetResourceVersion(), digest: digest}
}

// withAppliedDigest returns a copy of obj's annotations with the digest of its content.
func withAppliedDigest(obj client.Object) map[string]string {
	a := maps.Clone(obj.GetAnnotations())
	if a == nil {
		a = map[string]string{}
	}
	a[AppliedDigestAnnotation] = contentDigest(obj)
	return a
}
