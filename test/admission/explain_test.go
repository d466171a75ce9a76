package admission

import (
	"regexp"
	"strings"
	"testing"
)

// TestExplainShowsEveryField runs kubectl explain against the API server, as a user
// would, and checks that the published schema of every kind lists every spec field of
// its CRD in its place, and carries the fields' documentation.
func TestExplainShowsEveryField(t *testing.T) {
	kubectl := newKubectl(t, "explain-user")
	for _, c := range loadCRDs(t) {
		t.Run(c.kind, func(t *testing.T) {
			want := fieldPaths(c.specSchema(t))
			if len(want) < 5 {
				t.Fatalf("found only %d spec fields in the %s CRD; the walk is broken", len(want), c.kind)
			}
			resource := strings.ToLower(c.kind) + ".spec"
			out := kubectl.eventually(t, "explain", resource, "--recursive")
			listed := explainedFields(out)
			for _, field := range want {
				if !listed[field] {
					t.Errorf("kubectl explain %s --recursive does not list %s", resource, field)
				}
			}
			if t.Failed() {
				t.Logf("kubectl explain %s --recursive:\n%s", resource, out)
			}
		})
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
		if out := kubectl.eventually(t, "explain", path); !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
			t.Errorf("kubectl explain %s does not document %q:\n%s", path, want, out)
		}
	}
}

// explainedField is one line of the FIELDS section of kubectl explain --recursive: the
// field's name, indented two spaces per level of nesting, a tab and its type.
var explainedField = regexp.MustCompile(`^((?:  )+)([A-Za-z0-9_$-]+)\t<`)

// explainedFields reads the FIELDS section of kubectl explain --recursive output into
// the set of dotted field paths it lists, relative to the explained field.
func explainedFields(out string) map[string]bool {
	fields := map[string]bool{}
	var parents []string
	inFields := false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "FIELDS:") {
			inFields = true
			continue
		}
		m := explainedField.FindStringSubmatch(line)
		if !inFields || m == nil {
			continue
		}
		depth := len(m[1])/2 - 1
		if depth > len(parents) {
			continue // deeper than its parent: not a field line kubectl wrote
		}
		parents = append(parents[:depth], m[2])
		fields[strings.Join(parents, ".")] = true
	}
	return fields
}
