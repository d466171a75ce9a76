package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestSamples applies the samples as a user would, with their dates shifted so that
// today falls inside the programs (as make demo applies them), and waits until the
// operator, running with only its own RBAC, has made every Cohort Ready and published
// metrics.
func TestSamples(t *testing.T) {
	ns := "e2e-samples"
	createNamespace(t, ns)
	applySamples(t, ns)
	for _, kind := range []string{"cop", "coh", "mbr", "lev"} {
		if out, err := kubectl("wait", "-n", ns, "--for=condition=Ready", "--timeout=90s", kind, "--all"); err != nil {
			t.Fatalf("waiting for %s to be Ready: %v\n%s", kind, err, out)
		}
	}
	eventually(t, "the metrics endpoint reports the samples", func() error {
		body, err := scrapeMetrics()
		if err != nil {
			return err
		}
		for _, want := range []string{
			`cohort_members{cohort="allyship-2026",namespace="e2e-samples"`,
			`cohort_waitlist_length{cohort="allyship-2026",namespace="e2e-samples",role="Member"}`,
		} {
			if !strings.Contains(body, want) {
				return fmt.Errorf("no %s in the metrics", want)
			}
		}
		return nil
	})
}

// TestDeletingACohortRemovesOnlyUntouchedGatherings deletes a cohort with the real
// garbage collector running: the operator's finalizer deletes the upcoming generated
// gatherings, while its memberships, its declared events and a generated gathering
// with attendance recorded stay (nothing carries an owner reference to the cohort).
func TestDeletingACohortRemovesOnlyUntouchedGatherings(t *testing.T) {
	ns := "e2e-gc"
	createNamespace(t, ns)
	today := time.Now().UTC()
	start := today.AddDate(0, -1, 0).Format("2006-01-02")
	past := today.AddDate(0, 0, -7).Format(time.RFC3339)
	manifest := fmt.Sprintf(`
apiVersion: learning.cohort.dev/v1alpha1
kind: CommunityOfPractice
metadata: {name: club}
spec:
  policy: {roles: [{name: Member, maxMembers: 10}]}
---
apiVersion: learning.cohort.dev/v1alpha1
kind: Cohort
metadata: {name: weekly}
spec:
  communityRef: {name: club}
  startDate: "%s"
  durationMonths: 12
  schedule: {rrule: "FREQ=WEEKLY;BYDAY=MO,TH", startTime: "09:00", duration: 1h, timeZone: UTC, lookahead: 3, type: CheckIn}
---
apiVersion: learning.cohort.dev/v1alpha1
kind: Membership
metadata: {name: ana}
spec: {cohortRef: {name: weekly}, member: u-ana, role: Member}
---
apiVersion: learning.cohort.dev/v1alpha1
kind: LearningEvent
metadata: {name: kickoff}
spec:
  cohortRef: {name: weekly}
  type: Intensive
  title: Kickoff
  start: "%s"
  duration: 8h
  attendance: [{member: ana, status: Present}]
`, start, past)
	if out, err := kubectlApply(ns, manifest); err != nil {
		t.Fatalf("applying: %v\n%s", err, out)
	}
	var generated []string
	eventually(t, "three check-ins are generated", func() error {
		out, err := kubectl("get", "-n", ns, "lev", "-l", "learning.cohort.dev/schedule=weekly", "-o", "name")
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		generated = strings.Fields(out)
		if len(generated) != 3 {
			return fmt.Errorf("generated %v", generated)
		}
		return nil
	})
	record := generated[0]
	patch := `{"spec":{"attendance":[{"member":"ana","status":"Excused","note":"recorded in advance"}]}}`
	if out, err := kubectl("patch", "-n", ns, record, "--type=merge", "-p", patch); err != nil {
		t.Fatalf("recording attendance: %v\n%s", err, out)
	}
	eventually(t, "the record is released by the cohort", func() error {
		owners, err := jsonpath(ns, record, "{.metadata.ownerReferences}")
		if err == nil && owners != "" {
			err = fmt.Errorf("still owned: %s", owners)
		}
		return err
	})

	if out, err := kubectl("delete", "-n", ns, "cohort", "weekly", "--wait=true"); err != nil {
		t.Fatalf("deleting the cohort: %v\n%s", err, out)
	}
	eventually(t, "the finalizer removes the upcoming check-ins", func() error {
		out, err := kubectl("get", "-n", ns, "lev", "-l", "learning.cohort.dev/schedule=weekly", "-o", "name")
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		if left := strings.Fields(out); len(left) != 1 || left[0] != record {
			return fmt.Errorf("left %v, want only %s", left, record)
		}
		return nil
	})
	for _, object := range []string{"membership/ana", "learningevent/kickoff", record} {
		eventually(t, object+" stays with CohortFound=False", func() error {
			got, err := jsonpath(ns, object, `{.status.conditions[?(@.type=="CohortFound")].reason}`)
			if err == nil && got != "CohortNotFound" {
				err = fmt.Errorf("CohortFound reason %q", got)
			}
			return err
		})
	}
}
