package kubectlcohort

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
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

func TestBuildReview(t *testing.T) {
	internal := external()
	internal.Spec.Audience = learningv1alpha1.InternalAudience
	unhashed := external()
	unhashed.Status.ContentHash = ""
	behind := external()
	behind.Generation = 3
	behind.Spec.Title = "A title the operator has not hashed yet"
	skewed := external()
	skewed.Status.ContentHash = "v2:sha256:abc"
	cases := map[string]struct {
		event       *learningv1alpha1.LearningEvent
		wantPending bool
		want        string // a fragment of the refusal; empty when approvable
	}{
		"current External event":    {event: external()},
		"Internal event":            {event: internal, want: "learningevent/launch is not External (spec.audience is Internal)"},
		"no content hash yet":       {event: unhashed, wantPending: true},
		"status behind the spec":    {event: behind, wantPending: true},
		"operator hashes otherwise": {event: skewed, want: "status.contentHash v2:sha256:abc is not the hash of the event's content as this plugin computes it"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := BuildReview(tc.event)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("approvable, want refused with %q", tc.want)
			case tc.want != "":
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("refused with %q, want %q", err, tc.want)
				}
				return
			}
			// The hash is always the operator's function of the spec shown.
			if r.ContentHash != program.ContentHash(&tc.event.Spec) || r.Pending != tc.wantPending || r.Title != tc.event.Spec.Title {
				t.Errorf("review %+v, want the hash of the spec, pending %v", r, tc.wantPending)
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

// conflictErr is the API server's answer to a patch on a stale resourceVersion.
func conflictErr(name string) error {
	return apierrors.NewConflict(schema.GroupResource{Group: learningv1alpha1.GroupVersion.Group, Resource: "learningevents"}, name, errors.New("the object has been modified"))
}

// fakeCluster holds one event and answers a SelfSubjectReview as the approver;
// patch, when set, intercepts patches of the event.
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

// answer is a confirmation prompt that answers yes or no and counts its questions.
type answer struct {
	yes   bool
	asked int
}

func (a *answer) confirm() (bool, error) {
	a.asked++
	return a.yes, nil
}

// stored reads the event back from the fake cluster.
func stored(t *testing.T, c client.Client, e *learningv1alpha1.LearningEvent) *learningv1alpha1.LearningEvent {
	t.Helper()
	got := &learningv1alpha1.LearningEvent{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(e), got); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestApproveFlows runs approve's decisions on one event: the hash reviewed against
// the event's, and a person's confirmation when no hash is given.
func TestApproveFlows(t *testing.T) {
	hash := external().Status.ContentHash
	cases := map[string]struct {
		expectHash string
		// prompt answers when set; nil is stdin that is not a terminal.
		prompt       *answer
		wantApproved bool
		wantAsked    int
		wantErr      []string // fragments of the refusal
		wantShown    bool     // the review was written before approving
	}{
		"expected hash matches": {expectHash: hash, wantApproved: true, wantShown: true},
		"expected hash is not the content's": {expectHash: "v1:sha256:reviewed-before-an-edit", wantErr: []string{
			"learningevent/launch: the content changed since review: you reviewed v1:sha256:reviewed-before-an-edit, its content hash is now " + hash + "; nothing was approved",
			"Title:", "Content hash:   " + hash, "run approve again with --expect-hash " + hash,
		}},
		"expected hash, a terminal does not ask": {expectHash: hash, prompt: &answer{}, wantApproved: true, wantShown: true},
		"not a terminal and no hash":             {wantErr: []string{"stdin is not a terminal", "pass the hash you reviewed with --expect-hash", "Content hash:   " + hash, "kubectl cohort approve launch -n programs --expect-hash " + hash}},
		"a terminal, answered yes":               {prompt: &answer{yes: true}, wantApproved: true, wantAsked: 1, wantShown: true},
		"a terminal, answered no":                {prompt: &answer{}, wantAsked: 1, wantShown: true, wantErr: []string{"learningevent/launch not approved: you did not answer y"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := external()
			c := fakeCluster(e, nil)
			var shown bytes.Buffer
			a := approval{expectHash: tc.expectHash, show: &shown}
			if tc.prompt != nil {
				a.confirm = tc.prompt.confirm
			}
			got, result, err := approveEvent(context.Background(), c, client.ObjectKeyFromObject(e), a)
			for _, f := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), f) {
					t.Errorf("error %v, want one saying %q", err, f)
				}
			}
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.prompt != nil && tc.prompt.asked != tc.wantAsked {
				t.Errorf("asked %d times, want %d", tc.prompt.asked, tc.wantAsked)
			}
			if tc.wantShown != strings.Contains(shown.String(), "Content hash:   "+hash) {
				t.Errorf("shown before approving:\n%s", shown.String())
			}
			approval := stored(t, c, e).Spec.Approval
			if !tc.wantApproved {
				if approval != nil {
					t.Errorf("approved %+v", approval)
				}
				return
			}
			want := &learningv1alpha1.Approval{Approver: "pillar-lead", ContentHash: hash}
			if diff := cmp.Diff(want, approval); diff != "" {
				t.Errorf("approval (-want +got):\n%s", diff)
			}
			if got == nil || result.ContentHash != hash || result.Approver != "pillar-lead" || result.AlreadyApproved {
				t.Errorf("result %+v", result)
			}
		})
	}
}

// TestApproveWhileTheOperatorLags: the event changed after the operator last hashed
// it; approve computes the hash with the operator's function, shows it marked as
// computed, and approves that, which is the hash the operator will report.
func TestApproveWhileTheOperatorLags(t *testing.T) {
	e := external()
	e.Spec.Title = "A new title"
	e.Generation = 3
	want := program.ContentHash(&e.Spec)
	c := fakeCluster(e, nil)
	var shown bytes.Buffer
	if _, _, err := approveEvent(context.Background(), c, client.ObjectKeyFromObject(e), approval{expectHash: want, show: &shown}); err != nil {
		t.Fatal(err)
	}
	if a := stored(t, c, e).Spec.Approval; a == nil || a.ContentHash != want {
		t.Errorf("approval %+v, want the hash %s", a, want)
	}
	if !strings.Contains(shown.String(), want+" (computed: the operator has not reported it for this change yet)") {
		t.Errorf("shown:\n%s", shown.String())
	}
}

// TestApproveReadsAgainAfterAConflict: the operator wrote the event's status between
// approve's read and its patch; approve reads it again, finds the content it showed,
// and approves it on the new resourceVersion.
func TestApproveReadsAgainAfterAConflict(t *testing.T) {
	e := external()
	var versions []string
	c := fakeCluster(e, func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
		versions = append(versions, obj.GetResourceVersion())
		if len(versions) == 1 {
			touched := &learningv1alpha1.LearningEvent{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(obj), touched); err != nil {
				return err
			}
			touched.Status.Phase = learningv1alpha1.EventInProgress
			if err := c.Status().Update(ctx, touched); err != nil {
				return err
			}
			return conflictErr(obj.GetName())
		}
		return c.Patch(ctx, obj, p, opts...)
	})
	got, result, err := approveEvent(context.Background(), c, client.ObjectKeyFromObject(e), approval{expectHash: e.Status.ContentHash, show: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[0] == versions[1] {
		t.Errorf("patched on resourceVersions %v, want two, the second the one read again", versions)
	}
	want := &learningv1alpha1.Approval{Approver: "pillar-lead", ContentHash: e.Status.ContentHash}
	if diff := cmp.Diff(want, got.Spec.Approval); diff != "" {
		t.Errorf("approval (-want +got):\n%s", diff)
	}
	if result.Approver != "pillar-lead" || result.AlreadyApproved || result.Approved != nil {
		t.Errorf("result %+v", result)
	}
}

// TestApproveRefusesContentChangedBeforeThePatch: a facilitator edited the event
// after the approver confirmed what was shown, before the patch, so the patch
// conflicts; read again, the content hash is not the one shown, and approve refuses,
// showing the new content, rather than approve content nobody saw.
func TestApproveRefusesContentChangedBeforeThePatch(t *testing.T) {
	e := external()
	shownHash := e.Status.ContentHash
	patches := 0
	c := fakeCluster(e, func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
		patches++
		edited := &learningv1alpha1.LearningEvent{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), edited); err != nil {
			return err
		}
		edited.Spec.Title, edited.Generation = "A title nobody approved", edited.Generation+1
		if err := c.Update(ctx, edited); err != nil {
			return err
		}
		return conflictErr(obj.GetName())
	})
	yes := &answer{yes: true}
	_, _, err := approveEvent(context.Background(), c, client.ObjectKeyFromObject(e), approval{confirm: yes.confirm, show: io.Discard})
	var r *contentRefusal
	if !errors.As(err, &r) || !strings.Contains(err.Error(), "the content changed while approving: it was "+shownHash) || !strings.Contains(err.Error(), "Title:          A title nobody approved") {
		t.Fatalf("approve after a concurrent edit: %v, want a refusal showing the new content", err)
	}
	if patches != 1 {
		t.Errorf("%d patches, want 1: no patch after the content changed", patches)
	}
	if a := stored(t, c, e).Spec.Approval; a != nil {
		t.Errorf("approved %+v", a)
	}
}

// TestApproveGivesUpOnConflicts: an event that conflicts on every patch is never
// approved, and approve stops after maxConflicts tries.
func TestApproveGivesUpOnConflicts(t *testing.T) {
	e := external()
	patches := 0
	c := fakeCluster(e, func(_ context.Context, _ client.WithWatch, obj client.Object, _ client.Patch, _ ...client.PatchOption) error {
		patches++
		return conflictErr(obj.GetName())
	})
	_, _, err := approveEvent(context.Background(), c, client.ObjectKeyFromObject(e), approval{expectHash: e.Status.ContentHash, show: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "kept changing while approving") || !apierrors.IsConflict(err) {
		t.Errorf("error %v, want a conflict", err)
	}
	if patches != maxConflicts {
		t.Errorf("%d patches, want %d", patches, maxConflicts)
	}
}

// TestPromptConfirm reads answers as a terminal gives them.
func TestPromptConfirm(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, " y \n": true, "n\n": false, "\n": false, "": false, "yes please\n": false, "y": true} {
		var out bytes.Buffer
		got, err := promptConfirm(&out, strings.NewReader(in))()
		if err != nil || got != want {
			t.Errorf("answer %q: %v, %v, want %v", in, got, err, want)
		}
		if out.String() != "Approve this content? [y/N] " {
			t.Errorf("prompt %q", out.String())
		}
	}
}
