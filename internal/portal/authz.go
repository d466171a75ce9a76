package portal

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/cohort-dev/cohort-operator/internal/names"
)

// authorizer decides whether a person may see a cohort's portal: exactly when the API
// server would let them get the cohort's overview ConfigMap, which the operator grants
// by name to the cohort's seated members (and which a cluster's own grants may give
// to others, such as administrators). Decisions, allowed and denied, are remembered
// for at most ttl.
type authorizer struct {
	client    kubernetes.Interface
	namespace string
	ttl       time.Duration
	clock     clock.PassiveClock
	// decisions are by the SHA-256 of the identity and the ConfigMap's name.
	decisions *ttlCache[bool]
}

// decision is what allowed found.
type decision struct {
	allowed bool
	// cached is set when the decision was remembered rather than asked for.
	cached bool
}

// label is the decision as the metrics label it.
func (d decision) label() string {
	if d.allowed {
		return "allowed"
	}
	return "denied"
}

// overviewConfigMap is the name of the cohort's overview ConfigMap, derived by the
// rule the operator names it with.
func overviewConfigMap(cohort string) string {
	return names.Derive(cohort, "overview", names.ObjectLimit)
}

// cohortOptions are the Options that name the cohort's ConfigMaps in namespace, each
// derived by the rule the operator names them with.
func cohortOptions(namespace, cohort string) Options {
	return Options{
		Namespace:         namespace,
		Cohort:            cohort,
		RosterConfigMap:   names.Derive(cohort, "roster", names.ObjectLimit),
		CalendarConfigMap: names.Derive(cohort, "calendar", names.ObjectLimit),
		OverviewConfigMap: overviewConfigMap(cohort),
	}
}

// allowed asks, or remembers, whether id may get the cohort's overview ConfigMap.
func (a *authorizer) allowed(r *http.Request, id identity, cohort string) (decision, error) {
	attrs := &authorizationv1.ResourceAttributes{
		Namespace: a.namespace,
		Verb:      "get",
		Group:     "",
		Version:   "v1",
		Resource:  "configmaps",
		Name:      overviewConfigMap(cohort),
	}
	key, err := decisionKey(id, attrs)
	if err != nil {
		return decision{}, err
	}
	if allowed, ok := a.decisions.get(key); ok {
		return decision{allowed: allowed, cached: true}, nil
	}
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range id.Extra {
		extra[k] = v
	}
	review, err := a.client.AuthorizationV1().SubjectAccessReviews().Create(r.Context(), &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			ResourceAttributes: attrs,
			User:               id.User,
			UID:                id.UID,
			Groups:             id.Groups,
			Extra:              extra,
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return decision{}, fmt.Errorf("creating a SubjectAccessReview of %s on ConfigMap %s/%s: %w", id.User, attrs.Namespace, attrs.Name, err)
	}
	allowed := review.Status.Allowed && !review.Status.Denied
	a.decisions.set(key, allowed, a.clock.Now().Add(a.ttl))
	return decision{allowed: allowed}, nil
}

// decisionKey identifies a question: the whole identity (groups in any order) and the
// ConfigMap asked about, hashed so that keys have one size.
func decisionKey(id identity, attrs *authorizationv1.ResourceAttributes) (string, error) {
	id.Groups = slices.Sorted(slices.Values(id.Groups))
	// encoding/json writes map keys sorted, so equal identities encode equally.
	b, err := json.Marshal(struct {
		ID        identity `json:"id"`
		Namespace string   `json:"namespace"`
		Name      string   `json:"name"`
	}{id, attrs.Namespace, attrs.Name})
	if err != nil {
		return "", fmt.Errorf("encoding the identity of %s: %w", id.User, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
