package kubectlcohort

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/names"
)

// explainer explains one condition type and reason of a cohort: what it means, and
// what to do next (empty when nothing).
type explainer func(c metav1.Condition, x explainContext) (explanation, next string)

// explainContext is what explanations name besides the condition.
type explainContext struct {
	cohort, namespace, community string
}

func (x explainContext) kubectl(args string) string {
	return fmt.Sprintf("kubectl -n %s %s", x.namespace, args)
}

func key(typ, reason string) string { return typ + "/" + reason }

// explainers are keyed by condition type and reason: every reason the operator sets
// on a cohort's conditions (see internal/program and controllers/provision.go).
var explainers = map[string]explainer{
	key(learningv1alpha1.ReadyCondition, learningv1alpha1.SucceededReason):         reconciled,
	key(learningv1alpha1.ReadyCondition, learningv1alpha1.InvalidPolicyReason):     invalidPolicy,
	key(learningv1alpha1.ReadyCondition, learningv1alpha1.InvalidScheduleReason):   invalidSchedule,
	key(learningv1alpha1.ReadyCondition, learningv1alpha1.NameConflictReason):      nameConflict,
	key(learningv1alpha1.ReadyCondition, learningv1alpha1.ApplyFailedReason):       applyFailed,
	key(learningv1alpha1.ReadyCondition, learningv1alpha1.CommunityNotFoundReason): communityNotFound,
	key(learningv1alpha1.ReadyCondition, learningv1alpha1.InternalErrorReason):     internalError,

	key(learningv1alpha1.StalledCondition, learningv1alpha1.InvalidPolicyReason):   invalidPolicy,
	key(learningv1alpha1.StalledCondition, learningv1alpha1.InvalidScheduleReason): invalidSchedule,
	key(learningv1alpha1.StalledCondition, learningv1alpha1.NameConflictReason):    nameConflict,
	key(learningv1alpha1.StalledCondition, learningv1alpha1.InternalErrorReason):   internalError,

	key(learningv1alpha1.ReconcilingCondition, learningv1alpha1.ProgressingReason): progressing,

	key(learningv1alpha1.CommunityFoundCondition, learningv1alpha1.FoundReason):             communityFound,
	key(learningv1alpha1.CommunityFoundCondition, learningv1alpha1.CommunityNotFoundReason): communityNotFound,

	key(learningv1alpha1.StaffedCondition, learningv1alpha1.StaffedReason):       staffed,
	key(learningv1alpha1.StaffedCondition, learningv1alpha1.UnderstaffedReason):  understaffed,
	key(learningv1alpha1.StaffedCondition, learningv1alpha1.CompletedReason):     completed,
	key(learningv1alpha1.StaffedCondition, learningv1alpha1.InvalidPolicyReason): frozen,

	key(learningv1alpha1.CompositionValidCondition, learningv1alpha1.CompositionValidReason):   compositionValid,
	key(learningv1alpha1.CompositionValidCondition, learningv1alpha1.CompositionInvalidReason): compositionInvalid,
	key(learningv1alpha1.CompositionValidCondition, learningv1alpha1.InvalidPolicyReason):      frozen,

	key(learningv1alpha1.ProvisionedCondition, learningv1alpha1.ProvisionedReason):   provisioned,
	key(learningv1alpha1.ProvisionedCondition, learningv1alpha1.NameConflictReason):  nameConflict,
	key(learningv1alpha1.ProvisionedCondition, learningv1alpha1.ApplyFailedReason):   applyFailed,
	key(learningv1alpha1.ProvisionedCondition, learningv1alpha1.SuspendedReason):     suspended,
	key(learningv1alpha1.ProvisionedCondition, learningv1alpha1.InternalErrorReason): internalError,

	key(learningv1alpha1.DocumentsCompleteCondition, learningv1alpha1.DocumentsCompleteReason): documentsComplete,
	key(learningv1alpha1.DocumentsCompleteCondition, learningv1alpha1.CalendarTruncatedReason): calendarTruncated,
	key(learningv1alpha1.DocumentsCompleteCondition, learningv1alpha1.RenderFailedReason):      renderFailed,

	key(learningv1alpha1.PortalAvailableCondition, learningv1alpha1.AvailableReason):   portalAvailable,
	key(learningv1alpha1.PortalAvailableCondition, learningv1alpha1.UnavailableReason): portalUnavailable,
}

// sentence makes a condition message end a sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

func reconciled(c metav1.Condition, _ explainContext) (string, string) {
	return "The cohort is reconciled: " + sentence(c.Message), ""
}

func invalidPolicy(c metav1.Condition, x explainContext) (string, string) {
	where := "spec.policy of the cohort"
	if x.community != "" {
		where += " or of CommunityOfPractice " + x.community
	}
	return "The cohort's effective policy (its community's policy with the cohort's overrides) cannot be applied, so seats stay as they were last evaluated.",
		"fix the policy: " + sentence(c.Message) + " Edit " + where + "."
}

func invalidSchedule(c metav1.Condition, _ explainContext) (string, string) {
	return "The cohort's schedule cannot be expanded, so no gatherings are generated.",
		"fix spec.schedule: " + sentence(c.Message)
}

func nameConflict(c metav1.Condition, _ explainContext) (string, string) {
	// The operator's message lists the objects between these two phrases.
	objects := strings.TrimSuffix(c.Message, "; rename or delete them")
	if _, after, ok := strings.Cut(objects, "left as they are: "); ok {
		objects = after
	}
	return "Objects with names the operator derives for this cohort's services exist but were not created by it for this cohort, so it leaves them alone and cannot provision those services: " + sentence(objects),
		"rename or delete the named objects. The operator looks again every minute."
}

func internalError(c metav1.Condition, _ explainContext) (string, string) {
	return "One of this cohort's steps failed on a bug of the operator: " + sentence(c.Message) + " The other cohorts of its community are still evaluated and provisioned; this one's seats and access stay as they were.",
		"report it with the manager's log, which holds the stack once (kubectl -n cohort-system logs deployment/cohort-controller-manager with config/default; the release's namespace with Helm)."
}

func documentsComplete(c metav1.Condition, _ explainContext) (string, string) {
	return "The roster, calendar and overview hold everything: " + sentence(c.Message), ""
}

func calendarTruncated(c metav1.Condition, _ explainContext) (string, string) {
	return "The calendar leaves out events to stay within the size of a ConfigMap, the oldest first, or events whose times a calendar cannot hold: " + sentence(c.Message) + " This does not make the cohort unready, and access does not depend on it.",
		"nothing, unless the events left out matter: fewer or shorter community-wide events keep the calendar whole."
}

func renderFailed(c metav1.Condition, _ explainContext) (string, string) {
	return "A document could not be rendered and is published empty: " + sentence(c.Message) + " Access does not depend on it.",
		"report it with the cohort's YAML: a document that cannot be rendered is a bug of the operator."
}

func applyFailed(c metav1.Condition, _ explainContext) (string, string) {
	return "The API server refused one of the cohort's services: " + sentence(c.Message),
		"read the message: a quota, an admission webhook or a permission the operator lacks (its ClusterRole, config/rbac) is the usual cause. The operator retries on its own."
}

func communityNotFound(_ metav1.Condition, x explainContext) (string, string) {
	return fmt.Sprintf("CommunityOfPractice %s does not exist, so the cohort has no community policy to run under.", x.community),
		fmt.Sprintf("create CommunityOfPractice %s in namespace %s. spec.communityRef is immutable: to run under another community, create a new cohort.", x.community, x.namespace)
}

func communityFound(c metav1.Condition, _ explainContext) (string, string) {
	return "The cohort's community exists: " + sentence(c.Message), ""
}

func progressing(c metav1.Condition, _ explainContext) (string, string) {
	if c.Status != metav1.ConditionTrue {
		return "The operator is not working on the cohort.", ""
	}
	return "The operator is still working toward the declared state: " + sentence(c.Message), "wait, and look again in a minute."
}

func staffed(c metav1.Condition, _ explainContext) (string, string) {
	return "Every role has its minimum of seated members: " + sentence(strings.TrimPrefix(c.Message, "every role has its minimum: ")), ""
}

func understaffed(c metav1.Condition, x explainContext) (string, string) {
	return "Some roles have fewer seated members than their minimum (minMembers).",
		c.Message + " — add or promote memberships: create Memberships in those roles, or resolve why existing ones hold no seat (" +
			"kubectl cohort roster " + x.cohort + " -n " + x.namespace + " shows each one's seat), or lower minMembers in the policy."
}

func completed(c metav1.Condition, _ explainContext) (string, string) {
	return "The cohort has completed; these are its final figures: " + sentence(c.Message), ""
}

func frozen(c metav1.Condition, _ explainContext) (string, string) {
	return "Not evaluated while the policy cannot be applied (see Stalled): " + sentence(c.Message), ""
}

func compositionValid(c metav1.Condition, _ explainContext) (string, string) {
	return "Organizations and teams follow the composition policy: " + sentence(c.Message), ""
}

func compositionInvalid(c metav1.Condition, _ explainContext) (string, string) {
	return "Organizations or teams break the composition policy: " + sentence(c.Message),
		"add, withdraw or correct memberships (spec.organization, spec.teamRole) until every organization's team follows spec.policy.composition, or change the policy."
}

func provisioned(c metav1.Condition, _ explainContext) (string, string) {
	return "The cohort's services are in place: " + sentence(c.Message), ""
}

func suspended(c metav1.Condition, x explainContext) (string, string) {
	return "The cohort is suspended (spec.suspend: true): members' access still follows the seats, other changes wait: " + sentence(c.Message),
		"to apply them, resume the cohort: " + x.kubectl(fmt.Sprintf(`patch cohort %s --type=merge -p '{"spec":{"suspend":false}}'`, x.cohort))
}

func portalAvailable(c metav1.Condition, _ explainContext) (string, string) {
	return "The portal is serving: " + sentence(c.Message), ""
}

func portalUnavailable(c metav1.Condition, x explainContext) (string, string) {
	deployment := names.Derive(x.cohort, "portal", names.ObjectLimit)
	return "Portal pods are not available: " + sentence(c.Message) + " This does not make the cohort unready.",
		fmt.Sprintf("see the Deployment %s and its pods: %s, and the events and logs of its pods.", deployment, x.kubectl("describe deployment "+deployment))
}

// healthy reports whether a condition is as it is when nothing needs doing.
func healthy(c metav1.Condition) bool {
	if c.Type == learningv1alpha1.StalledCondition || c.Type == learningv1alpha1.ReconcilingCondition {
		return c.Status == metav1.ConditionFalse
	}
	return c.Status == metav1.ConditionTrue
}

// ExplainCondition says in words what a condition of cohort means and what to do
// next, keyed by its type and reason. A type and reason this plugin does not know are
// reported with their message, and, when unhealthy, a pointer to the cohort.
func ExplainCondition(cohort *learningv1alpha1.Cohort, c metav1.Condition) ConditionReport {
	x := explainContext{cohort: cohort.Name, namespace: cohort.Namespace}
	if ref := cohort.Spec.CommunityRef; ref != nil {
		x.community = string(ref.Name)
	}
	r := ConditionReport{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message, Healthy: healthy(c)}
	if e, ok := explainers[key(c.Type, c.Reason)]; ok {
		r.Explanation, r.Next = e(c, x)
		return r
	}
	r.Explanation = sentence(c.Message)
	if r.Explanation == "" {
		r.Explanation = fmt.Sprintf("%s is %s (%s).", c.Type, c.Status, c.Reason)
	}
	if !r.Healthy && c.Status != metav1.ConditionUnknown {
		r.Next = "read the message; " + x.kubectl("describe cohort "+x.cohort) + " shows every condition and the cohort's events."
	}
	return r
}
