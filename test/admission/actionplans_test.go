package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/config/admission"
	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// actionPlanPolicy is the name the action-plan policy and its binding get when
// config/ installs them, with the cohort- prefix of its overlays.
const actionPlanPolicy = "cohort-action-plans"

// installActionPlanPolicy creates the action-plan policy and its binding, as embedded
// from config/admission, under the names the overlays give them.
func installActionPlanPolicy(ctx context.Context, c client.Client) error {
	objs, err := testutil.DecodeManifests(admission.ActionPlanPolicy)
	if err != nil {
		return fmt.Errorf("decoding the action-plan policy: %w", err)
	}
	for _, obj := range objs {
		obj.SetName(actionPlanPolicy)
		if obj.GetKind() == "ValidatingAdmissionPolicyBinding" {
			if err := unstructured.SetNestedField(obj.Object, actionPlanPolicy, "spec", "policyName"); err != nil {
				return err
			}
		}
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %s %s: %w", obj.GetKind(), obj.GetName(), err)
		}
	}
	return nil
}

// planBase is the spec of a personal plan that caseUser, who applies the cases, owns.
const planBase = `
membershipRef: {name: allyship-2026-member-01}
owner: ` + caseUser

// planActions are two actions a plan's check-ins can report on.
const planActions = `
actions:
- {id: mentor, title: Mentor two newcomers, due: "2026-06-30"}
- {id: read, title: Read the allyship guide, status: Done}`

// checkInAt is the start of a check-in of caseUser made at a gathering; the progress
// or reflections follow.
const checkInAt = `
checkIns:
- id: 2026-03
  at: "2026-03-10T19:00:00Z"
  author: ` + caseUser + `
  eventRef: {name: allyship-2026-03}`

var actionPlanCases = []admissionCase{
	{name: "personal plan", kind: "ActionPlan", spec: planBase + `
partnerRef: {name: allyship-2026-member-02}` + planActions + checkInAt + `
  progress: [{actionID: mentor, status: InProgress, note: "Met one newcomer;\n\tthe second in April."}, {actionID: read, status: Done}]
  learned: "Listening first works."
  adjust: "Ask before advising."
  shared: true`},
	{name: "team workplan", kind: "ActionPlan", spec: `
team: {cohortRef: {name: operationalizing-equity-2026}, organization: Lakeside Bank}
owner: ` + caseUser + planActions},
	{name: "both membership and team", kind: "ActionPlan", spec: planBase + `
team: {cohortRef: {name: operationalizing-equity-2026}, organization: Lakeside Bank}`,
		want: "exactly one of spec.membershipRef or spec.team must be set"},
	{name: "neither membership nor team", kind: "ActionPlan", spec: `
owner: ` + caseUser,
		want: "exactly one of spec.membershipRef or spec.team must be set"},
	{name: "team without an organization", kind: "ActionPlan", spec: `
team: {cohortRef: {name: operationalizing-equity-2026}}
owner: ` + caseUser,
		want: "spec.team.organization: Required value"},
	{name: "no owner", kind: "ActionPlan", spec: `
membershipRef: {name: allyship-2026-member-01}`,
		want: "spec.owner: Required value"},
	{name: "the member as their own partner", kind: "ActionPlan", spec: planBase + `
partnerRef: {name: allyship-2026-member-01}`,
		want: "spec.partnerRef must name another membership than spec.membershipRef"},
	{name: "duplicate action ids", kind: "ActionPlan", spec: planBase + `
actions: [{id: mentor, title: Mentor two newcomers}, {id: mentor, title: Mentor three newcomers}]`,
		want: "spec.actions[1]: Duplicate value"},
	{name: "action id with capitals", kind: "ActionPlan", spec: planBase + `
actions: [{id: Mentor, title: Mentor two newcomers}]`,
		want: "spec.actions[0].id"},
	{name: "action without a title", kind: "ActionPlan", spec: planBase + `
actions: [{id: mentor}]`,
		want: "spec.actions[0].title: Required value"},
	{name: "action status Someday", kind: "ActionPlan", spec: planBase + `
actions: [{id: mentor, title: Mentor two newcomers, status: Someday}]`,
		want: "spec.actions[0].status: Unsupported value"},
	{name: "due day without a day", kind: "ActionPlan", spec: planBase + `
actions: [{id: mentor, title: Mentor two newcomers, due: "2026-06"}]`,
		want: "spec.actions[0].due"},
	{name: "duplicate check-in ids", kind: "ActionPlan", spec: planBase + `
checkIns:
- {id: 2026-03, at: "2026-03-10T19:00:00Z", author: ` + caseUser + `}
- {id: 2026-03, at: "2026-04-14T19:00:00Z", author: ` + caseUser + `}`,
		want: "spec.checkIns[1]: Duplicate value"},
	{name: "check-in without a time", kind: "ActionPlan", spec: planBase + `
checkIns: [{id: 2026-03, author: ` + caseUser + `}]`,
		want: "spec.checkIns[0].at: Required value"},
	{name: "progress on a missing action", kind: "ActionPlan", spec: planBase + planActions + checkInAt + `
  progress: [{actionID: mentor, status: Done}, {actionID: march, status: Done}]`,
		want: "spec.checkIns[].progress[].actionID must name an action of spec.actions: drop an action instead of removing it"},
	{name: "progress on a plan without actions", kind: "ActionPlan", spec: planBase + checkInAt + `
  progress: [{actionID: mentor, status: Done}]`,
		want: "spec.checkIns[].progress[].actionID must name an action of spec.actions: drop an action instead of removing it"},
	{name: "progress on an action twice", kind: "ActionPlan", spec: planBase + planActions + checkInAt + `
  progress: [{actionID: mentor, status: InProgress}, {actionID: mentor, status: Done}]`,
		want: "spec.checkIns[0].progress[1]: Duplicate value"},
	{name: "progress without a status", kind: "ActionPlan", spec: planBase + planActions + checkInAt + `
  progress: [{actionID: mentor}]`,
		want: "spec.checkIns[0].progress[0].status: Required value"},
	{name: "51 actions", kind: "ActionPlan", spec: planBase + "\nactions:" + actionLines(51),
		want: "spec.actions: Too many: 51: must have at most 50 items"},

	{name: "owner changed", kind: "ActionPlan", spec: planBase, update: `
membershipRef: {name: allyship-2026-member-01}
owner: someone-else`,
		want: "spec.owner is immutable"},
	{name: "membership changed", kind: "ActionPlan", spec: planBase, update: `
membershipRef: {name: allyship-2026-member-02}
owner: ` + caseUser,
		want: "spec.membershipRef is immutable: a plan stays with its membership"},
	{name: "a personal plan made a team plan", kind: "ActionPlan", spec: planBase, update: `
team: {cohortRef: {name: operationalizing-equity-2026}, organization: Lakeside Bank}
owner: ` + caseUser,
		want: "spec.team is immutable: a plan stays with its team"},
	{name: "team changed", kind: "ActionPlan", spec: `
team: {cohortRef: {name: operationalizing-equity-2026}, organization: Lakeside Bank}
owner: ` + caseUser, update: `
team: {cohortRef: {name: operationalizing-equity-2026}, organization: Harbor Trust}
owner: ` + caseUser,
		want: "spec.team is immutable: a plan stays with its team"},
	{name: "removing an action a check-in reports on", kind: "ActionPlan",
		spec: planBase + planActions + checkInAt + `
  progress: [{actionID: read, status: Done}]`,
		update: planBase + `
actions: [{id: mentor, title: Mentor two newcomers}]` + checkInAt + `
  progress: [{actionID: read, status: Done}]`,
		want: "spec.checkIns[].progress[].actionID must name an action of spec.actions: drop an action instead of removing it"},
	{name: "adding a partner, rewording and dropping actions", kind: "ActionPlan", spec: planBase + planActions, update: planBase + `
partnerRef: {name: allyship-2026-member-02}
actions:
- {id: mentor, title: Mentor one newcomer, status: Dropped, outcome: "No newcomers this term."}
- {id: read, title: Read the allyship guide, status: Done}`},
}

// actionLines returns n actions in YAML block style, with ids a-1, a-2 and so on.
func actionLines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "\n- {id: a-%d, title: Action %d}", i, i)
	}
	return b.String()
}

// actionPlanDateCases check the date fields of a plan at their bounds.
var actionPlanDateCases = concat(
	boundCases("ActionPlan", "spec.actions[].due", planBase+`
actions: [{id: mentor, title: Mentor two newcomers, due: "%s"}]`, days),
	boundCases("ActionPlan", "spec.checkIns[].at", planBase+`
checkIns: [{id: 2026-03, at: "%s", author: `+caseUser+`}]`,
		[4]string{"1999-12-31T23:59:59Z", "2000-01-01T00:00:00Z", "2199-12-31T23:59:59Z", "2200-01-01T00:00:00Z"}),
)

// actionPlanTextCases check the text rules on the fields of a plan.
var actionPlanTextCases = []admissionCase{
	{name: "ESC in an action's title", kind: "ActionPlan", spec: planBase + `
actions: [{id: mentor, title: "Mentor \x1b[2J newcomers"}]`,
		want: textRefused("spec.actions[0].title")},
	{name: "newline in an action's title", kind: "ActionPlan", spec: planBase + `
actions: [{id: mentor, title: "Mentor\nDone: yes"}]`,
		want: textRefused("spec.actions[0].title")},
	{name: "a right-to-left override in an outcome", kind: "ActionPlan", spec: planBase + `
actions: [{id: mentor, title: Mentor two newcomers, outcome: "Done \u202eenod ton"}]`,
		want: paragraphRefused("spec.actions[0].outcome")},
	{name: "C1 CSI in an action's description", kind: "ActionPlan", spec: planBase + `
actions: [{id: mentor, title: Mentor two newcomers, description: "Why \u009b2J"}]`,
		want: paragraphRefused("spec.actions[0].description")},
	{name: "newline in an owner", kind: "ActionPlan", spec: `
membershipRef: {name: allyship-2026-member-01}
owner: "` + caseUser + `\nsomeone-else"`,
		want: textRefused("spec.owner")},
	{name: "ESC in a check-in's author", kind: "ActionPlan", spec: planBase + `
checkIns: [{id: 2026-03, at: "2026-03-10T19:00:00Z", author: "` + caseUser + `\x1b[8m"}]`,
		want: textRefused("spec.checkIns[0].author")},
	{name: "a lone carriage return in what was learned", kind: "ActionPlan", spec: planBase + checkInAt + `
  learned: "Listening first.\rShared: yes"`,
		want: paragraphRefused("spec.checkIns[0].learned")},
	{name: "an isolate in what to adjust", kind: "ActionPlan", spec: planBase + checkInAt + `
  adjust: "Ask \u2066first\u2069"`,
		want: paragraphRefused("spec.checkIns[0].adjust")},
	{name: "DEL in a progress note", kind: "ActionPlan", spec: planBase + planActions + checkInAt + `
  progress: [{actionID: read, status: Done}, {actionID: mentor, status: InProgress, note: "one\x7f"}]`,
		want: paragraphRefused("spec.checkIns[0].progress[1].note")},
	{name: "reflections in lines, in any script", kind: "ActionPlan", spec: planBase + planActions + checkInAt + `
  progress: [{actionID: mentor, status: InProgress, note: "Rencontre — 月例会\r\n\tلقاء 🏳️‍🌈"}]
  learned: "Écouter d'abord.\n\tPuis agir."`},
}

func TestActionPlanAdmission(t *testing.T) { runCases(t, actionPlanCases) }

// TestActionPlanDefaults checks what the API server fills in: an action's status is
// Planned, a check-in is private, and the status starts at observedGeneration 0.
func TestActionPlanDefaults(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	obj := manifest(t, "ActionPlan", "defaults", planBase+planActions+checkInAt)
	obj.SetNamespace(ns)
	if err := k8s.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	plan := &learningv1alpha1.ActionPlan{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(obj), plan); err != nil {
		t.Fatal(err)
	}
	if got := plan.Spec.Actions[0].Status; got != learningv1alpha1.ActionPlanned {
		t.Errorf("an action without a status has status %q, want %q", got, learningv1alpha1.ActionPlanned)
	}
	if got := plan.Spec.Actions[1].Status; got != learningv1alpha1.ActionDone {
		t.Errorf("an action created Done has status %q", got)
	}
	if plan.Spec.CheckIns[0].Shared {
		t.Error("a check-in without shared is shared")
	}
	if plan.Generation != 1 || plan.Status.ObservedGeneration != 0 {
		t.Errorf("generation %d, observedGeneration %d; want 1 and 0", plan.Generation, plan.Status.ObservedGeneration)
	}
}

// largestPlanBudget bounds the API server's answer to the largest plan (about 1 MB).
const largestPlanBudget = 5 * time.Second

// TestLargestActionPlan creates a plan at every bound: 50 actions and 60 check-ins
// that each report on 20 actions, every id, name, text and note at its longest. The API
// server must admit it within its CEL cost budget, fast enough for kubectl, and it
// must fit in etcd; one more check-in is refused.
func TestLargestActionPlan(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, k8s)
	plan := largestPlan(ns)
	if err := timedCreate(t, plan, largestPlanBudget); err != nil {
		t.Fatalf("the largest plan was refused: %v", err)
	}
	stored := &learningv1alpha1.ActionPlan{}
	if err := k8s.Get(ctx, client.ObjectKeyFromObject(plan), stored); err != nil {
		t.Fatal(err)
	}
	if len(stored.Spec.CheckIns) != maxCheckIns || len(stored.Spec.CheckIns[maxCheckIns-1].Progress) != maxProgress {
		t.Fatalf("stored %d check-ins, want %d, each with %d progress entries", len(stored.Spec.CheckIns), maxCheckIns, maxProgress)
	}
	if data, err := json.Marshal(stored); err == nil {
		t.Logf("the largest plan is stored as %d kB of JSON, managed fields included", len(data)/1000)
	}
	// Updating it runs the admission policy over every check-in, old and new.
	stored.Spec.CheckIns[0].Learned = strings.Repeat("u", 2000)
	if err := k8s.Update(ctx, stored); err != nil {
		t.Fatalf("updating a check-in of the largest plan: %v", err)
	}
	more := stored.DeepCopy()
	more.Spec.CheckIns = append(more.Spec.CheckIns, learningv1alpha1.CheckIn{ID: "one-more", At: metav1.Now(), Author: caseUser})
	checkResult(t, k8s.Update(ctx, more), "spec.checkIns: Too many: 61: must have at most 60 items")
}

// The bounds of a plan.
const (
	maxActions  = 50
	maxCheckIns = 60
	maxProgress = 20
	maxNote     = 280
)

// largestPlan returns a plan at every bound of the API, owned and written by caseUser.
func largestPlan(namespace string) *learningv1alpha1.ActionPlan {
	id := func(prefix string, i int) string {
		s := fmt.Sprintf("%s-%02d-", prefix, i)
		return s + strings.Repeat("x", 63-len(s))
	}
	long := func(n int) string { return strings.Repeat("Lorem ipsum\n", n/12) + strings.Repeat("z", n%12) }
	due := learningv1alpha1.Date("2199-12-31")
	plan := &learningv1alpha1.ActionPlan{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "largest"},
		Spec: learningv1alpha1.ActionPlanSpec{
			MembershipRef: &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(strings.Repeat("m", 253))},
			PartnerRef:    &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(strings.Repeat("p", 253))},
			Owner:         caseUser,
		},
	}
	var progress []learningv1alpha1.ActionProgress
	for i := range maxActions {
		plan.Spec.Actions = append(plan.Spec.Actions, learningv1alpha1.PlannedAction{
			ID: id("action", i), Title: strings.Repeat("t", 200), Description: long(2000),
			Due: &due, Status: learningv1alpha1.ActionInProgress, Outcome: long(2000),
		})
		if i < maxProgress {
			progress = append(progress, learningv1alpha1.ActionProgress{
				ActionID: id("action", maxActions-1-i), Status: learningv1alpha1.ActionInProgress, Note: long(maxNote),
			})
		}
	}
	at := metav1.NewTime(time.Date(2199, 12, 31, 23, 59, 59, 0, time.UTC))
	for i := range maxCheckIns {
		plan.Spec.CheckIns = append(plan.Spec.CheckIns, learningv1alpha1.CheckIn{
			ID: id("check-in", i), At: at, Author: caseUser,
			EventRef: &learningv1alpha1.LocalObjectReference{Name: learningv1alpha1.ObjectName(strings.Repeat("e", 253))},
			Progress: progress, Learned: long(2000), Adjust: long(2000), Shared: true,
		})
	}
	return plan
}

// The users of the action-plan policy's tests. They are cluster administrators, so
// that RBAC lets them do anything and only the admission policy decides.
const (
	planOwner   = "ap-owner@example.org"
	planPartner = "ap-partner@example.org"
	planOther   = "ap-other@example.org"
)

// The messages of the action-plan policy.
const (
	deniedOwner     = `spec.owner: must be the user creating the plan ("`
	deniedAuthor    = `spec.checkIns[].author: check-in "`
	deniedOverwrite = `" may be changed or removed only by its author, not by "`
)

// planRow is one request of the action-plan policy's test: who sends it, what it does
// to the plan "circle" (or which plan it creates), and the denial it gets, if any.
type planRow struct {
	name string
	user string
	// create, when set, is created as the request; otherwise edit changes the stored
	// plan and the result is sent as an update.
	create *learningv1alpha1.ActionPlan
	edit   func(*learningv1alpha1.ActionPlan)
	// deny is a fragment of the denial's message; empty means the request is admitted.
	deny string
}

// TestActionPlanPolicy sends, as real users authenticated by their certificates,
// creates and updates of plans that the action-plan policy admits or refuses: a plan
// is created only by its owner, a check-in is written only by its author, and another
// author's check-in is neither changed nor removed. Each row runs on the plan as the
// rows before it left it.
func TestActionPlanPolicy(t *testing.T) {
	ctx := context.Background()
	ns := testutil.Namespace(t, admin)
	clients := map[string]client.Client{}
	for _, user := range []string{planOwner, planPartner, planOther} {
		c, err := testutil.UserClient(cluster, user, localcluster.AdminGroup)
		if err != nil {
			t.Fatal(err)
		}
		clients[user] = c
	}
	plan := func(name, owner string, checkIns ...learningv1alpha1.CheckIn) *learningv1alpha1.ActionPlan {
		return &learningv1alpha1.ActionPlan{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: learningv1alpha1.ActionPlanSpec{
				MembershipRef: &learningv1alpha1.LocalObjectReference{Name: "circle-owner"},
				PartnerRef:    &learningv1alpha1.LocalObjectReference{Name: "circle-partner"},
				Owner:         owner,
				Actions:       []learningv1alpha1.PlannedAction{{ID: "listen", Title: "Listen first at every gathering"}},
				CheckIns:      checkIns,
			},
		}
	}
	checkIn := func(id, author, learned string) learningv1alpha1.CheckIn {
		return learningv1alpha1.CheckIn{
			ID: id, At: metav1.NewTime(time.Date(2026, 3, 10, 19, 0, 0, 0, time.UTC)), Author: author, Learned: learned,
			Progress: []learningv1alpha1.ActionProgress{{ActionID: "listen", Status: learningv1alpha1.ActionInProgress}},
		}
	}
	waitForPolicy(t, clients[planOther], plan("probe", planOwner))

	rows := []planRow{
		{name: "the owner creates their plan", user: planOwner, create: plan("circle", planOwner, checkIn("2026-03", planOwner, "Listening first works."))},
		{name: "a user creates a plan for someone else", user: planOther, create: plan("forged", planOwner),
			deny: deniedOwner + planOther + `"), not "` + planOwner + `"`},
		{name: "the owner creates a plan with a check-in of their partner", user: planOwner,
			create: plan("put-words", planOwner, checkIn("2026-03", planPartner, "Agreed.")),
			deny:   deniedAuthor + `2026-03" must be authored by the user writing it ("` + planOwner + `"), not "` + planPartner + `"`},
		{name: "the partner adds their own check-in", user: planPartner, edit: func(p *learningv1alpha1.ActionPlan) {
			p.Spec.CheckIns = append(p.Spec.CheckIns, checkIn("partner-2026-03", planPartner, "A good month."))
		}},
		{name: "the owner adds a check-in in their partner's name", user: planOwner, edit: func(p *learningv1alpha1.ActionPlan) {
			p.Spec.CheckIns = append(p.Spec.CheckIns, checkIn("partner-2026-04", planPartner, "Great month."))
		}, deny: deniedAuthor + `partner-2026-04" must be authored by the user writing it ("` + planOwner + `"), not "` + planPartner + `"`},
		{name: "the owner rewrites their partner's check-in", user: planOwner, edit: func(p *learningv1alpha1.ActionPlan) {
			p.Spec.CheckIns[1].Learned = "An excellent month."
		}, deny: deniedAuthor + `partner-2026-03" of "` + planPartner + deniedOverwrite + planOwner + `"`},
		{name: "the owner takes over their partner's check-in", user: planOwner, edit: func(p *learningv1alpha1.ActionPlan) {
			p.Spec.CheckIns[1].Author = planOwner
		}, deny: deniedAuthor + `partner-2026-03" of "` + planPartner + deniedOverwrite + planOwner + `"`},
		{name: "the owner removes their partner's check-in", user: planOwner, edit: func(p *learningv1alpha1.ActionPlan) {
			p.Spec.CheckIns = p.Spec.CheckIns[:1]
		}, deny: deniedAuthor + `partner-2026-03" of "` + planPartner + deniedOverwrite + planOwner + `"`},
		{name: "the partner rewrites the owner's check-in", user: planPartner, edit: func(p *learningv1alpha1.ActionPlan) {
			p.Spec.CheckIns[0].Shared = true
		}, deny: deniedAuthor + `2026-03" of "` + planOwner + deniedOverwrite + planPartner + `"`},
		{name: "the owner marks an action done and shares their check-in", user: planOwner, edit: func(p *learningv1alpha1.ActionPlan) {
			p.Spec.Actions[0].Status = learningv1alpha1.ActionDone
			p.Spec.CheckIns[0].Shared = true
		}},
		{name: "the owner adds their next check-in", user: planOwner, edit: func(p *learningv1alpha1.ActionPlan) {
			p.Spec.CheckIns = append(p.Spec.CheckIns, checkIn("2026-04", planOwner, "Still listening."))
		}},
		{name: "a user who is neither rewords an action", user: planOther, edit: func(p *learningv1alpha1.ActionPlan) {
			p.Spec.Actions[0].Title = "Listen first, always"
		}},
		{name: "the partner removes their own check-in", user: planPartner, edit: func(p *learningv1alpha1.ActionPlan) {
			p.Spec.CheckIns = append(p.Spec.CheckIns[:1], p.Spec.CheckIns[2:]...)
		}},
	}
	for i, row := range rows {
		err := row.send(ctx, t, clients[row.user], ns)
		t.Logf("%2d. %-22s %-62s denied: %v", i+1, row.user, row.name, err != nil)
		checkDenied(t, row.name, err, row.deny)
	}

	final := &learningv1alpha1.ActionPlan{}
	if err := admin.Get(ctx, client.ObjectKey{Namespace: ns, Name: "circle"}, final); err != nil {
		t.Fatal(err)
	}
	var authors []string
	for _, c := range final.Spec.CheckIns {
		authors = append(authors, c.ID+" by "+c.Author)
	}
	if got, want := strings.Join(authors, ", "), "2026-03 by "+planOwner+", 2026-04 by "+planOwner; got != want {
		t.Errorf("after the rows the check-ins are %s, want %s", got, want)
	}
	if !final.Spec.CheckIns[0].Shared || final.Spec.Actions[0].Title != "Listen first, always" {
		t.Errorf("the admitted edits are not all stored: %+v", final.Spec)
	}

	// The operator's status writes go to the status subresource, which the policy does
	// not match: another user may write the status of a plan with others' check-ins.
	final.Status.ObservedGeneration = final.Generation
	final.Status.Actions = &learningv1alpha1.ActionCounts{Total: 1, Done: 1}
	if err := clients[planOther].Status().Update(ctx, final); err != nil {
		t.Errorf("a status write by another user was refused: %v", err)
	}
}

// send sends the row's request as c, in namespace.
func (row planRow) send(ctx context.Context, t *testing.T, c client.Client, namespace string) error {
	t.Helper()
	if row.create != nil {
		return c.Create(ctx, row.create.DeepCopy())
	}
	p := &learningv1alpha1.ActionPlan{}
	if err := admin.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "circle"}, p); err != nil {
		t.Fatal(err)
	}
	row.edit(p)
	return c.Update(ctx, p)
}

// checkDenied checks a request's result against the denial expected of the policy.
func checkDenied(t *testing.T, name string, err error, deny string) {
	t.Helper()
	switch {
	case deny == "" && err != nil:
		t.Errorf("%s: want admitted, got: %v", name, err)
	case deny == "":
	case err == nil:
		t.Errorf("%s: want denied with %q, was admitted", name, deny)
	case !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "ValidatingAdmissionPolicy '"+actionPlanPolicy+"'"):
		t.Errorf("%s: want denied by the policy %s, got: %v", name, actionPlanPolicy, err)
	case !strings.Contains(err.Error(), deny):
		t.Errorf("%s: the denial does not say %q:\n%v", name, deny, err)
	}
}

// waitForPolicy waits until the API server enforces the action-plan policy, which it
// loads moments after the policy and binding are created: until a dry run of a plan
// created by a user other than its owner is denied.
func waitForPolicy(t *testing.T, c client.Client, plan *learningv1alpha1.ActionPlan) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, "the action-plan policy taking effect", func() error {
		err := c.Create(context.Background(), plan.DeepCopy(), client.DryRunAll)
		switch {
		case err == nil:
			return fmt.Errorf("a plan of another owner was admitted")
		case !apierrors.IsForbidden(err):
			return fmt.Errorf("a plan of another owner was not denied: %w", err)
		}
		return nil
	})
}
