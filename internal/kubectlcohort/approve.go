package kubectlcohort

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
)

// refusal is a precondition approve checks before asking the API server: the event
// is not one an approval can be given for as read, or the caller did not confirm.
type refusal struct{ error }

// contentRefusal refuses to approve and shows the event's content as it is now, with
// its hash: the content is not the one reviewed, or nobody could be asked to
// confirm it. Nothing was approved.
type contentRefusal struct {
	// reason and next are the first and the last line, the program's own words with
	// any text read from the cluster escaped.
	reason, next string
	current      Review
}

// Error is the reason, the content as it is now and what to do next, on several
// lines; the content is escaped.
func (r *contentRefusal) Error() string {
	var b strings.Builder
	b.WriteString(r.reason + "\n")
	_ = r.current.WriteText(&b) // a strings.Builder does not fail
	b.WriteString(r.next)
	return b.String()
}

// Review is the content an approval is given for, as approve shows it before
// approving: what the content hash covers, and the hash.
type Review struct {
	Event, Namespace string
	Title            string
	Description      string
	Location         string
	Audience         learningv1alpha1.Audience
	// Start is spec.start; TimeZone is spec.timeZone, the zone it is shown in.
	Start    time.Time
	TimeZone learningv1alpha1.TimeZone
	Duration time.Duration
	// ContentHash is the operator's hash of this content.
	ContentHash string
	// Pending is true when the operator has not hashed this content yet (its status
	// is behind the spec): ContentHash was computed with the operator's own function,
	// program.ContentHash, and is the hash the operator will report.
	Pending bool
}

// BuildReview reads the content to approve from an event, with its content hash. It
// refuses an event that is not External (only External events take an approval),
// and one whose status.contentHash, current for its generation, is not the hash
// program.ContentHash computes for its spec: the operator and this plugin would then
// hash content differently (different versions of the canonical form), and approve
// approves no hash the operator does not compute.
//
// While the operator has not hashed the latest change (status.observedGeneration
// behind metadata.generation, or no status.contentHash yet), the hash is computed
// with program.ContentHash, the function the operator hashes with: what is approved
// is the content shown, which the approval patch pins by its resourceVersion.
func BuildReview(e *learningv1alpha1.LearningEvent) (Review, error) {
	ref := "learningevent/" + e.Name
	if e.Spec.Audience != learningv1alpha1.ExternalAudience {
		return Review{}, refusal{fmt.Errorf("%s is not External (spec.audience is %s): only External events need an approval", ref, orNone(string(e.Spec.Audience)))}
	}
	hash := program.ContentHash(&e.Spec)
	pending := e.Status.ContentHash == "" || e.Status.ObservedGeneration < e.Generation
	if !pending && e.Status.ContentHash != hash {
		return Review{}, refusal{fmt.Errorf("%s: status.contentHash %s is not the hash of the event's content as this plugin computes it (%s): the operator and the plugin hash content differently (are their versions the same?); approve refuses rather than approve a hash the operator does not compute",
			ref, e.Status.ContentHash, hash)}
	}
	return Review{
		Event: e.Name, Namespace: e.Namespace,
		Title: e.Spec.Title, Description: e.Spec.Description, Location: e.Spec.Location, Audience: e.Spec.Audience,
		Start: e.Spec.Start.Time, TimeZone: e.Spec.TimeZone, Duration: e.Spec.Duration.Duration,
		ContentHash: hash, Pending: pending,
	}, nil
}

// WriteText writes the content for people, every field read from the event escaped:
// the description's line breaks show as \n, so that no line of it can pass for a
// line of the review.
func (r Review) WriteText(w io.Writer) error {
	loc, zone := time.UTC, string(r.TimeZone)
	if l, err := time.LoadLocation(zone); err == nil && zone != "" && zone != "Local" {
		loc = l
	} else if zone != "" && zone != "UTC" {
		zone += ", unknown here: shown in UTC"
	}
	const layout = "Mon 2006-01-02 15:04 MST"
	hash := r.ContentHash
	if r.Pending {
		hash += " (computed: the operator has not reported it for this change yet)"
	}
	p := &printer{w: w}
	p.printf("learningevent/%s in namespace %s, the content to approve:\n", r.Event, r.Namespace)
	t := newTable(w)
	t.row("  Title:", r.Title)
	t.row("  Start:", fmt.Sprintf("%s (%s; %s)", r.Start.In(loc).Format(layout), cmp.Or(zone, "UTC"), r.Start.UTC().Format(time.RFC3339)))
	t.row("  Duration:", fmt.Sprintf("%s, until %s", r.Duration, r.Start.Add(r.Duration).In(loc).Format(layout)))
	t.row("  Audience:", string(r.Audience))
	t.row("  Location:", orNone(r.Location))
	t.row("  Description:", orNone(r.Description))
	t.row("  Content hash:", hash)
	if p.err != nil {
		return p.err
	}
	return t.flush()
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

// approval is how approveEvent approves.
type approval struct {
	// expectHash is the content hash the caller reviewed: approve approves only it.
	expectHash string
	// confirm asks the caller whether to approve the review shown; nil when nobody
	// can be asked (stdin is not a terminal). Not used with expectHash.
	confirm func() (bool, error)
	// show receives the review before approving, and the prompt.
	show io.Writer
	// wait is how long to wait for the operator's Approved condition.
	wait time.Duration
}

// approveEvent approves an event as the caller for the content it shows: it reads the
// event, builds its Review, checks the hash against expectHash (or refuses when
// there is neither an expected hash nor anyone to confirm), shows the review, asks
// for confirmation when it may, and patches spec.approval with patchApproval,
// conditional on the resourceVersion of the content shown. It then waits up to
// a.wait for the operator's Approved condition of the new generation. It returns the
// event as last read.
func approveEvent(ctx context.Context, c client.Client, key client.ObjectKey, a approval) (*learningv1alpha1.LearningEvent, ApprovalResult, error) {
	result := ApprovalResult{Event: key.Name, Namespace: key.Namespace}
	e := &learningv1alpha1.LearningEvent{}
	if err := c.Get(ctx, key, e); err != nil {
		return nil, result, err
	}
	review, err := BuildReview(e)
	if err != nil {
		return nil, result, err
	}
	switch {
	case a.expectHash != "" && a.expectHash != review.ContentHash:
		return nil, result, &contentRefusal{
			reason: fmt.Sprintf("learningevent/%s: the content changed since review: you reviewed %s, its content hash is now %s; nothing was approved. Its content now:",
				key.Name, escape(a.expectHash), review.ContentHash),
			next:    fmt.Sprintf("Review it and, to approve it, run approve again with --expect-hash %s", review.ContentHash),
			current: review,
		}
	case a.expectHash == "" && a.confirm == nil:
		return nil, result, &contentRefusal{
			reason:  fmt.Sprintf("learningevent/%s: not approved: stdin is not a terminal, so approve cannot ask you to confirm the content it approves; pass the hash you reviewed with --expect-hash. The content now:", key.Name),
			next:    fmt.Sprintf("To approve exactly this content: kubectl cohort approve %s -n %s --expect-hash %s", key.Name, key.Namespace, review.ContentHash),
			current: review,
		}
	}
	if result.Approver, err = whoAmI(ctx, c); err != nil {
		return nil, result, err
	}
	result.ContentHash = review.ContentHash
	if err := review.WriteText(a.show); err != nil {
		return nil, result, err
	}
	result.AlreadyApproved = approvedBy(e, result.Approver, review.ContentHash)
	if !result.AlreadyApproved {
		if a.expectHash == "" && a.confirm != nil {
			ok, err := a.confirm()
			if err != nil {
				return nil, result, err
			}
			if !ok {
				return nil, result, refusal{fmt.Errorf("learningevent/%s not approved: you did not answer y; nothing changed", key.Name)}
			}
		}
		if result.AlreadyApproved, err = patchApproval(ctx, c, e, review, result.Approver); err != nil {
			return nil, result, err
		}
	}
	result.Generation = e.Generation
	if err := waitForApproved(ctx, c, e, &result, a.wait); err != nil {
		return nil, result, err
	}
	return e, result, nil
}

// approvedBy reports whether the event carries the approval of approver for hash.
func approvedBy(e *learningv1alpha1.LearningEvent, approver, hash string) bool {
	a := e.Spec.Approval
	return a != nil && a.Approver == approver && a.ContentHash == hash
}

// maxConflicts is how many times patchApproval reads an event that changed while
// approving before it gives up.
const maxConflicts = 5

// patchApproval patches spec.approval of e (as read, with the content shown) with
// ApprovalPatch, conditional on e's resourceVersion. On a conflict it never retries
// blindly: it reads the event again and refuses when its content hash is not the
// one shown, so that a change made meanwhile is never approved; only when the
// content is the same (a status write, an attendance record) does it patch again,
// on the new resourceVersion. It reports whether the event, read again, carried the
// approval already. e holds the event as last read or patched.
func patchApproval(ctx context.Context, c client.Client, e *learningv1alpha1.LearningEvent, shown Review, approver string) (bool, error) {
	key := client.ObjectKeyFromObject(e)
	for conflicts := 0; ; conflicts++ {
		patch, err := ApprovalPatch(approver, shown.ContentHash, e.ResourceVersion)
		if err != nil {
			return false, err
		}
		// A field manager of its own, not starting with "kubectl", so that GitOps tools
		// that take over kubectl's fields (Flux) leave the approval alone.
		err = c.Patch(ctx, e, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(ApprovalFieldManager))
		switch {
		case !apierrors.IsConflict(err):
			return false, err
		case conflicts+1 >= maxConflicts:
			return false, fmt.Errorf("learningevent/%s kept changing while approving (%d conflicts); nothing was approved: run approve again: %w", key.Name, maxConflicts, err)
		}
		if err := c.Get(ctx, key, e); err != nil {
			return false, err
		}
		current, err := BuildReview(e)
		if err != nil {
			return false, err
		}
		if current.ContentHash != shown.ContentHash {
			return false, &contentRefusal{
				reason: fmt.Sprintf("learningevent/%s: the content changed while approving: it was %s as shown above, it is now %s; nothing was approved. Its content now:",
					key.Name, shown.ContentHash, current.ContentHash),
				next:    fmt.Sprintf("Review it and, to approve it, run approve again with --expect-hash %s", current.ContentHash),
				current: current,
			}
		}
		if approvedBy(e, approver, shown.ContentHash) {
			return true, nil
		}
	}
}

// waitForApproved waits up to waitFor for the operator's Approved condition of
// result.Generation and records it in result; e holds the event as last read.
func waitForApproved(ctx context.Context, c client.Client, e *learningv1alpha1.LearningEvent, result *ApprovalResult, waitFor time.Duration) error {
	approved := func(e *learningv1alpha1.LearningEvent) bool {
		c := apimeta.FindStatusCondition(e.Status.Conditions, learningv1alpha1.ApprovedCondition)
		if c == nil || e.Status.ObservedGeneration < result.Generation || c.ObservedGeneration < result.Generation {
			return false
		}
		result.Approved = c
		return true
	}
	result.Waited = waitFor
	if approved(e) || waitFor <= 0 {
		return nil
	}
	key := client.ObjectKeyFromObject(e)
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, waitFor, true, func(ctx context.Context) (bool, error) {
		if err := c.Get(ctx, key, e); err != nil {
			return false, err
		}
		return approved(e), nil
	})
	if err != nil && !wait.Interrupted(err) {
		return fmt.Errorf("waiting for the Approved condition: %w", err)
	}
	return nil
}

// promptConfirm asks "Approve this content? [y/N]" on w and reads the answer from
// in: y or yes (in any case) approves; anything else, or no answer, does not.
func promptConfirm(w io.Writer, in io.Reader) func() (bool, error) {
	return func() (bool, error) {
		p := &printer{w: w}
		p.raw("Approve this content? [y/N] ")
		if p.err != nil {
			return false, p.err
		}
		answer, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("reading your answer: %w", err)
		}
		switch strings.ToLower(strings.TrimSpace(answer)) {
		case "y", "yes":
			return true, nil
		}
		return false, nil
	}
}
