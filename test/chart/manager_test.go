package chart

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

// startManager runs the manager binary as a release's Deployment would run it: with the
// flags and PORTAL_IMAGE of the Deployment the release installed, under the identity
// of its ServiceAccount (system:serviceaccount:<namespace>:<name>, in the groups the
// API server gives ServiceAccounts), so that only the chart's RBAC lets it work. The
// process runs outside the cluster, so the bind addresses point at free local ports
// and leader election is off: controller-runtime finds the Lease's namespace only
// inside a pod (the lifecycle test checks the leader election Role with can-i).
// Stopping it fails the test when the manager was refused anything (RBAC); the test's
// cleanup stops it too and, when the test failed, prints the end of its log.
func startManager(t *testing.T, release, namespace string) *runningManager {
	t.Helper()
	m := decode(t, mustHelm(t, "get", "manifest", release, "-n", namespace))
	deploys := m.ofKind("Deployment")
	if len(deploys) != 1 {
		t.Fatalf("release %s has the Deployments %v", release, deploys.names())
	}
	deploy := deploys[0]
	container := managerContainer(t, deploy)
	sa := fmt.Sprint(nested(t, deploy, "spec", "template", "spec", "serviceAccountName"))
	user := "system:serviceaccount:" + namespace + ":" + sa
	config, err := cluster.WriteKubeconfig(release+"-manager.kubeconfig", user, "system:serviceaccounts", "system:serviceaccounts:"+namespace)
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr, probeAddr := freeAddr(t), freeAddr(t)
	flags := localFlags(args(container), metricsAddr, probeAddr, config)

	logPath := filepath.Join(t.TempDir(), "manager.log")
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(manager, flags...)
	cmd.Env = os.Environ()
	env, _ := container["env"].([]any)
	for _, e := range env {
		if e, ok := e.(map[string]any); ok {
			cmd.Env = append(cmd.Env, fmt.Sprintf("%v=%v", e["name"], kubeletEnvValue(t, container, e)))
		}
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the manager: %v", err)
	}
	t.Logf("manager of %s running as %s with %v", release, user, flags)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
			_ = log.Close()
			if refused := refusals(logPath); len(refused) > 0 {
				t.Errorf("RBAC refused the manager of %s %d times, first:\n%s", release, len(refused), strings.Join(refused[:min(len(refused), 3)], "\n"))
			}
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			lines := strings.Split(string(data), "\n")
			t.Logf("last lines of the manager's log:\n%s", strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	return &runningManager{Stop: stop, MetricsURL: "http://" + metricsAddr + "/metrics"}
}

// runningManager is a manager process startManager started.
type runningManager struct {
	// Stop stops it, once.
	Stop func()
	// MetricsURL is its metrics endpoint.
	MetricsURL string
}

// localFlags returns the Deployment's flags for a manager run outside the cluster:
// bound to free local ports, without leader election, with a kubeconfig.
func localFlags(deployed []string, metricsAddr, probeAddr, kubeconfig string) []string {
	var flags []string
	for _, a := range deployed {
		switch name, _, _ := strings.Cut(a, "="); name {
		case "--metrics-bind-address":
			a = name + "=" + metricsAddr
		case "--health-probe-bind-address":
			a = name + "=" + probeAddr
		case "--leader-elect":
			a = name + "=false"
		}
		flags = append(flags, a)
	}
	return append(flags, "--kubeconfig="+kubeconfig)
}

// refusals returns the lines of a manager's log that report a request RBAC refused.
func refusals(logPath string) []string {
	data, _ := os.ReadFile(logPath)
	var refused []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "forbidden") {
			refused = append(refused, line[:min(len(line), 400)])
		}
	}
	return refused
}

// kubeletEnvValue is an environment variable of the container as the kubelet sets it: its
// value, or the container's memory limit in bytes for a resourceFieldRef to
// limits.memory (the only reference the chart makes).
func kubeletEnvValue(t *testing.T, container, e map[string]any) string {
	t.Helper()
	from, ok := e["valueFrom"].(map[string]any)
	if !ok {
		return fmt.Sprint(e["value"])
	}
	ref, _ := from["resourceFieldRef"].(map[string]any)
	if ref["resource"] != "limits.memory" {
		t.Fatalf("env %v: the test resolves only a resourceFieldRef to limits.memory", e)
	}
	resources, _ := container["resources"].(map[string]any)
	limits, _ := resources["limits"].(map[string]any)
	q, err := resource.ParseQuantity(fmt.Sprint(limits["memory"]))
	if err != nil {
		t.Fatalf("the container's memory limit %v: %v", limits["memory"], err)
	}
	return fmt.Sprint(q.Value())
}
