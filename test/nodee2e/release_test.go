package nodee2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/localnode"
	"github.com/cohort-dev/cohort-operator/internal/samples"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// The release under test: neither the chart's name nor its usual namespace, so that
// nothing in the chart or the manager may assume them.
const (
	release          = "learning"
	releaseNamespace = "learning-ops"
	programs         = "programs"
	// leaseName is the manager's leader election Lease, in the release's namespace.
	leaseName = "cohort-operator.learning.cohort.dev"
	// otherCohort is the second sample cohort; the test enables its portal too.
	otherCohort = "operationalizing-equity-1"
	cohort      = "allyship-2026"
)

// TestReleaseOnNode takes a release through its life on the node, each step building
// on the last: install and reconcile the samples, the portals and who reads them, the
// manager's container as the kernel runs it, leader takeovers, an upgrade to another
// image tag, and an uninstall.
func TestReleaseOnNode(t *testing.T) {
	start := time.Now()
	ctx := t.Context()
	steps := []struct {
		name string
		run  func(*testing.T)
	}{
		{"helm install, the manager Ready and the samples reconciled", func(t *testing.T) { installAndReconcile(ctx, t, start) }},
		{"every portal runs the manager's image and is Available", func(t *testing.T) { portalsAvailable(ctx, t) }},
		{"the portal's NetworkPolicy admits the API server's address", func(t *testing.T) { networkPolicyAdmitsAPIServer(ctx, t) }},
		{"only seated members read their portal through the service proxy", func(t *testing.T) { membersReadTheirPortal(ctx, t) }},
		{"the shared portal serves a namespace's cohorts to seated members' tokens only", func(t *testing.T) { sharedPortalAccess(ctx, t) }},
		{"the manager's container runs as the chart says", func(t *testing.T) { managerContainer(ctx, t) }},
		{"two replicas: the other takes over from a deleted leader", func(t *testing.T) { takeovers(ctx, t) }},
		{"helm upgrade to another tag rolls everything, keeps status and repeats no Event", func(t *testing.T) { upgradeImage(ctx, t) }},
		{"helm uninstall keeps every program object", func(t *testing.T) { uninstall(ctx, t) }},
	}
	for _, s := range steps {
		stepStart := time.Now()
		ok := t.Run(s.name, s.run)
		t.Logf("%6.1fs %s (%.1fs)", time.Since(start).Seconds(), s.name, time.Since(stepStart).Seconds())
		if !ok {
			dumpManagerLogs(t)
			return
		}
	}
}

// installAndReconcile installs the chart with the local image and a shared portal in
// sharedPrograms, waits for the manager to be Ready, applies the samples (dates shifted into this month) with the second
// cohort's portal enabled too, and waits until every program object is Ready and
// every Cohort Provisioned, with nothing forbidden in the manager's log.
func installAndReconcile(ctx context.Context, t *testing.T, start time.Time) {
	kubectl(t, "create", "namespace", sharedPrograms)
	helm(t, "install", release, chartPath(), "-n", releaseNamespace, "--create-namespace",
		"--set", "image.repository="+imageRepo, "--set", "image.tag="+imageTag, "--set", "image.pullPolicy=Never",
		"--set", "portal.shared.namespaces={"+sharedPrograms+"}",
		"--wait", "--timeout", "2m")
	pod := managerPods(ctx, t, 1)[0]
	t.Logf("manager pod %s Ready %.1fs after helm install started", pod.Name, time.Since(start).Seconds())
	c := pod.Spec.Containers[0]
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil {
		t.Errorf("the manager has no HTTP readiness and liveness probes: %+v %+v", c.ReadinessProbe, c.LivenessProbe)
	}
	if c.Image != image {
		t.Errorf("the manager runs %s, want the local image %s", c.Image, image)
	}

	kubectl(t, "create", "namespace", programs)
	text, err := samples.Render(os.DirFS(testutil.Path("config", "samples")), samples.ShiftFor(time.Now().UTC()))
	if err != nil {
		t.Fatal(err)
	}
	kubectlApply(t, text, "-n", programs)
	kubectl(t, "patch", "cohort", otherCohort, "-n", programs, "--type=merge", "-p", `{"spec":{"services":{"portal":{"enabled":true}}}}`)
	for _, kind := range []string{"cop", "coh", "mbr", "lev"} {
		kubectl(t, "wait", "-n", programs, "--for=condition=Ready", "--timeout=120s", kind, "--all")
	}
	kubectl(t, "wait", "-n", programs, "--for=condition=Provisioned", "--timeout=60s", "coh", "--all")
	t.Logf("samples Ready and Provisioned %.1fs after helm install started", time.Since(start).Seconds())
	log := managerLog(t, pod.Name)
	if strings.Contains(strings.ToLower(log), "forbidden") {
		t.Errorf("the manager's log mentions forbidden: its RBAC is short:\n%s", grepLines(log, "orbidden"))
	}
	// The kubelet passes the container's 512Mi limit through the downward API; the
	// manager gives the Go runtime 90% of it.
	if line := grepLines(log, "Go memory limit set"); !strings.Contains(line, "483183820") {
		t.Errorf("the manager did not set the Go memory limit to 90%% of its 512Mi limit (483183820 bytes); its log says %q", line)
	}
}

// portalsAvailable checks every cohort's portal Deployment: the manager's image in
// portal mode, Available, and PortalAvailable=True on the cohort.
func portalsAvailable(ctx context.Context, t *testing.T) {
	started := time.Now()
	for _, name := range []string{cohort, otherCohort} {
		kubectl(t, "wait", "-n", programs, "--for=condition=PortalAvailable=True", "--timeout=90s", "cohort/"+name)
		d := portalDeployment(ctx, t, name)
		kubectl(t, "wait", "-n", programs, "--for=condition=Available", "--timeout=30s", "deployment/"+d.Name)
		c := d.Spec.Template.Spec.Containers[0]
		if c.Image != image || len(c.Args) == 0 || c.Args[0] != "portal" {
			t.Errorf("portal %s runs %s %v, want %s portal ...", d.Name, c.Image, c.Args, image)
		}
		pods := &corev1.PodList{}
		if err := admin.List(ctx, pods, client.InNamespace(programs), client.MatchingLabels(d.Spec.Selector.MatchLabels)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			for _, s := range p.Status.ContainerStatuses {
				if s.RestartCount > 0 || !s.Ready {
					t.Errorf("portal pod %s: container %s ready=%v restarts=%d", p.Name, s.Name, s.Ready, s.RestartCount)
				}
			}
		}
	}
	t.Logf("portals Available and PortalAvailable=True %.1fs after the samples were Ready", time.Since(started).Seconds())
}

// networkPolicyAdmitsAPIServer checks that the portal's NetworkPolicy admits the
// address the API server reaches pods from here: the bridge's gateway, which the
// kubernetes Service's endpoints name. The bridge enforces no NetworkPolicy, so only
// the rendering is checked; the proxied requests of the next step take that path.
func networkPolicyAdmitsAPIServer(ctx context.Context, t *testing.T) {
	policies := &networkingv1.NetworkPolicyList{}
	if err := admin.List(ctx, policies, client.InNamespace(programs), client.MatchingLabels{"app.kubernetes.io/component": "portal", "learning.cohort.dev/cohort": cohort}); err != nil {
		t.Fatal(err)
	}
	if len(policies.Items) != 1 {
		t.Fatalf("want one NetworkPolicy of the portal of %s, got %d", cohort, len(policies.Items))
	}
	var cidrs []string
	for _, rule := range policies.Items[0].Spec.Ingress {
		for _, peer := range rule.From {
			if peer.IPBlock != nil {
				cidrs = append(cidrs, peer.IPBlock.CIDR)
			}
		}
	}
	if !slices.Contains(cidrs, localnode.Gateway+"/32") {
		t.Errorf("the portal's NetworkPolicy admits %v, not the API server's address as pods see it, %s/32", cidrs, localnode.Gateway)
	}
}

// chartPath is the chart under test.
func chartPath() string { return testutil.Path("charts", "cohort-operator") }

// managerPods waits until the manager Deployment has n Ready pods on the current
// template and returns them.
func managerPods(ctx context.Context, t *testing.T, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	var last string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		d := &appsv1.Deployment{}
		if err := admin.Get(ctx, client.ObjectKey{Namespace: releaseNamespace, Name: release + "-cohort-operator-manager"}, d); err != nil {
			last = err.Error()
			return false, nil
		}
		list := &corev1.PodList{}
		if err := admin.List(ctx, list, client.InNamespace(releaseNamespace), client.MatchingLabels(d.Spec.Selector.MatchLabels)); err != nil {
			return false, err
		}
		pods = pods[:0]
		for _, p := range list.Items {
			if p.DeletionTimestamp == nil && podReady(&p) && p.Spec.Containers[0].Image == d.Spec.Template.Spec.Containers[0].Image {
				pods = append(pods, p)
			}
		}
		last = fmt.Sprintf("%d of %d pods Ready on the current image", len(pods), len(list.Items))
		return len(pods) == n && d.Status.UpdatedReplicas == int32(n) && d.Status.Replicas == int32(n), nil
	})
	if err != nil {
		t.Fatalf("waiting for %d Ready manager pods: %v (%s)", n, err, last)
	}
	return pods
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// portalDeployment returns the portal Deployment of a cohort.
func portalDeployment(ctx context.Context, t *testing.T, name string) *appsv1.Deployment {
	t.Helper()
	list := &appsv1.DeploymentList{}
	if err := admin.List(ctx, list, client.InNamespace(programs), client.MatchingLabels{"app.kubernetes.io/component": "portal", "learning.cohort.dev/cohort": name}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("want one portal Deployment of %s, got %d", name, len(list.Items))
	}
	return &list.Items[0]
}

// leaseHolder returns the identity that holds the manager's Lease: the pod's name,
// "_" and a suffix unique to the process.
func leaseHolder(ctx context.Context) string {
	lease := &coordinationv1.Lease{}
	if err := admin.Get(ctx, client.ObjectKey{Namespace: releaseNamespace, Name: leaseName}, lease); err != nil || lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// managerLog returns a manager pod's log.
func managerLog(t *testing.T, pod string) string {
	t.Helper()
	return kubectl(t, "logs", "-n", releaseNamespace, pod)
}

func grepLines(text, want string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, want) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// dumpManagerLogs logs the end of every manager pod's log after a failed step.
func dumpManagerLogs(t *testing.T) {
	out, _ := command("", testutil.Path("bin", "k8s", "kubectl"), "logs", "-n", releaseNamespace, "--all-containers", "--prefix", "--tail=40",
		"-l", "app.kubernetes.io/component=manager")
	pods, _ := command("", testutil.Path("bin", "k8s", "kubectl"), "get", "pods", "-A", "-o", "wide")
	t.Logf("pods:\n%s\nmanager logs:\n%s", pods, out)
}

// membership returns a Membership of the samples.
func membership(ctx context.Context, t *testing.T, name string) *learningv1alpha1.Membership {
	t.Helper()
	m := &learningv1alpha1.Membership{}
	if err := admin.Get(ctx, client.ObjectKey{Namespace: programs, Name: name}, m); err != nil {
		t.Fatal(err)
	}
	return m
}
