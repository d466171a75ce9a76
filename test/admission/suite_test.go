// Package admission checks, against a real kube-apiserver, that the CRDs accept the
// samples and every well-formed manifest, and reject bad ones with messages that name
// the field.
package admission

import (
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

var (
	k8s     client.Client
	cluster *localcluster.Cluster
)

func TestMain(m *testing.M) {
	os.Exit(testutil.RunWithCluster(m, false, func(cl *localcluster.Cluster, c client.Client) error {
		cluster, k8s = cl, c
		return nil
	}))
}
