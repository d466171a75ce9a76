package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/portal"
	"github.com/cohort-dev/cohort-operator/internal/publish"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// createConcurrently creates objs with a few concurrent writers.
func createConcurrently(t *testing.T, objs []client.Object) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(objs))
	const writers = 4
	for w := range writers {
		wg.Go(func() {
			for i := w; i < len(objs); i += writers {
				errs[i] = k8s.Create(context.Background(), objs[i])
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("creating %s: %v", objs[i].GetName(), err)
		}
	}
}

// TestDocumentsOverTheSizeLimit: a community of 120 long community-wide events (about
// 1.5 MiB of calendar) and a cohort of 800 memberships with the longest names the API
// admits (about 1 MiB of roster) are provisioned within the ConfigMap limit: the
// calendar leaves out its oldest events and says so in DocumentsComplete, the roster
// is split into parts, each of which a seated member and the portal may get, and the
// portal serves the whole roster from them.
func TestDocumentsOverTheSizeLimit(t *testing.T) {
	fakeClock.SetTime(sampleDay)
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	const members = 800
	community := testutil.Community(ns, "cop", testutil.Role("Member", 0, members+1))
	cohort := testutil.Cohort(ns, "big", "cop", "2026-01-01", 12)
	cohort.Spec.Services = &learningv1alpha1.CohortServices{Portal: &learningv1alpha1.PortalService{Enabled: true}}
	create(t, community, cohort)

	var objs []client.Object
	first := sampleDay.AddDate(0, 0, -60)
	for i := range 120 {
		e := testutil.Gathering(ns, fmt.Sprintf("town-hall-%03d", i), "", first.AddDate(0, 0, 3*i))
		e.Spec.CohortRef, e.Spec.CommunityRef = nil, &learningv1alpha1.LocalObjectReference{Name: "cop"}
		e.Spec.Title = fmt.Sprintf("Town hall %03d ", i) + strings.Repeat("題", 180)
		e.Spec.Description = strings.Repeat("界", 4000)
		objs = append(objs, e)
	}
	for i := range members {
		m := testutil.Membership(ns, fmt.Sprintf("m-%04d", i), "big", fmt.Sprintf("u-%04d@example.org", i), "Member")
		m.Spec.DisplayName = fmt.Sprintf("%04d ", i) + strings.Repeat("\U0001F600", 123)
		m.Spec.Organization = learningv1alpha1.OrganizationName(fmt.Sprintf("Org %04d ", i) + strings.Repeat("\U0001F3E2", 119))
		objs = append(objs, m)
	}
	createConcurrently(t, objs)

	n := namesOf(cohort)
	rosterParts := []string{n.Roster, n.Roster + "-2"}
	testutil.Eventually(t, 3*time.Minute, "the cohort is provisioned, with its documents incomplete", func() error {
		c := &learningv1alpha1.Cohort{}
		if err := k8s.Get(ctx, client.ObjectKeyFromObject(cohort), c); err != nil {
			return err
		}
		if err := hasCondition(c.Status.Conditions, learningv1alpha1.ProvisionedCondition, metav1.ConditionTrue, learningv1alpha1.ProvisionedReason); err != nil {
			return err
		}
		if err := hasCondition(c.Status.Conditions, learningv1alpha1.DocumentsCompleteCondition, metav1.ConditionFalse, learningv1alpha1.CalendarTruncatedReason); err != nil {
			return err
		}
		if msg := conditionMessage(c.Status.Conditions, learningv1alpha1.DocumentsCompleteCondition); !strings.Contains(msg, "of the 120 published events") || !strings.Contains(msg, "in 2 ConfigMaps") {
			return fmt.Errorf("DocumentsComplete says %q", msg)
		}
		return nil
	})

	// Every document within the limit, the calendar holding the newest events.
	calendar := &corev1.ConfigMap{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: n.Calendar}, calendar); err != nil {
		t.Fatal(err)
	}
	feed := calendar.Data[publish.CalendarKey]
	if len(feed) > publish.Budget || !strings.Contains(feed, "town-hall-119") || strings.Contains(feed, "town-hall-000") {
		t.Errorf("calendar: %d bytes, newest listed %v, oldest listed %v", len(feed), strings.Contains(feed, "town-hall-119"), strings.Contains(feed, "town-hall-000"))
	}

	// A seated member, as themselves, gets every part; the portal's ServiceAccount too,
	// and through them it serves the whole roster.
	member := impersonating(t, "u-0007@example.org")
	for _, name := range rosterParts {
		allowed(t, "a seated member getting "+name, func() error {
			return member.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &corev1.ConfigMap{})
		})
	}
	cfg := rest.CopyConfig(cluster.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + n.Portal}
	clientset, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	source := portal.NewConfigMapSource(clientset, portal.Options{Namespace: ns, Cohort: "big",
		RosterConfigMap: n.Roster, CalendarConfigMap: n.Calendar, OverviewConfigMap: n.Overview})
	eventually(t, "the portal loads the whole roster from its parts", func() error {
		docs, err := source.Load(ctx)
		if err != nil {
			return err
		}
		if len(docs.Roster.Members) != members {
			return fmt.Errorf("the roster has %d members, want %d", len(docs.Roster.Members), members)
		}
		seen := map[string]bool{}
		for _, m := range docs.Roster.Members {
			seen[m.DisplayName[:4]] = true
		}
		if len(seen) != members {
			return fmt.Errorf("%d distinct members, want %d", len(seen), members)
		}
		return nil
	})
	for _, name := range rosterParts {
		cm := &corev1.ConfigMap{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cm); err != nil {
			t.Fatal(err)
		}
		var manifest publish.Manifest
		if err := json.Unmarshal([]byte(cm.Data[publish.PartsKey]), &manifest); err != nil || manifest.Parts != 2 {
			t.Errorf("ConfigMap %s: manifest %+v (%v), want part of 2", name, manifest, err)
		}
		if size := len(cm.Data[publish.RosterKey]); size > publish.Budget {
			t.Errorf("ConfigMap %s holds %d bytes of roster, over the budget", name, size)
		}
	}
}
