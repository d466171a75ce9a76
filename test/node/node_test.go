// Package node runs the local cluster with a real node (internal/localnode): pods of
// the operator's own image and of the pause image run, a ClusterIP Service answers
// through kube-proxy, and the teardown leaves the machine as it found it. It needs
// root, the Debian packages of make node-deps, and the archives of make image.
package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/localnode"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

func TestNodeRunsPods(t *testing.T) {
	operatorArchive, pauseArchive, err := testutil.ImageArchives()
	if err != nil {
		t.Fatal(err)
	}
	operator, err := localnode.ImageRef(operatorArchive)
	if err != nil {
		t.Fatal(err)
	}
	pause, err := localnode.ImageRef(pauseArchive)
	if err != nil {
		t.Fatal(err)
	}
	dir := testutil.Path("bin", "node")
	before := machineState(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	started := time.Now()
	node, err := localnode.Start(ctx, localnode.Options{
		Dir:        dir,
		AssetsDir:  testutil.Path("bin", "k8s"),
		Cluster:    localcluster.Options{ControllerManager: true, CRDDirs: []string{testutil.Path("config", "crd", "bases")}},
		Images:     []string{operatorArchive, pauseArchive},
		PauseImage: pause,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster with a Ready node in %s", time.Since(started).Round(10*time.Millisecond))
	stopped := false
	defer func() {
		if !stopped {
			dumpLogs(t, dir)
			_ = node.Stop()
		}
	}()
	if during := machineState(t, dir); during == before {
		t.Fatalf("the node changed nothing that machineState sees: %s", during)
	}
	cs, err := kubernetes.NewForConfig(node.Cluster.Config)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the operator's image prints its usage", func(t *testing.T) { helpPod(ctx, t, cs, operator) })
	t.Run("the pause image runs as a container", func(t *testing.T) {
		p := pod("pause", pause)
		p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}
		create(ctx, t, cs, p)
		waitPod(ctx, t, cs, "pause", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	})
	t.Run("the manager runs in a pod and a ClusterIP Service reaches it", func(t *testing.T) { managerBehindService(ctx, t, cs, operator) })
	if t.Failed() {
		return
	}

	stopped = true
	if err := node.Stop(); err != nil {
		t.Fatalf("stopping the node: %v", err)
	}
	if after := machineState(t, dir); after != before {
		t.Errorf("the machine is not as the node found it:\nbefore: %s\nafter:  %s", before, after)
	}
}

// helpPod runs the manager's --help in a pod to completion and reads its log through
// the API server, which reaches the kubelet with the node's client certificate.
func helpPod(ctx context.Context, t *testing.T, cs kubernetes.Interface, image string) {
	p := pod("help", image, "--help")
	create(ctx, t, cs, p)
	waitPod(ctx, t, cs, "help", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	log, err := cs.CoreV1().Pods("default").GetLogs("help", &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		t.Fatalf("reading the log: %v", err)
	}
	if !strings.Contains(string(log), "-leader-elect") {
		t.Errorf("the manager's usage lacks -leader-elect:\n%s", log)
	}
}

// managerBehindService runs the manager as the chart does (non-root, read-only root,
// no capabilities, RuntimeDefault seccomp) with its ServiceAccount token, waits for its
// readiness probe, and fetches /readyz through a ClusterIP Service from the host.
func managerBehindService(ctx context.Context, t *testing.T, cs kubernetes.Interface, image string) {
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "node-test-manager"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default", Namespace: "default"}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := pod("manager", image, "--leader-elect=false", "--metrics-bind-address=0", "--health-probe-bind-address=:8081")
	p.Labels = map[string]string{"app": "manager"}
	c := &p.Spec.Containers[0]
	c.Ports = []corev1.ContainerPort{{Name: "health", ContainerPort: 8081}}
	c.ReadinessProbe = &corev1.Probe{PeriodSeconds: 1, ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("health")}}}
	c.SecurityContext = &corev1.SecurityContext{
		RunAsNonRoot: ptr.To(true), ReadOnlyRootFilesystem: ptr.To(true), AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	p.Spec.RestartPolicy = corev1.RestartPolicyAlways
	create(ctx, t, cs, p)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "manager"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "manager"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromString("health")}}},
	}
	svc, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	waitPod(ctx, t, cs, "manager", func(p *corev1.Pod) bool {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				return c.Status == corev1.ConditionTrue
			}
		}
		return false
	})
	t.Logf("manager pod Ready %s after it was created", time.Since(started).Round(10*time.Millisecond))
	url := fmt.Sprintf("http://%s/readyz", svc.Spec.ClusterIP)
	var body string
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		body = get(ctx, url)
		return body == "ok", nil
	})
	if err != nil {
		t.Fatalf("%s through the Service answered %q, want ok", url, body)
	}
	// The manager lists and watches through the kubernetes Service, with its
	// ServiceAccount token, and verifies the API server with kube-root-ca.crt.
	var log []byte
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		log, _ = cs.CoreV1().Pods("default").GetLogs("manager", &corev1.PodLogOptions{}).DoRaw(ctx)
		return strings.Contains(string(log), "Starting workers"), nil
	})
	if err != nil {
		t.Fatalf("the manager's controllers did not start:\n%s", log)
	}
}

func get(ctx context.Context, url string) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(resp.Body)
	return string(data)
}

func pod(name, image string, args ...string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: name, Image: image, Args: args, ImagePullPolicy: corev1.PullNever}},
		},
	}
}

func create(ctx context.Context, t *testing.T, cs kubernetes.Interface, p *corev1.Pod) {
	t.Helper()
	if err := createPod(ctx, cs, p); err != nil {
		t.Fatal(err)
	}
}

// createPod creates p, retrying while its namespace's default ServiceAccount, which
// kube-controller-manager creates shortly after the namespace, is missing.
func createPod(ctx context.Context, cs kubernetes.Interface, p *corev1.Pod) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, last = cs.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("creating pod %s: %w", p.Name, errors.Join(err, last))
	}
	return nil
}

func waitPod(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string, done func(*corev1.Pod) bool) {
	t.Helper()
	var last *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = p
		return done(p), nil
	})
	if err != nil {
		t.Fatalf("pod %s: %v; last status: %+v", name, err, last.Status)
	}
}

// machineState summarizes what the node changes on the machine: its bridge, iptables
// chains, kubepods cgroups, processes, pods' network namespaces, mounts, containerd's
// run folder and sysctls.
func machineState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	_, err := os.Stat("/sys/class/net/" + localnode.Bridge)
	fmt.Fprintf(&b, "bridge=%v ", err == nil)
	chains, _ := localnode.Chains()
	fmt.Fprintf(&b, "chains=%v ", chains)
	_, err = os.Stat("/sys/fs/cgroup/memory/kubepods")
	fmt.Fprintf(&b, "kubepods=%v ", err == nil)
	fmt.Fprintf(&b, "processes=%v ", localnode.Processes(dir))
	netns, _ := filepath.Glob("/var/run/netns/cni-*")
	fmt.Fprintf(&b, "netns=%v ", netns)
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	fmt.Fprintf(&b, "mounts=%d ", strings.Count(string(mounts), " "+dir+"/"))
	_, err = os.Stat("/run/containerd")
	fmt.Fprintf(&b, "run-containerd=%v ", err == nil)
	for _, s := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/bridge/bridge-nf-call-iptables"} {
		v, _ := os.ReadFile(s)
		fmt.Fprintf(&b, "%s=%s ", filepath.Base(s), strings.TrimSpace(string(v)))
	}
	_, err = os.Stat(filepath.Join(dir, "state.json"))
	fmt.Fprintf(&b, "state=%v", err == nil)
	return b.String()
}

func dumpLogs(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		t.Logf("--- %s (last lines)\n%s", filepath.Base(l), strings.Join(lines, "\n"))
	}
}
