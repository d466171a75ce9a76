package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// stateKinds are the kinds whose objects make up a namespace's state: the four the
// users declare and the seven the operator provisions.
var stateKinds = []client.ObjectList{
	&learningv1alpha1.CommunityOfPracticeList{}, &learningv1alpha1.CohortList{},
	&learningv1alpha1.MembershipList{}, &learningv1alpha1.LearningEventList{},
	&corev1.ConfigMapList{}, &rbacv1.RoleList{}, &rbacv1.RoleBindingList{},
	&corev1.ServiceAccountList{}, &appsv1.DeploymentList{}, &corev1.ServiceList{},
	&networkingv1.NetworkPolicyList{},
}

// state is a namespace's objects, keyed by kind and name, each normalised to what two
// runs of one workload must agree on: identities, versions, timestamps and allocated
// addresses are dropped, owners are named by kind and name, and the namespace's name
// is replaced by NS.
type state map[string]string

// captureState reads the objects of namespace ns from the API server.
func captureState(ctx context.Context, ns string) (state, error) {
	s := state{}
	for _, proto := range stateKinds {
		list := proto.DeepCopyObject().(client.ObjectList)
		if err := admin.List(ctx, list, client.InNamespace(ns)); err != nil {
			return nil, err
		}
		items, err := apimeta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		kind := strings.TrimSuffix(fmt.Sprintf("%T", list)[1:], "List")
		kind = kind[strings.LastIndex(kind, ".")+1:]
		for _, item := range items {
			obj := item.(client.Object)
			if ignored(kind, obj.GetName()) {
				continue
			}
			u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
			if err != nil {
				return nil, err
			}
			normalize(kind, u)
			data, err := json.Marshal(u)
			if err != nil {
				return nil, err
			}
			s[kind+"/"+obj.GetName()] = strings.ReplaceAll(string(data), ns, "NS")
		}
	}
	return s, nil
}

// ignored tells the objects the cluster itself makes in every namespace.
func ignored(kind, name string) bool {
	return (kind == "ConfigMap" && name == "kube-root-ca.crt") || (kind == "ServiceAccount" && name == "default")
}

// normalize drops from u what differs between two runs of one workload without being
// part of its state.
func normalize(kind string, u map[string]any) {
	md, _ := u["metadata"].(map[string]any)
	for _, f := range []string{"uid", "resourceVersion", "creationTimestamp", "managedFields", "selfLink"} {
		delete(md, f)
	}
	if owners, ok := md["ownerReferences"].([]any); ok {
		for _, o := range owners {
			delete(o.(map[string]any), "uid")
		}
	}
	switch kind {
	case "Service":
		spec := u["spec"].(map[string]any)
		delete(spec, "clusterIP")
		delete(spec, "clusterIPs")
	case "Deployment":
		delete(u, "status")
	}
}

// diff lists the differences between two states, one line per object.
func diff(want, got state) []string {
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		switch g, ok := got[k]; {
		case !ok:
			lines = append(lines, "missing "+k)
		case g != want[k]:
			lines = append(lines, fmt.Sprintf("%s differs:\n  want %s\n  got  %s", k, want[k], g))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			lines = append(lines, "unexpected "+k+": "+got[k])
		}
	}
	return lines
}

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
