// Package nodee2e runs the operator as a platform team does, on the local cluster
// with a real node (internal/localnode): helm install of charts/cohort-operator with
// the image make image built, the manager and the portals in pods, members reading
// their portal through the API server's service proxy, leader takeovers, an upgrade
// to another image tag and an uninstall. One node serves the whole package. It needs
// root, the Debian packages of make node-deps, the pinned helm (make helm) and the
// archives of make image; make test provides all of them.
package nodee2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/localnode"
	"github.com/cohort-dev/cohort-operator/internal/portal"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

var (
	// node is the local cluster with its node, for the whole package.
	node *localnode.Node
	// admin is an administrator's client of the cluster.
	admin client.Client
	// kubeconfig is an administrator's kubeconfig file, for helm and kubectl.
	kubeconfig string
	// helmBin is the pinned helm CLI.
	helmBin string
	// image is the reference of the operator's image in the archive, as imported;
	// imageRepo and imageTag are its parts.
	image, imageRepo, imageTag string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if helmBin, err = testutil.Helm(); err != nil {
		return fail(err)
	}
	operatorArchive, pauseArchive, err := testutil.ImageArchives()
	if err != nil {
		return fail(err)
	}
	if image, err = localnode.ImageRef(operatorArchive); err != nil {
		return fail(err)
	}
	i := strings.LastIndexByte(image, ':')
	if i < 0 || strings.Contains(image[i:], "/") {
		return fail(fmt.Errorf("the image %q has no tag", image))
	}
	imageRepo, imageTag = image[:i], image[i+1:]
	pause, err := localnode.ImageRef(pauseArchive)
	if err != nil {
		return fail(err)
	}
	work, err := os.MkdirTemp("", "cohort-nodee2e-")
	if err != nil {
		return fail(err)
	}
	defer func() { _ = os.RemoveAll(work) }()
	for _, v := range []string{"HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"} {
		_ = os.Setenv(v, filepath.Join(work, "helm", v))
	}
	// The wait includes another package's node (test/node, run in parallel by go test
	// ./...): one node per machine.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	started := time.Now()
	if iss, err = testutil.StartIssuer(); err != nil {
		return fail(err)
	}
	defer iss.Close()
	// The node's API server authenticates the issuer's tokens for the portal's
	// audience and otherAudience, and accepts TokenReviews for the portal's.
	authentication, err := testutil.JWTAuthentication(iss, work, []string{portal.DefaultAudience, otherAudience}, portal.DefaultAudience)
	if err != nil {
		return fail(err)
	}
	// No CRDs up front: the chart installs them.
	node, err = localnode.Start(ctx, localnode.Options{
		Dir:        testutil.Path("bin", "node"),
		AssetsDir:  testutil.Path("bin", "k8s"),
		Cluster:    localcluster.Options{ControllerManager: true, ConfigureAPIServer: authentication},
		Images:     []string{operatorArchive, pauseArchive},
		PauseImage: pause,
	})
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := node.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the node:", err)
		}
	}()
	fmt.Printf("cluster with a Ready node in %s\n", time.Since(started).Round(10*time.Millisecond))
	if kubeconfig, err = node.Cluster.WriteKubeconfig("nodee2e-admin.kubeconfig", "nodee2e-admin", localcluster.AdminGroup); err != nil {
		return fail(err)
	}
	if admin, err = client.New(node.Cluster.Config, client.Options{Scheme: testutil.Scheme()}); err != nil {
		return fail(err)
	}
	return m.Run()
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "node e2e setup:", err)
	return 1
}

// command runs a program with the administrator's kubeconfig and returns its
// combined output.
func command(stdin string, path string, args ...string) (string, error) {
	cmd := exec.Command(path, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// helm runs the pinned helm CLI and fails the test when it fails.
func helm(t testing.TB, args ...string) string {
	t.Helper()
	out, err := command("", helmBin, args...)
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// kubectl runs the control plane's kubectl and fails the test when it fails.
func kubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := command("", testutil.Path("bin", "k8s", "kubectl"), args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// kubectlApply applies a manifest with extra arguments.
func kubectlApply(t *testing.T, manifest string, args ...string) {
	t.Helper()
	out, err := command(manifest, testutil.Path("bin", "k8s", "kubectl"), append([]string{"apply", "-f", "-"}, args...)...)
	if err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
}

// ctr runs containerd's CLI against the node's containerd, in the kubelet's namespace.
func ctr(args ...string) (string, error) {
	out, err := exec.Command("ctr", append([]string{"--address", node.Containerd, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
	return string(out), err
}
