package admission

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
)

// kubectlRunner runs the control plane's kubectl against the suite's API server as an
// administrator, as a platform team would, with a discovery cache of its own.
type kubectlRunner struct {
	kubeconfig string
	cacheDir   string
}

// newKubectl writes a kubeconfig for user, an administrator, and returns a kubectl
// that uses it.
func newKubectl(t *testing.T, user string) kubectlRunner {
	t.Helper()
	kubeconfig, err := cluster.WriteKubeconfig(user+".kubeconfig", user, localcluster.AdminGroup)
	if err != nil {
		t.Fatal(err)
	}
	return kubectlRunner{kubeconfig: kubeconfig, cacheDir: t.TempDir()}
}

// try runs kubectl with args and returns its standard output, followed by its standard
// error when it fails; warnings of a successful run are left out of what is checked.
func (k kubectlRunner) try(args ...string) (string, error) {
	args = append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", k.cacheDir}, args...)
	out, err := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), args...).Output()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		out = append(out, exitErr.Stderr...)
	}
	return string(out), err
}

// eventually runs kubectl with args until it succeeds, for a minute at most: the API
// server publishes a new CRD's OpenAPI schema a few seconds after the CRD is
// established.
func (k kubectlRunner) eventually(t *testing.T, args ...string) string {
	t.Helper()
	var out string
	err := wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
		var err error
		out, err = k.try(args...)
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("kubectl %s never succeeded:\n%s", strings.Join(args, " "), out)
	}
	return out
}
