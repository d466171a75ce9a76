package controllers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
)

// +kubebuilder:rbac:groups="",resources=configmaps;serviceaccounts;services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services/proxy,verbs=get
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete

// The API server lets the manager grant only what it holds itself: seated members may
// create ActionPlans, and get, update and patch theirs by name, so the manager holds
// these verbs. It never writes a plan, only the plan's status.
// +kubebuilder:rbac:groups=learning.cohort.dev,resources=actionplans,verbs=create;update;patch

// cachedKind is a kind the manager's cache holds in a compact form of its own: its Go
// type and its list's.
type cachedKind struct {
	obj  client.Object
	list func() client.ObjectList
}

// childKinds are the kinds of the objects provisioned for cohorts and communities,
// with their list types.
var childKinds = []cachedKind{
	{&rbacv1.Role{}, func() client.ObjectList { return &rbacv1.RoleList{} }},
	{&rbacv1.RoleBinding{}, func() client.ObjectList { return &rbacv1.RoleBindingList{} }},
	{&corev1.ConfigMap{}, func() client.ObjectList { return &corev1.ConfigMapList{} }},
	{&corev1.ServiceAccount{}, func() client.ObjectList { return &corev1.ServiceAccountList{} }},
	{&appsv1.Deployment{}, func() client.ObjectList { return &appsv1.DeploymentList{} }},
	{&corev1.Service{}, func() client.ObjectList { return &corev1.ServiceList{} }},
	{&networkingv1.NetworkPolicy{}, func() client.ObjectList { return &networkingv1.NetworkPolicyList{} }},
}

// childTypes are the kinds of the objects provisioned for cohorts and communities.
func childTypes() []client.Object {
	types := make([]client.Object, len(childKinds))
	for i, k := range childKinds {
		types[i] = k.obj
	}
	return types
}

// CacheOptions are the manager's cache options. Of the provisioned kinds the cache
// holds only the objects the operator labelled, so never the cluster's other
// ConfigMaps, Roles or Deployments; of the admission policies only the approval policy
// and its binding, named approvalPolicy (DefaultApprovalPolicy when empty). Cached
// objects are slimmed first (slimForCache).
func CacheOptions(approvalPolicy string) cache.Options {
	return cache.Options{ByObject: cacheByObject(approvalPolicy), DefaultTransform: slimForCache}
}

func cacheByObject(approvalPolicy string) map[client.Object]cache.ByObject {
	managed := labels.SelectorFromSet(labels.Set{ManagedByLabel: ManagedBy})
	byObject := map[client.Object]cache.ByObject{}
	for _, t := range childTypes() {
		byObject[t] = cache.ByObject{Label: managed}
	}
	named := fields.OneTermEqualSelector("metadata.name", cmp.Or(approvalPolicy, DefaultApprovalPolicy))
	byObject[&admissionregistrationv1.ValidatingAdmissionPolicy{}] = cache.ByObject{Field: named}
	byObject[&admissionregistrationv1.ValidatingAdmissionPolicyBinding{}] = cache.ByObject{Field: named}
	return byObject
}

// nameConflictRecheck is how often a cohort blocked by a name conflict looks again: the
// conflicting object carries no label of the operator, so its removal is not watched.
const nameConflictRecheck = time.Minute

// provisionUnit applies the services of every cohort of the unit as decided, and
// records how it went in facts (the Provisioned conditions). recheck says a name
// conflict blocks a cohort. An error means a child could not be applied or removed;
// the statuses say which.
func (r *ProgramReconciler) provisionUnit(ctx context.Context, key unitKey, snap program.Snapshot, decision *program.Decision, facts *program.Facts) (recheck bool, err error) {
	var errs []error
	if c := snap.Community; c != nil && c.DeletionTimestamp.IsZero() {
		p, err := r.provisionApprovers(ctx, key, c, "CommunityOfPractice", c.Spec.Approvers, true, snap.ApprovalPolicyMissing)
		errs = append(errs, err)
		recheck = p.Reason == learningv1alpha1.NameConflictReason
		facts.CommunityProvisioned = &p
	}
	// The cohorts' children are applied a few cohorts at a time: each apply is a round
	// trip to the API server, and a community's cohorts are independent of one another.
	var todo []int
	for i, cohort := range snap.Cohorts {
		pub, ok := decision.Publications[cohort.Name]
		if !ok || !cohort.DeletionTimestamp.IsZero() || pub.Frozen {
			// A cohort being deleted keeps its children until they are collected; a
			// cohort whose seats are frozen keeps its access and documents as they
			// were, as it keeps its seats, until its policy can be applied again.
			continue
		}
		todo = append(todo, i)
	}
	verdicts := make([]program.Provisioning, len(todo))
	cohortErrs := make([]error, len(todo))
	forEachConcurrently(len(todo), concurrentWrites, func(j int) {
		cohort := snap.Cohorts[todo[j]]
		verdicts[j], cohortErrs[j] = r.guardedProvisionCohort(ctx, key, cohort, decision.Publications[cohort.Name])
	})
	for j, i := range todo {
		p := verdicts[j]
		// A standalone cohort binds its own approvers; a failure to is its
		// Provisioned condition's.
		if cohort := snap.Cohorts[i]; cohort.Spec.CommunityRef == nil && p.Status == metav1.ConditionTrue {
			a, err := r.provisionApprovers(ctx, key, cohort, "Cohort", cohort.Spec.Approvers, false, snap.ApprovalPolicyMissing)
			errs = append(errs, err)
			if a.Status != metav1.ConditionTrue {
				p = a
			}
		}
		recheck = recheck || p.Reason == learningv1alpha1.NameConflictReason
		facts.Provisioned[snap.Cohorts[i].Name] = p
	}
	errs = append(errs, cohortErrs...)
	return recheck, errors.Join(errs...)
}

// provisionApprovers binds a program's approvers (a community's, or a standalone
// cohort's) to the approvers' ClusterRole in its namespace. Appointing is as sensitive
// as approving, so while the approval policy is not installed as shipped
// (policyMissing says why) nobody is added: the binding is not created, and an
// existing one keeps only those of its subjects who are still approvers (removals
// always apply). The program then reports PolicyMissing. Without approvers, the
// binding is kept empty, or, unless always, not created.
func (r *ProgramReconciler) provisionApprovers(ctx context.Context, key unitKey, owner client.Object, kind string, approvers []learningv1alpha1.Approver, always bool, policyMissing string) (program.Provisioning, error) {
	binding := approversBinding(owner, kind, approvers, r.ApproverClusterRole)
	live, errs := r.lookupChildren(ctx, []client.Object{binding})
	if len(errs) > 0 {
		return provisioningVerdict(nil, live.failed(), nil, errs, ""), errors.Join(errs...)
	}
	var keep *rbacv1.RoleBinding
	if b, ok := live.of(binding).(*rbacv1.RoleBinding); ok && metav1.IsControlledBy(b, owner) {
		keep = b
	}
	if !always && len(approvers) == 0 && keep == nil {
		return program.Provisioning{Status: metav1.ConditionTrue, Reason: learningv1alpha1.ProvisionedReason}, nil
	}
	if _, added := withoutNewApprovers(binding, keep); policyMissing == "" && len(added) > 0 {
		// The cache may not have seen the policy or its binding go yet while the API
		// server already admitted an appointment without them: before anyone is added,
		// ask the API server itself.
		var err error
		if policyMissing, err = r.approvalPolicyMissing(ctx, r.APIReader); err != nil {
			return provisioningVerdict(nil, []string{describe(binding)}, nil, []error{err}, ""), err
		}
	}
	var held []string
	if policyMissing != "" {
		binding, held = withoutNewApprovers(binding, keep)
	}
	desired := []client.Object{binding}
	if policyMissing != "" && keep == nil {
		desired = nil // nobody to keep, and nobody may be added
	}
	conflicts, failed, _, errs := r.applyChildren(ctx, key, owner, desired, live, func(_, _ client.Object) bool { return true })
	p := provisioningVerdict(conflicts, failed, nil, errs,
		fmt.Sprintf("%d approvers bound to ClusterRole %s by RoleBinding %s", len(binding.Subjects), r.ApproverClusterRole, binding.Name))
	if p.Status == metav1.ConditionTrue && policyMissing != "" && len(approvers) > 0 {
		p = program.Provisioning{Status: metav1.ConditionFalse, Reason: learningv1alpha1.PolicyMissingReason, Message: approversHeldMessage(policyMissing, binding, held)}
	}
	return p, errors.Join(errs...)
}

// withoutNewApprovers narrows the desired approvers' binding to the subjects live
// already binds (none when live is nil), and returns the approvers it left out.
func withoutNewApprovers(desired, live *rbacv1.RoleBinding) (*rbacv1.RoleBinding, []string) {
	narrowed := desired.DeepCopy()
	narrowed.Subjects = nil
	var held []string
	for _, s := range desired.Subjects {
		if live != nil && slices.Contains(live.Subjects, s) {
			narrowed.Subjects = append(narrowed.Subjects, s)
		} else {
			held = append(held, s.Kind+" "+s.Name)
		}
	}
	return narrowed, held
}

// approversHeldMessage says that approvers are not appointed while the approval policy
// cannot be relied on, and who waits.
func approversHeldMessage(policyMissing string, binding *rbacv1.RoleBinding, held []string) string {
	msg := fmt.Sprintf("no approver is appointed while %s; approvals are not trusted either (Approved=False, PolicyMissing)", policyMissing)
	if len(held) > 0 {
		msg += fmt.Sprintf("; not bound until it is: %s", strings.Join(held, ", "))
	}
	if len(binding.Subjects) > 0 {
		msg += fmt.Sprintf("; still bound by RoleBinding %s: %d", binding.Name, len(binding.Subjects))
	}
	return msg + "; install the policy and its binding of config/admission (docs/operations.md, Upgrades)"
}

// provisionCohort brings a cohort's children to their declared state: it applies, with
// server-side apply, each child that is missing or differs, leaves alone any object of
// a derived name the operator did not create, and removes the children of a disabled
// service. While the cohort is suspended only the members' RoleBindings and their access
// to ActionPlans change, so that access still follows the seats, and the members'
// Roles are created when missing (a
// cohort created suspended), since a binding to a missing Role is one the manager may
// not make; everything else is compared and reported.
func (r *ProgramReconciler) provisionCohort(ctx context.Context, key unitKey, cohort *learningv1alpha1.Cohort, pub program.Publication) (program.Provisioning, error) {
	desired := desiredChildren(cohort, pub, r.Portal)
	live, errs := r.lookupChildren(ctx, desired)
	desired = withoutConflicts(desired, live.blocked(cohort))
	suspended := cohort.Spec.Suspend
	conflicts, failed, pending, applyErrs := r.applyChildren(ctx, key, cohort, desired, live, func(obj, live client.Object) bool {
		return !suspended || isMemberBinding(obj) || isPlanAccess(obj) || (live == nil && isMemberRole(obj))
	})
	errs = append(errs, applyErrs...)
	failed = append(live.failed(), failed...)
	stale, err := r.staleChildren(ctx, cohort, desired)
	if err != nil {
		errs = append(errs, err)
	}
	for _, obj := range stale {
		if suspended && !isPlanAccess(obj) {
			pending = append(pending, describe(obj)+" (to remove)")
			continue
		}
		r.lag.deleting(obj)
		if err := r.Client.Delete(ctx, obj, client.Preconditions{UID: ptrTo(obj.GetUID())}); client.IgnoreNotFound(err) != nil {
			failed = append(failed, describe(obj)+" (to remove)")
			errs = append(errs, fmt.Errorf("removing %s: %w", describe(obj), err))
			continue
		}
		r.lag.wrote(key, obj, obj.GetResourceVersion())
		childWritesMetric.WithLabelValues(kindName(obj), "delete").Inc()
	}

	p := provisioningVerdict(conflicts, failed, pending, errs, provisionedSummary(cohort, desired, r.Portal.ownPortal(cohort)))
	p.Portal = r.portalAvailability(ctx, cohort)
	return p, errors.Join(errs...)
}

// applyChildren applies each desired child of owner that is missing or differs, when
// mayChange allows it (else it is pending), and leaves alone any object of a desired
// name that owner does not control (a conflict). live holds what lookupChildren found;
// a child it could not look up is left alone (lookupChildren reported it). mayChange
// sees the child as desired and as it exists (nil when missing).
func (r *ProgramReconciler) applyChildren(ctx context.Context, key unitKey, owner client.Object, desired []client.Object, live liveChildren, mayChange func(obj, live client.Object) bool) (conflicts, failed, pending []string, errs []error) {
	for _, obj := range desired {
		have, known := live.found[describe(obj)]
		switch {
		case !known:
			continue
		case have != nil && !metav1.IsControlledBy(have, owner):
			conflicts = append(conflicts, describe(obj))
			continue
		case have != nil && childMatches(obj, have):
			continue
		case !mayChange(obj, have):
			pending = append(pending, describe(obj))
			continue
		}
		// Recorded first: the watch event of the apply, which echoes this pass and
		// starts no other, may arrive before the apply returns.
		r.lag.applying(obj)
		version, err := r.applyChild(ctx, obj)
		if err != nil {
			failed = append(failed, describe(obj))
			errs = append(errs, err)
			continue
		}
		replaced := ""
		if have != nil {
			replaced = have.GetResourceVersion()
		}
		// An apply that changed nothing leaves the version the cache shows.
		if version != replaced {
			r.lag.wrote(key, obj, replaced)
		}
		childWritesMetric.WithLabelValues(kindName(obj), "apply").Inc()
	}
	return conflicts, failed, pending, errs
}

// liveChildren are the objects that exist under the names of an owner's desired
// children, keyed by describe: nil for a name that is free. A name that could not be
// looked up has no entry.
type liveChildren struct {
	found  map[string]client.Object
	missed []client.Object
}

// lookupChildren looks up the live object of every desired child's name.
func (r *ProgramReconciler) lookupChildren(ctx context.Context, desired []client.Object) (liveChildren, []error) {
	live := liveChildren{found: make(map[string]client.Object, len(desired))}
	var errs []error
	for _, obj := range desired {
		have, err := r.lookupChild(ctx, obj)
		if err != nil {
			live.missed = append(live.missed, obj)
			errs = append(errs, err)
			continue
		}
		live.found[describe(obj)] = have
	}
	return live, errs
}

// of is the live object of desired's name; nil when the name is free or unknown.
func (l liveChildren) of(desired client.Object) client.Object { return l.found[describe(desired)] }

// failed names the children that could not be looked up.
func (l liveChildren) failed() []string {
	failed := make([]string, 0, len(l.missed))
	for _, obj := range l.missed {
		failed = append(failed, describe(obj))
	}
	return failed
}

// blocked are the names through which owner may grant nothing: those of objects it
// does not control, and those that could not be looked up (fail closed).
func (l liveChildren) blocked(owner client.Object) grantable {
	blocked := grantable{}
	for _, have := range l.found {
		if have != nil && !metav1.IsControlledBy(have, owner) {
			blocked[conflictKey(kindName(have), have.GetName())] = true
		}
	}
	for _, obj := range l.missed {
		blocked[conflictKey(kindName(obj), obj.GetName())] = true
	}
	return blocked
}

// provisioningVerdict is the Provisioned condition for what applying found; provisioned
// is its message when everything is in place.
func provisioningVerdict(conflicts, failed, pending []string, errs []error, provisioned string) program.Provisioning {
	switch {
	case len(conflicts) > 0:
		return program.Provisioning{Status: metav1.ConditionFalse, Reason: learningv1alpha1.NameConflictReason,
			Message: fmt.Sprintf("not created by cohort-operator for this cohort, left as they are: %s; rename or delete them", strings.Join(conflicts, ", "))}
	case len(failed) > 0:
		return program.Provisioning{Status: metav1.ConditionFalse, Reason: learningv1alpha1.ApplyFailedReason,
			Message: fmt.Sprintf("not applied: %s: %v", strings.Join(failed, ", "), errors.Join(errs...))}
	case len(pending) > 0:
		return program.Provisioning{Status: metav1.ConditionFalse, Reason: learningv1alpha1.SuspendedReason,
			Message: fmt.Sprintf("suspended: members' access follows the seats; not applied until resumed: %s", strings.Join(pending, ", "))}
	}
	return program.Provisioning{Status: metav1.ConditionTrue, Reason: learningv1alpha1.ProvisionedReason, Message: provisioned}
}

// portalAvailability reports the portal Deployment's available replicas, as the cache
// last saw them; nil when the portal is disabled. A cohort of a namespace with a
// shared portal is served there: the operator does not run that portal, so the
// condition says where the cohort's pages are rather than counting replicas.
func (r *ProgramReconciler) portalAvailability(ctx context.Context, cohort *learningv1alpha1.Cohort) *program.PortalAvailability {
	if !portalEnabled(cohort) {
		return nil
	}
	if r.Portal.shared(cohort) {
		return &program.PortalAvailability{Status: metav1.ConditionTrue, Reason: learningv1alpha1.SharedPortalReason,
			Message: fmt.Sprintf("served by the shared portal of namespace %s under /cohorts/%s/", cohort.Namespace, cohort.Name)}
	}
	want := int32(1)
	if n := cohort.Spec.Services.Portal.Replicas; n != nil {
		want = *n
	}
	d := &appsv1.Deployment{}
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: cohort.Namespace, Name: namesOf(cohort).Portal}, d); err != nil || !metav1.IsControlledBy(d, cohort) {
		return &program.PortalAvailability{Status: metav1.ConditionFalse, Reason: learningv1alpha1.UnavailableReason, Message: fmt.Sprintf("0 of %d replicas available: the Deployment does not exist yet", want)}
	}
	msg := fmt.Sprintf("%d of %d replicas available", d.Status.AvailableReplicas, want)
	if d.Status.AvailableReplicas < want {
		return &program.PortalAvailability{Status: metav1.ConditionFalse, Reason: learningv1alpha1.UnavailableReason, Message: msg + "; see the Deployment " + d.Name + " and its pods"}
	}
	return &program.PortalAvailability{Status: metav1.ConditionTrue, Reason: learningv1alpha1.AvailableReason, Message: msg}
}

// provisionedSummary says in a sentence what is in place.
func provisionedSummary(cohort *learningv1alpha1.Cohort, desired []client.Object, ownPortal bool) string {
	msg := fmt.Sprintf("%d objects in place: members' access, roster, calendar and overview", len(desired))
	if ownPortal {
		msg += ", portal (service " + namesOf(cohort).PortalService + ")"
	}
	return msg
}

func ptrTo[T any](v T) *T { return &v }

// lookupChild returns the live object of desired's name, or nil when there is none. The
// cache holds only labelled objects, so a miss is confirmed with the API server: an
// unlabelled object of that name may exist, and must then not be overwritten. The
// cache holds children slimmed (slimChild), with the digest of their content: a child
// whose content is not the declared one, and is not known to hold it, is read in full
// from the API server, unless its kind's digest is exact (digestIsExact): then it
// differs, and the copy from the cache says so.
func (r *ProgramReconciler) lookupChild(ctx context.Context, desired client.Object) (client.Object, error) {
	live, ok := desired.DeepCopyObject().(client.Object)
	if !ok {
		return nil, fmt.Errorf("copying %s", describe(desired))
	}
	key := client.ObjectKeyFromObject(desired)
	err := r.Client.Get(ctx, key, live)
	if content, slimmed := cachedDigest(live); err == nil && slimmed {
		declared := contentDigest(desired)
		switch {
		case content == declared:
			return live, nil
		case r.verified.matches(desired, content, declared):
			live.SetGenerateName(cachedState(declared))
			return live, nil
		case digestIsExact(desired):
			return live, nil
		}
		if live, ok = desired.DeepCopyObject().(client.Object); !ok {
			return nil, fmt.Errorf("copying %s", describe(desired))
		}
		err = r.APIReader.Get(ctx, key, live)
		fromAPIServer(live)
		if err == nil && childMatches(desired, live) {
			r.verified.remember(desired, live, declared)
		}
	}
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, live)
		fromAPIServer(live)
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", describe(desired), err)
	}
	return live, nil
}

// staleChildren are the cohort's children (in the cache) that are no longer desired:
// those of a disabled service.
func (r *ProgramReconciler) staleChildren(ctx context.Context, cohort *learningv1alpha1.Cohort, desired []client.Object) ([]client.Object, error) {
	want := map[string]bool{}
	for _, obj := range desired {
		want[describe(obj)] = true
	}
	selector := client.MatchingLabels{ManagedByLabel: ManagedBy, CohortLabel: namesOf(cohort).cohortLabel}
	var stale []client.Object
	for _, kind := range childKinds {
		list := kind.list()
		if err := r.Client.List(ctx, list, client.InNamespace(cohort.Namespace), selector); err != nil {
			return stale, fmt.Errorf("listing %s: %w", kindName(kind.obj), err)
		}
		err := apimeta.EachListItem(list, func(o runtime.Object) error {
			if obj, ok := o.(client.Object); ok && metav1.IsControlledBy(obj, cohort) && !want[describe(obj)] {
				stale = append(stale, obj)
			}
			return nil
		})
		if err != nil {
			return stale, err
		}
	}
	return stale, nil
}

// applyChild applies obj with server-side apply as the operator's field owner, taking
// back any field a person changed by hand. It returns the resourceVersion the API
// server answered.
func (r *ProgramReconciler) applyChild(ctx context.Context, obj client.Object) (string, error) {
	gvk, err := apiutil.GVKForObject(obj, r.Client.Scheme())
	if err != nil {
		return "", err
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return "", fmt.Errorf("converting %s: %w", describe(obj), err)
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(gvk)
	// Zero values of the typed object that are not the operator's to declare.
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	if err := r.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
		return "", fmt.Errorf("applying %s: %w", describe(obj), err)
	}
	// The object the API server answered, as it stores it: when it holds the
	// declaration, its content is remembered as verified (see verifiedChildren), so
	// that neither the echo of the apply nor the next pass reads it again.
	applied, ok := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(client.Object)
	if !ok {
		return u.GetResourceVersion(), nil
	}
	err = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, applied)
	fromAPIServer(applied)
	if err == nil && childMatches(obj, applied) {
		r.verified.remember(obj, applied, contentDigest(obj))
	}
	return u.GetResourceVersion(), nil
}

// childMatches reports whether the live object holds everything the operator declares
// in desired. Fields the API server defaults, and fields other managers added, are not
// compared; the lists that grant access (rules, subjects, ingress) are compared exactly,
// so an extra subject or rule added by hand is drift.
func childMatches(desired, live client.Object) bool {
	if _, slimmed := cachedDigest(live); slimmed {
		return slimMatches(desired, live, contentDigest(desired))
	}
	if !equality.Semantic.DeepDerivative(desired.GetLabels(), live.GetLabels()) {
		return false
	}
	switch d := desired.(type) {
	case *rbacv1.Role:
		return equality.Semantic.DeepEqual(d.Rules, live.(*rbacv1.Role).Rules)
	case *rbacv1.RoleBinding:
		l := live.(*rbacv1.RoleBinding)
		return d.RoleRef == l.RoleRef && len(d.Subjects) == len(l.Subjects) && (len(d.Subjects) == 0 || equality.Semantic.DeepEqual(d.Subjects, l.Subjects))
	case *corev1.ConfigMap:
		return equality.Semantic.DeepDerivative(d.Data, live.(*corev1.ConfigMap).Data)
	case *corev1.ServiceAccount:
		return equality.Semantic.DeepDerivative(d.AutomountServiceAccountToken, live.(*corev1.ServiceAccount).AutomountServiceAccountToken)
	case *appsv1.Deployment:
		return equality.Semantic.DeepDerivative(d.Spec, live.(*appsv1.Deployment).Spec)
	case *corev1.Service:
		l := live.(*corev1.Service)
		return equality.Semantic.DeepDerivative(d.Spec, l.Spec) && equality.Semantic.DeepEqual(d.Spec.Selector, l.Spec.Selector)
	case *networkingv1.NetworkPolicy:
		// A selector narrowed by hand would select no pod and open the portal.
		l := live.(*networkingv1.NetworkPolicy)
		return equality.Semantic.DeepEqual(d.Spec.PodSelector, l.Spec.PodSelector) &&
			equality.Semantic.DeepEqual(d.Spec.PolicyTypes, l.Spec.PolicyTypes) &&
			len(d.Spec.Ingress) == len(l.Spec.Ingress) && len(l.Spec.Egress) == 0 &&
			(len(d.Spec.Ingress) == 0 || equality.Semantic.DeepEqual(d.Spec.Ingress, l.Spec.Ingress))
	}
	return false
}

// isMemberBinding reports whether obj binds members to their access: the only child
// that changes while the cohort is suspended.
func isMemberBinding(obj client.Object) bool {
	_, binding := obj.(*rbacv1.RoleBinding)
	return binding && obj.GetLabels()[ComponentLabel] == componentAccess
}

// isMemberRole tells the Roles the members' RoleBindings refer to.
func isMemberRole(obj client.Object) bool {
	_, role := obj.(*rbacv1.Role)
	return role && obj.GetLabels()[ComponentLabel] == componentAccess
}

// isPlanAccess tells a member's Role and RoleBinding for ActionPlans, which follow the
// seats and the plans even while the cohort is suspended, and go with the seat.
func isPlanAccess(obj client.Object) bool {
	return obj.GetLabels()[ComponentLabel] == componentPlans
}

// describe names a child for messages, e.g. "ConfigMap allyship-2026-roster".
func describe(obj client.Object) string { return kindName(obj) + " " + obj.GetName() }

// kindName is the kind of a provisioned object: its Go type's name, which is its
// kind for every type in childKinds.
func kindName(obj client.Object) string { return reflect.TypeOf(obj).Elem().Name() }

// +kubebuilder:rbac:groups="",resources=endpoints,verbs=get,resourceNames=kubernetes

// APIServerAddresses returns the addresses of the API server, as CIDRs of one address
// each, from the endpoints of the default namespace's kubernetes Service. The API
// server's service proxy connects to portals from these addresses.
func APIServerAddresses(ctx context.Context, reader client.Reader) ([]string, error) {
	endpoints := &corev1.Endpoints{} //nolint:staticcheck // one get of the kubernetes Service's endpoints; its EndpointSlice would need list on every namespace's slices
	if err := reader.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceDefault, Name: "kubernetes"}, endpoints); err != nil {
		return nil, fmt.Errorf("reading the API server's addresses: %w", err)
	}
	var cidrs []string
	for _, subset := range endpoints.Subsets {
		for _, a := range subset.Addresses {
			if strings.Contains(a.IP, ":") {
				cidrs = append(cidrs, a.IP+"/128")
			} else {
				cidrs = append(cidrs, a.IP+"/32")
			}
		}
	}
	if len(cidrs) == 0 {
		return nil, errors.New("the kubernetes Service in the default namespace has no endpoints")
	}
	return cidrs, nil
}
