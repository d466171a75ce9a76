// Package kubectlcohort runs the kubectl plugin kubectl-cohort against a real
// kube-apiserver: each subcommand's tables and JSON, its errors, and approve as real
// identities through the approval admission policy. No operator runs: the tests write
// the statuses the subcommands read.
package kubectlcohort

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/kubectlcohort"
	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

var (
	admin   client.Client
	cluster *localcluster.Cluster
	// adminKubeconfig authenticates a cluster administrator.
	adminKubeconfig string
)

// now is the plugin's clock: late November 2026, with the cohort's gatherings
// through November ended and December's to come.
var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	os.Exit(testutil.RunWithCluster(m, false, func(cl *localcluster.Cluster, c client.Client) error {
		cluster, admin = cl, c
		var err error
		if adminKubeconfig, err = cl.WriteKubeconfig("admin.kubeconfig", "cohort-admin", localcluster.AdminGroup); err != nil {
			return err
		}
		return testutil.InstallApprovals(context.Background(), c)
	}))
}

// kubeconfigIn copies a kubeconfig with its current context's namespace set to
// namespace, as `kubectl config set-context --current --namespace` does.
func kubeconfigIn(t *testing.T, kubeconfig, namespace string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Contexts[cfg.CurrentContext].Namespace = namespace
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// result is one run of the plugin.
type result struct {
	stdout, stderr string
	code           int
}

// plugin runs kubectl-cohort with args and --kubeconfig kubeconfig, at now, with a
// stdin that is not a terminal.
func plugin(t *testing.T, kubeconfig string, args ...string) result {
	t.Helper()
	return run(kubectlcohort.Command{Stdin: strings.NewReader(""), Interactive: func() bool { return false }}, kubeconfig, args)
}

// atTerminal runs kubectl-cohort as plugin does, with a person at a terminal who
// types answer.
func atTerminal(t *testing.T, kubeconfig, answer string, args ...string) result {
	t.Helper()
	return run(kubectlcohort.Command{Stdin: strings.NewReader(answer), Interactive: func() bool { return true }}, kubeconfig, args)
}

func run(cmd kubectlcohort.Command, kubeconfig string, args []string) result {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Clock = &stdout, &stderr, clocktesting.NewFakePassiveClock(now)
	code := cmd.Run(context.Background(), append(args, "--kubeconfig", kubeconfig))
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// succeed fails the test unless the run succeeded without writing to stderr.
func (r result) succeed(t *testing.T) result {
	t.Helper()
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit code %d, stderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	return r
}

// fail fails the test unless the run failed with exit code 1, printed nothing on
// stdout and said each of fragments on stderr.
func (r result) fail(t *testing.T, fragments ...string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit code %d, want 1; stdout:\n%s", r.code, r.stdout)
	}
	if r.stdout != "" {
		t.Errorf("stdout, want nothing:\n%s", r.stdout)
	}
	for _, f := range fragments {
		if !strings.Contains(r.stderr, f) {
			t.Errorf("stderr does not say %q:\n%s", f, r.stderr)
		}
	}
}

// update rewrites the golden files: go test ./test/kubectlcohort/ -update.
var update = flag.Bool("update", false, "rewrite testdata/*.golden with the output the tests get")

// golden compares got, with the test's namespace written NAMESPACE, with
// testdata/<name>.golden.
func golden(t *testing.T, name, namespace, got string) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name+".golden"), strings.ReplaceAll(got, namespace, "NAMESPACE"), *update)
}

// create creates obj and then writes the status it was built with, as the operator
// would have, with observedGeneration set to the created object's generation.
func create(t *testing.T, obj client.Object) {
	t.Helper()
	ctx := context.Background()
	saved, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		t.Fatalf("copying %s", obj.GetName())
	}
	if err := admin.Create(ctx, obj); err != nil {
		t.Fatalf("creating %s: %v", obj.GetName(), err)
	}
	gen := obj.GetGeneration()
	switch o := obj.(type) {
	case *learningv1alpha1.Cohort:
		o.Status = saved.(*learningv1alpha1.Cohort).Status
		o.Status.ObservedGeneration = gen
		stampConditions(o.Status.Conditions, gen)
	case *learningv1alpha1.Membership:
		o.Status = saved.(*learningv1alpha1.Membership).Status
		o.Status.ObservedGeneration = gen
		stampConditions(o.Status.Conditions, gen)
	case *learningv1alpha1.LearningEvent:
		o.Status = saved.(*learningv1alpha1.LearningEvent).Status
		o.Status.ObservedGeneration = gen
		stampConditions(o.Status.Conditions, gen)
	case *learningv1alpha1.ActionPlan:
		o.Status = saved.(*learningv1alpha1.ActionPlan).Status
		o.Status.ObservedGeneration = gen
		stampConditions(o.Status.Conditions, gen)
	case *learningv1alpha1.ProgramReport:
		o.Status = saved.(*learningv1alpha1.ProgramReport).Status
		o.Status.ObservedGeneration = gen
		stampConditions(o.Status.Conditions, gen)
	default:
		return
	}
	if err := admin.Status().Update(ctx, obj); err != nil {
		t.Fatalf("writing the status of %s: %v", obj.GetName(), err)
	}
}

func stampConditions(conds []metav1.Condition, generation int64) {
	for i := range conds {
		conds[i].ObservedGeneration = generation
	}
}

func cond(typ string, status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, LastTransitionTime: metav1.NewTime(now.Add(-time.Hour))}
}
