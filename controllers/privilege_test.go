package controllers

// Least privilege, checked on everything the project ships (every Role and ClusterRole
// under config/) and everything the operator creates (a cohort's Roles and
// RoleBindings with its portal and events, a community's approvers' RoleBinding), and
// the hardening of the containers it runs. The checks read manifests and call pure
// builders: they run inside the package's suite but never use its cluster.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// Files whose roles have a role of their own in the checks.
const (
	managerRoleFile  = "config/rbac/role.yaml"
	approverRoleFile = "config/rbac/approver_role.yaml"
)

// approverVerbs are all an approver needs: read the events, patch spec.approval, and the
// verb the admission policy checks.
var approverVerbs = []string{"get", "list", "watch", "patch", "approve"}

// writeVerbs change an object.
var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}

// guardedResources are cluster-wide objects whose writing would let the manager grant
// itself or anyone anything (cluster RBAC), switch off or bypass the approval policy
// (admission policies and webhooks), or place pods on nodes (bindings).
var guardedResources = []string{
	"clusterroles", "clusterrolebindings",
	"validatingadmissionpolicies", "validatingadmissionpolicybindings",
	"mutatingadmissionpolicies", "mutatingadmissionpolicybindings",
	"validatingwebhookconfigurations", "mutatingwebhookconfigurations",
	"bindings",
}

// manifest is one object of a YAML file under config/.
type manifest struct {
	file string // relative to the repository root, with forward slashes
	obj  *unstructured.Unstructured
}

func (m manifest) String() string { return m.file + ": " + m.obj.GetKind() + " " + m.obj.GetName() }

// configManifests decodes every YAML document of every file under config/, so that a
// role added anywhere there is checked.
func configManifests(t *testing.T) []manifest {
	t.Helper()
	var out []manifest
	err := filepath.WalkDir(testutil.Path("config"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(path) != ".yaml" && filepath.Ext(path) != ".yml") {
			return err
		}
		rel, err := filepath.Rel(testutil.RepoRoot(), path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		objs, err := testutil.DecodeManifests(data)
		if err != nil {
			return fmt.Errorf("decoding %s: %w", rel, err)
		}
		for _, o := range objs {
			out = append(out, manifest{file: filepath.ToSlash(rel), obj: o})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// decodeAs converts a manifest into its typed object, failing the test when it does not
// fit.
func decodeAs[T any](t *testing.T, m manifest) *T {
	t.Helper()
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(m.obj.Object, out, true); err != nil {
		t.Fatalf("%s: %v", m, err)
	}
	return out
}

// roleUnderTest is a Role or ClusterRole and where it comes from, for messages.
type roleUnderTest struct {
	where  string // "config/rbac/role.yaml: ClusterRole manager-role", or "Role spring-read (desiredChildren)"
	file   string // relative to the repository root; empty for roles the operator creates
	kind   string
	labels map[string]string
	rules  []rbacv1.PolicyRule
}

// shippedRoles are the Roles and ClusterRoles of every manifest under config/.
func shippedRoles(t *testing.T) []roleUnderTest {
	t.Helper()
	var roles []roleUnderTest
	for _, m := range configManifests(t) {
		switch m.obj.GetKind() {
		case "ClusterRole":
			r := decodeAs[rbacv1.ClusterRole](t, m)
			if r.AggregationRule != nil {
				t.Errorf("%s: aggregates other ClusterRoles (%v): its rules are whatever those grant, so they cannot be checked here", m, r.AggregationRule.ClusterRoleSelectors)
			}
			roles = append(roles, roleUnderTest{where: m.String(), file: m.file, kind: "ClusterRole", labels: r.Labels, rules: r.Rules})
		case "Role":
			r := decodeAs[rbacv1.Role](t, m)
			roles = append(roles, roleUnderTest{where: m.String(), file: m.file, kind: "Role", labels: r.Labels, rules: r.Rules})
		}
	}
	return roles
}

// ruleString is a policy rule as a message shows it.
func ruleString(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(field string, values []string) {
		if len(values) > 0 {
			parts = append(parts, fmt.Sprintf("%s %q", field, values))
		}
	}
	add("apiGroups", r.APIGroups)
	add("resources", r.Resources)
	add("resourceNames", r.ResourceNames)
	add("nonResourceURLs", r.NonResourceURLs)
	add("verbs", r.Verbs)
	return "{" + strings.Join(parts, " ") + "}"
}

func containsWildcard(values []string) bool {
	return slices.ContainsFunc(values, func(v string) bool { return strings.Contains(v, "*") })
}

// isResource reports whether resource is name or one of its subresources.
func isResource(resource, name string) bool {
	return resource == name || strings.HasPrefix(resource, name+"/")
}

// forbiddenGrants lists what a rule grants that no role of the project may: wildcards,
// secrets, escalate, impersonate, bind without resource names, writes of cluster RBAC
// and admission configuration, and approve (unless mayApprove).
func forbiddenGrants(rule rbacv1.PolicyRule, mayApprove bool) []string {
	var out []string
	for field, values := range map[string][]string{
		"apiGroups": rule.APIGroups, "resources": rule.Resources, "verbs": rule.Verbs, "nonResourceURLs": rule.NonResourceURLs,
	} {
		if containsWildcard(values) {
			out = append(out, "a wildcard in "+field)
		}
	}
	if slices.ContainsFunc(rule.Resources, func(r string) bool { return isResource(r, "secrets") }) {
		out = append(out, "access to secrets")
	}
	for _, verb := range []string{"escalate", "impersonate"} {
		if slices.Contains(rule.Verbs, verb) {
			out = append(out, "the verb "+verb)
		}
	}
	if slices.Contains(rule.Verbs, "bind") && len(rule.ResourceNames) == 0 {
		out = append(out, "the verb bind on every role (bind needs resourceNames)")
	}
	if slices.Contains(rule.Verbs, "approve") && !mayApprove {
		out = append(out, "the verb approve, which only the approvers' ClusterRole ("+approverRoleFile+") may grant")
	}
	for _, res := range rule.Resources {
		for _, guarded := range guardedResources {
			if isResource(res, guarded) {
				if w := intersect(rule.Verbs, writeVerbs); len(w) > 0 {
					out = append(out, fmt.Sprintf("%v on %s", w, res))
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, v := range a {
		if slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

// TestLeastPrivilegeShippedRoles: no Role or ClusterRole under config/ grants a
// wildcard, secrets, escalate, impersonate, bind without names, writes of cluster RBAC
// or admission configuration, or approve; the approvers' ClusterRole grants approve on
// learningevents and nothing beyond get, list, watch, patch and approve.
func TestLeastPrivilegeShippedRoles(t *testing.T) {
	roles := shippedRoles(t)
	var files []string
	for _, r := range roles {
		files = append(files, r.file)
		approver := r.file == approverRoleFile
		for i, rule := range r.rules {
			for _, problem := range forbiddenGrants(rule, approver) {
				t.Errorf("%s: rule %d %s grants %s", r.where, i, ruleString(rule), problem)
			}
		}
	}
	// The checks above pass vacuously if the roles are not found where they belong.
	for _, want := range []string{managerRoleFile, approverRoleFile, "config/rbac/cohort_editor_role.yaml", "config/rbac/cohort_viewer_role.yaml", "config/rbac/leader_election_role.yaml"} {
		if !slices.Contains(files, want) {
			t.Errorf("no Role or ClusterRole found in %s; found roles in %q", want, files)
		}
	}
}

// TestShippedRolesGrantNoPlans: no role shipped under config/ but the manager's grants
// anything on ActionPlans, so the view, edit and admin roles the editor and viewer
// roles aggregate into never read a person's plan; the manager holds only what it
// must to grant members their plans (create, get, update, patch), never delete.
func TestShippedRolesGrantNoPlans(t *testing.T) {
	for _, r := range shippedRoles(t) {
		for i, rule := range r.rules {
			if !slices.ContainsFunc(rule.Resources, func(res string) bool { return isResource(res, "actionplans") }) {
				continue
			}
			if r.file != managerRoleFile {
				t.Errorf("%s: rule %d %s grants ActionPlans; plans are their owners' alone", r.where, i, ruleString(rule))
				continue
			}
			for _, verb := range rule.Verbs {
				if !slices.Contains([]string{"get", "list", "watch", "create", "update", "patch"}, verb) {
					t.Errorf("%s: rule %d %s grants %s on ActionPlans", r.where, i, ruleString(rule), verb)
				}
			}
		}
	}
}

// TestLeastPrivilegeApproverRole: the approvers' ClusterRole is one ClusterRole that
// grants approve on learningevents and programreports, every rule of it stays on one of
// those with the verbs an approval needs, and it is aggregated into no other role.
func TestLeastPrivilegeApproverRole(t *testing.T) {
	var approvers []roleUnderTest
	for _, r := range shippedRoles(t) {
		if r.file == approverRoleFile {
			approvers = append(approvers, r)
		}
	}
	if len(approvers) != 1 || approvers[0].kind != "ClusterRole" {
		t.Fatalf("%s: want exactly one ClusterRole, got %d roles", approverRoleFile, len(approvers))
	}
	role := approvers[0]
	// Aggregated into admin, edit or view, approve would reach every namespace editor.
	for key, value := range role.labels {
		if strings.HasPrefix(key, "rbac.authorization.k8s.io/aggregate-to-") {
			t.Errorf("%s: label %s=%s aggregates approve into a built-in role; approvers are bound by the operator only", role.where, key, value)
		}
	}
	approves := map[string]bool{}
	for i, rule := range role.rules {
		where := fmt.Sprintf("%s: rule %d %s", role.where, i, ruleString(rule))
		if diff := cmp.Diff([]string{learningv1alpha1.GroupVersion.Group}, rule.APIGroups); diff != "" {
			t.Errorf("%s: apiGroups must be only %s (-want +got):\n%s", where, learningv1alpha1.GroupVersion.Group, diff)
		}
		if len(rule.Resources) != 1 || (rule.Resources[0] != "learningevents" && rule.Resources[0] != "programreports") {
			t.Errorf("%s: each rule must be on learningevents or on programreports alone, not %q", where, rule.Resources)
		}
		if len(rule.NonResourceURLs) > 0 {
			t.Errorf("%s: grants nonResourceURLs", where)
		}
		for _, verb := range rule.Verbs {
			if !slices.Contains(approverVerbs, verb) {
				t.Errorf("%s: grants the verb %s; an approver needs only %q", where, verb, approverVerbs)
			}
		}
		if slices.Contains(rule.Verbs, "approve") {
			for _, r := range rule.Resources {
				approves[r] = true
			}
		}
	}
	for _, resource := range []string{"learningevents", "programreports"} {
		if !approves[resource] {
			t.Errorf("%s: grants no approve on %s, so no approver can approve them", role.where, resource)
		}
	}
}

// TestPrivilegeManagerBind: the manager may bind only its own approvers' ClusterRole, by
// the name config/default installs it under, which is also the name the operator binds
// approvers to by default.
func TestPrivilegeManagerBind(t *testing.T) {
	var manager []roleUnderTest
	for _, r := range shippedRoles(t) {
		if r.file == managerRoleFile {
			manager = append(manager, r)
		}
	}
	if len(manager) != 1 {
		t.Fatalf("%s: want exactly one role, got %d", managerRoleFile, len(manager))
	}
	var bindRules []rbacv1.PolicyRule
	for _, rule := range manager[0].rules {
		if slices.Contains(rule.Verbs, "bind") {
			bindRules = append(bindRules, rule)
		}
	}
	want := []rbacv1.PolicyRule{{
		APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"},
		ResourceNames: []string{DefaultApproverClusterRole}, Verbs: []string{"bind"},
	}}
	if diff := cmp.Diff(want, bindRules); diff != "" {
		t.Errorf("%s: the rules granting bind must be exactly bind on the ClusterRole %s (-want +got):\n%s", manager[0].where, DefaultApproverClusterRole, diff)
	}

	// The installed name of the approvers' ClusterRole: config/default's prefix and the
	// name in approver_role.yaml.
	var kustomization struct {
		NamePrefix string `json:"namePrefix"`
	}
	data, err := os.ReadFile(testutil.Path("config", "default", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &kustomization); err != nil {
		t.Fatalf("config/default/kustomization.yaml: %v", err)
	}
	var approverName string
	for _, m := range configManifests(t) {
		if m.file == approverRoleFile && m.obj.GetKind() == "ClusterRole" {
			approverName = kustomization.NamePrefix + m.obj.GetName()
		}
	}
	if approverName != DefaultApproverClusterRole || testutil.ApproverClusterRole != DefaultApproverClusterRole {
		t.Errorf("config/default installs the approvers' ClusterRole of %s as %q, the manager binds %q (DefaultApproverClusterRole, %s) and the tests install %q: they must be one name",
			approverRoleFile, approverName, DefaultApproverClusterRole, managerRoleFile, testutil.ApproverClusterRole)
	}
}

// operatorChildren are the Roles and RoleBindings desiredChildren produces for a cohort
// with its portal enabled and events, its own and its community's, present.
func operatorChildren(t *testing.T) (*learningv1alpha1.Cohort, []*rbacv1.Role, []*rbacv1.RoleBinding) {
	t.Helper()
	cohort := childrenCohort("spring", true)
	pub := childrenPublication()
	if len(pub.OwnEvents) == 0 || len(pub.Read) == 0 || len(pub.Edit) == 0 {
		t.Fatalf("the publication must have readers, editors and events for every rule to be built: %+v", pub)
	}
	var roles []*rbacv1.Role
	var bindings []*rbacv1.RoleBinding
	for _, obj := range buildChildren(t, cohort, pub, childrenPortal) {
		switch o := obj.(type) {
		case *rbacv1.Role:
			roles = append(roles, o)
		case *rbacv1.RoleBinding:
			bindings = append(bindings, o)
		case *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding:
			t.Errorf("desiredChildren: %s %s is cluster-wide; a cohort's access must stay in its namespace", kindName(obj), obj.GetName())
		}
	}
	return cohort, roles, bindings
}

// TestLeastPrivilegeOperatorRoles: every Role the operator creates for a cohort grants
// nothing forbidden, names its objects in every rule, and only gets, except that the
// Edit role may update and patch the cohort's own events.
func TestLeastPrivilegeOperatorRoles(t *testing.T) {
	cohort, roles, _ := operatorChildren(t)
	n := namesOf(cohort)
	var names []string
	for _, role := range roles {
		names = append(names, role.Name)
		where := "desiredChildren: Role " + role.Name
		if role.Namespace != cohort.Namespace {
			t.Errorf("%s: namespace %q, want the cohort's %q", where, role.Namespace, cohort.Namespace)
		}
		for i, rule := range role.Rules {
			ruleWhere := fmt.Sprintf("%s: rule %d %s", where, i, ruleString(rule))
			for _, problem := range forbiddenGrants(rule, false) {
				t.Errorf("%s grants %s", ruleWhere, problem)
			}
			createPlans := createsPlans(rule)
			if createPlans && (role.Name == n.Read || role.Name == n.Edit) {
				// Create cannot be limited by name; the action-plan policy binds the new
				// plan to its creator.
				continue
			}
			if len(rule.ResourceNames) == 0 || slices.Contains(rule.ResourceNames, "") {
				t.Errorf("%s: has no resourceNames, so it grants every object of its kind in the namespace", ruleWhere)
			}
			if len(rule.NonResourceURLs) > 0 {
				t.Errorf("%s: grants nonResourceURLs", ruleWhere)
			}
			for _, group := range rule.APIGroups {
				if group == rbacv1.GroupName {
					t.Errorf("%s: grants access to RBAC objects", ruleWhere)
				}
			}
			allowed := []string{"get"}
			if role.Name == n.Edit && slices.Equal(rule.APIGroups, []string{learningv1alpha1.GroupVersion.Group}) && slices.Equal(rule.Resources, []string{"learningevents"}) {
				allowed = []string{"get", "update", "patch"}
			}
			if role.Labels[ComponentLabel] == componentPlans {
				if !slices.Equal(rule.Resources, []string{"actionplans"}) {
					t.Errorf("%s: a member's plan Role may grant ActionPlans only", ruleWhere)
				}
				allowed = []string{"get", "update", "patch"}
			} else if slices.Contains(rule.Resources, "actionplans") && !createPlans {
				t.Errorf("%s: only a member's plan Role may grant access to ActionPlans by name; the cohort's Roles may only create them", ruleWhere)
			}
			for _, verb := range rule.Verbs {
				if !slices.Contains(allowed, verb) {
					t.Errorf("%s: grants the verb %s; this rule may grant only %q", ruleWhere, verb, allowed)
				}
			}
		}
	}
	if diff := cmp.Diff([]string{n.Read, n.Edit, "ann-plans", "bob-plans", n.Portal}, names); diff != "" {
		t.Errorf("desiredChildren: Roles (-want +got):\n%s", diff)
	}
}

// TestLeastPrivilegeOperatorBindings: the operator's RoleBindings refer only to the
// Roles it creates for the cohort, bind members as Users and the portal's Role only to
// the portal's ServiceAccount; a community's approvers' RoleBinding refers to the
// approvers' ClusterRole only, in the community's namespace.
func TestLeastPrivilegeOperatorBindings(t *testing.T) {
	cohort, roles, bindings := operatorChildren(t)
	n := namesOf(cohort)
	roleNames := map[string]bool{}
	for _, r := range roles {
		roleNames[r.Name] = true
	}
	for _, b := range bindings {
		where := "desiredChildren: RoleBinding " + b.Name
		if b.RoleRef.APIGroup != rbacv1.GroupName || b.RoleRef.Kind != "Role" || !roleNames[b.RoleRef.Name] || b.RoleRef.Name != b.Name {
			t.Errorf("%s: roleRef %+v; want the cohort's own Role %s", where, b.RoleRef, b.Name)
		}
		for _, s := range b.Subjects {
			want := rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: s.Name}
			if b.Name == n.Portal {
				want = rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: n.Portal, Namespace: cohort.Namespace}
			}
			if s != want {
				t.Errorf("%s: subject %+v; want %+v", where, s, want)
			}
		}
	}

	community := &learningv1alpha1.CommunityOfPractice{
		ObjectMeta: metav1.ObjectMeta{Namespace: childrenNamespace, Name: "allyship", UID: "5d0c-community-uid"},
		Spec: learningv1alpha1.CommunityOfPracticeSpec{Approvers: []learningv1alpha1.Approver{
			{Kind: learningv1alpha1.UserSubject, Name: "pillar-lead@example.org"},
			{Kind: learningv1alpha1.GroupSubject, Name: "pillar-leaders"},
		}},
	}
	b := approversBinding(community, "CommunityOfPractice", community.Spec.Approvers, DefaultApproverClusterRole)
	wantRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: DefaultApproverClusterRole}
	if b.RoleRef != wantRef {
		t.Errorf("approversBinding: RoleBinding %s: roleRef %+v; want only the approvers' ClusterRole %+v", b.Name, b.RoleRef, wantRef)
	}
	if b.Namespace != community.Namespace {
		t.Errorf("approversBinding: RoleBinding %s: namespace %q; want the community's %q", b.Name, b.Namespace, community.Namespace)
	}
	wantSubjects := []rbacv1.Subject{
		{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "pillar-lead@example.org"},
		{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "pillar-leaders"},
	}
	if diff := cmp.Diff(wantSubjects, b.Subjects); diff != "" {
		t.Errorf("approversBinding: RoleBinding %s: subjects must be exactly spec.approvers (-want +got):\n%s", b.Name, diff)
	}
	community.Spec.Approvers = nil
	if b := approversBinding(community, "CommunityOfPractice", community.Spec.Approvers, DefaultApproverClusterRole); len(b.Subjects) != 0 {
		t.Errorf("approversBinding: RoleBinding %s of a community without approvers binds %+v", b.Name, b.Subjects)
	}
}

// hardeningProblems lists what a pod's containers lack of the restricted Pod Security
// Standard: non-root, read-only root file system, no privilege escalation, every
// capability dropped, RuntimeDefault seccomp; and a numeric non-root runAsUser, which
// the kubelet needs to start an image with runAsNonRoot whatever its USER says.
// runAsNonRoot, runAsUser and seccomp count at pod or container level.
func hardeningProblems(pod corev1.PodSpec) map[string][]string {
	podSC := pod.SecurityContext
	if podSC == nil {
		podSC = &corev1.PodSecurityContext{}
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		return map[string][]string{"pod": {"shares the host's network, PID or IPC namespace"}}
	}
	out := map[string][]string{}
	for _, c := range slices.Concat(pod.InitContainers, pod.Containers) {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		var problems []string
		nonRoot := sc.RunAsNonRoot
		if nonRoot == nil {
			nonRoot = podSC.RunAsNonRoot
		}
		if nonRoot == nil || !*nonRoot {
			problems = append(problems, "runAsNonRoot is not true (pod or container)")
		}
		user := sc.RunAsUser
		if user == nil {
			user = podSC.RunAsUser
		}
		switch {
		case user == nil:
			// runAsNonRoot alone refuses an image whose USER is not numeric
			// (CreateContainerConfigError): the pod must name the user.
			problems = append(problems, "runAsUser is not set (pod or container)")
		case *user == 0:
			problems = append(problems, "runs as user 0")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			problems = append(problems, "readOnlyRootFilesystem is not true")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			problems = append(problems, "allowPrivilegeEscalation is not false")
		}
		if sc.Privileged != nil && *sc.Privileged {
			problems = append(problems, "is privileged")
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			problems = append(problems, `capabilities.drop does not hold "ALL"`)
		}
		if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
			problems = append(problems, fmt.Sprintf("adds capabilities %v", sc.Capabilities.Add))
		}
		seccomp := sc.SeccompProfile
		if seccomp == nil {
			seccomp = podSC.SeccompProfile
		}
		if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
			problems = append(problems, "seccompProfile is not RuntimeDefault (pod or container)")
		}
		if len(problems) > 0 {
			out["container "+c.Name] = problems
		}
	}
	return out
}

// TestContainersHardened: the manager's container (config/manager/manager.yaml, and
// any other workload under config/) and the portal's container run as a numeric
// non-root user, with a read-only root file system, no privilege escalation, no
// capabilities and RuntimeDefault seccomp; the manager's namespace enforces the
// restricted Pod Security Standard.
func TestContainersHardened(t *testing.T) {
	type workload struct {
		where string
		pod   corev1.PodSpec
	}
	var workloads []workload
	sawManager := false
	for _, m := range configManifests(t) {
		switch m.obj.GetKind() {
		case "Deployment":
			d := decodeAs[appsv1.Deployment](t, m)
			workloads = append(workloads, workload{m.String(), d.Spec.Template.Spec})
			sawManager = sawManager || m.file == "config/manager/manager.yaml" && slices.ContainsFunc(d.Spec.Template.Spec.Containers, func(c corev1.Container) bool { return c.Name == "manager" })
		case "Namespace":
			// The namespace the manager runs in; config/local's runs no pods.
			if m.file == "config/manager/manager.yaml" && m.obj.GetLabels()["pod-security.kubernetes.io/enforce"] != "restricted" {
				t.Errorf("%s: label pod-security.kubernetes.io/enforce is %q, want restricted", m, m.obj.GetLabels()["pod-security.kubernetes.io/enforce"])
			}
		case "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet":
			t.Errorf("%s: a workload kind this test does not check; add it", m)
		}
	}
	if !sawManager {
		t.Error("config/manager/manager.yaml: no Deployment with a container named manager")
	}

	cohort := childrenCohort("spring", true)
	sawPortal := false
	for _, obj := range buildChildren(t, cohort, childrenPublication(), childrenPortal) {
		if d, ok := obj.(*appsv1.Deployment); ok {
			workloads = append(workloads, workload{"desiredChildren: Deployment " + d.Name, d.Spec.Template.Spec})
			sawPortal = sawPortal || d.Name == namesOf(cohort).Portal
		}
	}
	if !sawPortal {
		t.Error("desiredChildren: no portal Deployment for a cohort with its portal enabled")
	}

	for _, w := range workloads {
		for what, problems := range hardeningProblems(w.pod) {
			for _, p := range problems {
				t.Errorf("%s: %s: %s", w.where, what, p)
			}
		}
	}
}

// TestPrivilegeChecksCatch: each check above fires on the grant or the container it is
// meant to refuse, so that a passing run says something.
func TestPrivilegeChecksCatch(t *testing.T) {
	rule := func(groups, resources, verbs []string, names ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: groups, Resources: resources, Verbs: verbs, ResourceNames: names}
	}
	core, learning, rbac := []string{""}, []string{learningv1alpha1.GroupVersion.Group}, []string{rbacv1.GroupName}
	grants := map[string]struct {
		rule       rbacv1.PolicyRule
		mayApprove bool
		want       []string
	}{
		"reading named configmaps":  {rule: rule(core, []string{"configmaps"}, []string{"get"}, "a")},
		"approving, as approvers":   {rule: rule(learning, []string{"learningevents"}, []string{"patch", "approve"}), mayApprove: true},
		"binding one named role":    {rule: rule(rbac, []string{"clusterroles"}, []string{"bind"}, "cohort-approver")},
		"a wildcard verb":           {rule: rule(core, []string{"pods"}, []string{"*"}), want: []string{"a wildcard in verbs"}},
		"a wildcard group":          {rule: rule([]string{"*"}, []string{"pods"}, []string{"get"}), want: []string{"a wildcard in apiGroups"}},
		"a wildcard subresource":    {rule: rule(core, []string{"pods/*"}, []string{"get"}), want: []string{"a wildcard in resources"}},
		"a wildcard URL":            {rule: rbacv1.PolicyRule{NonResourceURLs: []string{"/metrics*"}, Verbs: []string{"get"}}, want: []string{"a wildcard in nonResourceURLs"}},
		"secrets":                   {rule: rule(core, []string{"configmaps", "secrets"}, []string{"get"}, "a"), want: []string{"access to secrets"}},
		"escalate":                  {rule: rule(rbac, []string{"roles"}, []string{"escalate"}), want: []string{"the verb escalate"}},
		"impersonate":               {rule: rule(core, []string{"users"}, []string{"impersonate"}), want: []string{"the verb impersonate"}},
		"approving, as anyone else": {rule: rule(learning, []string{"learningevents"}, []string{"approve"}), want: []string{"the verb approve, which only the approvers' ClusterRole (" + approverRoleFile + ") may grant"}},
		"binding every role": {rule: rule(rbac, []string{"clusterroles"}, []string{"bind"}),
			want: []string{"the verb bind on every role (bind needs resourceNames)"}},
		"writing cluster RBAC": {rule: rule(rbac, []string{"clusterrolebindings"}, []string{"get", "create"}),
			want: []string{"[create] on clusterrolebindings"}},
		"removing the approval policy": {rule: rule([]string{"admissionregistration.k8s.io"}, []string{"validatingadmissionpolicybindings"}, []string{"delete"}),
			want: []string{"[delete] on validatingadmissionpolicybindings"}},
	}
	for name, tc := range grants {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, forbiddenGrants(tc.rule, tc.mayApprove)); diff != "" {
				t.Errorf("forbiddenGrants(%s) (-want +got):\n%s", ruleString(tc.rule), diff)
			}
		})
	}

	hardened := func() corev1.PodSpec {
		return corev1.PodSpec{
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: ptrTo(true), RunAsUser: ptrTo[int64](65532),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{Name: "c", SecurityContext: &corev1.SecurityContext{
				ReadOnlyRootFilesystem: ptrTo(true), AllowPrivilegeEscalation: ptrTo(false),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			}}},
		}
	}
	pods := map[string]struct {
		change func(*corev1.PodSpec)
		want   map[string][]string
	}{
		"hardened": {change: func(*corev1.PodSpec) {}, want: map[string][]string{}},
		"no security context at all": {
			change: func(p *corev1.PodSpec) { p.SecurityContext, p.Containers[0].SecurityContext = nil, nil },
			want: map[string][]string{"container c": {
				"runAsNonRoot is not true (pod or container)", "runAsUser is not set (pod or container)",
				"readOnlyRootFilesystem is not true", "allowPrivilegeEscalation is not false",
				`capabilities.drop does not hold "ALL"`, "seccompProfile is not RuntimeDefault (pod or container)",
			}},
		},
		"root, privileged, with a capability, unconfined": {
			change: func(p *corev1.PodSpec) {
				sc := p.Containers[0].SecurityContext
				sc.RunAsUser, sc.Privileged = ptrTo[int64](0), ptrTo(true)
				sc.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
				sc.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
			},
			want: map[string][]string{"container c": {"runs as user 0", "is privileged", "adds capabilities [NET_ADMIN]", "seccompProfile is not RuntimeDefault (pod or container)"}},
		},
		"non-root without a user": {
			change: func(p *corev1.PodSpec) { p.SecurityContext.RunAsUser = nil },
			want:   map[string][]string{"container c": {"runAsUser is not set (pod or container)"}},
		},
		"the host's network": {change: func(p *corev1.PodSpec) { p.HostNetwork = true }, want: map[string][]string{"pod": {"shares the host's network, PID or IPC namespace"}}},
	}
	for name, tc := range pods {
		t.Run(name, func(t *testing.T) {
			pod := hardened()
			tc.change(&pod)
			if diff := cmp.Diff(tc.want, hardeningProblems(pod)); diff != "" {
				t.Errorf("hardeningProblems (-want +got):\n%s", diff)
			}
		})
	}
}

type (
	vap        = admissionregistrationv1.ValidatingAdmissionPolicy
	vapBinding = admissionregistrationv1.ValidatingAdmissionPolicyBinding
)

// TestPrivilegeApprovalPolicyCoverage: the operator trusts approvals only while the
// approval policy and its binding cover every LearningEvent. A policy or binding that
// leaves some out (by selectors on the policy, by the binding's resource rules) must be
// reported as PolicyMissing, as the binding's own selectors are.
func TestPrivilegeApprovalPolicyCoverage(t *testing.T) {
	objs, err := testutil.ApprovalObjects()
	if err != nil {
		t.Fatal(err)
	}
	var shipped []manifest
	for _, o := range objs {
		shipped = append(shipped, manifest{file: "config/admission/approval_policy.yaml", obj: o})
	}
	installed := func(t *testing.T) (policy *vap, binding *vapBinding) {
		t.Helper()
		for _, m := range shipped {
			switch m.obj.GetKind() {
			case "ValidatingAdmissionPolicy":
				policy = decodeAs[vap](t, m)
			case "ValidatingAdmissionPolicyBinding":
				binding = decodeAs[vapBinding](t, m)
			}
		}
		if policy == nil || binding == nil {
			t.Fatal("config/admission/approval_policy.yaml: want a ValidatingAdmissionPolicy and its binding")
		}
		return policy, binding
	}
	learningEvents := admissionregistrationv1.NamedRuleWithOperations{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.OperationAll},
		Rule:       admissionregistrationv1.Rule{APIGroups: []string{learningv1alpha1.GroupVersion.Group}, APIVersions: []string{"*"}, Resources: []string{"learningevents"}},
	}}
	somewhere := &metav1.LabelSelector{MatchLabels: map[string]string{"approvals": "checked"}}
	cases := map[string]struct {
		change  func(*vap, *vapBinding)
		trusted bool
	}{
		"as shipped": {change: func(*vap, *vapBinding) {}, trusted: true},
		"the binding selects namespaces": {change: func(_ *vap, b *vapBinding) {
			b.Spec.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: somewhere}
		}},
		"the binding excludes learningevents": {change: func(_ *vap, b *vapBinding) {
			b.Spec.MatchResources = &admissionregistrationv1.MatchResources{ExcludeResourceRules: []admissionregistrationv1.NamedRuleWithOperations{learningEvents}}
		}},
		"the policy selects namespaces": {change: func(p *vap, _ *vapBinding) {
			p.Spec.MatchConstraints.NamespaceSelector = somewhere
		}},
		"the policy selects objects": {change: func(p *vap, _ *vapBinding) {
			p.Spec.MatchConstraints.ObjectSelector = somewhere
		}},
		"the policy excludes learningevents": {change: func(p *vap, _ *vapBinding) {
			p.Spec.MatchConstraints.ExcludeResourceRules = []admissionregistrationv1.NamedRuleWithOperations{learningEvents}
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			policy, binding := installed(t)
			tc.change(policy, binding)
			r := &ProgramReconciler{ApprovalPolicy: testutil.ApprovalPolicy}
			r.Client = fake.NewClientBuilder().WithScheme(testutil.Scheme()).WithObjects(policy, binding).Build()
			missing, err := r.approvalPolicyMissing(t.Context(), r.Client)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.trusted && missing != "":
				t.Errorf("approvalPolicyMissing: %q; want the shipped policy and binding trusted", missing)
			case !tc.trusted && missing == "":
				t.Errorf("approvalPolicyMissing: approvals trusted, but the policy %s no longer checks every LearningEvent; want PolicyMissing", policy.Name)
			}
		})
	}
}

// TestPrivilegeOwnerReferences: where the OwnerReferencesPermissionEnforcement admission
// plugin is on (OpenShift enables it), setting blockOwnerDeletion on an owner reference
// needs update on the owner's finalizers subresource. Every owner the operator sets it
// for must have that rule in the manager's role, or its children are refused there.
func TestPrivilegeOwnerReferences(t *testing.T) {
	plural := map[string]string{} // kind -> resource of the API's CRDs
	var manager []rbacv1.PolicyRule
	for _, m := range configManifests(t) {
		switch {
		case m.obj.GetKind() == "CustomResourceDefinition":
			kind, _, _ := unstructured.NestedString(m.obj.Object, "spec", "names", "kind")
			plural[kind], _, _ = unstructured.NestedString(m.obj.Object, "spec", "names", "plural")
		case m.file == managerRoleFile && m.obj.GetKind() == "ClusterRole":
			manager = decodeAs[rbacv1.ClusterRole](t, m).Rules
		}
	}
	community := &learningv1alpha1.CommunityOfPractice{ObjectMeta: metav1.ObjectMeta{Namespace: childrenNamespace, Name: "allyship", UID: "5d0c-community-uid"}}
	children := append(buildChildren(t, childrenCohort("spring", true), childrenPublication(), childrenPortal), approversBinding(community, "CommunityOfPractice", community.Spec.Approvers, DefaultApproverClusterRole))
	seen := map[string]bool{}
	for _, child := range children {
		for _, ref := range child.GetOwnerReferences() {
			if ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion || seen[ref.Kind] {
				continue
			}
			seen[ref.Kind] = true
			resource := plural[ref.Kind] + "/finalizers"
			if plural[ref.Kind] == "" {
				t.Errorf("%s %s: owner kind %s is not a CRD under config/crd", kindName(child), child.GetName(), ref.Kind)
				continue
			}
			granted := slices.ContainsFunc(manager, func(r rbacv1.PolicyRule) bool {
				return slices.Contains(r.APIGroups, learningv1alpha1.GroupVersion.Group) && slices.Contains(r.Resources, resource) &&
					slices.Contains(r.Verbs, "update") && len(r.ResourceNames) == 0
			})
			if !granted {
				t.Errorf("%s %s is owned by a %s with blockOwnerDeletion, but %s grants no update on %s.%s: add a +kubebuilder:rbac marker for it",
					kindName(child), child.GetName(), ref.Kind, managerRoleFile, resource, learningv1alpha1.GroupVersion.Group)
			}
		}
	}
	if len(seen) == 0 {
		t.Error("no owner reference with blockOwnerDeletion among the operator's children; the check saw nothing")
	}
}
