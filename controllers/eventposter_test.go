package controllers

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	promtestutil "github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// posterUnderTest returns an EventPoster on a fake clientset whose Event creates first
// fail with the errors given, in turn, and then succeed; and a count of the creates.
func posterUnderTest(t *testing.T, failures ...error) (*EventPoster, *fake.Clientset, *atomic.Int32) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := learningv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	cs := fake.NewClientset()
	calls := &atomic.Int32{}
	cs.PrependReactor("create", "events", func(k8stesting.Action) (bool, runtime.Object, error) {
		n := int(calls.Add(1))
		if n <= len(failures) {
			return true, nil, failures[n-1]
		}
		return false, nil, nil
	})
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC))
	return NewEventPoster(cs.EventsV1(), scheme, clk, "cohort-operator"), cs, calls
}

// run starts the poster and returns a function that stops it and waits for it.
func run(p *EventPoster) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Start(ctx)
	}()
	return func() { cancel(); <-done }
}

func waitEvents(t *testing.T, cs *fake.Clientset, n int) []eventsv1.Event {
	t.Helper()
	var list *eventsv1.EventList
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if list, err = cs.EventsV1().Events("spring").List(context.Background(), metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(list.Items) != n {
		t.Fatalf("%d Events posted, want %d", len(list.Items), n)
	}
	return list.Items
}

// TestEventPosterPostsWhatWasRecorded checks the Event's fields as the API server
// validates them: regarding, related, the reporting controller and instance, the
// action, and a note cut to the API server's limit.
func TestEventPosterPostsWhatWasRecorded(t *testing.T) {
	p, cs, _ := posterUnderTest(t)
	defer run(p)()
	plan := &learningv1alpha1.ActionPlan{ObjectMeta: metav1.ObjectMeta{Name: "bea-plan", Namespace: "spring", UID: "u1"}}
	member := &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Name: "bea", Namespace: "spring", UID: "u2"}}
	p.Eventf(plan, member, corev1.EventTypeWarning, "PlanStale", "Evaluate", "no check-in for %d gatherings", 2)
	p.Eventf(plan, nil, corev1.EventTypeNormal, "PlanCurrent", "Evaluate", "%s", strings.Repeat("x", 2000))

	events := waitEvents(t, cs, 2)
	byReason := map[string]eventsv1.Event{}
	for _, e := range events {
		byReason[e.Reason] = e
	}
	stale := byReason["PlanStale"]
	if stale.Regarding.Kind != "ActionPlan" || stale.Regarding.Name != "bea-plan" || stale.Regarding.UID != "u1" {
		t.Errorf("regarding = %+v, want the ActionPlan bea-plan", stale.Regarding)
	}
	if stale.Related == nil || stale.Related.Kind != "Membership" || stale.Related.Name != "bea" {
		t.Errorf("related = %+v, want the Membership bea", stale.Related)
	}
	if stale.Note != "no check-in for 2 gatherings" || stale.Type != corev1.EventTypeWarning || stale.Action != "Evaluate" {
		t.Errorf("note, type, action = %q, %q, %q", stale.Note, stale.Type, stale.Action)
	}
	if stale.ReportingController != "cohort-operator" || !strings.HasPrefix(stale.ReportingInstance, "cohort-operator-") {
		t.Errorf("reporting controller, instance = %q, %q", stale.ReportingController, stale.ReportingInstance)
	}
	if !strings.HasPrefix(stale.Name, "bea-plan.") || stale.EventTime.IsZero() {
		t.Errorf("name %q, event time %v: want the object's name and a time", stale.Name, stale.EventTime)
	}
	if n := len(byReason["PlanCurrent"].Note); n != eventNoteLimit {
		t.Errorf("a long note was posted with %d bytes, want it cut to %d", n, eventNoteLimit)
	}
}

// TestEventPosterRetries checks that an API server failure is retried and that a
// refusal is not.
func TestEventPosterRetries(t *testing.T) {
	gr := schema.GroupResource{Group: "events.k8s.io", Resource: "events"}
	plan := &learningv1alpha1.ActionPlan{ObjectMeta: metav1.ObjectMeta{Name: "bea-plan", Namespace: "spring"}}

	t.Run("a failure is retried", func(t *testing.T) {
		p, cs, calls := posterUnderTest(t, apierrors.NewServiceUnavailable("etcd is away"))
		defer run(p)()
		p.Eventf(plan, nil, corev1.EventTypeNormal, "PlanCurrent", "Evaluate", "current")
		waitEvents(t, cs, 1)
		if n := calls.Load(); n != 2 {
			t.Errorf("%d creates, want 2", n)
		}
	})
	t.Run("a refusal is not", func(t *testing.T) {
		failed := promtestutil.ToFloat64(eventsMetric.WithLabelValues("failed"))
		p, cs, calls := posterUnderTest(t, apierrors.NewInvalid(schema.GroupKind{Group: gr.Group, Kind: "Event"}, "x",
			field.ErrorList{field.Required(field.NewPath("action"), "")}))
		defer run(p)()
		p.Eventf(plan, nil, corev1.EventTypeNormal, "PlanCurrent", "Evaluate", "current")
		p.Eventf(plan, nil, corev1.EventTypeNormal, "PlanOverdue", "Evaluate", "overdue")
		// The second Event is posted after the first was given up.
		events := waitEvents(t, cs, 1)
		if events[0].Reason != "PlanOverdue" {
			t.Errorf("posted %s, want PlanOverdue", events[0].Reason)
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("%d creates, want 2: the refused Event is not retried", n)
		}
		if got := promtestutil.ToFloat64(eventsMetric.WithLabelValues("failed")) - failed; got != 1 {
			t.Errorf("cohort_events_total{result=failed} grew by %v, want 1", got)
		}
	})
}

// TestEventPosterDropsWhenFull checks that recording never blocks: once the queue is
// full, an Event is dropped and counted.
func TestEventPosterDropsWhenFull(t *testing.T) {
	p, _, _ := posterUnderTest(t)
	plan := &learningv1alpha1.ActionPlan{ObjectMeta: metav1.ObjectMeta{Name: "bea-plan", Namespace: "spring"}}
	dropped := promtestutil.ToFloat64(eventsMetric.WithLabelValues("dropped"))
	for range eventQueueLength + 3 {
		p.Eventf(plan, nil, corev1.EventTypeNormal, "PlanCurrent", "Evaluate", "current")
	}
	if got := p.dropped.Load(); got != 3 {
		t.Errorf("%d Events dropped, want 3", got)
	}
	// The metric is the process's: the suite's manager may drop Events of its own
	// meanwhile.
	if got := promtestutil.ToFloat64(eventsMetric.WithLabelValues("dropped")) - dropped; got < 3 {
		t.Errorf("cohort_events_total{result=dropped} grew by %v, want at least 3", got)
	}
	if len(p.queue) != eventQueueLength {
		t.Errorf("%d Events queued, want %d", len(p.queue), eventQueueLength)
	}
}
