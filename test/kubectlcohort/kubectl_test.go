package kubectlcohort

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestKubectlRunsThePlugin builds cmd/kubectl-cohort, puts it on PATH and runs it as
// `kubectl cohort` with the control plane's kubectl: kubectl finds it, passes it its
// arguments, and passes on its output and exit code.
func TestKubectlRunsThePlugin(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "kubectl-cohort"), "./cmd/kubectl-cohort")
	build.Dir = testutil.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building kubectl-cohort: %v\n%s", err, out)
	}
	kubectl := func(args ...string) (stdout, stderr string, err error) {
		cmd := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), args...)
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+adminKubeconfig)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		return out.String(), errOut.String(), err
	}

	list, _, err := kubectl("plugin", "list")
	if err != nil || !strings.Contains(list, filepath.Join(bin, "kubectl-cohort")) {
		t.Fatalf("kubectl plugin list does not find kubectl-cohort (%v):\n%s", err, list)
	}

	ns := testutil.Namespace(t, admin)
	createProgram(t, ns)
	out, stderr, err := kubectl("cohort", "status", cohortName, "-n", ns)
	if err != nil {
		t.Fatalf("kubectl cohort status: %v\n%s", err, stderr)
	}
	golden(t, "status", ns, out)

	_, stderr, err = kubectl("cohort", "roster", "allyship-2030", "-n", ns)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("kubectl cohort roster of a missing cohort: %v, want exit code 1", err)
	}
	if want := `Error from server (NotFound): cohorts.learning.cohort.dev "allyship-2030" not found`; !strings.Contains(stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr)
	}

	help, _, err := kubectl("cohort", "--help")
	if err != nil || !strings.Contains(help, "approve EVENT") {
		t.Errorf("kubectl cohort --help (%v):\n%s", err, help)
	}
}
