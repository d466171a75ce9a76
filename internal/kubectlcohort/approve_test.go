package kubectlcohort

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// external is an External event whose status is current.
func external() *learningv1alpha1.LearningEvent {
	e := testutil.Gathering(ns, "launch", "allyship-2026", noon(time.December, 1))
	e.Spec.Audience = learningv1alpha1.ExternalAudience
	e.Generation = 2
	e.Status.ObservedGeneration = 2
	e.Status.ContentHash = program.ContentHash(&e.Spec)
	return e
}

func TestCheckApprovable(t *testing.T) {
	internal := external()
	internal.Spec.Audience = learningv1alpha1.InternalAudience
	unhashed := external()
	unhashed.Status.ContentHash = ""
	behind := external()
	behind.Generation = 3
	cases := map[string]struct {
		event *learningv1alpha1.LearningEvent
		want  string // a fragment of the refusal; empty when approvable
	}{
		"current External event": {external(), ""},
		"Internal event":         {internal, "learningevent/launch is not External (spec.audience is Internal)"},
		"no content hash yet":    {unhashed, "has no status.contentHash yet"},
		"status behind the spec": {behind, "status.observedGeneration 2, metadata.generation 3"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckApprovable(tc.event)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("approvable, want refused with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("refused with %q, want %q", err, tc.want)
			}
		})
	}
}

func TestApprovalPatch(t *testing.T) {
	patch, err := ApprovalPatch("pillar-lead", "v1:sha256:abc", "42")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(patch, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"metadata": map[string]any{"resourceVersion": "42"},
		"spec":     map[string]any{"approval": map[string]any{"approver": "pillar-lead", "contentHash": "v1:sha256:abc"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("patch (-want +got):\n%s", diff)
	}
}

func TestApprovalResultText(t *testing.T) {
	approved := cond(learningv1alpha1.ApprovedCondition, condTrue, learningv1alpha1.ApprovedReason, "approved by pillar-lead")
	missing := cond(learningv1alpha1.ApprovedCondition, condFalse, learningv1alpha1.PolicyMissingReason, "approved by pillar-lead, but approvals are not trusted: policy cohort-approvals not found")
	base := ApprovalResult{Event: "launch", Namespace: ns, Approver: "pillar-lead", ContentHash: "v1:sha256:abc", Generation: 3, Waited: 5 * time.Second}
	cases := map[string]struct {
		result ApprovalResult
		want   string
	}{
		"approved": {withCondition(base, &approved), `learningevent.learning.cohort.dev/launch approved by pillar-lead for content v1:sha256:abc
Approved=True (Approved): approved by pillar-lead.
`},
		"not reported": {base, `learningevent.learning.cohort.dev/launch approved by pillar-lead for content v1:sha256:abc
The operator has not reported the Approved condition for generation 3 within 5s; look later: kubectl -n programs get learningevent launch -o jsonpath='{.status.conditions[?(@.type=="Approved")]}'
`},
		"policy missing": {withCondition(base, &missing), `learningevent.learning.cohort.dev/launch approved by pillar-lead for content v1:sha256:abc
Approved=False (PolicyMissing): approved by pillar-lead, but approvals are not trusted: policy cohort-approvals not found.
Next: the operator trusts no approval while the admission policy that verifies approvers, or its binding, is missing: ask a cluster administrator to install config/admission.
`},
	}
	already := withCondition(base, &approved)
	already.AlreadyApproved = true
	cases["already approved"] = struct {
		result ApprovalResult
		want   string
	}{already, `learningevent.learning.cohort.dev/launch already approved by pillar-lead for its current content (v1:sha256:abc)
Approved=True (Approved): approved by pillar-lead.
`}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if err := tc.result.WriteText(&out); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, out.String()); diff != "" {
				t.Errorf("text (-want +got):\n%s", diff)
			}
		})
	}
}

func withCondition(r ApprovalResult, c *metav1.Condition) ApprovalResult {
	r.Approved = c
	return r
}

// fakeCluster holds one event and answers a SelfSubjectReview as the approver;
// patch intercepts patches of the event.
func fakeCluster(e *learningv1alpha1.LearningEvent, patch func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error) client.Client {
	base := fake.NewClientBuilder().WithScheme(scheme).WithObjects(e).WithStatusSubresource(e).Build()
	return interceptor.NewClient(base, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if review, ok := obj.(*authenticationv1.SelfSubjectReview); ok {
				review.Status.UserInfo.Username = "pillar-lead"
				return nil
			}
			return c.Create(ctx, obj, opts...)
		},
		Patch: patch,
	})
}

// TestApproveReadsAgainAfterAConflict: the operator wrote the event's status between
// approve's read and its patch; approve reads it again and approves.
func TestApproveReadsAgainAfterAConflict(t *testing.T) {
	e := external()
	patches := 0
	c := fakeCluster(e, func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
		patches++
		if patches == 1 {
			return apierrors.NewConflict(schema.GroupResource{Group: learningv1alpha1.GroupVersion.Group, Resource: "learningevents"}, obj.GetName(), errors.New("the object has been modified"))
		}
		return c.Patch(ctx, obj, p, opts...)
	})
	got, result, err := approveEvent(context.Background(), c, client.ObjectKeyFromObject(e), 0)
	if err != nil {
		t.Fatal(err)
	}
	if patches != 2 {
		t.Errorf("%d patches, want 2", patches)
	}
	want := &learningv1alpha1.Approval{Approver: "pillar-lead", ContentHash: e.Status.ContentHash}
	if diff := cmp.Diff(want, got.Spec.Approval); diff != "" {
		t.Errorf("approval (-want +got):\n%s", diff)
	}
	if result.Approver != "pillar-lead" || result.AlreadyApproved || result.Approved != nil {
		t.Errorf("result %+v", result)
	}
}

// TestApproveRefusesContentChangedBeforeThePatch: someone edited the event between
// approve's read and its patch, so the patch conflicts; read again, the event's
// status is behind, and approve refuses rather than approve content nobody saw.
func TestApproveRefusesContentChangedBeforeThePatch(t *testing.T) {
	e := external()
	c := fakeCluster(e, func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
		edited := &learningv1alpha1.LearningEvent{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), edited); err != nil {
			return err
		}
		edited.Spec.Title, edited.Generation = "A title nobody approved", edited.Generation+1
		if err := c.Update(ctx, edited); err != nil {
			return err
		}
		return apierrors.NewConflict(schema.GroupResource{Group: learningv1alpha1.GroupVersion.Group, Resource: "learningevents"}, obj.GetName(), errors.New("the object has been modified"))
	})
	_, _, err := approveEvent(context.Background(), c, client.ObjectKeyFromObject(e), 0)
	var r refusal
	if !errors.As(err, &r) || !strings.Contains(err.Error(), "changed after the operator last hashed it") {
		t.Fatalf("approve after a concurrent edit: %v, want a refusal", err)
	}
	stored := &learningv1alpha1.LearningEvent{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(e), stored); err != nil {
		t.Fatal(err)
	}
	if stored.Spec.Approval != nil {
		t.Errorf("approved %+v", stored.Spec.Approval)
	}
}
