package controllers

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// identity is a client that authenticates as one user with a client certificate, so
// that the API server's own authorizer decides what it may do.
func identity(t *testing.T, user string) client.WithWatch {
	t.Helper()
	cfg, err := cluster.AddUser(user)
	if err != nil {
		t.Fatal(err)
	}
	return clientFor(t, cfg)
}

// impersonating is a client of the administrator acting as user; the authorizer
// decides as for that user.
func impersonating(t *testing.T, user string) client.WithWatch {
	t.Helper()
	cfg := rest.CopyConfig(cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	return clientFor(t, cfg)
}

func clientFor(t *testing.T, cfg *rest.Config) client.WithWatch {
	t.Helper()
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: testutil.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// allowed waits until do succeeds; denied waits until the API server refuses do as
// Forbidden. RBAC decisions follow RoleBindings within moments, not at once.
func allowed(t *testing.T, what string, do func() error) {
	t.Helper()
	eventually(t, what+" is allowed", do)
}

func denied(t *testing.T, what string, do func() error) {
	t.Helper()
	eventually(t, what+" is denied", func() error {
		err := do()
		switch {
		case apierrors.IsForbidden(err):
			return nil
		case err == nil:
			return errors.New("allowed, want Forbidden")
		}
		return fmt.Errorf("got %w, want Forbidden", err)
	})
}

// TestAccessFollowsSeatsAndTerms checks, with the real authorizer, that a seated Read
// member may read the cohort and its roster but not its events (their attendance notes
// hold reasons for absences); an Edit lead may read events and record attendance; a waitlisted member and an outsider get nothing; and
// access ends with a withdrawal and with the end of the term.
func TestAccessFollowsSeatsAndTerms(t *testing.T) {
	f := newProvisionFixture(t, true)
	ctx := context.Background()
	lead := identity(t, "u-lead@example.org")
	member := identity(t, "u-member@example.org")
	waiting := identity(t, "u-waiting@example.org")
	outsider := identity(t, "u-outsider")

	getEvent := func(c client.Client) func() error {
		return func() error {
			return c.Get(ctx, f.key("kickoff"), &learningv1alpha1.LearningEvent{})
		}
	}
	recordAttendance := func(c client.Client, status learningv1alpha1.AttendanceStatus) func() error {
		return func() error {
			e := &learningv1alpha1.LearningEvent{}
			if err := k8s.Get(ctx, f.key("kickoff"), e); err != nil {
				return err
			}
			for i := range e.Spec.Attendance {
				if e.Spec.Attendance[i].Member == "member" {
					e.Spec.Attendance[i].Status = status
				}
			}
			return c.Update(ctx, e)
		}
	}
	getCohort := func(c client.Client) func() error {
		return func() error { return c.Get(ctx, f.key("spring"), &learningv1alpha1.Cohort{}) }
	}
	getRoster := func(c client.Client) func() error {
		return func() error { return c.Get(ctx, f.key(f.names.Roster), &corev1.ConfigMap{}) }
	}

	denied(t, "a seated Read member getting the cohort's event", getEvent(member))
	allowed(t, "the Edit lead getting the cohort's event", getEvent(lead))
	allowed(t, "a seated member getting the cohort", getCohort(member))
	allowed(t, "a seated member getting the roster", getRoster(member))
	denied(t, "a seated member updating an event", recordAttendance(member, learningv1alpha1.AttendancePresent))
	denied(t, "a seated member listing ConfigMaps", func() error { return member.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(f.ns)) })
	allowed(t, "the lead recording attendance", recordAttendance(lead, learningv1alpha1.AttendancePresent))
	for name, c := range map[string]client.Client{"a waitlisted member": waiting, "an outsider": outsider} {
		denied(t, name+" getting the cohort's event", getEvent(c))
		denied(t, name+" getting the cohort", getCohort(c))
		denied(t, name+" getting the roster", getRoster(c))
	}

	// Withdrawal: the member loses access within seconds; the waitlisted member takes
	// the seat and gains it.
	withdrawn := time.Now()
	update(t, &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "member"}}, func(m *learningv1alpha1.Membership) { m.Spec.Withdrawn = true })
	denied(t, "a withdrawn member getting the roster", getRoster(member))
	t.Logf("access revoked %v after the withdrawal", time.Since(withdrawn).Round(time.Millisecond))
	allowed(t, "the promoted member getting the roster", getRoster(waiting))

	// The end of the term: the lead's term ends with the cohort on 2026-12-31.
	fakeClock.SetTime(time.Date(2027, 1, 2, 12, 0, 0, 0, time.UTC))
	denied(t, "a lead whose term expired recording attendance", recordAttendance(lead, learningv1alpha1.AttendanceAbsent))
	denied(t, "a lead whose term expired getting the cohort's event", getEvent(lead))
}

// TestPortalServiceAccountReadsOnlyItsDocuments checks, with the real authorizer, that
// the portal's ServiceAccount may get its cohort's three ConfigMaps by name and nothing
// else: no list or watch, no other ConfigMap, no Secret, no cohort or event.
func TestPortalServiceAccountReadsOnlyItsDocuments(t *testing.T) {
	f := newProvisionFixture(t, true)
	ctx := context.Background()
	create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "other"}, Data: map[string]string{"k": "v"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "secret"}, StringData: map[string]string{"k": "v"}})
	portal := impersonating(t, "system:serviceaccount:"+f.ns+":"+f.names.Portal)

	for _, name := range f.names.documents() {
		allowed(t, "the portal getting ConfigMap "+name, func() error {
			return portal.Get(ctx, f.key(name), &corev1.ConfigMap{})
		})
	}
	for what, do := range map[string]func() error{
		"getting another ConfigMap": func() error { return portal.Get(ctx, f.key("other"), &corev1.ConfigMap{}) },
		"listing ConfigMaps":        func() error { return portal.List(ctx, &corev1.ConfigMapList{}, client.InNamespace(f.ns)) },
		"getting a Secret":          func() error { return portal.Get(ctx, f.key("secret"), &corev1.Secret{}) },
		"getting the cohort":        func() error { return portal.Get(ctx, f.key("spring"), &learningv1alpha1.Cohort{}) },
		"getting an event":          func() error { return portal.Get(ctx, f.key("kickoff"), &learningv1alpha1.LearningEvent{}) },
		"updating its ConfigMap": func() error {
			cm := &corev1.ConfigMap{}
			if err := k8s.Get(ctx, f.key(f.names.Roster), cm); err != nil {
				return err
			}
			return portal.Update(ctx, cm)
		},
		"watching its ConfigMap": func() error {
			w, err := portal.Watch(ctx, &corev1.ConfigMapList{}, client.InNamespace(f.ns), client.MatchingFields{"metadata.name": f.names.Roster})
			if err == nil {
				w.Stop()
			}
			return err
		},
	} {
		denied(t, "the portal "+what, do)
	}
}
