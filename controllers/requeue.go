package controllers

import (
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// requeueAt asks to run again at the next clock boundary, capped at maxWait so that a
// clock jump is noticed; no boundary means no requeue.
func requeueAt(next, now time.Time, maxWait time.Duration) ctrl.Result {
	if next.IsZero() {
		return ctrl.Result{}
	}
	wait := next.Sub(now)
	if wait <= 0 {
		wait = time.Second
	}
	if maxWait > 0 && wait > maxWait {
		wait = maxWait
	}
	return ctrl.Result{RequeueAfter: wait}
}
