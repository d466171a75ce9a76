// Package chart tests the Helm chart charts/cohort-operator with the pinned helm CLI
// (make helm builds it into bin/tools): lint and the values schema, agreement with the
// kustomize install of config/, renders applied with a server-side dry run, and a
// release's whole life on a local control plane: install, the manager reconciling the
// samples with only the chart's RBAC, an upgrade across a CRD change, an uninstall that
// keeps the CRDs and every program object, and a later install under another release
// name that adopts them. The alert rules are checked with promtool.
package chart

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

var (
	// helmBin is the pinned helm CLI.
	helmBin string
	// kubeconfig is an administrator's kubeconfig for the local cluster.
	kubeconfig string
	// manager is the manager binary TestMain built.
	manager string
	cluster *localcluster.Cluster
	// workDir holds the cluster's files, helm's home folders and the tests' scratch files.
	workDir string
)

// chartDir is the chart under test.
var chartDir = testutil.Path("charts", "cohort-operator")

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if helmBin, err = testutil.Helm(); err != nil {
		return fail(err)
	}
	if workDir, err = os.MkdirTemp("", "cohort-chart-"); err != nil {
		return fail(err)
	}
	defer func() { _ = os.RemoveAll(workDir) }()
	// helm keeps its caches and repositories here, not in the user's home.
	for _, v := range []string{"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} {
		_ = os.Setenv(v, filepath.Join(workDir, "helm", v))
	}
	manager = filepath.Join(workDir, "manager")
	built := make(chan error, 1)
	go func() {
		build := exec.Command("go", "build", "-o", manager, "./cmd")
		build.Dir = testutil.RepoRoot()
		if out, err := build.CombinedOutput(); err != nil {
			built <- fmt.Errorf("building the manager: %w\n%s", err, out)
			return
		}
		built <- nil
	}()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		_ = os.Setenv("KUBEBUILDER_ASSETS", testutil.Path("bin", "k8s"))
	}
	// No CRDs are installed up front: the chart installs them. No
	// kube-controller-manager either: nothing here needs garbage collection.
	cluster, err = localcluster.Start(localcluster.Options{Dir: filepath.Join(workDir, "cluster")})
	if err != nil {
		return fail(errors.Join(err, <-built))
	}
	defer cluster.Stop() //nolint:errcheck
	if kubeconfig, err = cluster.WriteKubeconfig("admin.kubeconfig", "chart-admin", localcluster.AdminGroup); err != nil {
		return fail(errors.Join(err, <-built))
	}
	if err := <-built; err != nil {
		return fail(err)
	}
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "chart tests setup:", err)
	return 1
}

// helm runs the pinned helm CLI against the local cluster.
func helm(args ...string) (string, error) {
	args = append([]string{"--kubeconfig", kubeconfig}, args...)
	out, err := exec.Command(helmBin, args...).CombinedOutput()
	return string(out), err
}

// mustHelm runs helm and fails the test when it fails.
func mustHelm(t *testing.T, args ...string) string {
	t.Helper()
	out, err := helm(args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// kubectl runs the control plane's kubectl as the administrator.
func kubectl(args ...string) (string, error) {
	args = append([]string{"--kubeconfig", kubeconfig}, args...)
	out, err := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), args...).CombinedOutput()
	return string(out), err
}

// mustKubectl runs kubectl and fails the test when it fails.
func mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// kubectlApply applies a manifest given on standard input with extra arguments.
func kubectlApply(manifest string, args ...string) (string, error) {
	args = append([]string{"--kubeconfig", kubeconfig, "apply", "-f", "-"}, args...)
	cmd := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), args...)
	cmd.Stdin = strings.NewReader(manifest)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ensureNamespace creates a namespace unless it exists.
func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	if out, err := kubectl("create", "namespace", name); err != nil && !strings.Contains(out, "AlreadyExists") {
		t.Fatalf("creating namespace %s: %v\n%s", name, err, out)
	}
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}
