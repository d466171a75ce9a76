// Package admission checks, against a real kube-apiserver, that the CRDs accept the
// samples and every well-formed manifest, and reject bad ones with messages that name
// the field.
package admission

import (
	"context"
	"os"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

var (
	// k8s applies the cases as caseUser; admin is the cluster's administrator.
	k8s, admin client.Client
	cluster    *localcluster.Cluster
)

// caseUser is who applies the manifests of the cases: an administrator whose user name
// is the samples' approver, so that the approval policy admits the approvals they
// carry and only the CRDs' own rules are checked.
const caseUser = "allyship-pillar-lead"

func TestMain(m *testing.M) {
	os.Exit(testutil.RunWithCluster(m, false, func(cl *localcluster.Cluster, c client.Client) error {
		cluster, admin = cl, c
		if err := testutil.InstallApprovals(context.Background(), c); err != nil {
			return err
		}
		cfg, err := cl.AddUser(caseUser, localcluster.AdminGroup)
		if err != nil {
			return err
		}
		k8s, err = client.New(cfg, client.Options{Scheme: testutil.Scheme()})
		return err
	}))
}
