package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestCacheLag checks when a unit waits for the cache: while the cache shows a version
// the unit's writes replaced, or nothing where they created an object; and that it
// forgets writes the cache has caught up with.
func TestCacheLag(t *testing.T) {
	ctx := context.Background()
	key := unitKey{Namespace: "ns", Community: "c"}
	member := &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "m"}}
	roster := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "k-roster"}}
	cache := fake.NewClientBuilder().WithScheme(testutil.Scheme()).WithObjects(member).Build()
	mustGet := func(obj client.Object) {
		t.Helper()
		if err := cache.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
	}
	behind := func(lag *cacheLag) bool {
		t.Helper()
		b, err := lag.behind(ctx, cache, key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	var lag cacheLag
	if behind(&lag) {
		t.Fatal("a unit that wrote nothing waits")
	}

	// A status write over the cached version: behind until the cache moves on.
	mustGet(member)
	lag.wrote(key, member, member.ResourceVersion)
	if !behind(&lag) {
		t.Fatal("the cache still shows the version the write replaced, yet the unit does not wait")
	}
	if other := (unitKey{Namespace: "ns", Cohort: "k"}); func() bool { b, _ := lag.behind(ctx, cache, other); return b }() {
		t.Fatal("another unit waits for this unit's write")
	}
	member.Spec.DisplayName = "changed"
	if err := cache.Update(ctx, member); err != nil {
		t.Fatal(err)
	}
	if behind(&lag) {
		t.Fatal("the cache shows a newer version, yet the unit waits")
	}
	if len(lag.byUnit) != 0 {
		t.Fatalf("writes the cache caught up with are still remembered: %v", lag.byUnit)
	}

	// A creation: behind while the cache shows no object.
	lag.wrote(key, roster, "")
	if !behind(&lag) {
		t.Fatal("the cache does not show a created object yet, yet the unit does not wait")
	}
	if err := cache.Create(ctx, roster); err != nil {
		t.Fatal(err)
	}
	if behind(&lag) {
		t.Fatal("the cache shows the created object, yet the unit waits")
	}

	// A deletion: behind while the cache still shows the deleted version.
	mustGet(roster)
	lag.wrote(key, roster, roster.ResourceVersion)
	if !behind(&lag) {
		t.Fatal("the cache still shows a deleted object, yet the unit does not wait")
	}
	if err := cache.Delete(ctx, roster); err != nil {
		t.Fatal(err)
	}
	if behind(&lag) {
		t.Fatal("the cache no longer shows the deleted object, yet the unit waits")
	}

	// Two writes of one object in one pass: every replaced version counts.
	mustGet(member)
	first := member.ResourceVersion
	lag.wrote(key, member, first)
	member.Spec.DisplayName = "again"
	if err := cache.Update(ctx, member); err != nil {
		t.Fatal(err)
	}
	lag.wrote(key, member, member.ResourceVersion)
	if !behind(&lag) {
		t.Fatal("the cache shows the version the second write replaced, yet the unit does not wait")
	}

	// A write the cache never shows is forgotten after cacheLagLimit.
	lag = cacheLag{}
	lost := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "lost"}}
	lag.wrote(key, lost, "")
	for _, w := range lag.byUnit[key] {
		w.at = time.Now().Add(-cacheLagLimit - time.Second)
	}
	if behind(&lag) {
		t.Fatal("a write unseen for longer than cacheLagLimit still holds the unit")
	}
}

// TestEchoesOfOwnApplies: a child as the reconciler applied it is an echo of its own
// apply, whatever its version, and its deletion by the reconciler an echo too; a child
// whose rules were changed by hand, another child, a deletion by someone else, or an
// apply older than cacheLagLimit is not.
func TestEchoesOfOwnApplies(t *testing.T) {
	desired := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-read", Labels: map[string]string{ManagedByLabel: ManagedBy}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"spring-roster"}, Verbs: []string{"get"}}},
	}
	var (
		lag      cacheLag
		verified verifiedChildren
	)
	// Watch events show the cache's compact copies.
	live := watchedAs(t, desired)
	live.SetResourceVersion("42")
	if lag.echoes(live, &verified) {
		t.Error("an echo before any apply")
	}
	lag.applying(desired)
	if !lag.echoes(live, &verified) {
		t.Error("the child as applied is not taken for the echo of the apply")
	}
	handEdited := desired.DeepCopy()
	handEdited.Rules[0].Resources = []string{"secrets"}
	if lag.echoes(watchedAs(t, handEdited), &verified) {
		t.Error("a hand edit of the rules is taken for an echo: it would not be repaired")
	}
	other := live.DeepCopyObject().(client.Object)
	other.SetName("spring-edit")
	if lag.echoes(other, &verified) {
		t.Error("another child is taken for the echo")
	}
	lag.own[refOf(desired)] = ownApply{labels: desired.Labels, digest: contentDigest(desired), at: time.Now().Add(-cacheLagLimit - time.Second)}
	if lag.echoes(live, &verified) {
		t.Error("an apply older than cacheLagLimit still silences events")
	}

	// A ConfigMap's documents are remembered by their digest alone: the same
	// documents echo, a document edited by hand does not.
	doc := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-roster", Labels: map[string]string{ManagedByLabel: ManagedBy}},
		Data: map[string]string{"roster.json": `{"members":[]}`}}
	lag.applying(doc)
	liveDoc := watchedAs(t, doc)
	if !lag.echoes(liveDoc, &verified) {
		t.Error("the ConfigMap as applied is not taken for the echo of the apply")
	}
	forged := doc.DeepCopy()
	forged.Data["roster.json"] = `{"members":[{"displayName":"Mallory"}]}`
	if lag.echoes(watchedAs(t, forged), &verified) {
		t.Error("an edited document is taken for an echo: it would not be repaired")
	}

	// A Deployment as the API server stores it differs from its declaration by the
	// fields it defaulted: its event echoes the apply once the answer to the apply
	// was found to hold the declaration.
	deploy := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "spring-portal", Labels: map[string]string{ManagedByLabel: ManagedBy}},
		Spec: appsv1.DeploymentSpec{Replicas: new(int32(1))}}
	stored := deploy.DeepCopy()
	stored.Spec.RevisionHistoryLimit = new(int32(10))
	lag.applying(deploy)
	if lag.echoes(watchedAs(t, stored), &verified) {
		t.Error("a defaulted Deployment echoes before its content was verified")
	}
	verified.remember(deploy, stored, contentDigest(deploy))
	if !lag.echoes(watchedAs(t, stored), &verified) {
		t.Error("the verified Deployment as applied is not taken for the echo of the apply")
	}

	// Deletions: the reconciler's own is an echo; one by hand, or the creation of the
	// child again after the reconciler deleted it, is not.
	if lag.echoesDeletion(other) {
		t.Error("a deletion the reconciler did not make is taken for an echo: it would not be repaired")
	}
	lag.deleting(live)
	if !lag.echoesDeletion(live) {
		t.Error("the reconciler's own deletion is not taken for an echo")
	}
	if lag.echoes(live, &verified) {
		t.Error("a child created again after the reconciler deleted it is taken for an echo")
	}
}

// watchedAs is live as a watch event shows it: the cache's copy.
func watchedAs(t *testing.T, live client.Object) client.Object {
	t.Helper()
	cached, err := slimForCache(live.DeepCopyObject())
	if err != nil {
		t.Fatal(err)
	}
	return cached.(client.Object)
}

// TestOwnAppliesForgotten: applies older than cacheLagLimit are forgotten once a
// second; once a burst's records are mostly forgotten, the few left move to a map of
// their size, and still echo.
func TestOwnAppliesForgotten(t *testing.T) {
	var (
		lag      cacheLag
		verified verifiedChildren
	)
	role := func(i int) *rbacv1.Role {
		return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("spring-m-%04d-plans", i), Labels: map[string]string{ManagedByLabel: ManagedBy}}}
	}
	for i := range 1000 {
		lag.applying(role(i))
	}
	if lag.ownPeak != 1000 {
		t.Fatalf("peak %d records, want 1000", lag.ownPeak)
	}
	// A burst a minute old, and one apply since.
	for ref, a := range lag.own {
		a.at = a.at.Add(-cacheLagLimit - time.Second)
		lag.own[ref] = a
	}
	lag.purged = time.Time{}
	recent := role(1000)
	lag.applying(recent)
	if len(lag.own) != 1 || lag.ownPeak != 1 {
		t.Fatalf("%d records (peak %d) after the burst was forgotten, want the one recent apply in a map of its size", len(lag.own), lag.ownPeak)
	}
	if !lag.echoes(watchedAs(t, recent), &verified) {
		t.Error("the recent apply no longer echoes after the records moved")
	}
	if lag.echoes(watchedAs(t, role(3)), &verified) {
		t.Error("a forgotten apply still echoes")
	}
}

// TestWritesForgotten: a unit's writes older than cacheLagLimit are forgotten when any
// unit writes next (at most every writesPurgeInterval), though the unit is never
// evaluated again; recent writes stay, and still make their unit wait.
func TestWritesForgotten(t *testing.T) {
	var lag cacheLag
	converged := unitKey{Namespace: "ns", Community: "done"}
	for i := range 500 {
		lag.wrote(converged, &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("m-%03d", i)}}, "41")
	}
	for _, w := range lag.byUnit[converged] {
		w.at = w.at.Add(-cacheLagLimit - time.Second)
	}
	active := unitKey{Namespace: "ns", Cohort: "k"}
	member := &learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "m", ResourceVersion: "7"}}
	lag.wrote(active, member, "7")
	if _, ok := lag.byUnit[converged]; !ok {
		t.Error("writes forgotten before writesPurgeInterval ran out: every write would look at every record")
	}
	lag.writesPurged = time.Time{}
	lag.wrote(active, member, "7")
	if n := len(lag.byUnit[converged]); n != 0 {
		t.Errorf("%d writes of a converged unit kept for over cacheLagLimit", n)
	}
	cache := fake.NewClientBuilder().WithScheme(testutil.Scheme()).WithObjects(member.DeepCopy()).Build()
	stale := &learningv1alpha1.Membership{}
	if err := cache.Get(context.Background(), client.ObjectKeyFromObject(member), stale); err != nil {
		t.Fatal(err)
	}
	lag.wrote(active, member, stale.ResourceVersion)
	if behind, err := lag.behind(context.Background(), cache, active); err != nil || !behind {
		t.Errorf("behind: %v, %v; want the unit to wait for its recent write", behind, err)
	}
}
