package admission

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
)

// TestExplainShowsEveryField runs kubectl explain against the API server, as a user
// would, and checks that the published schema carries every field and its documentation.
func TestExplainShowsEveryField(t *testing.T) {
	kubeconfig, err := cluster.WriteKubeconfig("explain.kubeconfig", "explain-user", localcluster.AdminGroup)
	if err != nil {
		t.Fatal(err)
	}
	cacheDir := t.TempDir()
	run := func(args ...string) (string, error) {
		args = append([]string{"--kubeconfig", kubeconfig, "--cache-dir", cacheDir}, args...)
		out, err := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), args...).CombinedOutput()
		return string(out), err
	}
	kubectl := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	// The API server publishes a new CRD's OpenAPI schema a few seconds after the CRD
	// is established.
	var recursive string
	err = wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, 60*time.Second, true, func(context.Context) (bool, error) {
		out, err := run("explain", "cohort.spec", "--recursive")
		recursive = out
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("kubectl explain cohort.spec --recursive never succeeded:\n%s", recursive)
	}
	for _, field := range []string{
		"communityRef", "displayName", "startDate", "durationMonths", "endDate", "timeZone",
		"enrollment", "opens", "closes", "policy", "roles", "minMembers", "maxMembers",
		"termMonths", "maxConsecutiveTerms", "commitment", "meetingHoursPerMonth",
		"composition", "minOrganizations", "requiredTeamRoles", "attendance",
		"requiredPercent", "minimumEvents", "lateWeightPercent", "termNoticeDays",
		"schedule", "rrule", "startTime", "duration", "lookahead", "services", "portal",
		"replicas", "suspend",
	} {
		if !strings.Contains(recursive, field) {
			t.Errorf("kubectl explain cohort.spec --recursive does not list %s", field)
		}
	}

	docs := map[string]string{
		"cohort.spec":                                "startDate is the first day of the cohort",
		"cohort.spec.schedule":                       "rrule is the RFC 5545 recurrence rule",
		"cohort.spec.policy.roles":                   "maxMembers is the number of seats of the role",
		"communityofpractice.spec":                   "approvers may approve the community's external communications",
		"membership.spec":                            "member is the person's user name",
		"learningevent.spec.attendance":              "status is Present, Late, Excused or Absent",
		"learningevent.spec":                         "audience is Internal or External",
		"cohort.status":                              "waitlisted is the number of memberships waiting for a seat",
		"membership.status":                          "waitlistPosition is the membership's place",
		"communityofpractice.spec.policy.attendance": "lateWeightPercent is how much a Late arrival counts",
	}
	for path, want := range docs {
		if out := kubectl("explain", path); !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("kubectl explain %s does not document %q:\n%s", path, want, out)
		}
	}
}
