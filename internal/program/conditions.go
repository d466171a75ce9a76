package program

import (
	"fmt"
	"strings"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// conditions builds the conditions of one status, stamped with the generation they
// were computed for. A condition whose status does not change keeps its last
// transition time; one that changes takes the evaluation's clock, so that evaluating
// an unchanged unit twice gives identical statuses.
type conditions struct {
	list       *[]metav1.Condition
	generation int64
	now        metav1.Time
}

func (c conditions) set(typ string, status metav1.ConditionStatus, reason, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage-3], "") + "..."
	}
	next := metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            msg,
		ObservedGeneration: c.generation,
		LastTransitionTime: c.now,
	}
	if old := apimeta.FindStatusCondition(*c.list, typ); old != nil && old.Status == status {
		next.LastTransitionTime = old.LastTransitionTime
	}
	apimeta.SetStatusCondition(c.list, next)
}

func (c conditions) remove(typ string) { apimeta.RemoveStatusCondition(c.list, typ) }

// maxMessage keeps condition messages well inside the API's limit of 32768 bytes.
const maxMessage = 4096

func (c conditions) find(typ string) *metav1.Condition {
	return apimeta.FindStatusCondition(*c.list, typ)
}

// stamp is the evaluation's clock as the API server stores times: to the second, so
// that a status read back compares equal to the one computed.
func (u *unit) stamp() metav1.Time { return metav1.NewTime(u.now).Rfc3339Copy() }
