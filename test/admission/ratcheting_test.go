package admission

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// storedCase is an object stored before the rules on dates and text existed, with
// values they refuse. Updates that leave those values alone must be accepted (CRD
// validation ratcheting: the rules use no oldSelf, so an unchanged value is not
// checked again); changing one of them to another refused value must be refused,
// naming the field.
type storedCase struct {
	kind, name string
	// stored is the spec created while the rules were not installed.
	stored string
	// accepted are updates, in order, that change other fields only.
	accepted []string
	// refused are updates of the last accepted spec, each with the error it must get.
	refused []refusedUpdate
}

type refusedUpdate struct{ spec, want string }

var storedCases = []storedCase{
	{kind: "Cohort", name: "stored-1990",
		stored: `
communityRef: {name: allyship}
displayName: "Allyship \x1b[31m1990"
startDate: "1990-01-01"
durationMonths: 12
enrollment: {opens: "1989-11-01", closes: "1989-12-15"}
schedule: {rrule: "FREQ=MONTHLY;BYDAY=2TU;UNTIL=19901231", startTime: "12:00", duration: 90m, timeZone: America/Chicago, title: "Gathering\n1990"}`,
		accepted: []string{`
communityRef: {name: allyship}
displayName: "Allyship \x1b[31m1990"
startDate: "1990-01-01"
durationMonths: 12
enrollment: {opens: "1989-11-01", closes: "1989-12-15"}
schedule: {rrule: "FREQ=MONTHLY;BYDAY=2TU;UNTIL=19901231", startTime: "13:00", duration: 90m, timeZone: America/Chicago, title: "Gathering\n1990"}
suspend: true`},
		refused: []refusedUpdate{
			{spec: `
communityRef: {name: allyship}
displayName: "Allyship \x1b[31m1990"
startDate: "1991-01-01"
durationMonths: 12
suspend: true`, want: "spec.startDate" + dateBoundMessage},
			{spec: `
communityRef: {name: allyship}
displayName: "Allyship \x1b[32m1990"
startDate: "1990-01-01"
durationMonths: 12
suspend: true`, want: textRefused("spec.displayName")},
			{spec: `
communityRef: {name: allyship}
displayName: "Allyship \x1b[31m1990"
startDate: "1990-01-01"
durationMonths: 12
schedule: {rrule: "FREQ=MONTHLY;BYDAY=2TU;UNTIL=19911231", startTime: "13:00", duration: 90m, timeZone: America/Chicago, title: "Gathering\n1990"}
suspend: true`, want: "spec.schedule.rrule UNTIL" + dateBoundMessage},
		}},
	{kind: "Membership", name: "stored-1990",
		stored: membershipBase + `
displayName: "Ally\tOne"
startDate: "1990-01-01"
endDate: "1990-12-31"`,
		accepted: []string{membershipBase + `
displayName: "Ally\tOne"
startDate: "1990-01-01"
endDate: "1990-12-31"
withdrawn: true`},
		refused: []refusedUpdate{{spec: membershipBase + `
displayName: "Ally\tOne"
startDate: "1990-01-01"
endDate: "2200-01-01"
withdrawn: true`, want: "spec.endDate" + dateBoundMessage}},
	},
	{kind: "LearningEvent", name: "stored-1990",
		stored: `
cohortRef: {name: allyship-2026}
type: Gathering
title: "Gathering\n1990"
description: "Agenda \x1b[1m"
start: "1990-01-09T18:00:00Z"
duration: 90m
attendance: [{member: m-1, status: Excused, note: "ill \x1b[1A"}]`,
		// Recording a second member's attendance leaves the first entry as it was: the
		// entries of a list of type map are matched by key, so its note stays ratcheted.
		accepted: []string{`
cohortRef: {name: allyship-2026}
type: Gathering
title: "Gathering\n1990"
description: "Agenda \x1b[1m"
start: "1990-01-09T18:00:00Z"
duration: 90m
attendance: [{member: m-1, status: Excused, note: "ill \x1b[1A"}, {member: m-2, status: Present}]
cancelled: true`},
		refused: []refusedUpdate{
			{spec: `
cohortRef: {name: allyship-2026}
type: Gathering
title: "Gathering\n1990"
description: "Agenda \x1b[1m"
start: "1990-01-10T18:00:00Z"
duration: 90m
cancelled: true`, want: "spec.start" + dateBoundMessage},
			{spec: `
cohortRef: {name: allyship-2026}
type: Gathering
title: "Gathering\n1990"
description: "Agenda \x1b[1m"
start: "1990-01-09T18:00:00Z"
duration: 90m
attendance: [{member: m-1, status: Excused, note: "ill \x1b[2J"}, {member: m-2, status: Present}]
cancelled: true`, want: paragraphRefused("spec.attendance[0].note")},
		}},
	{kind: "CommunityOfPractice", name: "stored-1990",
		stored: validPolicy + `
displayName: "Old \x1b[31mcommunity"
eligibleOrganizations: ["Lakeside\x1bBank", "Harbor Trust"]
charter: {goals: ["Listen\rfirst"]}`,
		accepted: []string{validPolicy + `
  termNoticeDays: 14
displayName: "Old \x1b[31mcommunity"
eligibleOrganizations: ["Lakeside\x1bBank", "Harbor Trust"]
charter: {goals: ["Listen\rfirst"]}`},
		// A set is matched as a whole: adding an organization checks every entry again.
		refused: []refusedUpdate{{spec: validPolicy + `
  termNoticeDays: 14
displayName: "Old \x1b[31mcommunity"
eligibleOrganizations: ["Lakeside\x1bBank", "Harbor Trust", "Riverside Bank"]
charter: {goals: ["Listen\rfirst"]}`, want: textRefused("spec.eligibleOrganizations[0]")}},
	},
	{kind: "ActionPlan", name: "stored-1990",
		stored: storedPlan,
		// An action or check-in left as stored is not checked again: the lists are maps,
		// so each entry is matched with its stored self by its key.
		accepted: []string{storedPlan + `
partnerRef: {name: m-1991}`},
		refused: []refusedUpdate{
			{spec: strings.Replace(storedPlan, `"1990-06-30"`, `"1991-06-30"`, 1) + `
partnerRef: {name: m-1991}`, want: "spec.actions[].due" + dateBoundMessage},
			{spec: strings.Replace(storedPlan, `\x1b[31m`, `\x1b[32m`, 1) + `
partnerRef: {name: m-1991}`, want: textRefused("spec.actions[0].title")},
		}},
}

// storedPlan is an ActionPlan of 1990 with control characters in its text.
const storedPlan = `
membershipRef: {name: m-1990}
owner: ` + caseUser + `
actions: [{id: mentor, title: "Mentor \x1b[31m1990", due: "1990-06-30"}]
checkIns: [{id: c-1990, at: "1990-03-10T19:00:00Z", author: ` + caseUser + `, learned: "Listen\rfirst"}]`

// TestStoredObjectsKeepWorking installs the CRDs without the rules on dates and text,
// stores an object of each kind dated 1990 with control characters in its text,
// installs the real CRDs again and checks that the objects can still be updated where
// the update leaves those values alone, and not where it changes one to another
// refused value.
func TestStoredObjectsKeepWorking(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	objs := make([]*unstructured.Unstructured, len(storedCases))
	for i, sc := range storedCases {
		objs[i] = manifest(t, sc.kind, sc.name, sc.stored)
		objs[i].SetNamespace(ns)
	}
	restore := installCRDsWithoutBounds(t)
	waitForRules(t, objs, false)
	for _, obj := range objs {
		if err := k8s.Create(ctx, obj); err != nil {
			t.Fatalf("storing %s %s without the rules: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	restore()
	waitForRules(t, objs, true)

	for i, sc := range storedCases {
		t.Run(sc.kind, func(t *testing.T) {
			obj := objs[i]
			for _, spec := range sc.accepted {
				if err := updateSpec(t, obj, spec); err != nil {
					t.Fatalf("an update leaving the stored values alone was refused: %v", err)
				}
			}
			for _, u := range sc.refused {
				checkResult(t, updateSpec(t, obj, u.spec), u.want)
			}
		})
	}
}

// updateSpec replaces the spec of the stored object with spec; obj keeps the result.
func updateSpec(t *testing.T, obj *unstructured.Unstructured, spec string) error {
	t.Helper()
	current := &unstructured.Unstructured{}
	current.SetGroupVersionKind(obj.GroupVersionKind())
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), current); err != nil {
		t.Fatal(err)
	}
	current.Object["spec"] = manifest(t, obj.GetKind(), obj.GetName(), spec).Object["spec"]
	return k8s.Update(context.Background(), current)
}

// waitForRules waits until the API server applies the CRDs as installed: with the
// rules, a copy of each stored object is refused as invalid; without them, accepted.
func waitForRules(t *testing.T, objs []*unstructured.Unstructured, installed bool) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, "the CRDs taking effect", func() error {
		for _, obj := range objs {
			probe := obj.DeepCopy()
			probe.SetName(obj.GetName() + "-probe")
			err := k8s.Create(context.Background(), probe, client.DryRunAll)
			switch {
			case installed && err == nil:
				return fmt.Errorf("%s %s: accepted, want refused as invalid", obj.GetKind(), obj.GetName())
			case installed && !apierrors.IsInvalid(err):
				return fmt.Errorf("%s %s: want refused as invalid: %w", obj.GetKind(), obj.GetName(), err)
			case !installed && err != nil:
				return fmt.Errorf("%s %s: want accepted: %w", obj.GetKind(), obj.GetName(), err)
			}
		}
		return nil
	})
}

// installCRDsWithoutBounds replaces every CRD by one without the rules on dates and
// text, and returns the function that installs the real CRDs again; the test's
// cleanup calls it too, so that a failure leaves the suite's API server as it was.
func installCRDsWithoutBounds(t *testing.T) (restore func()) {
	t.Helper()
	ctx := context.Background()
	names := make([]string, 0, 5)
	specs := map[string]any{}
	for _, c := range loadCRDs(t) {
		name := c.plural + ".learning.cohort.dev"
		crd := getCRD(t, name)
		names = append(names, name)
		specs[name] = crd.Object["spec"]
		stripped := crd.DeepCopy()
		stripped.Object["spec"] = withoutBounds(stripped.Object["spec"])
		if err := admin.Update(ctx, stripped); err != nil {
			t.Fatalf("installing %s without the rules: %v", name, err)
		}
	}
	restored := false
	restore = func() {
		if restored {
			return
		}
		restored = true
		for _, name := range names {
			crd := getCRD(t, name)
			crd.Object["spec"] = specs[name]
			if err := admin.Update(ctx, crd); err != nil {
				t.Fatalf("installing %s again: %v", name, err)
			}
		}
	}
	t.Cleanup(restore)
	return restore
}

func getCRD(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	if err := admin.Get(context.Background(), client.ObjectKey{Name: name}, crd); err != nil {
		t.Fatalf("getting CRD %s: %v", name, err)
	}
	return crd
}

// withoutBounds returns a deep copy of a CRD's spec without the rules on dates and
// text, recognized by their messages.
func withoutBounds(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, child := range x {
			if k != "x-kubernetes-validations" {
				out[k] = withoutBounds(child)
				continue
			}
			var kept []any
			for _, rule := range child.([]any) {
				msg := str(dig(rule, "message"))
				if msg != textMessage && msg != paragraphMessage && !strings.HasSuffix(msg, dateBoundMessage) {
					kept = append(kept, rule)
				}
			}
			if len(kept) > 0 {
				out[k] = kept
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, child := range x {
			out[i] = withoutBounds(child)
		}
		return out
	}
	return v
}
