// Package admission checks, against a real kube-apiserver, that the CRDs accept the
// samples and every well-formed manifest, and reject bad ones with messages that name
// the field.
package admission

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

var (
	// k8s applies the cases as caseUser; admin is the cluster's administrator.
	k8s, admin client.Client
	cluster    *localcluster.Cluster
	// caseConfig is caseUser's client configuration, from which the fuzz target
	// builds a client without client-side rate limits.
	caseConfig *rest.Config
)

// caseUser is who applies the manifests of the cases: an administrator whose user name
// is the samples' approver, so that the approval policy admits the approvals they
// carry, and the owner and author of the action plans of the cases, so that the
// action-plan policy admits them too and only the CRDs' own rules are checked.
const caseUser = "allyship-pillar-lead"

// workerKubeconfig is the environment variable through which the suite's process
// hands its fuzzing workers (which run TestMain again, with the same environment) a
// kubeconfig of caseUser, so that they send their inputs to the suite's API server
// instead of each starting a control plane of its own.
const workerKubeconfig = "COHORT_ADMISSION_WORKER_KUBECONFIG"

func TestMain(m *testing.M) {
	if kubeconfig := os.Getenv(workerKubeconfig); kubeconfig != "" && slices.Contains(os.Args[1:], "-test.fuzzworker") {
		os.Exit(runFuzzWorker(m, kubeconfig))
	}
	os.Exit(testutil.RunWithCluster(m, false, func(cl *localcluster.Cluster, c client.Client) error {
		cluster, admin = cl, c
		if err := testutil.InstallApprovals(context.Background(), c); err != nil {
			return err
		}
		if err := installActionPlanPolicy(context.Background(), c); err != nil {
			return err
		}
		cfg, err := cl.AddUser(caseUser, localcluster.AdminGroup)
		if err != nil {
			return err
		}
		caseConfig = cfg
		if k8s, err = client.New(cfg, client.Options{Scheme: testutil.Scheme()}); err != nil {
			return err
		}
		kubeconfig, err := cl.WriteKubeconfig("fuzz-workers.kubeconfig", caseUser, localcluster.AdminGroup)
		if err != nil {
			return err
		}
		return os.Setenv(workerKubeconfig, kubeconfig)
	}))
}

// runFuzzWorker runs a fuzzing worker's tests against the suite's API server. Only
// fuzz targets run in a worker, and they use k8s alone.
func runFuzzWorker(m *testing.M, kubeconfig string) int {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err == nil {
		caseConfig = cfg
		k8s, err = client.New(cfg, client.Options{Scheme: testutil.Scheme()})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "connecting the fuzzing worker to the suite's API server:", err)
		return 1
	}
	admin = k8s
	return m.Run()
}
