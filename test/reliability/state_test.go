package reliability

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/teststate"
)

// state is a namespace's objects, normalized (teststate.Normalize), by "Kind/name".
type state = map[string]map[string]any

// captureState reads the objects of namespace ns from the API server.
func captureState(ctx context.Context, ns string) (state, error) {
	s, err := teststate.Capture(ctx, admin, ns)
	return s.Objects, err
}

// diff lists the differences between two states.
func diff(want, got state) []string { return teststate.Diff(want, got) }

// waitForState waits until namespace ns holds the state want, and fails the test with
// the remaining differences if it does not within timeout.
func waitForState(t *testing.T, ns string, want state, timeout time.Duration) {
	t.Helper()
	var last []string
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		got, err := captureState(ctx, ns)
		if err != nil {
			return false, err
		}
		last = diff(want, got)
		return len(last) == 0, nil
	})
	if err != nil {
		t.Fatalf("namespace %s did not reach the undisturbed run's state within %s (%v):\n%s", ns, timeout, err, strings.Join(last, "\n"))
	}
}

// convergeAndHold waits until namespace ns holds the state want and the manager that
// writes through log has been quiet for a while, then checks that the state still
// holds: nothing written since may have changed it (no duplicate child, no second
// seat, no further status). It returns the state.
func convergeAndHold(t *testing.T, ns string, want state, log *writeLog) state {
	t.Helper()
	waitForState(t, ns, want, convergeTimeout)
	waitQuiet(t, log, false, quietPeriod, convergeTimeout)
	got, err := captureState(context.Background(), ns)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(want, got); len(d) > 0 {
		t.Fatalf("after converging, the state drifted:\n%s", strings.Join(d, "\n"))
	}
	return got
}

// eventCounts counts the operator's Kubernetes Events in namespace ns by what they say:
// the object they regard, their reason and their note, with a series counted as often
// as it occurred. The API server's own Events (its repair of a Service's address,
// for one) are not the operator's.
func eventCounts(ctx context.Context, ns string) (map[string]int, error) {
	list := &eventsv1.EventList{}
	if err := admin.List(ctx, list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, e := range list.Items {
		if e.ReportingController != "cohort-operator" {
			continue
		}
		n := 1
		if e.Series != nil {
			n = int(e.Series.Count)
		}
		key := fmt.Sprintf("%s/%s %s: %s", e.Regarding.Kind, e.Regarding.Name, e.Reason, strings.ReplaceAll(e.Note, ns, "NS"))
		counts[key] += n
	}
	return counts, nil
}

// settledEvents waits until the Events of namespace ns stop changing for a second
// (they are posted asynchronously) and returns their counts.
func settledEvents(t *testing.T, ns string) map[string]int {
	t.Helper()
	var last map[string]int
	stableSince := time.Now()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		counts, err := eventCounts(ctx, ns)
		if err != nil {
			return false, err
		}
		if !maps.Equal(counts, last) {
			last, stableSince = counts, time.Now()
		}
		return time.Since(stableSince) >= time.Second, nil
	})
	if err != nil {
		t.Fatalf("the Events of %s did not settle: %v", ns, err)
	}
	return last
}
