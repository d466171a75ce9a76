package testutil

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// ApprovalActor names who attempts an action of the approval matrix.
type ApprovalActor string

// The four identities of the approval matrix.
const (
	// ApprovalApprover is listed in the community's spec.approvers (or bound by hand
	// to the approvers' ClusterRole, as the operator binds them).
	ApprovalApprover ApprovalActor = "approver"
	// ApprovalFacilitator holds a seat in a role with access Edit: may update and
	// patch the cohort's events, but not approve them.
	ApprovalFacilitator ApprovalActor = "facilitator"
	// ApprovalMember holds a seat in a role with access Read.
	ApprovalMember ApprovalActor = "member"
	// ApprovalOutsider has no grant at all.
	ApprovalOutsider ApprovalActor = "outsider"
)

// The user names of the four identities (certificate users in the suites).
const (
	ApproverUser    = "ap-approver@example.org"
	FacilitatorUser = "ap-facilitator@example.org"
	MemberUser      = "ap-member@example.org"
	OutsiderUser    = "ap-outsider"
)

// Messages the API server denies with, as fragments the rows look for. The policy's
// messages are config/admission/approval_policy.yaml's; the others are RBAC's and the
// CRD's.
const (
	// DeniedVerbApprove is the policy's message when the requester may not use the
	// verb approve on the event.
	DeniedVerbApprove = `may not approve or withdraw the approval of learningevents/`
	// DeniedNotThemselves is the policy's message when spec.approval.approver is not
	// the requester.
	DeniedNotThemselves = `spec.approval.approver: must be the user making the request`
)

// ApprovalMatrix is where the approval matrix runs: one namespace with an External
// and an Internal LearningEvent of a cohort, the four identities and their clients.
// Its rows are the attempts whose outcome the admission policy and RBAC decide alone,
// so they give the same answer with the operator running or stopped, provided the
// grants the operator would make are in place.
type ApprovalMatrix struct {
	// Namespace holds the events; Cohort is the cohort they belong to.
	Namespace, Cohort string
	// External and Internal name an External and an Internal LearningEvent of the
	// cohort; External starts in the future and has no approval when the rows start.
	External, Internal string
	// Membership names the Membership whose attendance the attendance rows record.
	Membership string
	// Users are the actors' user names; Clients authenticate as them.
	Users   map[ApprovalActor]string
	Clients map[ApprovalActor]client.Client
	// Reader reads events as the administrator. Every attempt starts from the
	// event as stored: the content hash is not a secret, so an attacker knows it.
	Reader client.Reader
	// Hash is the content hash an approver signs for an event as read:
	// status.contentHash with the operator running, computed without it.
	Hash func(*learningv1alpha1.LearningEvent) string
}

// ApprovalRow is one attempted action and the answer the API server must give.
type ApprovalRow struct {
	// ID names the row for callers that check effects after it.
	ID string
	// Name says what is attempted, by whom.
	Name  string
	Actor ApprovalActor
	Do    func(ctx context.Context, c client.Client) error
	// Deny is empty when the action must be admitted; otherwise the status reason
	// the API server must refuse it with (Forbidden or Invalid), and Message a
	// fragment of its message naming why.
	Deny    metav1.StatusReason
	Message string
}

// Expected says what the row expects, as the matrix prints it.
func (r ApprovalRow) Expected() string {
	if r.Deny == "" {
		return "allowed"
	}
	return fmt.Sprintf("denied (%s: %q)", r.Deny, r.Message)
}

// Attempt runs the row once as its actor. It returns what happened, as the matrix
// prints it, and an error when that is not what the row expects.
func (m ApprovalMatrix) Attempt(ctx context.Context, r ApprovalRow) (string, error) {
	c, ok := m.Clients[r.Actor]
	if !ok {
		return "", fmt.Errorf("no client for actor %s", r.Actor)
	}
	err := r.Do(ctx, c)
	var status apierrors.APIStatus
	observed := "allowed"
	if err != nil {
		observed = "error: " + err.Error()
		if errors.As(err, &status) {
			observed = fmt.Sprintf("denied (%s: %s)", apierrors.ReasonForError(err), err.Error())
		}
	}
	switch {
	case r.Deny == "" && err != nil:
		return observed, fmt.Errorf("%s: want allowed, got %w", r.Name, err)
	case r.Deny == "":
		return observed, nil
	case err == nil:
		return observed, fmt.Errorf("%s: allowed, want %s", r.Name, r.Expected())
	case apierrors.ReasonForError(err) != r.Deny:
		return observed, fmt.Errorf("%s: got %s (%w), want %s", r.Name, apierrors.ReasonForError(err), err, r.Expected())
	case !strings.Contains(err.Error(), r.Message):
		return observed, fmt.Errorf("%s: the message %q does not say %q", r.Name, err.Error(), r.Message)
	}
	return observed, nil
}

// AdmissionRows are the rows about spec.approval and ordinary edits, in the order
// they run: each starts from the state the previous ones left. The External event
// ends approved for its current content, with the facilitator's attendance recorded
// and a new title.
func (m ApprovalMatrix) AdmissionRows() []ApprovalRow {
	approver, facilitator := m.Users[ApprovalApprover], m.Users[ApprovalFacilitator]
	ext := m.External
	forbidden := func(verb string) string {
		return fmt.Sprintf(`cannot %s resource "learningevents" in API group "%s"`, verb, learningv1alpha1.GroupVersion.Group)
	}
	return []ApprovalRow{
		{ID: "outsider-approves", Name: "an outsider approves the External event as themselves", Actor: ApprovalOutsider,
			Do: m.Approve(ext, m.Users[ApprovalOutsider]), Deny: metav1.StatusReasonForbidden, Message: forbidden("patch")},
		{ID: "member-approves", Name: "a seated member approves the External event as themselves", Actor: ApprovalMember,
			Do: m.Approve(ext, m.Users[ApprovalMember]), Deny: metav1.StatusReasonForbidden, Message: forbidden("patch")},
		{ID: "facilitator-self-approves", Name: "the facilitator approves with approver set to themselves", Actor: ApprovalFacilitator,
			Do: m.Approve(ext, facilitator), Deny: metav1.StatusReasonForbidden, Message: DeniedVerbApprove + ext},
		{ID: "facilitator-writes-approver", Name: "the facilitator writes the approver's name into spec.approval", Actor: ApprovalFacilitator,
			Do: m.Approve(ext, approver), Deny: metav1.StatusReasonForbidden, Message: DeniedVerbApprove + ext},
		{ID: "approver-names-other", Name: "the approver approves naming the facilitator as approver", Actor: ApprovalApprover,
			Do: m.Approve(ext, facilitator), Deny: metav1.StatusReasonForbidden, Message: DeniedNotThemselves},
		{ID: "approve", Name: "the approver approves the current content hash as themselves (merge patch)", Actor: ApprovalApprover,
			Do: m.Approve(ext, approver)},
		{ID: "facilitator-attendance", Name: "the facilitator records attendance on the approved event (update)", Actor: ApprovalFacilitator,
			Do: m.RecordAttendance(ext, m.Membership, learningv1alpha1.AttendanceExcused)},
		{ID: "member-attendance", Name: "a seated member records attendance (update)", Actor: ApprovalMember,
			Do: m.RecordAttendance(ext, m.Membership, learningv1alpha1.AttendancePresent), Deny: metav1.StatusReasonForbidden, Message: forbidden("update")},
		{ID: "edit-title", Name: "the facilitator edits the approved event's title (merge patch)", Actor: ApprovalFacilitator,
			Do: m.EditTitle(ext, "Public launch, second draft")},
		{ID: "facilitator-restamps", Name: "the facilitator re-stamps the approver's approval with the new hash", Actor: ApprovalFacilitator,
			Do: m.Approve(ext, approver), Deny: metav1.StatusReasonForbidden, Message: DeniedVerbApprove + ext},
		{ID: "facilitator-withdraws", Name: "the facilitator removes the approval", Actor: ApprovalFacilitator,
			Do: m.Withdraw(ext), Deny: metav1.StatusReasonForbidden, Message: DeniedVerbApprove + ext},
		{ID: "outsider-withdraws", Name: "an outsider removes the approval", Actor: ApprovalOutsider,
			Do: m.Withdraw(ext), Deny: metav1.StatusReasonForbidden, Message: forbidden("patch")},
		{ID: "withdraw", Name: "the approver removes the approval", Actor: ApprovalApprover,
			Do: m.Withdraw(ext)},
		{ID: "reapprove", Name: "the approver approves the new content as themselves", Actor: ApprovalApprover,
			Do: m.Approve(ext, approver)},
		{ID: "malformed-no-hash", Name: "the approver sets an approval without contentHash", Actor: ApprovalApprover,
			Do:   m.SetApproval(ext, map[string]any{"approver": approver}),
			Deny: metav1.StatusReasonInvalid, Message: "spec.approval.contentHash: Required value"},
		{ID: "malformed-empty-approver", Name: "the approver sets an approval with an empty approver", Actor: ApprovalApprover,
			Do:   m.SetApproval(ext, map[string]any{"approver": "", "contentHash": zeroHash}),
			Deny: metav1.StatusReasonInvalid, Message: "spec.approval.approver"},
		{ID: "malformed-no-approver", Name: "the approver sets an approval without approver", Actor: ApprovalApprover,
			Do:   m.SetApproval(ext, map[string]any{"contentHash": zeroHash}),
			Deny: metav1.StatusReasonInvalid, Message: "spec.approval.approver: Required value"},
		{ID: "malformed-hash", Name: "the approver sets a contentHash of another form", Actor: ApprovalApprover,
			Do:   m.SetApproval(ext, map[string]any{"approver": approver, "contentHash": "md5:0123"}),
			Deny: metav1.StatusReasonInvalid, Message: "spec.approval.contentHash"},
		{ID: "malformed-string", Name: "the approver sets spec.approval to a string", Actor: ApprovalApprover,
			Do:   m.SetApproval(ext, "yes"),
			Deny: metav1.StatusReasonInvalid, Message: "spec.approval"},
		{ID: "approve-internal", Name: "the approver approves an Internal event", Actor: ApprovalApprover,
			Do:   m.Approve(m.Internal, approver),
			Deny: metav1.StatusReasonInvalid, Message: "spec.approval is only allowed when spec.audience is External"},
		{ID: "facilitator-edits-internal", Name: "the facilitator edits the Internal event's title", Actor: ApprovalFacilitator,
			Do: m.EditTitle(m.Internal, "Circle, moved online")},
	}
}

// CreateRows are creates of External events, which need the verb create on
// learningevents: the operator grants it to nobody, so the caller grants it by hand
// to the approver and the facilitator. prefix starts the names of the events
// created.
func (m ApprovalMatrix) CreateRows(prefix string) []ApprovalRow {
	approver, facilitator := m.Users[ApprovalApprover], m.Users[ApprovalFacilitator]
	return []ApprovalRow{
		{ID: "create-approved", Name: "the approver creates an External event approved by themselves", Actor: ApprovalApprover,
			Do: m.CreateExternal(prefix+"-approved", "", approver)},
		{ID: "create-approved-by-other", Name: "the approver creates an External event approved in the facilitator's name", Actor: ApprovalApprover,
			Do: m.CreateExternal(prefix+"-other", "", facilitator), Deny: metav1.StatusReasonForbidden, Message: DeniedNotThemselves},
		// The API server names an object created with generateName before validating
		// admission runs, so the policy checks the verb on the generated name.
		{ID: "create-generate-name", Name: "the approver creates an approved External event with generateName", Actor: ApprovalApprover,
			Do: m.CreateExternal("", prefix+"-gen-", approver)},
		{ID: "facilitator-creates-generate-name", Name: "the facilitator creates an approved External event with generateName", Actor: ApprovalFacilitator,
			Do: m.CreateExternal("", prefix+"-gen-", facilitator), Deny: metav1.StatusReasonForbidden, Message: DeniedVerbApprove + prefix + "-gen-"},
		{ID: "facilitator-creates-approved", Name: "the facilitator creates an External event approved by themselves", Actor: ApprovalFacilitator,
			Do: m.CreateExternal(prefix+"-self", "", facilitator), Deny: metav1.StatusReasonForbidden, Message: DeniedVerbApprove + prefix + "-self"},
		{ID: "facilitator-creates-in-approvers-name", Name: "the facilitator creates an External event approved in the approver's name", Actor: ApprovalFacilitator,
			Do: m.CreateExternal(prefix+"-forged", "", approver), Deny: metav1.StatusReasonForbidden, Message: DeniedVerbApprove + prefix + "-forged"},
		{ID: "facilitator-creates", Name: "the facilitator creates an External event without approval", Actor: ApprovalFacilitator,
			Do: m.CreateExternal(prefix+"-draft", "", "")},
	}
}

// zeroHash is a well-formed content hash of no content.
const zeroHash = "v1:sha256:0000000000000000000000000000000000000000000000000000000000000000"

// event reads an event as the administrator.
func (m ApprovalMatrix) event(ctx context.Context, name string) (*learningv1alpha1.LearningEvent, error) {
	e := &learningv1alpha1.LearningEvent{}
	if err := m.Reader.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: name}, e); err != nil {
		return nil, fmt.Errorf("reading event %s: %w", name, err)
	}
	return e, nil
}

// Approve sets spec.approval of an event to approver and the event's current
// content hash with a JSON merge patch, as `kubectl patch --type=merge` does.
func (m ApprovalMatrix) Approve(event, approver string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		e, err := m.event(ctx, event)
		if err != nil {
			return err
		}
		return mergePatch(ctx, c, e, map[string]any{"approval": map[string]any{"approver": approver, "contentHash": m.Hash(e)}})
	}
}

// Withdraw removes spec.approval of an event with a JSON merge patch.
func (m ApprovalMatrix) Withdraw(event string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		e, err := m.event(ctx, event)
		if err != nil {
			return err
		}
		return mergePatch(ctx, c, e, map[string]any{"approval": nil})
	}
}

// EditTitle changes an event's title with a JSON merge patch.
func (m ApprovalMatrix) EditTitle(event, title string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		e, err := m.event(ctx, event)
		if err != nil {
			return err
		}
		return mergePatch(ctx, c, e, map[string]any{"title": title})
	}
}

// SetApproval replaces spec.approval with value, well-formed or not, with a JSON
// patch, so that nothing of an approval already there is merged in.
func (m ApprovalMatrix) SetApproval(event string, value any) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		e, err := m.event(ctx, event)
		if err != nil {
			return err
		}
		patch, err := json.Marshal([]map[string]any{{"op": "add", "path": "/spec/approval", "value": value}})
		if err != nil {
			return err
		}
		return c.Patch(ctx, e, client.RawPatch(types.JSONPatchType, patch))
	}
}

// RecordAttendance sets a membership's attendance on an event with an update of the
// whole object as stored, spec.approval included and unchanged.
func (m ApprovalMatrix) RecordAttendance(event, membership string, status learningv1alpha1.AttendanceStatus) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			e, err := m.event(ctx, event)
			if err != nil {
				return err
			}
			recorded := false
			for i := range e.Spec.Attendance {
				if string(e.Spec.Attendance[i].Member) == membership {
					e.Spec.Attendance[i].Status, recorded = status, true
				}
			}
			if !recorded {
				e.Spec.Attendance = append(e.Spec.Attendance, Attended(membership, status))
			}
			return c.Update(ctx, e)
		})
	}
}

// CreateExternal creates an External event of the cohort named name (or with
// generateName), approved by approver for its content when approver is not empty.
func (m ApprovalMatrix) CreateExternal(name, generateName, approver string) func(context.Context, client.Client) error {
	return func(ctx context.Context, c client.Client) error {
		e := Gathering(m.Namespace, name, m.Cohort, time.Date(2030, 5, 14, 17, 0, 0, 0, time.UTC))
		e.GenerateName = generateName
		e.Spec.Type = learningv1alpha1.SpeakerSeriesEvent
		e.Spec.Title = "Open speaker series"
		e.Spec.Audience = learningv1alpha1.ExternalAudience
		e.Spec.TimeZone = "UTC"
		if approver != "" {
			e.Spec.Approval = &learningv1alpha1.Approval{Approver: approver, ContentHash: m.Hash(e)}
		}
		return c.Create(ctx, e)
	}
}

// mergePatch sends {"spec": spec} as a JSON merge patch of obj.
func mergePatch(ctx context.Context, c client.Client, obj client.Object, spec map[string]any) error {
	patch, err := json.Marshal(map[string]any{"spec": spec})
	if err != nil {
		return err
	}
	return c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch))
}

// Authorized asks the API server's authorizer, as an administrator c, whether user
// may use verb on the named learningevent of namespace.
func Authorized(ctx context.Context, c client.Client, user, verb, namespace, event string) (bool, error) {
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: user,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: namespace, Verb: verb, Group: learningv1alpha1.GroupVersion.Group,
			Resource: "learningevents", Name: event,
		},
	}}
	if err := c.Create(ctx, review); err != nil {
		return false, err
	}
	return review.Status.Allowed, nil
}
