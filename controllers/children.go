package controllers

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/names"
	"github.com/cohort-dev/cohort-operator/internal/program"
)

// Labels of every object the operator provisions for a cohort. The manager's cache
// holds only objects carrying ManagedByLabel=ManagedBy, so it never caches the rest of
// the cluster's ConfigMaps, Roles or Deployments.
const (
	// ManagedByLabel marks an object the operator provisioned.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedBy is ManagedByLabel's value.
	ManagedBy = "cohort-operator"
	// CohortLabel names the cohort an object was provisioned for (names.CohortLabel).
	CohortLabel = "learning.cohort.dev/cohort"
	// ComponentLabel says which service of the cohort an object belongs to: access,
	// documents or portal.
	ComponentLabel = "app.kubernetes.io/component"
	// NameLabel and InstanceLabel select a cohort's portal pods.
	NameLabel     = "app.kubernetes.io/name"
	InstanceLabel = "app.kubernetes.io/instance"
)

// Components of a cohort's services.
const (
	componentAccess    = "access"
	componentDocuments = "documents"
	componentPortal    = "portal"
	componentPlans     = "plans"
)

// portalName is the NameLabel value of portal pods.
const portalName = "cohort-portal"

// PortalPort is the port the portal serves on, named "http" in its pod and Service.
const PortalPort = 8080

// PortalConfig is how cohort portals are run.
type PortalConfig struct {
	// Image is the operator image; the portal is its `portal` mode.
	Image string
	// ImagePullSecrets name Secrets, in each cohort's namespace, that the portal's pods
	// pull Image with (a private registry).
	ImagePullSecrets []string
	// IngressFrom are the CIDRs the portal's NetworkPolicy admits: the API server's
	// addresses, so that members reach the portal through its service proxy. Nothing
	// is admitted when empty.
	IngressFrom []string
	// SharedNamespaces are the namespaces whose cohorts one shared portal serves
	// (`cohort-operator portal --shared`, run by the chart): no cohort there gets a
	// portal of its own, and a cohort's PortalAvailable condition points to the
	// shared one.
	SharedNamespaces []string
}

// shared reports whether the cohort's namespace is served by a shared portal.
func (c PortalConfig) shared(cohort *learningv1alpha1.Cohort) bool {
	return slices.Contains(c.SharedNamespaces, cohort.Namespace)
}

// ownPortal reports whether the cohort gets a portal of its own: it asks for one and
// its namespace has no shared portal.
func (c PortalConfig) ownPortal(cohort *learningv1alpha1.Cohort) bool {
	return portalEnabled(cohort) && !c.shared(cohort)
}

// childNames are the derived names of a cohort's provisioned objects. Each follows the
// one naming rule (names.Derive), so it never changes once an object exists.
type childNames struct {
	Read, Edit                  string // members' Roles and RoleBindings
	Roster, Calendar, Overview  string // ConfigMaps
	Portal                      string // ServiceAccount, Role, RoleBinding, Deployment, NetworkPolicy
	PortalService               string // Service (a DNS-1035 label)
	cohortLabel, cohortName, ns string
}

func namesOf(cohort *learningv1alpha1.Cohort) childNames {
	derive := func(suffix string) string { return names.Derive(cohort.Name, suffix, names.ObjectLimit) }
	return childNames{
		Read:          derive("read"),
		Edit:          derive("edit"),
		Roster:        derive("roster"),
		Calendar:      derive("calendar"),
		Overview:      derive("overview"),
		Portal:        derive("portal"),
		PortalService: names.DNS1035(cohort.Name, "portal"),
		cohortLabel:   names.CohortLabel(cohort.Name),
		cohortName:    cohort.Name,
		ns:            cohort.Namespace,
	}
}

// proxyNames are the resource names under which the API server authorizes the service
// proxy of the portal's Service: the Service alone, with its port, and with scheme
// and port (as in /api/v1/namespaces/NS/services/NAME:http/proxy/).
func (n childNames) proxyNames() []string {
	return []string{n.PortalService, n.PortalService + ":http", "http:" + n.PortalService + ":http"}
}

// meta is the metadata of a child: its name, the cohort's labels and a controller
// reference to the cohort, so that deleting the cohort collects it.
func (n childNames) meta(cohort *learningv1alpha1.Cohort, name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      name,
		Namespace: cohort.Namespace,
		Labels: map[string]string{
			ManagedByLabel: ManagedBy,
			CohortLabel:    n.cohortLabel,
			ComponentLabel: component,
		},
		OwnerReferences: []metav1.OwnerReference{controllerRef(cohort, "Cohort")},
	}
}

// controllerRef is a controller reference to one of the API's objects, so that
// deleting it lets the garbage collector remove what was provisioned for it.
func controllerRef(owner client.Object, kind string) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         learningv1alpha1.GroupVersion.String(),
		Kind:               kind,
		Name:               owner.GetName(),
		UID:                owner.GetUID(),
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}

// desiredChildren are every object a cohort's services consist of, given its
// publication. Access objects come first: while the cohort is suspended, only they
// are applied. The documents come rendered with the publication, so nothing here
// fails and access never waits on them.
func desiredChildren(cohort *learningv1alpha1.Cohort, pub program.Publication, portal PortalConfig) []client.Object {
	n := namesOf(cohort)
	objs := accessChildren(cohort, n, pub, portal.ownPortal(cohort))
	objs = append(objs, documentChildren(cohort, n, pub)...)
	if portal.ownPortal(cohort) {
		objs = append(objs, portalChildren(cohort, n, pub, portal)...)
	}
	return objs
}

func portalEnabled(cohort *learningv1alpha1.Cohort) bool {
	s := cohort.Spec.Services
	return s != nil && s.Portal != nil && s.Portal.Enabled
}

// accessChildren are the members' Roles and RoleBindings: Read may read the cohort, its
// documents and its portal; Edit may also read and update the cohort's own events
// (those whose spec.cohortRef names it), whose attendance notes hold the reasons for
// absences, so no Read role gets them, and community-wide events are readable by no
// member role. A rule is left out rather than written with no resource names, which
// would grant every object of the kind. The rules name every derived name; provisioning
// takes out those in conflict (withoutConflicts) once the live objects are known.
func accessChildren(cohort *learningv1alpha1.Cohort, n childNames, pub program.Publication, ownPortal bool) []client.Object {
	read := []rbacv1.PolicyRule{
		{APIGroups: []string{learningv1alpha1.GroupVersion.Group}, Resources: []string{"cohorts"}, ResourceNames: []string{cohort.Name}, Verbs: []string{"get"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: n.documentParts(pub), Verbs: []string{"get"}},
	}
	if ownPortal {
		read = append(read, rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"services/proxy"}, ResourceNames: n.proxyNames(), Verbs: []string{"get"}})
	}
	// The one rule without names: RBAC cannot limit create by name, which the new
	// object does not have yet. The action-plan admission policy binds each plan to
	// the user who creates it (spec.owner), and the plan grants below give access to
	// it by name once it exists.
	read = append(read, rbacv1.PolicyRule{APIGroups: []string{learningv1alpha1.GroupVersion.Group}, Resources: []string{"actionplans"}, Verbs: []string{"create"}})
	edit := slices.Clone(read)
	if len(pub.OwnEvents) > 0 {
		edit = append(edit, rbacv1.PolicyRule{APIGroups: []string{learningv1alpha1.GroupVersion.Group}, Resources: []string{"learningevents"}, ResourceNames: pub.OwnEvents, Verbs: []string{"get", "update", "patch"}})
	}
	// Leads write the narrative of their program's reports; the admission policy
	// keeps the figures the operator's and the approval the approvers'.
	if len(pub.Reports) > 0 {
		edit = append(edit, rbacv1.PolicyRule{APIGroups: []string{learningv1alpha1.GroupVersion.Group}, Resources: []string{"programreports"}, ResourceNames: pub.Reports, Verbs: []string{"get", "update", "patch"}})
	}
	objs := []client.Object{
		&rbacv1.Role{ObjectMeta: n.meta(cohort, n.Read, componentAccess), Rules: read},
		&rbacv1.Role{ObjectMeta: n.meta(cohort, n.Edit, componentAccess), Rules: edit},
		memberBinding(cohort, n, n.Read, pub.Read),
		memberBinding(cohort, n, n.Edit, pub.Edit),
	}
	for _, g := range pub.Plans {
		objs = append(objs, planAccess(cohort, n, g)...)
	}
	return objs
}

// planAccess is one member's access to ActionPlans by name: a Role, named after the
// member's seated membership, that may get, update and patch the plans they own (or
// their team's) and get the plans they are the partner of, and its RoleBinding to the
// member. Neither Role of the cohort grants plans: a lead with Edit access reads a
// plan's counts in the cohort's status, not the plan.
func planAccess(cohort *learningv1alpha1.Cohort, n childNames, g program.PlanGrant) []client.Object {
	name := names.Derive(g.Membership, "plans", names.ObjectLimit)
	group := []string{learningv1alpha1.GroupVersion.Group}
	var rules []rbacv1.PolicyRule
	if len(g.Update) > 0 {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: group, Resources: []string{"actionplans"}, ResourceNames: g.Update, Verbs: []string{"get", "update", "patch"}})
	}
	if len(g.Get) > 0 {
		rules = append(rules, rbacv1.PolicyRule{APIGroups: group, Resources: []string{"actionplans"}, ResourceNames: g.Get, Verbs: []string{"get"}})
	}
	binding := memberBinding(cohort, n, name, []string{g.User})
	binding.Labels[ComponentLabel] = componentPlans
	return []client.Object{
		&rbacv1.Role{ObjectMeta: n.meta(cohort, name, componentPlans), Rules: rules},
		binding,
	}
}

func memberBinding(cohort *learningv1alpha1.Cohort, n childNames, name string, users []string) *rbacv1.RoleBinding {
	subjects := make([]rbacv1.Subject, 0, len(users))
	for _, u := range users {
		subjects = append(subjects, rbacv1.Subject{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: u})
	}
	return &rbacv1.RoleBinding{
		ObjectMeta: n.meta(cohort, name, componentAccess),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   subjects,
	}
}

// portalProbe is an HTTP probe of the portal's port.
//
// The portal binds its port first and serves /healthz at once, /readyz once its first
// load of the documents (a few GETs) succeeded. The kubelet runs the readiness probe the
// moment the container starts, before the process could listen, and records every
// failed probe as an Event; the startup probe (GET /healthz from 1 s after the start,
// every second) holds the readiness probe back until the portal listens, by when it
// has normally loaded, so a normal start fails no probe and the pod is Ready within
// about two seconds.
func portalProbe(path string, initialDelay, period, failures int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}},
		InitialDelaySeconds: initialDelay,
		TimeoutSeconds:      1,
		PeriodSeconds:       period,
		SuccessThreshold:    1,
		FailureThreshold:    failures,
	}
}

// pullSecrets refers to the named Secrets; nil when there are none.
func pullSecrets(names []string) []corev1.LocalObjectReference {
	var refs []corev1.LocalObjectReference
	for _, name := range names {
		refs = append(refs, corev1.LocalObjectReference{Name: name})
	}
	return refs
}

// portalDeployment runs the operator image in portal mode for the cohort: restricted
// security context as a numeric non-root user, the pull secrets of cfg, and probes
// that a normal start never fails (portalProbe).
func portalDeployment(cohort *learningv1alpha1.Cohort, n childNames, cfg PortalConfig, selector, podLabels map[string]string) *appsv1.Deployment {
	replicas := int32(1)
	if r := cohort.Spec.Services.Portal.Replicas; r != nil {
		replicas = *r
	}
	return &appsv1.Deployment{
		ObjectMeta: n.meta(cohort, n.Portal, componentPortal),
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					ServiceAccountName:           n.Portal,
					AutomountServiceAccountToken: ptr.To(true),
					ImagePullSecrets:             pullSecrets(cfg.ImagePullSecrets),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						RunAsUser:      ptr.To[int64](65532),
						RunAsGroup:     ptr.To[int64](65532),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:  "portal",
						Image: cfg.Image,
						Args: []string{
							"portal",
							"--namespace=" + cohort.Namespace,
							"--cohort=" + cohort.Name,
							"--roster-configmap=" + n.Roster,
							"--calendar-configmap=" + n.Calendar,
							"--overview-configmap=" + n.Overview,
							fmt.Sprintf("--address=:%d", PortalPort),
						},
						Ports:          []corev1.ContainerPort{{Name: "http", ContainerPort: PortalPort, Protocol: corev1.ProtocolTCP}},
						StartupProbe:   portalProbe("/healthz", 1, 1, 30),
						ReadinessProbe: portalProbe("/readyz", 0, 10, 3),
						LivenessProbe:  portalProbe("/healthz", 0, 10, 3),
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
						},
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false),
							ReadOnlyRootFilesystem:   ptr.To(true),
							RunAsNonRoot:             ptr.To(true),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
					}},
				},
			},
		},
	}
}

// portalChildren run the cohort's portal: a ServiceAccount that may get the cohort's
// documents and nothing else, a Deployment of the operator image in portal mode, a
// ClusterIP Service, and a NetworkPolicy that admits only the API server (its service
// proxy) to the portal's pods.
func portalChildren(cohort *learningv1alpha1.Cohort, n childNames, pub program.Publication, cfg PortalConfig) []client.Object {
	selector := map[string]string{NameLabel: portalName, InstanceLabel: n.cohortLabel}
	podLabels := map[string]string{NameLabel: portalName, InstanceLabel: n.cohortLabel, ManagedByLabel: ManagedBy, CohortLabel: n.cohortLabel, ComponentLabel: componentPortal}
	deployment := portalDeployment(cohort, n, cfg, selector, podLabels)
	service := &corev1.Service{
		ObjectMeta: n.meta(cohort, n.PortalService, componentPortal),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: selector,
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}},
		},
	}
	var from []networkingv1.NetworkPolicyPeer
	for _, cidr := range cfg.IngressFrom {
		from = append(from, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
	}
	policy := &networkingv1.NetworkPolicy{
		ObjectMeta: n.meta(cohort, n.Portal, componentPortal),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: selector},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
		},
	}
	if len(from) > 0 {
		port := intstr.FromString("http")
		policy.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{
			From:  from,
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: &port}},
		}}
	}
	return []client.Object{
		&corev1.ServiceAccount{ObjectMeta: n.meta(cohort, n.Portal, componentPortal), AutomountServiceAccountToken: ptr.To(true)},
		&rbacv1.Role{ObjectMeta: n.meta(cohort, n.Portal, componentPortal), Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: n.documentParts(pub), Verbs: []string{"get"}},
		}},
		&rbacv1.RoleBinding{
			ObjectMeta: n.meta(cohort, n.Portal, componentPortal),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: n.Portal},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: n.Portal, Namespace: cohort.Namespace}},
		},
		deployment,
		service,
		policy,
	}
}
