// Package transitions drives the operator through spec transitions: for every field of
// the program kinds' specs, a change the API server refuses (with a message naming the
// field), a change it admits, and the way back. The operator's state after each step is
// compared with the state before it, and with the state the same specs give when
// applied to an empty namespace, apart from the history the operator keeps on purpose:
// seats held, terms served and calendar sequences.
package transitions

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testmanager"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// now is the managers' clock: it never moves, so that two namespaces evaluated at
// different moments reach comparable states.
var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

var (
	// admin is the cluster administrator; approver is testutil.ApproverUser, whom the
	// workload's community appoints.
	admin, approver client.Client
	managerConfig   *rest.Config
	// owners are the clients of the workload's plan owners, by user name (see
	// planOwners).
	owners = map[string]client.Client{}
)

// planOwners are the members who own the workload's ActionPlans and write their
// check-ins, as the action-plan policy requires: a plan is created by the user its
// spec.owner names, a check-in written by its author. Like the administrator they
// belong to system:masters: access is not what this suite tests.
var planOwners = []string{"u-a@example.org", "u-lead@example.org"}

func TestMain(m *testing.M) {
	testutil.SetLogger()
	code := testutil.RunWithCluster(m, false, func(cl *localcluster.Cluster, c client.Client) error {
		admin = c
		cfg, err := testmanager.Grant(context.Background(), cl, c)
		if err != nil {
			return err
		}
		managerConfig = cfg
		approver, err = testutil.UserClient(cl, testutil.ApproverUser)
		if err != nil {
			return fmt.Errorf("approver client: %w", err)
		}
		for _, user := range planOwners {
			if owners[user], err = testutil.UserClient(cl, user, localcluster.AdminGroup); err != nil {
				return fmt.Errorf("client of %s: %w", user, err)
			}
		}
		return testutil.InstallActionPlanPolicy(context.Background(), c, testutil.ActionPlanPolicy, nil)
	})
	os.Exit(code)
}

// startManager runs a manager whose cache holds only namespaces, at the fixed clock,
// until the test ends or stop is called.
func startManager(t *testing.T, namespaces ...string) (stop func()) {
	t.Helper()
	mgr, err := testmanager.Start(context.Background(), testmanager.Options{
		Config:          managerConfig,
		Clock:           clocktesting.NewFakeClock(now),
		Namespaces:      namespaces,
		MaxRequeueAfter: time.Minute,
	})
	if err != nil {
		t.Fatalf("starting the manager: %v", err)
	}
	stop = func() {
		if err := mgr.Stop(); err != nil {
			t.Errorf("manager stopped with: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}
