package portal

import (
	"context"
	"fmt"
	"strings"
	"sync"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// SharedClusterRules are the rules of the ClusterRole the shared portal's
// ServiceAccount needs, bound with a ClusterRoleBinding: create TokenReviews and
// SubjectAccessReviews. With SharedNamespaceRules they are exactly the RBAC the
// shared portal needs:
//
//	# cluster-scoped: TokenReview and SubjectAccessReview are not namespaced
//	apiVersion: rbac.authorization.k8s.io/v1
//	kind: ClusterRole
//	metadata: {name: cohort-portal-shared}
//	rules:
//	- apiGroups: [authentication.k8s.io]
//	  resources: [tokenreviews]
//	  verbs: [create]
//	- apiGroups: [authorization.k8s.io]
//	  resources: [subjectaccessreviews]
//	  verbs: [create]
//	# bound with a ClusterRoleBinding to the ServiceAccount
//	---
//	apiVersion: rbac.authorization.k8s.io/v1
//	kind: Role
//	metadata: {name: cohort-portal-shared, namespace: NS}
//	rules:
//	- apiGroups: [""]
//	  resources: [configmaps]
//	  verbs: [get]
//	# bound with a RoleBinding in NS, the namespace the portal serves (--namespace)
//
// Nothing else: no list or watch (the portal gets each cohort's ConfigMaps by name),
// no Secrets, no cohorts. The readiness check asks with SelfSubjectAccessReviews,
// which every authenticated identity may create (system:basic-user). test/sharedportal
// binds exactly these rules.
//
// The cluster must also let TokenReviews authenticate people's tokens for the portal's
// audience: the JWT authenticator of the people's issuer lists the audience among its
// audiences, and kube-apiserver's --api-audiences lists it too (the API server matches
// a TokenReview's audiences against --api-audiences, not against the token's aud
// claim, which the portal therefore checks itself).
func SharedClusterRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
		{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
	}
}

// SharedNamespaceRules are the rules of the Role the shared portal's ServiceAccount
// needs in the namespace it serves, bound with a RoleBinding there: get ConfigMaps.
func SharedNamespaceRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}},
	}
}

// accessCheck remembers whether the portal's own identity holds the rules it needs,
// as SelfSubjectAccessReviews found; the portal is not ready until it does.
type accessCheck struct {
	client    kubernetes.Interface
	namespace string

	mu sync.Mutex
	// missing describes the permissions found missing; nil until a check completed.
	missing []string
	// ok is set once every permission was found, and stays set.
	ok bool
}

// check asks for each permission the portal needs, once it has not found them all.
func (c *accessCheck) check(ctx context.Context) error {
	if c.passed() {
		return nil
	}
	var missing []string
	for _, r := range append(SharedClusterRules(), SharedNamespaceRules()...) {
		ns := ""
		if r.APIGroups[0] == "" {
			ns = c.namespace
		}
		attrs := &authorizationv1.ResourceAttributes{Namespace: ns, Verb: r.Verbs[0], Group: r.APIGroups[0], Resource: r.Resources[0]}
		review, err := c.client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: attrs},
		}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("checking the portal's own access with a SelfSubjectAccessReview: %w", err)
		}
		if !review.Status.Allowed {
			what := fmt.Sprintf("%s %s.%s", attrs.Verb, attrs.Resource, attrs.Group)
			if ns != "" {
				what = fmt.Sprintf("%s %s in namespace %s", attrs.Verb, attrs.Resource, ns)
			}
			missing = append(missing, what)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.missing, c.ok = missing, len(missing) == 0
	if len(missing) > 0 {
		return fmt.Errorf("the portal's ServiceAccount may not: %s", strings.Join(missing, "; "))
	}
	return nil
}

func (c *accessCheck) passed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok
}

// status says why the portal is not ready, or "" when it is.
func (c *accessCheck) status() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.ok:
		return ""
	case c.missing == nil:
		return "the portal has not checked its own access yet"
	default:
		return "the portal's ServiceAccount may not: " + strings.Join(c.missing, "; ")
	}
}
