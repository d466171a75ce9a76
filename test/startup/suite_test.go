// Package startup shows why the manager waits for the API server to serve its kinds
// before it starts (controllers.WaitForAPIs), against a real kube-apiserver: a proxy
// answers the watches of the operator's kinds with 429 "storage is (re)initializing",
// as kube-apiserver does while it builds the watch cache of a custom resource on a
// fresh cluster, and the tests measure how long a program then waits for its status.
package startup

import (
	"context"
	"os"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testmanager"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

var (
	admin client.Client
	// managerConfig authenticates as the manager's identity, which holds only the
	// generated ClusterRole.
	managerConfig *rest.Config
)

func TestMain(m *testing.M) {
	testutil.SetLogger()
	os.Exit(testutil.RunWithCluster(m, false, func(cl *localcluster.Cluster, c client.Client) error {
		cfg := rest.CopyConfig(cl.Config)
		cfg.QPS = -1
		var err error
		if admin, err = client.New(cfg, client.Options{Scheme: testutil.Scheme()}); err != nil {
			return err
		}
		managerConfig, err = testmanager.Grant(context.Background(), cl, c)
		return err
	}))
}
