package controllers

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	eventsv1client "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/reference"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Bounds of the EventPoster.
const (
	// eventQueueLength is how many Events may wait to be posted; an Event recorded
	// while the queue is full is dropped and counted, as client-go's broadcaster does.
	eventQueueLength = 1000
	// eventPostAttempts is how often an Event is posted before it is given up.
	eventPostAttempts = 3
	// eventPostRetry is the pause before the second attempt; it doubles.
	eventPostRetry = 500 * time.Millisecond
	// eventNoteLimit is the longest note the API server accepts, in bytes.
	eventNoteLimit = 1024
)

var eventsMetric = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "cohort_events_total",
	Help: "Kubernetes Events the operator recorded, by result: posted, dropped (the queue was full) or failed (the API server refused them after retries).",
}, []string{"result"})

// EventPoster posts the operator's Kubernetes Events (events.k8s.io/v1) as they are
// recorded, one at a time, without client-go's series cache. The broadcaster of
// client-go keeps a copy of every Event for six minutes to count repeats into a
// series; the operator records an Event once per transition, after the status write
// that records it, so there are no repeats to count, and at scale the copies were a
// tenth of the manager's heap. It is a manager.Runnable that runs also while the
// manager is not the leader, so that Events recorded just before it lost the lease
// are still posted.
type EventPoster struct {
	client     eventsv1client.EventsV1Interface
	scheme     *runtime.Scheme
	clock      clock.PassiveClock
	controller string
	instance   string
	queue      chan *eventsv1.Event
	// lastName is the time, in nanoseconds, in the name of the last Event built: each
	// name takes a later one, so that two Events about one object never share a name.
	lastName atomic.Int64
	// dropped counts the Events this poster dropped (cohort_events_total counts those
	// of every poster of the process).
	dropped atomic.Int64
}

var (
	_ events.EventRecorder           = &EventPoster{}
	_ manager.LeaderElectionRunnable = &EventPoster{}
)

// NewEventPoster returns an EventPoster that posts through client as
// reportingController, its instance being the controller's name and the host's.
func NewEventPoster(client eventsv1client.EventsV1Interface, scheme *runtime.Scheme, clk clock.PassiveClock, reportingController string) *EventPoster {
	host, _ := os.Hostname()
	return &EventPoster{
		client:     client,
		scheme:     scheme,
		clock:      clk,
		controller: reportingController,
		instance:   reportingController + "-" + host,
		queue:      make(chan *eventsv1.Event, eventQueueLength),
	}
}

// Eventf queues an Event about regarding (and related, when not nil). It never blocks:
// when the queue is full the Event is dropped and counted.
func (p *EventPoster) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	ev, err := p.event(regarding, related, eventtype, reason, action, fmt.Sprintf(note, args...))
	if err != nil {
		ctrl.Log.WithName("events").Error(err, "not recording an Event", "reason", reason)
		return
	}
	select {
	case p.queue <- ev:
	default:
		p.dropped.Add(1)
		eventsMetric.WithLabelValues("dropped").Inc()
	}
}

// event builds the Event, named as client-go names them: the object's name and the
// time in nanoseconds, in hexadecimal; a nanosecond later than the last name when the
// clock has not moved on.
func (p *EventPoster) event(regarding, related runtime.Object, eventtype, reason, action, note string) (*eventsv1.Event, error) {
	ref, err := reference.GetReference(p.scheme, regarding)
	if err != nil {
		return nil, fmt.Errorf("referring to the object of the Event: %w", err)
	}
	var relatedRef *corev1.ObjectReference
	if related != nil {
		if relatedRef, err = reference.GetReference(p.scheme, related); err != nil {
			return nil, fmt.Errorf("referring to the related object of the Event: %w", err)
		}
	}
	if len(note) > eventNoteLimit {
		note = note[:eventNoteLimit-3] + "..."
	}
	now := p.clock.Now()
	nanos := p.nameTime(now)
	namespace := ref.Namespace
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	return &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: fmt.Sprintf("%v.%x", ref.Name, nanos), Namespace: namespace},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: p.controller,
		ReportingInstance:   p.instance,
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Related:             relatedRef,
		Note:                note,
		Type:                eventtype,
	}, nil
}

// nameTime returns the time, in nanoseconds, for the name of an Event built at now:
// now, or a nanosecond after the last name's.
func (p *EventPoster) nameTime(now time.Time) int64 {
	for {
		last, nanos := p.lastName.Load(), now.UnixNano()
		if nanos <= last {
			nanos = last + 1
		}
		if p.lastName.CompareAndSwap(last, nanos) {
			return nanos
		}
	}
}

// Start posts the queued Events until ctx is done.
func (p *EventPoster) Start(ctx context.Context) error {
	log := ctrl.LoggerFrom(ctx).WithName("events")
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-p.queue:
			if err := p.post(ctx, ev); err != nil {
				eventsMetric.WithLabelValues("failed").Inc()
				log.Error(err, "posting an Event failed", "object", ev.Regarding.Name, "reason", ev.Reason)
				continue
			}
			eventsMetric.WithLabelValues("posted").Inc()
		}
	}
}

// post creates the Event, trying again after a pause when the API server fails.
func (p *EventPoster) post(ctx context.Context, ev *eventsv1.Event) error {
	wait := eventPostRetry
	var err error
	for attempt := 1; ; attempt++ {
		_, err = p.client.Events(ev.Namespace).Create(ctx, ev, metav1.CreateOptions{})
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		// A refused Event (invalid, forbidden, its namespace terminating) stays refused.
		if attempt == eventPostAttempts || apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
			return err
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
		wait *= 2
	}
}

// NeedLeaderElection is false: Events recorded by the leader are posted even after it
// stepped down.
func (p *EventPoster) NeedLeaderElection() bool { return false }
