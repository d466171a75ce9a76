// Package e2e runs the operator as it runs for users: the manager binary as a separate
// process with only the RBAC of config/local, against a local control plane that
// includes kube-controller-manager, so garbage collection of owned objects is real.
package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/samples"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// managerUser is the operator's ServiceAccount as config/local binds it.
const managerUser = "system:serviceaccount:cohort-system:cohort-controller-manager"

var (
	kubeconfig  string
	metricsAddr string
	// manager is the manager binary TestMain built.
	manager string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cohort-e2e-")
	if err != nil {
		return fail(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	manager = filepath.Join(dir, "manager")
	build := exec.Command("go", "build", "-o", manager, "./cmd")
	build.Dir = testutil.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("building the manager: %w\n%s", err, out))
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		_ = os.Setenv("KUBEBUILDER_ASSETS", testutil.Path("bin", "k8s"))
	}
	cluster, err := localcluster.Start(localcluster.Options{Dir: dir, ControllerManager: true})
	if err != nil {
		return fail(err)
	}
	defer cluster.Stop() //nolint:errcheck
	if kubeconfig, err = cluster.WriteKubeconfig("kubeconfig", "e2e-admin", localcluster.AdminGroup); err != nil {
		return fail(err)
	}
	managerConfig, err := cluster.WriteKubeconfig("manager.kubeconfig", managerUser, "system:serviceaccounts", "system:serviceaccounts:cohort-system")
	if err != nil {
		return fail(err)
	}
	if out, err := kubectl("apply", "--server-side", "-k", testutil.Path("config", "local")); err != nil {
		return fail(fmt.Errorf("installing config/local: %w\n%s", err, out))
	}
	if out, err := kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"); err != nil {
		return fail(fmt.Errorf("waiting for the CRDs: %w\n%s", err, out))
	}
	metricsAddr, err = freeAddr()
	if err != nil {
		return fail(err)
	}
	probeAddr, err := freeAddr()
	if err != nil {
		return fail(err)
	}
	log, err := os.Create(filepath.Join(dir, "manager.log"))
	if err != nil {
		return fail(err)
	}
	cmd := exec.Command(manager, "--kubeconfig", managerConfig, "--metrics-bind-address", metricsAddr, "--health-probe-bind-address", probeAddr)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fail(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	code := m.Run()
	if code != 0 {
		_, _ = log.Seek(0, io.SeekStart)
		data, _ := io.ReadAll(log)
		lines := strings.Split(string(data), "\n")
		fmt.Fprintln(os.Stderr, "last manager log lines:\n"+strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
	return code
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "e2e setup:", err)
	return 1
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// kubectl runs the control plane's kubectl as the administrator.
func kubectl(args ...string) (string, error) {
	args = append([]string{"--kubeconfig", kubeconfig}, args...)
	out, err := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), args...).CombinedOutput()
	return string(out), err
}

// eventually retries check for up to a minute.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		last = check()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what, last)
	}
}

// jsonpath reads one field of an object with kubectl.
func jsonpath(ns, object, path string) (string, error) {
	out, err := kubectl("get", "-n", ns, object, "-o", "jsonpath="+path)
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, out)
	}
	return out, nil
}

func scrapeMetrics() (string, error) {
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	return string(data), err
}

// kubectlApply applies a manifest given on standard input.
func kubectlApply(ns, manifest string) (string, error) {
	cmd := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), "--kubeconfig", kubeconfig, "apply", "-n", ns, "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	if out, err := kubectl("create", "namespace", name); err != nil {
		t.Fatalf("creating namespace %s: %v\n%s", name, err, out)
	}
}

// applySamples applies the samples to namespace ns as a user would, with their dates
// shifted so that today falls inside the programs (as make demo applies them).
func applySamples(t *testing.T, ns string) {
	t.Helper()
	manifest, err := samples.Render(os.DirFS(testutil.Path("config", "samples")), samples.ShiftFor(time.Now().UTC()))
	if err != nil {
		t.Fatalf("rendering the samples: %v", err)
	}
	if out, err := kubectlApply(ns, manifest); err != nil {
		t.Fatalf("applying the samples: %v\n%s", err, out)
	}
}
