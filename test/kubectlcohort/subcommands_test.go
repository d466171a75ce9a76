package kubectlcohort

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/kubectlcohort"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestRoster reads the roster in the kubeconfig context's namespace, as a table and
// as JSON, and fails for a cohort that is not there.
func TestRoster(t *testing.T) {
	ns := testutil.Namespace(t, admin)
	createProgram(t, ns)
	kubeconfig := kubeconfigIn(t, adminKubeconfig, ns)

	golden(t, "roster", ns, plugin(t, kubeconfig, "roster", cohortName).succeed(t).stdout)
	golden(t, "roster-hide-users", ns, plugin(t, kubeconfig, "roster", cohortName, "--hide-users").succeed(t).stdout)

	var r kubectlcohort.Roster
	if err := json.Unmarshal([]byte(plugin(t, kubeconfig, "roster", "-o", "json", cohortName).succeed(t).stdout), &r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range r.Members {
		got = append(got, e.Membership+" "+e.Member+" "+string(e.Seat.State))
	}
	want := []string{
		"member-ben ben@example.org Seated", "member-cleo cleo@example.org Seated",
		"lead-ada ada@example.org Seated", "member-dev dev@example.org Waitlisted",
		"member-eve eve@example.org NotEligible", "member-fay fay@example.org Withdrawn",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("roster -o json members (-want +got):\n%s", diff)
	}
	if r.Cohort != cohortName || r.Namespace != ns || r.Waitlisted != 1 {
		t.Errorf("roster -o json: cohort %s in %s with %d waitlisted, want %s in %s with 1", r.Cohort, r.Namespace, r.Waitlisted, cohortName, ns)
	}

	other := testutil.Namespace(t, admin)
	plugin(t, kubeconfig, "roster", cohortName, "-n", other).fail(t, `Error from server (NotFound): cohorts.learning.cohort.dev "allyship-2026" not found`)
	plugin(t, kubeconfig, "roster", cohortName, "--context", "elsewhere").fail(t, `error: context "elsewhere" does not exist`)
}

// TestRosterAsAUserWhoMayNotListMemberships shows RBAC's refusal as kubectl does.
func TestRosterAsAUserWhoMayNotListMemberships(t *testing.T) {
	ns := testutil.Namespace(t, admin)
	createProgram(t, ns)
	kubeconfig, err := cluster.WriteKubeconfig("outsider.kubeconfig", "outsider")
	if err != nil {
		t.Fatal(err)
	}
	plugin(t, kubeconfig, "roster", cohortName, "-n", ns).fail(t,
		`Error from server (Forbidden): cohorts.learning.cohort.dev "allyship-2026" is forbidden: User "outsider" cannot get resource "cohorts"`)
}

// TestAttendance shows the grid of the cohort's and its community's ended gatherings.
func TestAttendance(t *testing.T) {
	ns := testutil.Namespace(t, admin)
	createProgram(t, ns)
	golden(t, "attendance", ns, plugin(t, adminKubeconfig, "attendance", cohortName, "-n", ns).succeed(t).stdout)

	var g kubectlcohort.AttendanceGrid
	if err := yaml.Unmarshal([]byte(plugin(t, adminKubeconfig, "attendance", cohortName, "-n", ns, "-o", "yaml").succeed(t).stdout), &g); err != nil {
		t.Fatal(err)
	}
	if g.RequiredPercent != 80 || g.RequiredFrom != "community" || len(g.Events) != 4 {
		t.Errorf("attendance -o yaml: required %d%% from %s over %d events, want 80%% from community over 4", g.RequiredPercent, g.RequiredFrom, len(g.Events))
	}
	below := map[string]bool{}
	for _, r := range g.Members {
		below[r.Membership] = r.BelowThreshold
	}
	want := map[string]bool{"lead-ada": false, "member-ben": true, "member-cleo": false, "member-fay": false}
	if diff := cmp.Diff(want, below); diff != "" {
		t.Errorf("members below the threshold (-want +got):\n%s", diff)
	}
	var j kubectlcohort.AttendanceGrid
	if err := json.Unmarshal([]byte(plugin(t, adminKubeconfig, "attendance", cohortName, "-n", ns, "-ojson").succeed(t).stdout), &j); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(g, j); diff != "" {
		t.Errorf("-o json and -o yaml differ (-yaml +json):\n%s", diff)
	}

	plugin(t, adminKubeconfig, "attendance", "allyship-2030", "-n", ns).fail(t, `Error from server (NotFound): cohorts.learning.cohort.dev "allyship-2030" not found`)
}

// TestStatus explains the cohort's conditions, and says when its status is behind.
func TestStatus(t *testing.T) {
	ns := testutil.Namespace(t, admin)
	createProgram(t, ns)
	golden(t, "status", ns, plugin(t, adminKubeconfig, "status", cohortName, "-n", ns).succeed(t).stdout)

	var r kubectlcohort.StatusReport
	if err := json.Unmarshal([]byte(plugin(t, adminKubeconfig, "status", cohortName, "-n", ns, "-o", "json").succeed(t).stdout), &r); err != nil {
		t.Fatal(err)
	}
	needs := map[string]string{}
	for _, c := range r.Conditions {
		if !c.Healthy {
			needs[c.Type] = c.Reason
		}
	}
	want := map[string]string{"Ready": "NameConflict", "Stalled": "NameConflict", "Staffed": "Understaffed", "Provisioned": "NameConflict", "PortalAvailable": "Unavailable"}
	if diff := cmp.Diff(want, needs); diff != "" {
		t.Errorf("conditions that need attention (-want +got):\n%s", diff)
	}
	if r.Notice != "" {
		t.Errorf("notice %q for a current status", r.Notice)
	}

	// A change the operator has not seen yet.
	cohort := getCohort(t, ns)
	cohort.Spec.DisplayName = "Allyship, class of 2026"
	if err := admin.Update(t.Context(), cohort); err != nil {
		t.Fatal(err)
	}
	figures, _, _ := strings.Cut(plugin(t, adminKubeconfig, "status", cohortName, "-n", ns).succeed(t).stdout, "\nConditions:")
	golden(t, "status-behind", ns, figures)
}

func getCohort(t *testing.T, namespace string) *learningv1alpha1.Cohort {
	t.Helper()
	c := &learningv1alpha1.Cohort{}
	if err := admin.Get(t.Context(), client.ObjectKey{Namespace: namespace, Name: cohortName}, c); err != nil {
		t.Fatal(err)
	}
	return c
}
