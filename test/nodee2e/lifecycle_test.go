package nodee2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// programKinds are the short names of the operator's kinds.
const programKinds = "cop,coh,mbr,lev"

// takeovers runs two replicas and stops the leader three ways: a graceful delete, a
// forced delete (--grace-period=0 --force) and a SIGKILL of its process on the host, as
// a crash does. Each time the other replica (or, after the kill, whichever wins the
// expired Lease) must lead, and a change made right after must be reconciled.
func takeovers(ctx context.Context, t *testing.T) {
	helm(t, "upgrade", release, chartPath(), "-n", releaseNamespace, "--reuse-values", "--set", "replicas=2", "--wait", "--timeout", "2m")
	// Gracefully, the stopping leader releases the Lease as it exits. Forced, the kubelet
	// still sends SIGTERM but gives the process little time: it releases the Lease or
	// the Lease expires, as after a kill (leaseDuration 12 s, renewDeadline 8 s).
	for i, how := range []string{"gracefully", "forced", "killed"} {
		pods := managerPods(ctx, t, 2)
		old := waitLeader(ctx, t, "")
		oldPod, _, _ := strings.Cut(old, "_")
		j := slices.IndexFunc(pods, func(p corev1.Pod) bool { return p.Name == oldPod })
		if j < 0 {
			t.Fatalf("the Lease names %s, none of the manager pods", old)
		}
		stopped := time.Now()
		bound := 10 * time.Second
		switch how {
		case "gracefully":
			kubectl(t, "delete", "pod", oldPod, "-n", releaseNamespace, "--wait=false")
		case "forced":
			kubectl(t, "delete", "pod", oldPod, "-n", releaseNamespace, "--wait=false", "--grace-period=0", "--force")
			bound = 30 * time.Second
		case "killed":
			if err := syscall.Kill(containerPID(t, &pods[j]), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			bound = 30 * time.Second
		}
		// A change while no one leads: the new leader must reconcile it.
		_, name, _ := seatedAndWaitlisted(ctx, t, otherCohort, "Leader")
		display := fmt.Sprintf("Taken over %d", i+1)
		kubectl(t, "patch", "membership", name, "-n", programs, "--type=merge", "-p", fmt.Sprintf(`{"spec":{"displayName":%q}}`, display))
		next := waitLeader(ctx, t, old)
		tookOver := time.Since(stopped)
		waitRosterHolds(ctx, t, otherCohort, display)
		reconciled := time.Since(stopped)
		t.Logf("leader %s stopped %s: %s leads after %s; the change made meanwhile is in the roster after %s",
			oldPod, how, next, tookOver.Round(10*time.Millisecond), reconciled.Round(10*time.Millisecond))
		var m *learningv1alpha1.Membership
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			m = membership(ctx, t, name)
			return m.Status.ObservedGeneration == m.Generation, nil
		})
		if err != nil {
			t.Errorf("membership %s: observedGeneration %d, generation %d, %s after the change", name, m.Status.ObservedGeneration, m.Generation, time.Since(stopped))
		}
		if tookOver > bound {
			t.Errorf("the takeover after the leader was stopped %s took %s, more than %s", how, tookOver, bound)
		}
	}
	managerPods(ctx, t, 2)
}

// waitLeader waits until the Lease names a holder other than not (a holder identity,
// pod name and a unique suffix), and returns it.
func waitLeader(ctx context.Context, t *testing.T, not string) string {
	t.Helper()
	var holder string
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		holder = leaseHolder(ctx)
		return holder != "" && holder != not, nil
	})
	if err != nil {
		t.Fatalf("no manager other than %q leads: %v (holder %q)", not, err, holder)
	}
	return holder
}

// waitRosterHolds waits until a cohort's roster ConfigMap holds text.
func waitRosterHolds(ctx context.Context, t *testing.T, cohortName, text string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		list := &corev1.ConfigMapList{}
		if err := admin.List(ctx, list, client.InNamespace(programs), client.MatchingLabels{"learning.cohort.dev/cohort": cohortName}); err != nil {
			return false, err
		}
		for _, cm := range list.Items {
			if strings.Contains(cm.Data["roster.json"], text) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("the roster of %s never held %q: %v", cohortName, text, err)
	}
}

// upgradeImage tags the image anew in containerd and upgrades the release to it: the
// manager's pods and every portal roll to the new reference, no condition of any
// program object changes, and no Event the old manager emitted is emitted again.
func upgradeImage(ctx context.Context, t *testing.T) {
	const newTag = "nodee2e-retag"
	newImage := imageRepo + ":" + newTag
	if out, err := ctr("images", "tag", "--force", image, newImage); err != nil {
		t.Fatalf("tagging %s as %s: %v\n%s", image, newImage, err, out)
	}
	before, events := statuses(t), programEvents(ctx, t)
	started := time.Now()
	helm(t, "upgrade", release, chartPath(), "-n", releaseNamespace, "--reuse-values", "--set", "image.tag="+newTag, "--wait", "--timeout", "2m")
	for _, p := range managerPods(ctx, t, 2) {
		if p.Spec.Containers[0].Image != newImage {
			t.Errorf("manager pod %s runs %s, want %s", p.Name, p.Spec.Containers[0].Image, newImage)
		}
	}
	for _, name := range []string{cohort, otherCohort} {
		var d string
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			dep := portalDeployment(ctx, t, name)
			d = dep.Name
			return dep.Spec.Template.Spec.Containers[0].Image == newImage, nil
		})
		if err != nil {
			t.Fatalf("the portal of %s was not moved to %s: %v", name, newImage, err)
		}
		kubectl(t, "rollout", "status", "deployment/"+d, "-n", programs, "--timeout=90s")
		kubectl(t, "wait", "-n", programs, "--for=condition=PortalAvailable=True", "--timeout=60s", "cohort/"+name)
	}
	t.Logf("manager and portals rolled to %s in %.1fs", newImage, time.Since(started).Seconds())
	// The new leader has evaluated everything by now; give it a moment to write
	// what it would write.
	time.Sleep(3 * time.Second)
	after := statuses(t)
	for key, was := range before {
		if after[key] != was {
			t.Errorf("%s changed across the upgrade:\nbefore: %s\nafter:  %s", key, was, after[key])
		}
	}
	repeated, added := 0, 0
	for key, count := range programEvents(ctx, t) {
		if was, ok := events[key]; ok && count > was {
			t.Errorf("Event repeated across the upgrade: %s (count %d, was %d)", key, count, was)
			repeated++
		} else if !ok {
			t.Logf("new Event after the upgrade: %s", key)
			added++
		}
	}
	t.Logf("%d program objects kept their status; of %d Events before, %d repeated; %d new", len(before), len(events), repeated, added)
}

// statuses returns, for every program object, its phase, seat and conditions (type,
// status, reason and transition time).
func statuses(t *testing.T) map[string]string {
	t.Helper()
	var list struct {
		Items []struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Status struct {
				Phase            string `json:"phase"`
				WaitlistPosition *int   `json:"waitlistPosition"`
				Conditions       []struct {
					Type, Status, Reason, LastTransitionTime string
				} `json:"conditions"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(kubectl(t, "get", programKinds, "-n", programs, "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range list.Items {
		var b strings.Builder
		fmt.Fprintf(&b, "phase=%s", o.Status.Phase)
		if o.Status.WaitlistPosition != nil {
			fmt.Fprintf(&b, " waitlist=%d", *o.Status.WaitlistPosition)
		}
		for _, c := range o.Status.Conditions {
			fmt.Fprintf(&b, " %s=%s/%s@%s", c.Type, c.Status, c.Reason, c.LastTransitionTime)
		}
		out[o.Kind+"/"+o.Metadata.Name] = b.String()
	}
	return out
}

// programEvents returns the count of every Event about a program object, by object,
// reason and message.
func programEvents(ctx context.Context, t *testing.T) map[string]int32 {
	t.Helper()
	list := &corev1.EventList{}
	if err := admin.List(ctx, list, client.InNamespace(programs)); err != nil {
		t.Fatal(err)
	}
	out := map[string]int32{}
	for _, e := range list.Items {
		if !strings.HasPrefix(e.InvolvedObject.APIVersion, "learning.cohort.dev/") {
			continue
		}
		count := max(e.Count, 1)
		if e.Series != nil {
			count = max(count, e.Series.Count)
		}
		out[fmt.Sprintf("%s/%s %s %q", e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)] += count
	}
	return out
}

// uninstall uninstalls the release: the CRDs, the approval policy and every program
// object stay, with their UIDs; the manager goes.
func uninstall(ctx context.Context, t *testing.T) {
	uids := func() string {
		return kubectl(t, "get", programKinds, "-n", programs, "-o", `jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.uid}{"\n"}{end}`)
	}
	before := uids()
	out := helm(t, "uninstall", release, "-n", releaseNamespace, "--wait", "--timeout", "2m")
	if !strings.Contains(out, "kept due to the resource policy") {
		t.Errorf("helm uninstall names no kept resources:\n%s", out)
	}
	for _, crd := range []string{"cohorts", "communityofpractices", "learningevents", "memberships"} {
		kubectl(t, "get", "crd", crd+".learning.cohort.dev")
	}
	kubectl(t, "get", "validatingadmissionpolicy,validatingadmissionpolicybinding", "cohort-approvals")
	if after := uids(); after != before {
		t.Errorf("the program objects changed across the uninstall:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if n := strings.Count(before, "\n"); n < 40 {
		t.Errorf("only %d program objects to keep", n)
	}
	// The Deployment is gone when helm returns; its pods go with the garbage collector.
	pods := &corev1.PodList{}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		err := admin.List(ctx, pods, client.InNamespace(releaseNamespace))
		return err == nil && len(pods.Items) == 0, err
	})
	if err != nil {
		t.Errorf("%d pods of the release remain a minute after the uninstall: %v", len(pods.Items), err)
	}
}
