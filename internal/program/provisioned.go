package program

import (
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// Provisioning is how applying a cohort's services went.
type Provisioning struct {
	Status  metav1.ConditionStatus
	Reason  string
	Message string

	// Portal is the portal's availability; nil when the portal is disabled.
	Portal *PortalAvailability
}

// PortalAvailability is the PortalAvailable condition of a cohort.
type PortalAvailability struct {
	Status  metav1.ConditionStatus
	Reason  string
	Message string
}

// SetProvisioned records provisioning in the evaluated conditions of a cohort or a
// community (list): the Provisioned
// condition, and Ready=False with the same reason when provisioning failed (a name
// conflict or a panic also makes the cohort Stalled: only a person can resolve it). A suspended
// cohort's pending changes leave Ready as evaluated. previous is the status the
// evaluation started from, so that a condition that did not change keeps its last
// transition time.
func SetProvisioned(list *[]metav1.Condition, previous []metav1.Condition, generation int64, now time.Time, p Provisioning) {
	conds := conditions{list: list, generation: generation, now: metav1.NewTime(now).Rfc3339Copy()}
	conds.set(learningv1alpha1.ProvisionedCondition, p.Status, p.Reason, "%s", p.Message)
	if a := p.Portal; a != nil {
		conds.set(learningv1alpha1.PortalAvailableCondition, a.Status, a.Reason, "%s", a.Message)
	} else {
		conds.remove(learningv1alpha1.PortalAvailableCondition)
	}
	if p.Status == metav1.ConditionTrue || p.Reason == learningv1alpha1.SuspendedReason {
		return
	}
	if ready := conds.find(learningv1alpha1.ReadyCondition); ready != nil && ready.Status == metav1.ConditionFalse {
		return // the evaluation's own reason comes first
	}
	// The evaluation stamped Ready=True now; compare with what it was before it.
	restore := func(typ string) {
		if old := apimeta.FindStatusCondition(previous, typ); old != nil {
			if cur := conds.find(typ); cur != nil && cur.Status == old.Status {
				cur.LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	conds.set(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, p.Reason, "%s", p.Message)
	restore(learningv1alpha1.ReadyCondition)
	if p.Reason == learningv1alpha1.NameConflictReason || p.Reason == learningv1alpha1.InternalErrorReason {
		conds.set(learningv1alpha1.StalledCondition, metav1.ConditionTrue, p.Reason, "%s", p.Message)
		restore(learningv1alpha1.StalledCondition)
	}
}
