package kubectlcohort

import (
	"context"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// scheme knows the built-in kinds (SelfSubjectReview among them) and the
// learning.cohort.dev kinds.
var scheme = func() *k8sruntime.Scheme {
	s := k8sruntime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(learningv1alpha1.AddToScheme(s))
	return s
}()

// newClient loads the kubeconfig as kubectl does ($KUBECONFIG or ~/.kube/config
// unless --kubeconfig names one, the current context unless --context names one) and
// returns a client authenticated as its user and the namespace to work in: -n, else
// the context's namespace, else default; with --as, acting as that user, as kubectl
// does. The API server's warnings go to warnings.
func newClient(o *options, warnings io.Writer) (client.Client, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.context}
	overrides.Context.Namespace = o.namespace
	overrides.AuthInfo.Impersonate = o.as
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	if o.context != "" {
		// Said as kubectl says it, rather than as a list of what the missing context
		// leaves undefined.
		raw, err := loader.RawConfig()
		if err != nil {
			return nil, "", err
		}
		if _, ok := raw.Contexts[o.context]; !ok {
			return nil, "", fmt.Errorf("context %q does not exist", o.context)
		}
	}
	namespace, _, err := loader.Namespace()
	if err != nil {
		return nil, "", err
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", err
	}
	cfg.UserAgent = "kubectl-cohort"
	cfg.WarningHandler = rest.NewWarningWriter(warnings, rest.WarningWriterOptions{Deduplicate: true})
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, "", fmt.Errorf("connecting to the cluster: %w", err)
	}
	return c, namespace, nil
}

// cohort reads the named cohort.
func (s *session) cohort(ctx context.Context, name string) (*learningv1alpha1.Cohort, error) {
	c := &learningv1alpha1.Cohort{}
	if err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: name}, c); err != nil {
		return nil, err
	}
	return c, nil
}

// cohortAndMemberships reads the named cohort and lists the memberships of the
// namespace.
func (s *session) cohortAndMemberships(ctx context.Context, name string) (*learningv1alpha1.Cohort, []learningv1alpha1.Membership, error) {
	cohort, err := s.cohort(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	memberships, err := s.memberships(ctx)
	if err != nil {
		return nil, nil, err
	}
	return cohort, memberships, nil
}

// memberships lists the memberships of the namespace.
func (s *session) memberships(ctx context.Context) ([]learningv1alpha1.Membership, error) {
	list := &learningv1alpha1.MembershipList{}
	if err := s.client.List(ctx, list, client.InNamespace(s.namespace)); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// runRoster prints the roster of a cohort.
func runRoster(ctx context.Context, s *session, name string) error {
	cohort, memberships, err := s.cohortAndMemberships(ctx, name)
	if err != nil {
		return err
	}
	r := BuildRoster(cohort, memberships, s.opts.hideUsers)
	if s.opts.output != outputTable {
		return writeData(s.out, s.opts.output, r)
	}
	if len(r.Members) == 0 {
		_, err := fmt.Fprintf(s.err, "No memberships of cohort %s found in %s namespace.\n", name, s.namespace)
		return err
	}
	return r.WriteTable(s.out)
}

// runAttendance prints the attendance grid of a cohort. The community's policy sets
// the threshold unless the cohort's does; a community that does not exist sets none.
func runAttendance(ctx context.Context, s *session, name string) error {
	cohort, err := s.cohort(ctx, name)
	if err != nil {
		return err
	}
	var community *learningv1alpha1.CommunityOfPractice
	if ref := cohort.Spec.CommunityRef; ref != nil {
		community = &learningv1alpha1.CommunityOfPractice{}
		err := s.client.Get(ctx, client.ObjectKey{Namespace: s.namespace, Name: string(ref.Name)}, community)
		switch {
		case apierrors.IsNotFound(err):
			community = nil
		case err != nil:
			return err
		}
	}
	memberships, err := s.memberships(ctx)
	if err != nil {
		return err
	}
	events := &learningv1alpha1.LearningEventList{}
	if err := s.client.List(ctx, events, client.InNamespace(s.namespace)); err != nil {
		return err
	}
	g := BuildAttendance(cohort, community, memberships, events.Items, s.clock.Now())
	if s.opts.output != outputTable {
		return writeData(s.out, s.opts.output, g)
	}
	return g.WriteTable(s.out)
}

// runStatus prints a cohort's status explained.
func runStatus(ctx context.Context, s *session, name string) error {
	cohort, err := s.cohort(ctx, name)
	if err != nil {
		return err
	}
	r := BuildStatus(cohort)
	if s.opts.output != outputTable {
		return writeData(s.out, s.opts.output, r)
	}
	return r.WriteText(s.out)
}

// runApprove approves an event as the caller and prints the outcome, or with -o the
// event as last read, as kubectl patch does. The review (and the prompt) go to
// stdout, or to stderr with -o, so that stdout holds only the data.
func runApprove(ctx context.Context, s *session, name string) error {
	a := approval{expectHash: s.opts.expectHash, wait: s.opts.wait, show: s.out}
	if s.opts.output != outputTable {
		a.show = s.err
	}
	if s.interactive && a.expectHash == "" {
		a.confirm = promptConfirm(a.show, s.in)
	}
	e, result, err := approveEvent(ctx, s.client, client.ObjectKey{Namespace: s.namespace, Name: name}, a)
	if err != nil {
		return err
	}
	if s.opts.output != outputTable {
		e.APIVersion, e.Kind = learningv1alpha1.GroupVersion.String(), "LearningEvent"
		e.ManagedFields = nil
		return writeData(s.out, s.opts.output, e)
	}
	return result.WriteText(s.out)
}
