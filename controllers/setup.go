package controllers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultMaxRequeueAfter caps how long a reconciler sleeps until its next clock boundary,
// so that a wall-clock jump is noticed within a bounded time.
const DefaultMaxRequeueAfter = 12 * time.Hour

// fieldOwner is the server-side apply field manager of the objects the operator writes.
const fieldOwner = "cohort-operator"

// Options configure the reconcilers.
type Options struct {
	// Clock tells the time the rules are evaluated at. Defaults to the real clock.
	Clock clock.PassiveClock
	// MaxRequeueAfter caps the wait until the next clock boundary. Defaults to
	// DefaultMaxRequeueAfter.
	MaxRequeueAfter time.Duration
}

// Deps are what every reconciler needs.
type Deps struct {
	// Client reads from the manager's cache and writes to the API server.
	Client client.Client
	// Clock tells the time the rules are evaluated at.
	Clock clock.PassiveClock
	// Recorder emits Kubernetes Events on transitions.
	Recorder events.EventRecorder
	// MaxRequeueAfter caps the wait until the next clock boundary.
	MaxRequeueAfter time.Duration
}

// SetupWithManager registers the field indexes and the reconciler of every kind.
func SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.MaxRequeueAfter == 0 {
		opts.MaxRequeueAfter = DefaultMaxRequeueAfter
	}
	if err := setupIndexes(ctx, mgr); err != nil {
		return err
	}
	deps := func(name string) Deps {
		return Deps{Client: mgr.GetClient(), Clock: opts.Clock, Recorder: mgr.GetEventRecorder(name), MaxRequeueAfter: opts.MaxRequeueAfter}
	}
	setups := []struct {
		kind  string
		setup func(ctrl.Manager) error
	}{
		{"CommunityOfPractice", (&CommunityOfPracticeReconciler{Deps: deps("communityofpractice-controller")}).SetupWithManager},
		{"Cohort", (&CohortReconciler{Deps: deps("cohort-controller")}).SetupWithManager},
		{"Membership", (&MembershipReconciler{Deps: deps("membership-controller")}).SetupWithManager},
		{"LearningEvent", (&LearningEventReconciler{Deps: deps("learningevent-controller")}).SetupWithManager},
	}
	for _, s := range setups {
		if err := s.setup(mgr); err != nil {
			return fmt.Errorf("setting up the %s controller: %w", s.kind, err)
		}
	}
	return nil
}
