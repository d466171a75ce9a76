package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/publish"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// provisionFixture is a community with an Edit role (Lead) and a Read role (Member, one
// seat), a cohort with its portal enabled, a lead, a seated member, a waitlisted member
// and one gathering.
type provisionFixture struct {
	ns     string
	cohort *learningv1alpha1.Cohort
	names  childNames
}

func newProvisionFixture(t *testing.T, portal bool) provisionFixture {
	t.Helper()
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	lead := testutil.Role("Lead", 1, 2)
	lead.Access = learningv1alpha1.AccessEdit
	community := testutil.Community(ns, "cop", lead, testutil.Role("Member", 0, 1))
	cohort := testutil.Cohort(ns, "spring", "cop", "2026-01-01", 12)
	cohort.Spec.DisplayName = "Spring cohort"
	if portal {
		cohort.Spec.Services = &learningv1alpha1.CohortServices{Portal: &learningv1alpha1.PortalService{Enabled: true}}
	}
	create(t, community, cohort)
	m := testutil.Membership(ns, "lead", "spring", "u-lead@example.org", "Lead")
	m.Spec.DisplayName = "Lee Lead"
	m.Spec.Organization = "Northstar"
	create(t, m)
	m = testutil.Membership(ns, "member", "spring", "u-member@example.org", "Member")
	m.Spec.DisplayName = "Mo Member"
	m.Spec.Organization = "Lakeside"
	create(t, m)
	time.Sleep(1100 * time.Millisecond) // creation times order the claims
	m = testutil.Membership(ns, "waiting", "spring", "u-waiting@example.org", "Member")
	m.Spec.DisplayName = "Wai Ting"
	m.Spec.Organization = "Lakeside"
	create(t, m, testutil.Gathering(ns, "kickoff", "spring", sampleDay.Add(-48*time.Hour), testutil.Attended("lead", learningv1alpha1.AttendancePresent), testutil.Attended("member", learningv1alpha1.AttendanceLate)))
	f := provisionFixture{ns: ns, cohort: cohort, names: namesOf(cohort)}
	f.waitProvisioned(t)
	eventually(t, "the documents hold every membership and the gathering", func() error {
		roster := &corev1.ConfigMap{}
		calendar := &corev1.ConfigMap{}
		if err := k8s.Get(context.Background(), f.key(f.names.Roster), roster); err != nil {
			return err
		}
		if err := k8s.Get(context.Background(), f.key(f.names.Calendar), calendar); err != nil {
			return err
		}
		if !strings.Contains(roster.Data[publish.RosterKey], "Wai Ting") || !strings.Contains(calendar.Data[publish.CalendarKey], "kickoff") {
			return fmt.Errorf("roster:\n%s\ncalendar:\n%s", roster.Data[publish.RosterKey], calendar.Data[publish.CalendarKey])
		}
		return nil
	})
	return f
}

// waitProvisioned waits for Provisioned=True.
func (f provisionFixture) waitProvisioned(t *testing.T) {
	t.Helper()
	eventually(t, "the cohort is provisioned", func() error {
		c := &learningv1alpha1.Cohort{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: "spring"}, c); err != nil {
			return err
		}
		return hasCondition(c.Status.Conditions, learningv1alpha1.ProvisionedCondition, metav1.ConditionTrue, learningv1alpha1.ProvisionedReason)
	})
}

func (f provisionFixture) key(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: f.ns, Name: name}
}

// children are the objects a cohort with its portal enabled consists of.
func (f provisionFixture) children(portal bool) []client.Object {
	n := f.names
	objs := []client.Object{
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: n.Read}}, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: n.Edit}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: n.Read}}, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: n.Edit}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n.Roster}}, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n.Calendar}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: n.Overview}},
	}
	if portal {
		objs = append(objs,
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: n.Portal}}, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: n.Portal}},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: n.Portal}}, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: n.Portal}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: n.PortalService}}, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: n.Portal}},
		)
	}
	for _, o := range objs {
		o.SetNamespace(f.ns)
	}
	return objs
}

func TestProvisionEveryChildOwnedAndLabelled(t *testing.T) {
	f := newProvisionFixture(t, true)
	cohort := &learningv1alpha1.Cohort{}
	if err := k8s.Get(context.Background(), f.key("spring"), cohort); err != nil {
		t.Fatal(err)
	}
	for _, obj := range f.children(true) {
		if err := get(obj); err != nil {
			t.Fatalf("%s: %v", describe(obj), err)
		}
		if !metav1.IsControlledBy(obj, cohort) {
			t.Errorf("%s is not controlled by the cohort: %v", describe(obj), obj.GetOwnerReferences())
		}
		labels := obj.GetLabels()
		if labels[ManagedByLabel] != ManagedBy || labels[CohortLabel] != "spring" || labels[ComponentLabel] == "" {
			t.Errorf("%s labels = %v", describe(obj), labels)
		}
	}

	// Access: the lead has Edit, the seated member Read, the waitlisted nothing.
	for name, want := range map[string][]string{f.names.Edit: {"u-lead@example.org"}, f.names.Read: {"u-member@example.org"}} {
		b := &rbacv1.RoleBinding{}
		if err := k8s.Get(context.Background(), f.key(name), b); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range b.Subjects {
			got = append(got, s.Kind+":"+s.Name)
		}
		if !slices.Equal(got, []string{"User:" + want[0]}) {
			t.Errorf("RoleBinding %s subjects = %v, want User:%v", name, got, want)
		}
	}

	// The roster names people by display name, never by spec.member.
	cm := &corev1.ConfigMap{}
	if err := k8s.Get(context.Background(), f.key(f.names.Roster), cm); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cm.Data[publish.RosterKey], "example.org") {
		t.Errorf("the roster publishes spec.member:\n%s", cm.Data[publish.RosterKey])
	}
	var roster publish.Roster
	if err := json.Unmarshal([]byte(cm.Data[publish.RosterKey]), &roster); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, m := range roster.Members {
		rows = append(rows, fmt.Sprintf("%s/%s/%s/%d", m.DisplayName, m.Role, m.Seat, m.WaitlistPosition))
	}
	want := []string{"Mo Member/Member/Seated/0", "Wai Ting/Member/Waitlisted/1", "Lee Lead/Lead/Seated/0"}
	slices.Sort(want)
	slices.Sort(rows)
	if !slices.Equal(rows, want) {
		t.Errorf("roster rows = %v, want %v", rows, want)
	}
	if err := k8s.Get(context.Background(), f.key(f.names.Calendar), cm); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cm.Data[publish.CalendarKey], "UID:"+"learningevent/"+f.ns+"/kickoff") {
		t.Errorf("the calendar lacks the kickoff gathering:\n%s", cm.Data[publish.CalendarKey])
	}

	// The portal runs the operator image in portal mode with a restricted security
	// context, and its NetworkPolicy admits only the API server.
	d := &appsv1.Deployment{}
	if err := k8s.Get(context.Background(), f.key(f.names.Portal), d); err != nil {
		t.Fatal(err)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != testPortalImage || c.Args[0] != "portal" || c.ReadinessProbe == nil || c.LivenessProbe == nil || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("portal container = %+v", c)
	}
	if sc := c.SecurityContext; sc == nil || *sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem || !*sc.RunAsNonRoot || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("portal security context = %+v", c.SecurityContext)
	}
	// No kubelet runs here: the portal is reported unavailable, without making the
	// cohort unready; once its replica is available, it is reported so.
	cohortNow := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "spring"}}
	eventually(t, "the portal is reported unavailable", func() error {
		if err := get(cohortNow); err != nil {
			return err
		}
		if err := hasCondition(cohortNow.Status.Conditions, learningv1alpha1.PortalAvailableCondition, metav1.ConditionFalse, learningv1alpha1.UnavailableReason); err != nil {
			return err
		}
		return hasCondition(cohortNow.Status.Conditions, learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason)
	})
	eventually(t, "the Deployment reports an available replica", func() error {
		if err := get(d); err != nil {
			return err
		}
		d.Status.Replicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.UpdatedReplicas = 1, 1, 1, 1
		return k8s.Status().Update(context.Background(), d)
	})
	eventually(t, "the portal is reported available", func() error {
		if err := get(cohortNow); err != nil {
			return err
		}
		return hasCondition(cohortNow.Status.Conditions, learningv1alpha1.PortalAvailableCondition, metav1.ConditionTrue, learningv1alpha1.AvailableReason)
	})

	np := &networkingv1.NetworkPolicy{}
	if err := k8s.Get(context.Background(), f.key(f.names.Portal), np); err != nil {
		t.Fatal(err)
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].From) == 0 || np.Spec.Ingress[0].From[0].IPBlock == nil {
		t.Errorf("NetworkPolicy ingress = %+v, want only the API server's addresses", np.Spec.Ingress)
	}
}

func TestProvisionRepairsDrift(t *testing.T) {
	f := newProvisionFixture(t, true)
	ctx := context.Background()

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: f.names.Roster}}
	update(t, cm, func(cm *corev1.ConfigMap) { cm.Data[publish.RosterKey] = `{"members":[]}` })
	eventually(t, "the roster is rendered again", func() error {
		if err := get(cm); err != nil {
			return err
		}
		if !strings.Contains(cm.Data[publish.RosterKey], "Mo Member") {
			return fmt.Errorf("roster = %s", cm.Data[publish.RosterKey])
		}
		return nil
	})

	b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: f.names.Edit}}
	update(t, b, func(b *rbacv1.RoleBinding) {
		b.Subjects = append(b.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "intruder"})
	})
	eventually(t, "a subject added by hand is removed", func() error {
		if err := get(b); err != nil {
			return err
		}
		if len(b.Subjects) != 1 || b.Subjects[0].Name != "u-lead@example.org" {
			return fmt.Errorf("subjects = %v", b.Subjects)
		}
		return nil
	})

	// The cache keeps children as metadata and the digest of their content, not who
	// wrote it: a subject added under the operator's own field manager name, which
	// anyone may claim, is removed too.
	read := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: f.names.Read}}
	eventually(t, "adding a subject as the operator's field manager", func() error {
		if err := get(read); err != nil {
			return err
		}
		read.Subjects = append(read.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "intruder"})
		return k8s.Update(ctx, read, client.FieldOwner(fieldOwner))
	})
	eventually(t, "a subject added under the operator's field manager name is removed", func() error {
		if err := get(read); err != nil {
			return err
		}
		if slices.ContainsFunc(read.Subjects, func(s rbacv1.Subject) bool { return s.Name == "intruder" }) {
			return fmt.Errorf("subjects = %v", read.Subjects)
		}
		return nil
	})

	// generateName is anyone's to write on an update, and the API server lets a
	// RoleBinding's hold the marker of the cache's state: a subject added with a
	// generateName that claims the declared content is removed all the same.
	var declared string
	eventually(t, "adding a subject and a generateName claiming the declared content", func() error {
		if err := get(read); err != nil {
			return err
		}
		declared = contentDigest(read)
		read.Subjects = append(read.Subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "forger"})
		read.GenerateName = cachedState(declared)
		return k8s.Update(ctx, read)
	})
	eventually(t, "a subject added under a forged cached state is removed", func() error {
		if err := get(read); err != nil {
			return err
		}
		if read.GenerateName != cachedState(declared) {
			return fmt.Errorf("the API server kept generateName %q, not the forged one", read.GenerateName)
		}
		if slices.ContainsFunc(read.Subjects, func(s rbacv1.Subject) bool { return s.Name == "forger" }) {
			return fmt.Errorf("subjects = %v", read.Subjects)
		}
		return nil
	})

	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: f.names.Portal}}
	update(t, d, func(d *appsv1.Deployment) { d.Spec.Replicas = testutil.Ptr[int32](4) })
	eventually(t, "the portal's replicas are restored", func() error {
		if err := get(d); err != nil {
			return err
		}
		if *d.Spec.Replicas != 1 {
			return fmt.Errorf("replicas = %d", *d.Spec.Replicas)
		}
		return nil
	})

	for _, obj := range []client.Object{
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: f.names.Read}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: f.names.PortalService}},
	} {
		if err := get(obj); err != nil {
			t.Fatal(err)
		}
		uid := obj.GetUID()
		if err := k8s.Delete(ctx, obj); err != nil {
			t.Fatal(err)
		}
		eventually(t, describe(obj)+" is created again", func() error {
			if err := get(obj); err != nil {
				return err
			}
			if obj.GetUID() == uid {
				return fmt.Errorf("%s not deleted yet", describe(obj))
			}
			return nil
		})
	}
	f.waitProvisioned(t)
}

func TestProvisionSuspendStopsChangesButNotAccess(t *testing.T) {
	f := newProvisionFixture(t, true)
	cohort := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "spring"}}
	roster := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: f.names.Roster}}
	if err := get(roster); err != nil {
		t.Fatal(err)
	}
	before := roster.Data[publish.RosterKey]

	update(t, cohort, func(c *learningv1alpha1.Cohort) {
		c.Spec.Suspend = true
		c.Spec.Services.Portal.Enabled = false
	})
	// The seated member withdraws: the waitlisted one is promoted. Access follows at
	// once; the roster and the portal wait for the cohort to resume.
	update(t, &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "member"}}, func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
	eventually(t, "access follows the seats while suspended", func() error {
		b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: f.names.Read}}
		if err := get(b); err != nil {
			return err
		}
		if len(b.Subjects) != 1 || b.Subjects[0].Name != "u-waiting@example.org" {
			return fmt.Errorf("read subjects = %v", b.Subjects)
		}
		return nil
	})
	eventually(t, "the cohort reports what waits", func() error {
		if err := get(cohort); err != nil {
			return err
		}
		if err := hasCondition(cohort.Status.Conditions, learningv1alpha1.ProvisionedCondition, metav1.ConditionFalse, learningv1alpha1.SuspendedReason); err != nil {
			return err
		}
		if msg := conditionMessage(cohort.Status.Conditions, learningv1alpha1.ProvisionedCondition); !strings.Contains(msg, "Deployment "+f.names.Portal+" (to remove)") || !strings.Contains(msg, "ConfigMap "+f.names.Roster) {
			return fmt.Errorf("message %q names neither the portal to remove nor the roster", msg)
		}
		return hasCondition(cohort.Status.Conditions, learningv1alpha1.ReadyCondition, metav1.ConditionTrue, learningv1alpha1.SucceededReason)
	})
	if err := get(roster); err != nil {
		t.Fatal(err)
	}
	if roster.Data[publish.RosterKey] != before {
		t.Errorf("the roster changed while the cohort was suspended")
	}
	for _, obj := range f.children(true)[7:] {
		if err := get(obj); err != nil {
			t.Errorf("%s removed while suspended: %v", describe(obj), err)
		}
	}

	update(t, cohort, func(c *learningv1alpha1.Cohort) { c.Spec.Suspend = false })
	f.waitProvisioned(t)
	for _, obj := range f.children(true)[7:] {
		eventually(t, describe(obj)+" of the disabled portal is removed", func() error {
			if err := get(obj); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there (%w)", err)
			}
			return nil
		})
	}
	eventually(t, "the roster is rendered after resuming", func() error {
		if err := get(roster); err != nil {
			return err
		}
		if strings.Contains(roster.Data[publish.RosterKey], "Mo Member") {
			return fmt.Errorf("the withdrawn member is still on the roster")
		}
		return nil
	})
}

func TestProvisionNameConflictLeavesForeignObject(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ns := testutil.Namespace(t, k8s)
	foreign := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "solo-roster"},
		Data:       map[string]string{"owner": "another team"},
	}
	create(t, foreign)
	create(t, testutil.StandaloneCohort(ns, "solo", "2026-01-01", 6, learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{testutil.Role("Member", 0, 5)}}))
	cohort := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "solo"}}
	eventually(t, "the cohort reports the conflict", func() error {
		if err := get(cohort); err != nil {
			return err
		}
		if err := hasCondition(cohort.Status.Conditions, learningv1alpha1.ProvisionedCondition, metav1.ConditionFalse, learningv1alpha1.NameConflictReason); err != nil {
			return err
		}
		if msg := conditionMessage(cohort.Status.Conditions, learningv1alpha1.ProvisionedCondition); !strings.Contains(msg, "ConfigMap solo-roster") {
			return fmt.Errorf("message %q does not name the ConfigMap", msg)
		}
		return hasCondition(cohort.Status.Conditions, learningv1alpha1.ReadyCondition, metav1.ConditionFalse, learningv1alpha1.NameConflictReason)
	})
	if err := get(foreign); err != nil {
		t.Fatal(err)
	}
	if foreign.Data["owner"] != "another team" || len(foreign.OwnerReferences) > 0 || foreign.Labels[ManagedByLabel] != "" {
		t.Errorf("the foreign ConfigMap was changed: %+v", foreign)
	}
	// The other children are provisioned regardless.
	if err := get(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "solo-calendar"}}); err != nil {
		t.Errorf("the calendar was not provisioned: %v", err)
	}

	if err := k8s.Delete(context.Background(), foreign); err != nil {
		t.Fatal(err)
	}
	// Nothing the operator watches changed; the next evaluation (a membership here)
	// takes the name.
	create(t, testutil.Membership(ns, "m", "solo", "u-m", "Member"))
	eventually(t, "the cohort is provisioned once the name is free", func() error {
		if err := get(cohort); err != nil {
			return err
		}
		return hasCondition(cohort.Status.Conditions, learningv1alpha1.ProvisionedCondition, metav1.ConditionTrue, learningv1alpha1.ProvisionedReason)
	})
}

// TestProvisionFrozenSeatsKeepAccess: a cohort whose merged policy breaks is Stalled and
// its seats are frozen; its members keep their access, and its children stay as they
// were, until the policy is fixed.
func TestProvisionFrozenSeatsKeepAccess(t *testing.T) {
	f := newProvisionFixture(t, false)
	cohort := &learningv1alpha1.Cohort{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "spring"}}
	update(t, cohort, func(c *learningv1alpha1.Cohort) {
		c.Spec.Policy = &learningv1alpha1.ProgramPolicy{Roles: []learningv1alpha1.RolePolicy{{Name: "Member", MinMembers: testutil.Ptr[int32](5)}}}
	})
	eventually(t, "the cohort is stalled", func() error {
		if err := get(cohort); err != nil {
			return err
		}
		return hasCondition(cohort.Status.Conditions, learningv1alpha1.StalledCondition, metav1.ConditionTrue, learningv1alpha1.InvalidPolicyReason)
	})
	update(t, &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "waiting"}}, func(m *learningv1alpha1.Membership) { m.Spec.DisplayName = "Renamed" })
	time.Sleep(2 * time.Second) // evaluations of the stalled unit run meanwhile
	for name, want := range map[string]string{f.names.Edit: "u-lead@example.org", f.names.Read: "u-member@example.org"} {
		b := &rbacv1.RoleBinding{}
		if err := k8s.Get(context.Background(), f.key(name), b); err != nil {
			t.Fatal(err)
		}
		if len(b.Subjects) != 1 || b.Subjects[0].Name != want {
			t.Errorf("RoleBinding %s subjects = %v while the seats are frozen, want %s", name, b.Subjects, want)
		}
	}
	roster := &corev1.ConfigMap{}
	if err := k8s.Get(context.Background(), f.key(f.names.Roster), roster); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(roster.Data[publish.RosterKey], "Renamed") || !strings.Contains(roster.Data[publish.RosterKey], "Wai Ting") {
		t.Errorf("the roster changed while the seats were frozen:\n%s", roster.Data[publish.RosterKey])
	}

	update(t, cohort, func(c *learningv1alpha1.Cohort) { c.Spec.Policy = nil })
	eventually(t, "the roster follows again once the policy is fixed", func() error {
		if err := get(roster); err != nil {
			return err
		}
		if !strings.Contains(roster.Data[publish.RosterKey], "Renamed") {
			return fmt.Errorf("roster:\n%s", roster.Data[publish.RosterKey])
		}
		return nil
	})
}
