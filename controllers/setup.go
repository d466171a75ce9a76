package controllers

import (
	"cmp"
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
	// Workers is how many program units are evaluated at once. Defaults to
	// DefaultWorkers.
	Workers int
	// Portal is how cohort portals are run.
	Portal PortalConfig
	// ApprovalPolicy names the ValidatingAdmissionPolicy that verifies approvers, and
	// its binding. Defaults to DefaultApprovalPolicy.
	ApprovalPolicy string
	// ApproverClusterRole names the ClusterRole bound to each community's approvers.
	// Defaults to DefaultApproverClusterRole.
	ApproverClusterRole string
}

// DefaultWorkers is how many program units are evaluated at once by default.
const DefaultWorkers = 4

// Deps are what every reconciler needs.
type Deps struct {
	// Client reads from the manager's cache and writes to the API server.
	Client client.Client
	// APIReader reads from the API server directly, for objects the cache does not
	// hold.
	APIReader client.Reader
	// Clock tells the time the rules are evaluated at.
	Clock clock.PassiveClock
	// Recorder emits Kubernetes Events on transitions.
	Recorder events.EventRecorder
	// MaxRequeueAfter caps the wait until the next clock boundary.
	MaxRequeueAfter time.Duration
}

// SetupWithManager registers the field indexes and the program reconciler.
func SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Workers == 0 {
		opts.Workers = DefaultWorkers
	}
	opts.ApprovalPolicy = cmp.Or(opts.ApprovalPolicy, DefaultApprovalPolicy)
	opts.ApproverClusterRole = cmp.Or(opts.ApproverClusterRole, DefaultApproverClusterRole)
	if opts.MaxRequeueAfter == 0 {
		opts.MaxRequeueAfter = DefaultMaxRequeueAfter
	}
	if err := setupIndexes(ctx, mgr); err != nil {
		return err
	}
	r := &ProgramReconciler{
		Deps: Deps{
			Client:          mgr.GetClient(),
			APIReader:       mgr.GetAPIReader(),
			Clock:           opts.Clock,
			Recorder:        mgr.GetEventRecorder("cohort-operator"),
			MaxRequeueAfter: opts.MaxRequeueAfter,
		},
		Workers:             opts.Workers,
		Portal:              opts.Portal,
		ApprovalPolicy:      opts.ApprovalPolicy,
		ApproverClusterRole: opts.ApproverClusterRole,
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the program controller: %w", err)
	}
	return nil
}
