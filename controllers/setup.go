package controllers

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
)

// SetupWithManager registers the reconciler of every kind with mgr.
func SetupWithManager(mgr ctrl.Manager) error {
	c, s := mgr.GetClient(), mgr.GetScheme()
	setups := map[string]func(ctrl.Manager) error{
		"CommunityOfPractice": (&CommunityOfPracticeReconciler{Client: c, Scheme: s}).SetupWithManager,
		"Cohort":              (&CohortReconciler{Client: c, Scheme: s}).SetupWithManager,
		"Membership":          (&MembershipReconciler{Client: c, Scheme: s}).SetupWithManager,
		"LearningEvent":       (&LearningEventReconciler{Client: c, Scheme: s}).SetupWithManager,
	}
	for kind, setup := range setups {
		if err := setup(mgr); err != nil {
			return fmt.Errorf("setting up the %s controller: %w", kind, err)
		}
	}
	return nil
}
