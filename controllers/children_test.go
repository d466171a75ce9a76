package controllers

// Unit tests of the pure builders of a cohort's children and of the drift check. They
// need no cluster: they run inside the package's suite, but never use it.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/ics"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// childrenNamespace is the namespace of the builders' cohort.
const childrenNamespace = "learning"

// childrenCohort builds a cohort, with its portal enabled or not.
func childrenCohort(name string, portal bool) *learningv1alpha1.Cohort {
	c := &learningv1alpha1.Cohort{
		ObjectMeta: metav1.ObjectMeta{Namespace: childrenNamespace, Name: name, UID: "9b1f7c2e-cohort-uid"},
		Spec:       learningv1alpha1.CohortSpec{DisplayName: "Spring cohort", StartDate: "2026-01-01"},
	}
	if portal {
		c.Spec.Services = &learningv1alpha1.CohortServices{Portal: &learningv1alpha1.PortalService{Enabled: true}}
	}
	return c
}

// childrenPublication is a publication with a lead, two readers with ActionPlans (one
// the other's partner), the cohort's own events and a community event.
func childrenPublication() program.Publication {
	start := time.Date(2026, 1, 6, 12, 0, 0, 0, time.UTC)
	pub := program.Publication{
		Edit:      []string{"lee@example.org"},
		Read:      []string{"ann@example.org", "bob@example.org"},
		OwnEvents: []string{"kickoff", "retro"},
		Plans: []program.PlanGrant{
			{Membership: "ann", User: "ann@example.org", Update: []string{"ann-2026"}, Get: []string{"bob-2026"}},
			{Membership: "bob", User: "bob@example.org", Update: []string{"bob-2026", "northstar"}},
		},
		Roster: publish.Roster{Cohort: "spring", Members: []publish.RosterEntry{
			{DisplayName: "Ann Archer", Role: "Member", Seat: publish.SeatHeld, Phase: "Active"},
		}},
		Overview: publish.Overview{
			Cohort:     publish.CohortSummary{Name: "spring", DisplayName: "Spring cohort"},
			Roles:      []publish.RoleSeats{},
			Upcoming:   []publish.Event{},
			Attendance: []publish.EventAttendance{},
		},
		Calendar: ics.Calendar{Name: "Spring cohort", Events: []ics.Event{{
			UID: ics.UID(childrenNamespace, "kickoff"), Stamp: start.AddDate(0, -1, 0), Summary: "Kickoff",
			Start: start, End: start.Add(90 * time.Minute),
		}}},
	}
	program.RenderDocuments(&pub)
	return pub
}

// childrenPortal is how the tests run portals.
var childrenPortal = PortalConfig{Image: "registry.example/cohort-operator:v1", IngressFrom: []string{"10.0.0.1/32", "fd00::1/128"}}

// buildChildren returns the desired children.
func buildChildren(t *testing.T, cohort *learningv1alpha1.Cohort, pub program.Publication, portal PortalConfig) []client.Object {
	t.Helper()
	return desiredChildren(cohort, pub, portal)
}

// childOf returns the desired child of type T and name, failing the test when absent.
func childOf[T client.Object](t *testing.T, objs []client.Object, name string) T {
	t.Helper()
	for _, o := range objs {
		if c, ok := o.(T); ok && o.GetName() == name {
			return c
		}
	}
	var zero T
	t.Fatalf("no %T named %s among %v", zero, name, describeAll(objs))
	return zero
}

func describeAll(objs []client.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = describe(o)
	}
	return out
}

// ruleOf is a policy rule as a table reads it.
type ruleOf struct {
	Group, Resource string
	Names           []string
	Verbs           []string
}

func rulesOf(rules []rbacv1.PolicyRule) []ruleOf {
	var out []ruleOf
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				out = append(out, ruleOf{Group: g, Resource: res, Names: r.ResourceNames, Verbs: r.Verbs})
			}
		}
	}
	return out
}

func TestDesiredChildrenKinds(t *testing.T) {
	cases := map[string]struct {
		portal bool
		want   []string
	}{
		"without the portal, members' access and the documents": {
			want: []string{
				"Role spring-read", "Role spring-edit", "RoleBinding spring-read", "RoleBinding spring-edit",
				"Role ann-plans", "RoleBinding ann-plans", "Role bob-plans", "RoleBinding bob-plans",
				"ConfigMap spring-roster", "ConfigMap spring-calendar", "ConfigMap spring-overview",
			},
		},
		"with the portal": {
			portal: true,
			want: []string{
				"Role spring-read", "Role spring-edit", "RoleBinding spring-read", "RoleBinding spring-edit",
				"Role ann-plans", "RoleBinding ann-plans", "Role bob-plans", "RoleBinding bob-plans",
				"ConfigMap spring-roster", "ConfigMap spring-calendar", "ConfigMap spring-overview",
				"ServiceAccount spring-portal", "Role spring-portal", "RoleBinding spring-portal",
				"Deployment spring-portal", "Service spring-portal", "NetworkPolicy spring-portal",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			objs := buildChildren(t, childrenCohort("spring", tc.portal), childrenPublication(), childrenPortal)
			if diff := cmp.Diff(tc.want, describeAll(objs)); diff != "" {
				t.Errorf("children (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDesiredChildrenOwnedAndLabelled(t *testing.T) {
	cohort := childrenCohort("spring", true)
	objs := buildChildren(t, cohort, childrenPublication(), childrenPortal)
	component := func(o client.Object) string {
		switch {
		case strings.HasSuffix(o.GetName(), "-read"), strings.HasSuffix(o.GetName(), "-edit"):
			return "access"
		case strings.HasSuffix(o.GetName(), "-plans"):
			return "plans"
		case strings.HasSuffix(o.GetName(), "-portal"):
			return "portal"
		}
		return "documents"
	}
	wantOwner := metav1.OwnerReference{
		APIVersion: "learning.cohort.dev/v1alpha1", Kind: "Cohort", Name: "spring", UID: cohort.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
	for _, o := range objs {
		if o.GetNamespace() != childrenNamespace {
			t.Errorf("%s is in namespace %q, want %q", describe(o), o.GetNamespace(), childrenNamespace)
		}
		if diff := cmp.Diff([]metav1.OwnerReference{wantOwner}, o.GetOwnerReferences()); diff != "" {
			t.Errorf("%s owner references (-want +got):\n%s", describe(o), diff)
		}
		if !metav1.IsControlledBy(o, cohort) {
			t.Errorf("%s is not controlled by the cohort", describe(o))
		}
		want := map[string]string{ManagedByLabel: ManagedBy, CohortLabel: "spring", ComponentLabel: component(o)}
		if diff := cmp.Diff(want, o.GetLabels()); diff != "" {
			t.Errorf("%s labels (-want +got):\n%s", describe(o), diff)
		}
	}
}

// TestDesiredChildrenRulesNameTheirObjects: a rule without resource names grants every
// object of its kind in the namespace.
func TestDesiredChildrenRulesNameTheirObjects(t *testing.T) {
	full := childrenPublication()
	noEvents := childrenPublication()
	noEvents.OwnEvents = nil
	nobody := childrenPublication()
	nobody.Edit, nobody.Read = nil, nil
	pubs := map[string]program.Publication{
		"every event":                    full,
		"no events":                      noEvents,
		"nobody seated":                  nobody,
		"an empty publication":           {},
		"empty, not nil, lists of names": {OwnEvents: []string{}, Edit: []string{}, Read: []string{}},
	}
	for name, pub := range pubs {
		for _, portal := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, portal %t", name, portal), func(t *testing.T) {
				for _, o := range buildChildren(t, childrenCohort("spring", portal), pub, childrenPortal) {
					role, ok := o.(*rbacv1.Role)
					if !ok {
						continue
					}
					if len(role.Rules) == 0 {
						t.Errorf("%s has no rules", describe(o))
					}
					for _, r := range role.Rules {
						if createsPlans(r) {
							continue // create has no name to limit it by; the action-plan policy binds the plan to its creator
						}
						if len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, "") {
							t.Errorf("%s grants %v on every %v: %+v", describe(o), r.Verbs, r.Resources, r)
						}
						if slices.Contains(r.Verbs, "*") || slices.Contains(r.Resources, "*") || slices.Contains(r.APIGroups, "*") || len(r.NonResourceURLs) > 0 {
							t.Errorf("%s has a wildcard rule: %+v", describe(o), r)
						}
						if slices.Contains(r.Verbs, "list") || slices.Contains(r.Verbs, "watch") || slices.Contains(r.Verbs, "create") || slices.Contains(r.Verbs, "delete") {
							t.Errorf("%s grants a verb that resource names cannot restrict: %+v", describe(o), r)
						}
					}
				}
			})
		}
	}
}

func TestDesiredChildrenMembersAccess(t *testing.T) {
	cohort := childrenCohort("spring", true)
	n := namesOf(cohort)
	proxy := []string{"spring-portal", "spring-portal:http", "http:spring-portal:http"}
	documents := []string{"spring-roster", "spring-calendar", "spring-overview"}
	createPlans := ruleOf{Group: "learning.cohort.dev", Resource: "actionplans", Verbs: []string{"create"}}
	read := []ruleOf{
		{Group: "learning.cohort.dev", Resource: "cohorts", Names: []string{"spring"}, Verbs: []string{"get"}},
		{Group: "", Resource: "configmaps", Names: documents, Verbs: []string{"get"}},
		{Group: "", Resource: "services/proxy", Names: proxy, Verbs: []string{"get"}},
		createPlans,
	}
	ownEvents := ruleOf{Group: "learning.cohort.dev", Resource: "learningevents", Names: []string{"kickoff", "retro"}, Verbs: []string{"get", "update", "patch"}}
	cases := map[string]struct {
		pub      func(*program.Publication)
		portal   bool
		wantRead []ruleOf
		wantEdit []ruleOf
	}{
		"Read gets no event; Edit gets and updates the cohort's own events only": {
			portal:   true,
			wantRead: read,
			wantEdit: append(slices.Clone(read), ownEvents),
		},
		"without own events Edit reads and updates no event": {
			pub:      func(p *program.Publication) { p.OwnEvents = nil },
			portal:   true,
			wantRead: read,
			wantEdit: read,
		},
		"without the portal, no service proxy": {
			wantRead: []ruleOf{read[0], read[1], createPlans},
			wantEdit: []ruleOf{read[0], read[1], createPlans, ownEvents},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pub := childrenPublication()
			if tc.pub != nil {
				tc.pub(&pub)
			}
			objs := buildChildren(t, childrenCohort("spring", tc.portal), pub, childrenPortal)
			if diff := cmp.Diff(tc.wantRead, rulesOf(childOf[*rbacv1.Role](t, objs, n.Read).Rules)); diff != "" {
				t.Errorf("Read rules (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantEdit, rulesOf(childOf[*rbacv1.Role](t, objs, n.Edit).Rules)); diff != "" {
				t.Errorf("Edit rules (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("bindings", func(t *testing.T) {
		objs := buildChildren(t, cohort, childrenPublication(), childrenPortal)
		user := func(name string) rbacv1.Subject {
			return rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: name}
		}
		for name, want := range map[string][]rbacv1.Subject{
			n.Read: {user("ann@example.org"), user("bob@example.org")},
			n.Edit: {user("lee@example.org")},
		} {
			b := childOf[*rbacv1.RoleBinding](t, objs, name)
			if diff := cmp.Diff(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}, b.RoleRef); diff != "" {
				t.Errorf("RoleBinding %s roleRef (-want +got):\n%s", name, diff)
			}
			if diff := cmp.Diff(want, b.Subjects); diff != "" {
				t.Errorf("RoleBinding %s subjects (-want +got):\n%s", name, diff)
			}
		}
	})

	t.Run("plans", func(t *testing.T) {
		objs := buildChildren(t, cohort, childrenPublication(), childrenPortal)
		plans := func(names []string, verbs ...string) ruleOf {
			return ruleOf{Group: "learning.cohort.dev", Resource: "actionplans", Names: names, Verbs: verbs}
		}
		for name, want := range map[string]struct {
			user  string
			rules []ruleOf
		}{
			"ann-plans": {"ann@example.org", []ruleOf{plans([]string{"ann-2026"}, "get", "update", "patch"), plans([]string{"bob-2026"}, "get")}},
			"bob-plans": {"bob@example.org", []ruleOf{plans([]string{"bob-2026", "northstar"}, "get", "update", "patch")}},
		} {
			if diff := cmp.Diff(want.rules, rulesOf(childOf[*rbacv1.Role](t, objs, name).Rules)); diff != "" {
				t.Errorf("Role %s rules (-want +got):\n%s", name, diff)
			}
			b := childOf[*rbacv1.RoleBinding](t, objs, name)
			if diff := cmp.Diff([]rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: want.user}}, b.Subjects); diff != "" {
				t.Errorf("RoleBinding %s subjects (-want +got):\n%s", name, diff)
			}
		}
	})
}

func TestDesiredChildrenDocuments(t *testing.T) {
	cohort := childrenCohort("spring", false)
	n := namesOf(cohort)
	pub := childrenPublication()
	objs := buildChildren(t, cohort, pub, childrenPortal)

	roster := childOf[*corev1.ConfigMap](t, objs, n.Roster)
	var gotRoster publish.Roster
	if err := json.Unmarshal([]byte(roster.Data[publish.RosterKey]), &gotRoster); err != nil {
		t.Fatalf("roster.json: %v\n%s", err, roster.Data[publish.RosterKey])
	}
	if diff := cmp.Diff(pub.Roster, gotRoster); diff != "" {
		t.Errorf("roster (-published +read back):\n%s", diff)
	}
	overview := childOf[*corev1.ConfigMap](t, objs, n.Overview)
	var gotOverview publish.Overview
	if err := json.Unmarshal([]byte(overview.Data[publish.OverviewKey]), &gotOverview); err != nil {
		t.Fatalf("overview.json: %v\n%s", err, overview.Data[publish.OverviewKey])
	}
	if diff := cmp.Diff(pub.Overview, gotOverview); diff != "" {
		t.Errorf("overview (-published +read back):\n%s", diff)
	}
	calendar := childOf[*corev1.ConfigMap](t, objs, n.Calendar)
	want, err := ics.Render(pub.Calendar)
	if err != nil {
		t.Fatal(err)
	}
	if calendar.Data[publish.CalendarKey] != string(want) {
		t.Errorf("calendar.ics =\n%s\nwant\n%s", calendar.Data[publish.CalendarKey], want)
	}
	for _, cm := range []*corev1.ConfigMap{roster, overview, calendar} {
		if len(cm.Data) != 1 {
			t.Errorf("ConfigMap %s has keys %v, want one document", cm.Name, keysOfData(cm.Data))
		}
	}

	t.Run("a calendar that does not render holds back no access", func(t *testing.T) {
		bad := childrenPublication()
		bad.Calendar.Events[0].UID = ""
		program.RenderDocuments(&bad)
		if len(bad.Omitted.Failed) != 1 {
			t.Fatalf("failed documents %v, want the calendar", bad.Omitted.Failed)
		}
		objs := desiredChildren(cohort, bad, childrenPortal)
		childOf[*rbacv1.RoleBinding](t, objs, n.Read)
		childOf[*rbacv1.RoleBinding](t, objs, n.Edit)
		if feed := childOf[*corev1.ConfigMap](t, objs, n.Calendar).Data[publish.CalendarKey]; !strings.HasPrefix(feed, "BEGIN:VCALENDAR") || strings.Contains(feed, "BEGIN:VEVENT") {
			t.Errorf("calendar.ics =\n%s\nwant a feed without events", feed)
		}
	})
}

func keysOfData(data map[string]string) []string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestDesiredChildrenPortalRole(t *testing.T) {
	cohort := childrenCohort("spring", true)
	n := namesOf(cohort)
	objs := buildChildren(t, cohort, childrenPublication(), childrenPortal)

	role := childOf[*rbacv1.Role](t, objs, n.Portal)
	want := []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"},
		ResourceNames: []string{"spring-roster", "spring-calendar", "spring-overview"},
	}}
	if diff := cmp.Diff(want, role.Rules); diff != "" {
		t.Errorf("portal Role rules (-want +got):\n%s", diff)
	}
	binding := childOf[*rbacv1.RoleBinding](t, objs, n.Portal)
	if diff := cmp.Diff(rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: n.Portal}, binding.RoleRef); diff != "" {
		t.Errorf("portal RoleBinding roleRef (-want +got):\n%s", diff)
	}
	wantSubjects := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: n.Portal, Namespace: childrenNamespace}}
	if diff := cmp.Diff(wantSubjects, binding.Subjects); diff != "" {
		t.Errorf("portal RoleBinding subjects (-want +got):\n%s", diff)
	}
	sa := childOf[*corev1.ServiceAccount](t, objs, n.Portal)
	if sa.AutomountServiceAccountToken == nil || !*sa.AutomountServiceAccountToken {
		t.Errorf("the portal's ServiceAccount does not mount its token, which the portal needs to read its documents")
	}
}

func TestDesiredChildrenPortalDeployment(t *testing.T) {
	cohort := childrenCohort("spring", true)
	n := namesOf(cohort)
	d := childOf[*appsv1.Deployment](t, buildChildren(t, cohort, childrenPublication(), childrenPortal), n.Portal)
	spec := d.Spec.Template.Spec

	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want 1 by default", d.Spec.Replicas)
	}
	if spec.ServiceAccountName != n.Portal {
		t.Errorf("serviceAccountName = %q, want %q", spec.ServiceAccountName, n.Portal)
	}
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	if !selector.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("the selector %s does not select the pod template's labels %v", selector, d.Spec.Template.Labels)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("containers = %d, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if c.Image != childrenPortal.Image {
		t.Errorf("image = %q, want %q", c.Image, childrenPortal.Image)
	}
	wantArgs := []string{
		"portal", "--namespace=learning", "--cohort=spring",
		"--roster-configmap=spring-roster", "--calendar-configmap=spring-calendar", "--overview-configmap=spring-overview",
		"--address=:8080",
	}
	if diff := cmp.Diff(wantArgs, c.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]corev1.ContainerPort{{Name: "http", ContainerPort: PortalPort, Protocol: corev1.ProtocolTCP}}, c.Ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}

	// The restricted Pod Security Standard.
	pod := spec.SecurityContext
	if pod == nil || !ptr.Deref(pod.RunAsNonRoot, false) || ptr.Deref(pod.RunAsUser, 0) == 0 ||
		pod.SeccompProfile == nil || pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context = %+v, want non-root with the RuntimeDefault seccomp profile", pod)
	}
	sc := c.SecurityContext
	if sc == nil || ptr.Deref(sc.AllowPrivilegeEscalation, true) || !ptr.Deref(sc.ReadOnlyRootFilesystem, false) ||
		!ptr.Deref(sc.RunAsNonRoot, false) || ptr.Deref(sc.Privileged, false) ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("container security context = %+v, want no privilege escalation, a read-only root, non-root and every capability dropped", sc)
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC || len(spec.Volumes) > 0 {
		t.Errorf("the pod uses host namespaces or volumes: %+v", spec)
	}

	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:   corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}},
			TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
		}
	}
	if diff := cmp.Diff(probe("/readyz"), c.ReadinessProbe); diff != "" {
		t.Errorf("readiness probe (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(probe("/healthz"), c.LivenessProbe); diff != "" {
		t.Errorf("liveness probe (-want +got):\n%s", diff)
	}
	// The kubelet runs the readiness probe as soon as the container starts, before the
	// portal could listen; a startup probe that waits a second and retries every second
	// holds it back, so that a normal start fails no probe, and gives the portal half a
	// minute to listen.
	startup := c.StartupProbe
	if startup == nil || startup.HTTPGet == nil || startup.HTTPGet.Path != "/healthz" || startup.InitialDelaySeconds < 1 ||
		startup.PeriodSeconds != 1 || startup.FailureThreshold*startup.PeriodSeconds < 30 {
		t.Errorf("startup probe = %+v, want GET /healthz from 1 s after the start, every second, for at least 30 s", startup)
	}
	if len(spec.ImagePullSecrets) != 0 {
		t.Errorf("imagePullSecrets = %v, want none when the manager names none", spec.ImagePullSecrets)
	}
	for res, want := range map[corev1.ResourceName]string{corev1.ResourceCPU: "10m", corev1.ResourceMemory: "32Mi"} {
		if got, ok := c.Resources.Requests[res]; !ok || got.Cmp(resource.MustParse(want)) != 0 {
			t.Errorf("requests[%s] = %v, want %s", res, c.Resources.Requests, want)
		}
	}
	if limit, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || limit.Cmp(c.Resources.Requests[corev1.ResourceMemory]) < 0 {
		t.Errorf("memory limit = %v, want one at least the request", c.Resources.Limits)
	}

	t.Run("image pull secrets from the manager", func(t *testing.T) {
		private := childrenPortal
		private.ImagePullSecrets = []string{"registry", "mirror"}
		d := childOf[*appsv1.Deployment](t, buildChildren(t, cohort, childrenPublication(), private), n.Portal)
		want := []corev1.LocalObjectReference{{Name: "registry"}, {Name: "mirror"}}
		if diff := cmp.Diff(want, d.Spec.Template.Spec.ImagePullSecrets); diff != "" {
			t.Errorf("imagePullSecrets (-want +got):\n%s", diff)
		}
	})

	t.Run("replicas from the cohort", func(t *testing.T) {
		scaled := childrenCohort("spring", true)
		scaled.Spec.Services.Portal.Replicas = ptr.To(int32(3))
		d := childOf[*appsv1.Deployment](t, buildChildren(t, scaled, childrenPublication(), childrenPortal), n.Portal)
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
			t.Errorf("replicas = %v, want 3", d.Spec.Replicas)
		}
	})
}

func TestDesiredChildrenPortalService(t *testing.T) {
	cohort := childrenCohort("spring", true)
	n := namesOf(cohort)
	objs := buildChildren(t, cohort, childrenPublication(), childrenPortal)
	svc := childOf[*corev1.Service](t, objs, n.PortalService)
	d := childOf[*appsv1.Deployment](t, objs, n.Portal)
	if svc.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("service type = %s, want ClusterIP", svc.Spec.Type)
	}
	if diff := cmp.Diff(d.Spec.Selector.MatchLabels, svc.Spec.Selector); diff != "" {
		t.Errorf("the Service does not select the Deployment's pods (-deployment +service):\n%s", diff)
	}
	want := []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}}
	if diff := cmp.Diff(want, svc.Spec.Ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
}

func TestDesiredChildrenPortalNetworkPolicy(t *testing.T) {
	cases := map[string]struct {
		from []string
		want []networkingv1.NetworkPolicyIngressRule
	}{
		"no addresses configured: every ingress is denied": {},
		"the configured addresses are admitted to the portal's port": {
			from: []string{"10.0.0.1/32", "fd00::1/128"},
			want: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{
					{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.1/32"}},
					{IPBlock: &networkingv1.IPBlock{CIDR: "fd00::1/128"}},
				},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromString("http"))}},
			}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cohort := childrenCohort("spring", true)
			n := namesOf(cohort)
			objs := buildChildren(t, cohort, childrenPublication(), PortalConfig{Image: childrenPortal.Image, IngressFrom: tc.from})
			np := childOf[*networkingv1.NetworkPolicy](t, objs, n.Portal)
			d := childOf[*appsv1.Deployment](t, objs, n.Portal)
			if diff := cmp.Diff([]networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, np.Spec.PolicyTypes); diff != "" {
				t.Errorf("policy types (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, np.Spec.Ingress); diff != "" {
				t.Errorf("ingress (-want +got):\n%s", diff)
			}
			if tc.want == nil && np.Spec.Ingress != nil {
				t.Errorf("ingress = %#v, want none (an empty rule would admit everything)", np.Spec.Ingress)
			}
			selector, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
			if err != nil {
				t.Fatal(err)
			}
			if selector.Empty() || !selector.Matches(labels.Set(d.Spec.Template.Labels)) {
				t.Errorf("the NetworkPolicy's pod selector %q does not select the portal's pods %v", selector, d.Spec.Template.Labels)
			}
		})
	}
}

func TestChildrenLongCohortName(t *testing.T) {
	for _, name := range []string{
		strings.Repeat("a", 250),
		strings.Repeat("x", 252) + "z",
		"9" + strings.Repeat("b.c-", 60) + "d",
		"2026.spring",
	} {
		t.Run(fmt.Sprintf("%d characters", len(name)), func(t *testing.T) {
			if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
				t.Fatalf("the test's cohort name is not a valid object name: %v", errs)
			}
			cohort := childrenCohort(name, true)
			objs := buildChildren(t, cohort, childrenPublication(), childrenPortal)
			if len(objs) != 17 {
				t.Fatalf("%d children, want 17", len(objs))
			}
			seen := map[string]bool{}
			for _, o := range objs {
				key := describe(o)
				if seen[key] {
					t.Errorf("two children are %s", key)
				}
				seen[key] = true
				if errs := validation.IsDNS1123Subdomain(o.GetName()); len(errs) > 0 {
					t.Errorf("%s: %v", key, errs)
				}
				for k, v := range o.GetLabels() {
					if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
						t.Errorf("%s label %s=%q: %v", key, k, v, errs)
					}
				}
				if svc, ok := o.(*corev1.Service); ok {
					if errs := validation.IsDNS1035Label(svc.Name); len(errs) > 0 {
						t.Errorf("Service name %q (%d characters) is not a DNS-1035 label: %v", svc.Name, len(svc.Name), errs)
					}
				}
			}
			d := childOf[*appsv1.Deployment](t, objs, namesOf(cohort).Portal)
			for k, v := range d.Spec.Template.Labels {
				if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
					t.Errorf("pod label %s=%q: %v", k, v, errs)
				}
			}
			for _, r := range childOf[*rbacv1.Role](t, objs, namesOf(cohort).Read).Rules {
				for _, rn := range r.ResourceNames {
					if strings.HasPrefix(rn, "http:") || strings.HasSuffix(rn, ":http") {
						continue // the service proxy's names
					}
					if errs := validation.IsDNS1123Subdomain(rn); len(errs) > 0 {
						t.Errorf("resource name %q: %v", rn, errs)
					}
				}
			}
		})
	}
}

// TestChildMatches compares each desired child with a live copy the way the API server
// returns it.
func TestChildMatches(t *testing.T) {
	cohort := childrenCohort("spring", true)
	n := namesOf(cohort)
	desired := buildChildren(t, cohort, childrenPublication(), childrenPortal)
	noIngress := buildChildren(t, cohort, childrenPublication(), PortalConfig{Image: childrenPortal.Image})

	// live copies the desired child of that kind and name, as read back with the
	// API server's metadata, and changes it.
	type change func(client.Object)
	live := func(from []client.Object, kind, name string, edit change) (client.Object, client.Object) {
		for _, d := range from {
			if describe(d) == kind+" "+name {
				l, ok := d.DeepCopyObject().(client.Object)
				if !ok {
					t.Fatalf("copying %s", describe(d))
				}
				l.SetResourceVersion("12345")
				l.SetGeneration(2)
				l.SetCreationTimestamp(metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
				l.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "cohort-operator", Operation: metav1.ManagedFieldsOperationApply}})
				edit(l)
				return d, l
			}
		}
		t.Fatalf("no desired %s %s", kind, name)
		return nil, nil
	}
	same := func(client.Object) {}

	cases := map[string]struct {
		from       []client.Object // defaults to desired
		kind, name string
		edit       change
		want       bool
	}{
		// Server defaults and other managers' additions.
		"a Deployment with the server's defaults": {kind: "Deployment", name: n.Portal, want: true, edit: func(o client.Object) {
			d := o.(*appsv1.Deployment)
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr.To(intstr.FromString("25%")), MaxSurge: ptr.To(intstr.FromString("25%")),
			}}
			d.Spec.RevisionHistoryLimit = ptr.To(int32(10))
			d.Spec.ProgressDeadlineSeconds = ptr.To(int32(600))
			p := &d.Spec.Template.Spec
			p.RestartPolicy = corev1.RestartPolicyAlways
			p.DNSPolicy = corev1.DNSClusterFirst
			p.SchedulerName = corev1.DefaultSchedulerName
			p.TerminationGracePeriodSeconds = ptr.To(int64(30))
			p.EnableServiceLinks = ptr.To(true)
			c := &p.Containers[0]
			c.ImagePullPolicy = corev1.PullIfNotPresent
			c.TerminationMessagePath = corev1.TerminationMessagePathDefault
			c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
			d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "1"}
			d.Status = appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 1}
		}},
		"a Service with its cluster IP and the server's defaults": {kind: "Service", name: n.PortalService, want: true, edit: func(o client.Object) {
			s := o.(*corev1.Service)
			s.Spec.ClusterIP = "10.96.12.34"
			s.Spec.ClusterIPs = []string{"10.96.12.34"}
			s.Spec.SessionAffinity = corev1.ServiceAffinityNone
			s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
			s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicySingleStack)
			s.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyCluster)
		}},
		"a ConfigMap with another manager's key": {kind: "ConfigMap", name: n.Roster, want: true, edit: func(o client.Object) {
			o.(*corev1.ConfigMap).Data["notes.txt"] = "added by hand"
		}},
		"a child with another manager's label": {kind: "Role", name: n.Read, want: true, edit: func(o client.Object) {
			o.SetLabels(mergeLabels(o.GetLabels(), map[string]string{"team": "platform"}))
		}},
		"RoleBindings read back with nil subjects for none": {from: desiredWithout(t, cohort), kind: "RoleBinding", name: n.Edit, want: true, edit: func(o client.Object) {
			o.(*rbacv1.RoleBinding).Subjects = nil
		}},
		"a NetworkPolicy denying all ingress read back": {from: noIngress, kind: "NetworkPolicy", name: n.Portal, want: true, edit: same},

		// Drift.
		"an extra RoleBinding subject": {kind: "RoleBinding", name: n.Edit, edit: func(o client.Object) {
			b := o.(*rbacv1.RoleBinding)
			b.Subjects = append(b.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "mallory@example.org"})
		}},
		"a subject on a binding that should have none": {from: desiredWithout(t, cohort), kind: "RoleBinding", name: n.Edit, edit: func(o client.Object) {
			o.(*rbacv1.RoleBinding).Subjects = []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "mallory@example.org"}}
		}},
		"a removed RoleBinding subject": {kind: "RoleBinding", name: n.Read, edit: func(o client.Object) {
			b := o.(*rbacv1.RoleBinding)
			b.Subjects = b.Subjects[:1]
		}},
		"a replaced RoleBinding subject": {kind: "RoleBinding", name: n.Read, edit: func(o client.Object) {
			o.(*rbacv1.RoleBinding).Subjects[1].Name = "mallory@example.org"
		}},
		"an extra Role rule": {kind: "Role", name: n.Read, edit: func(o client.Object) {
			r := o.(*rbacv1.Role)
			r.Rules = append(r.Rules, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get", "list"}})
		}},
		"an extra verb in the portal's Role": {kind: "Role", name: n.Portal, edit: func(o client.Object) {
			r := o.(*rbacv1.Role)
			r.Rules[0].Verbs = append(r.Rules[0].Verbs, "list")
		}},
		"a changed ConfigMap value": {kind: "ConfigMap", name: n.Calendar, edit: func(o client.Object) {
			cm := o.(*corev1.ConfigMap)
			cm.Data[publish.CalendarKey] = strings.Replace(cm.Data[publish.CalendarKey], "Kickoff", "Cancelled", 1)
		}},
		"a removed ConfigMap key": {kind: "ConfigMap", name: n.Overview, edit: func(o client.Object) {
			o.(*corev1.ConfigMap).Data = map[string]string{"other": "{}"}
		}},
		"changed replicas": {kind: "Deployment", name: n.Portal, edit: func(o client.Object) {
			o.(*appsv1.Deployment).Spec.Replicas = ptr.To(int32(0))
		}},
		"a changed image": {kind: "Deployment", name: n.Portal, edit: func(o client.Object) {
			o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image = "registry.example/other:v1"
		}},
		"privilege escalation allowed by hand": {kind: "Deployment", name: n.Portal, edit: func(o client.Object) {
			o.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = ptr.To(true)
		}},
		"a Service on another port": {kind: "Service", name: n.PortalService, edit: func(o client.Object) {
			o.(*corev1.Service).Spec.Ports[0].Port = 8080
		}},
		"an extra NetworkPolicy ingress rule": {kind: "NetworkPolicy", name: n.Portal, edit: func(o client.Object) {
			np := o.(*networkingv1.NetworkPolicy)
			np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{})
		}},
		"an ingress rule on a NetworkPolicy that should deny all": {from: noIngress, kind: "NetworkPolicy", name: n.Portal, edit: func(o client.Object) {
			np := o.(*networkingv1.NetworkPolicy)
			np.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}}}}
		}},
		"a widened NetworkPolicy peer": {kind: "NetworkPolicy", name: n.Portal, edit: func(o client.Object) {
			o.(*networkingv1.NetworkPolicy).Spec.Ingress[0].From[0].IPBlock.CIDR = "0.0.0.0/0"
		}},
		// A pod selector with one more label selects no pod: the portal's pods are then
		// open to every ingress.
		"a NetworkPolicy pod selector narrowed to select no pod": {kind: "NetworkPolicy", name: n.Portal, edit: func(o client.Object) {
			np := o.(*networkingv1.NetworkPolicy)
			np.Spec.PodSelector.MatchLabels = mergeLabels(np.Spec.PodSelector.MatchLabels, map[string]string{"disabled": "true"})
		}},
		"a removed ServiceAccount token mount": {kind: "ServiceAccount", name: n.Portal, edit: func(o client.Object) {
			o.(*corev1.ServiceAccount).AutomountServiceAccountToken = ptr.To(false)
		}},
		"a removed label": {kind: "ConfigMap", name: n.Roster, edit: func(o client.Object) {
			kept := mergeLabels(o.GetLabels(), nil)
			delete(kept, ManagedByLabel)
			o.SetLabels(kept)
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			from := tc.from
			if from == nil {
				from = desired
			}
			d, l := live(from, tc.kind, tc.name, tc.edit)
			if got := childMatches(d, l); got != tc.want {
				t.Errorf("childMatches = %t, want %t", got, tc.want)
			}
		})
	}

	t.Run("every child matches an exact copy of itself", func(t *testing.T) {
		for _, d := range desired {
			l, _ := d.DeepCopyObject().(client.Object)
			if !childMatches(d, l) {
				t.Errorf("%s does not match a copy of itself", describe(d))
			}
		}
	})
}

// desiredWithout returns the children of a publication that seats nobody.
func desiredWithout(t *testing.T, cohort *learningv1alpha1.Cohort) []client.Object {
	t.Helper()
	pub := childrenPublication()
	pub.Edit, pub.Read = nil, nil
	return buildChildren(t, cohort, pub, childrenPortal)
}

// mergeLabels returns a new map with a's labels and b's.
func mergeLabels(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestChildrenIsMemberBinding(t *testing.T) {
	cohort := childrenCohort("spring", true)
	n := namesOf(cohort)
	var got []string
	for _, o := range buildChildren(t, cohort, childrenPublication(), childrenPortal) {
		if isMemberBinding(o) {
			got = append(got, describe(o))
		}
	}
	want := []string{"RoleBinding " + n.Read, "RoleBinding " + n.Edit}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("member bindings (-want +got):\n%s", diff)
	}
}
