package kubectlcohort

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// refusal is a precondition approve checks before asking the API server: the event
// is not one an approval can be given for as read.
type refusal struct{ error }

// CheckApprovable refuses an event that cannot be approved for the content its status
// describes: one that is not External (only External events take an approval), one
// without status.contentHash (the operator has not hashed it yet), and one whose
// status.observedGeneration is behind metadata.generation (the content changed after
// the operator hashed it, so the hash may be stale and the approval would be for
// other content than the caller saw).
func CheckApprovable(e *learningv1alpha1.LearningEvent) error {
	ref := "learningevent/" + e.Name
	switch {
	case e.Spec.Audience != learningv1alpha1.ExternalAudience:
		return refusal{fmt.Errorf("%s is not External (spec.audience is %s): only External events need an approval", ref, orNone(string(e.Spec.Audience)))}
	case e.Status.ContentHash == "":
		return refusal{fmt.Errorf("%s has no status.contentHash yet: the operator has not hashed its content; wait for it and run approve again", ref)}
	case e.Status.ObservedGeneration < e.Generation:
		return refusal{fmt.Errorf("%s changed after the operator last hashed it (status.observedGeneration %d, metadata.generation %d), so status.contentHash may not match its content; wait for the operator to catch up and run approve again",
			ref, e.Status.ObservedGeneration, e.Generation)}
	}
	return nil
}

// ApprovalFieldManager is the field manager of the approvals the plugin writes.
const ApprovalFieldManager = "cohort-approval"

// ApprovalPatch is the JSON merge patch that approves an event as approver for the
// content hash: it sets spec.approval and nothing else. The resourceVersion makes it
// conditional: it fails with a conflict when the event changed after it was read and
// checked, so that nobody approves content they did not see.
func ApprovalPatch(approver, contentHash, resourceVersion string) ([]byte, error) {
	return json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": resourceVersion},
		"spec":     map[string]any{"approval": learningv1alpha1.Approval{Approver: approver, ContentHash: contentHash}},
	})
}

// ApprovalResult is what approve did and what the operator reported afterwards. With
// -o json or yaml, approve prints the event instead, as kubectl patch does.
type ApprovalResult struct {
	Event       string
	Namespace   string
	Approver    string
	ContentHash string
	// AlreadyApproved is true when the event carried this approval already, so
	// nothing was patched.
	AlreadyApproved bool
	// Generation is the event's generation with the approval.
	Generation int64
	// Approved is the Approved condition once the operator reported it for
	// Generation; nil when it did not within the wait.
	Approved *metav1.Condition
	// Waited is how long approve waited for it at most.
	Waited time.Duration
}

// WriteText writes the result for people.
func (r ApprovalResult) WriteText(w io.Writer) error {
	p := &printer{w: w}
	ref := "learningevent.learning.cohort.dev/" + r.Event
	if r.AlreadyApproved {
		p.printf("%s already approved by %s for its current content (%s)\n", ref, r.Approver, r.ContentHash)
	} else {
		p.printf("%s approved by %s for content %s\n", ref, r.Approver, r.ContentHash)
	}
	c := r.Approved
	if c == nil {
		waited := fmt.Sprintf("The operator has not reported the Approved condition for generation %d within %s", r.Generation, r.Waited)
		if r.Waited == 0 {
			waited = "Not waiting for the operator's Approved condition (--wait=0)"
		}
		p.printf("%s; look later: kubectl -n %s get learningevent %s -o jsonpath='{.status.conditions[?(@.type==\"Approved\")]}'\n",
			waited, r.Namespace, r.Event)
		return p.err
	}
	p.printf("Approved=%s (%s): %s\n", c.Status, c.Reason, sentence(c.Message))
	switch c.Reason {
	case learningv1alpha1.PolicyMissingReason:
		p.printf("Next: the operator trusts no approval while the admission policy that verifies approvers, or its binding, is missing: ask a cluster administrator to install config/admission.\n")
	case learningv1alpha1.ContentChangedReason:
		p.printf("Next: the content changed after you approved it: review it and run approve again.\n")
	}
	return p.err
}

// whoAmI asks the API server who the caller is, with a SelfSubjectReview.
func whoAmI(ctx context.Context, c client.Client) (string, error) {
	review := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, review); err != nil {
		return "", fmt.Errorf("asking the API server who you are (SelfSubjectReview): %w", err)
	}
	if review.Status.UserInfo.Username == "" {
		return "", errors.New("the API server did not say who you are (SelfSubjectReview returned no user name)")
	}
	return review.Status.UserInfo.Username, nil
}

// approveEvent approves an event as the caller: it reads the event, checks it with
// CheckApprovable, asks who the caller is and patches spec.approval with
// ApprovalPatch, reading and checking again when the event changed in between. It
// then waits up to wait for the operator's Approved condition of the new generation.
// It returns the event as last read.
func approveEvent(ctx context.Context, c client.Client, key client.ObjectKey, waitFor time.Duration) (*learningv1alpha1.LearningEvent, ApprovalResult, error) {
	result := ApprovalResult{Event: key.Name, Namespace: key.Namespace}
	e := &learningv1alpha1.LearningEvent{}
	err := retry.OnError(retry.DefaultRetry, apierrors.IsConflict, func() error {
		if err := c.Get(ctx, key, e); err != nil {
			return err
		}
		if err := CheckApprovable(e); err != nil {
			return err
		}
		if result.Approver == "" {
			user, err := whoAmI(ctx, c)
			if err != nil {
				return err
			}
			result.Approver = user
		}
		result.ContentHash = e.Status.ContentHash
		if a := e.Spec.Approval; a != nil && a.Approver == result.Approver && a.ContentHash == result.ContentHash {
			result.AlreadyApproved = true
			return nil
		}
		patch, err := ApprovalPatch(result.Approver, result.ContentHash, e.ResourceVersion)
		if err != nil {
			return err
		}
		// A field manager of its own, not starting with "kubectl", so that GitOps tools
		// that take over kubectl's fields (Flux) leave the approval alone.
		return c.Patch(ctx, e, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(ApprovalFieldManager))
	})
	if err != nil {
		return nil, result, err
	}
	result.Generation = e.Generation
	approved := func(e *learningv1alpha1.LearningEvent) bool {
		c := apimeta.FindStatusCondition(e.Status.Conditions, learningv1alpha1.ApprovedCondition)
		if c == nil || e.Status.ObservedGeneration < result.Generation || c.ObservedGeneration < result.Generation {
			return false
		}
		result.Approved = c
		return true
	}
	if !approved(e) && waitFor > 0 {
		err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, waitFor, true, func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, key, e); err != nil {
				return false, err
			}
			return approved(e), nil
		})
		if err != nil && !wait.Interrupted(err) {
			return nil, result, fmt.Errorf("waiting for the Approved condition: %w", err)
		}
	}
	result.Waited = waitFor
	return e, result, nil
}
