package kubectlcohort

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

// Command is one run of kubectl-cohort.
type Command struct {
	// Stdout receives tables and data; Stderr errors and notes.
	Stdout, Stderr io.Writer
	// Stdin is where approve reads the answer to its confirmation prompt.
	Stdin io.Reader
	// Interactive reports whether a person answers at Stdin (it is a terminal);
	// without it, or when it reports false, approve asks nothing and needs
	// --expect-hash.
	Interactive func() bool
	// Clock is the time attendance judges which events have ended by; the real clock
	// when nil.
	Clock clock.PassiveClock
}

// options are the flags of every subcommand.
type options struct {
	kubeconfig, context, namespace, output string
	// as is the user to impersonate (kubectl's --as).
	as   string
	help bool
	// hideUsers leaves spec.member out of the roster.
	hideUsers bool
	// wait is how long approve waits for the Approved condition.
	wait time.Duration
	// expectHash is the content hash approve may approve; empty to ask.
	expectHash string
	// checkIn is what checkin records.
	checkIn checkIn
	// period and programKind choose the report that report prints.
	period, programKind string
}

// session is what a subcommand runs with: a client authenticated as the caller, the
// namespace and the parsed flags.
type session struct {
	client    client.Client
	namespace string
	opts      options
	out, err  io.Writer
	clock     clock.PassiveClock
	// in and interactive are Command.Stdin and whether a person answers there.
	in          io.Reader
	interactive bool
}

// subcommand is one verb of the plugin.
type subcommand struct {
	name, arg, short, long, example string
	// formats are the -o formats it takes besides json and yaml.
	formats []string
	// flags binds the subcommand's own flags besides the common ones.
	flags func(fs *pflag.FlagSet, o *options)
	run   func(ctx context.Context, s *session, name string) error
}

const defaultApproveWait = 5 * time.Second

var subcommands = []subcommand{
	{
		name: "roster", arg: "COHORT", short: "Members by organization and role, with seat, phase and term",
		long: `Show the memberships of a cohort grouped by organization and role, with each person's
display name, user name (spec.member), seat (Seated, Waitlisted #n, Not eligible (reason),
Withdrawn, Expired), phase and term, as the operator reported them in each Membership's
status.

spec.member is shown because whoever can run roster can read the Memberships anyway;
--hide-users leaves it out, for example to share the roster on screen.`,
		example: `  kubectl cohort roster allyship-2026 -n programs
  kubectl cohort roster allyship-2026 --hide-users
  kubectl cohort roster allyship-2026 -o json | jq '.members[] | select(.seat.state == "Waitlisted")'`,
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.BoolVar(&o.hideUsers, "hide-users", false, "Leave out spec.member, the members' user names.")
		},
		run: runRoster,
	},
	{
		name: "attendance", arg: "COHORT", short: "Members by ended gatherings, with each one's percent and the threshold",
		long: `Show a grid of the cohort's members (rows) by the ended events that count toward
attendance (columns, headed by date): the cohort's own events and its community's.
Each cell is what spec.attendance of the event records: P present, L late, E excused,
A absent, - nothing recorded (counts as absent), . not expected (outside the member's
term, before their seat, or withdrawn). Rows are the memberships that hold or held a
seat, or have something recorded. The last column is the member's attendance percent
from their status, marked * when below the policy's requiredPercent (default 80).`,
		example: `  kubectl cohort attendance allyship-2026 -n programs
  kubectl cohort attendance allyship-2026 -o json | jq '.members[] | select(.belowThreshold)'`,
		run: runAttendance,
	},
	{
		name: "approve", arg: "EVENT", short: "Review an External LearningEvent's content and approve it as yourself",
		long: `Show an External LearningEvent's content (title, time, audience, location,
description) and its content hash, then approve exactly that content as the calling
user: set spec.approval to your user name (asked of the API server with a
SelfSubjectReview) and the hash, with a JSON merge patch sent with your own
credentials, so that the API server's admission policy decides whether you may approve.

With --expect-hash, approve approves only when the event's content hash is the one
given (the one you reviewed); otherwise it refuses, shows the content as it is now and
approves nothing. Without it, approve asks "Approve this content? [y/N]" on a terminal,
and refuses when stdin is not one, showing the content and the hash to pass.

The hash is the operator's own: status.contentHash, checked against the hash of the
content shown, computed with the operator's function while the operator has not hashed
the latest change yet. The patch carries the resourceVersion of the content shown: when
the event changed in between, approve reads it again and refuses if the content
differs. approve then waits up to --wait for the operator's Approved condition.`,
		example: `  # Review (on a terminal: review and confirm)
  kubectl cohort approve spring-speaker-series -n programs
  # Approve exactly the content reviewed, from a script or after a review
  kubectl cohort approve spring-speaker-series --expect-hash v1:sha256:4cbb2618... -n programs
  kubectl cohort approve spring-speaker-series --expect-hash v1:sha256:4cbb2618... --wait=30s -o yaml`,
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&o.expectHash, "expect-hash", "", "Approve only if the event's content hash is this one (the hash you reviewed); without it, approve asks on a terminal.")
			fs.DurationVar(&o.wait, "wait", defaultApproveWait, "How long to wait for the operator to report the Approved condition; 0 does not wait.")
		},
		run: runApprove,
	},
	{
		name: "actions", arg: "COHORT", short: "The cohort's action plans: each action's status and due day, and whether the plan is current",
		long: `Show the cohort's ActionPlans, personal and team workplans, one row per action: the
plan, whose it is (a membership, or "team" and the organization), the operator's
judgement of it (Current, Overdue, Stale, OwnerNotSeated, marked "not ready" when it
names what is not of the cohort), its last check-in, and each action's id, status and
due day ("overdue" after the end of the due day, in the cohort's time zone). The
cohort's figures follow.

ActionPlans are their owners': listing them needs a role that grants list on
actionplans, which neither the members' roles nor the built-in view and edit roles
do. Without it, actions says so and gives the cohort's figures, as
'kubectl cohort status' does.`,
		example: `  kubectl cohort actions allyship-2026 -n programs
  kubectl cohort actions allyship-2026 -o json | jq '.plans[] | select(.state == "Overdue") | .name'`,
		run: runActions,
	},
	{
		name: "checkin", arg: "PLAN", short: "Record a check-in on your ActionPlan, as yourself",
		long: `Record a check-in on an ActionPlan as the calling user (asked of the API server with a
SelfSubjectReview): what you learned, what you will adjust, the progress of actions,
and whether the check-in is shared with the cohort. A shared check-in's reflections go
on the agenda of the cohort's next gathering, in its portal and overview; a private
one stays with you, your team and your accountability partner.

Each --progress ACTION=STATUS[:NOTE] is recorded in the check-in and sets the action's
status in the plan. The check-in's id is its day (2026-03-10, then 2026-03-10-2) unless
--id gives one; --event names the LearningEvent it was made at. The update carries the
plan's resourceVersion and is retried on a conflict; the API server's admission
policy admits it only with you as its author.`,
		example: `  kubectl cohort checkin ann-2026 -n programs --learned "Asking first changed the conversation." --shared
  kubectl cohort checkin ann-2026 --progress mentor=InProgress:"Met one newcomer" --progress read=Done --event allyship-2026-03-10
  kubectl cohort checkin northstar-workplan --adjust "Bring the budget to the board in May." -o yaml`,
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&o.checkIn.learned, "learned", "", "What you learned since the last check-in.")
			fs.StringVar(&o.checkIn.adjust, "adjust", "", "What you will do differently.")
			fs.BoolVar(&o.checkIn.shared, "shared", false, "Share the check-in's reflections with the cohort (the agenda of the next gathering).")
			fs.StringArrayVar(&o.checkIn.progress, "progress", nil, "ACTION=STATUS[:NOTE], STATUS one of Planned, InProgress, Done, Dropped; repeat for each action.")
			fs.StringVar(&o.checkIn.event, "event", "", "The LearningEvent the check-in was made at.")
			fs.StringVar(&o.checkIn.id, "id", "", "The check-in's id; its day by default.")
		},
		run: runCheckIn,
	},
	{
		name: "report", arg: "PROGRAM", short: "A program's report for a period: its KPIs against their targets and the leads' narrative",
		long: `Print the ProgramReport of a community or a standalone cohort (PROGRAM is its name)
for its newest period, or for --period (2026-11, 2026-q4, or run for a cohort's whole
run): the figures judged against their targets (Met, Below, no data, or suppressed
when they describe fewer than five people), the change from the previous period, and
the narrative the leads wrote. A frozen report shows its frozen figures; an open one
its figures so far. It says who approved it while it is approved for its current
content.

The default output is Markdown for people; -o csv gives one row per KPI for
spreadsheets (cells that a spreadsheet would read as a formula are quoted); -o json and
-o yaml give the same data. Reports hold aggregates only: no person's name or
attendance.`,
		example: `  kubectl cohort report allyship -n programs
  kubectl cohort report allyship --period 2026-11 -o csv > allyship-2026-11.csv
  kubectl cohort report oe-2026 --kind Cohort --period run -o json`,
		formats: []string{outputMarkdown, outputCSV},
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&o.period, "period", "", "The period: 2026-11, 2026-q4, or run; the newest when unset.")
			fs.StringVar(&o.programKind, "kind", "", "CommunityOfPractice or Cohort, when a community and a cohort share the name.")
		},
		run: runReport,
	},
	{
		name: "status", arg: "COHORT", short: "The cohort's conditions explained in words, with what to do next",
		long: `Explain a cohort's status: its phase, seats, waitlist, attendance and next event, and
each condition (Ready, Stalled, Staffed, CompositionValid, Provisioned,
PortalAvailable, CommunityFound) in words, with what to do next when it needs
attention.`,
		example: `  kubectl cohort status allyship-2026 -n programs
  kubectl cohort status allyship-2026 -o json | jq '.conditions[] | select(.healthy | not)'`,
		run: runStatus,
	},
}

// usageError is an error in how the plugin was called.
type usageError struct{ error }

// Run parses args (without the program name), runs the subcommand and returns the
// exit code: 0 on success, 1 on any error, which it writes to Stderr.
func (c Command) Run(ctx context.Context, args []string) int {
	name, rest := splitCommand(args)
	switch {
	case name == "help" && len(rest) > 0 && lookup(rest[0]) != nil:
		c.subcommandUsage(c.Stdout, lookup(rest[0]))
		return 0
	case name == "help", name == "" && !slices.ContainsFunc(rest, func(a string) bool { return a != "-h" && a != "--help" }):
		c.usage(c.Stdout)
		return 0
	case name == "":
		return c.fail("", usageError{fmt.Errorf("no command given in %q", strings.Join(rest, " "))})
	}
	sub := lookup(name)
	if sub == nil {
		return c.fail("", usageError{fmt.Errorf("unknown command %q for \"kubectl cohort\"", name)})
	}
	fs, opts := c.flagSet(sub)
	if err := fs.Parse(rest); err != nil {
		return c.fail(sub.name, usageError{err})
	}
	if opts.help {
		c.subcommandUsage(c.Stdout, sub)
		return 0
	}
	if err := validOutput(opts.output); err != nil && !slices.Contains(sub.formats, opts.output) {
		return c.fail(sub.name, err)
	}
	if fs.NArg() != 1 {
		return c.fail(sub.name, usageError{fmt.Errorf("%s needs exactly one %s, got %d", sub.name, sub.arg, fs.NArg())})
	}
	s, err := c.session(opts)
	if err != nil {
		return c.fail(sub.name, err)
	}
	if err := sub.run(ctx, s, fs.Arg(0)); err != nil {
		return c.fail(sub.name, err)
	}
	return 0
}

func lookup(name string) *subcommand {
	for i := range subcommands {
		if subcommands[i].name == name {
			return &subcommands[i]
		}
	}
	return nil
}

// valueFlags are the flags that take a value, so that splitCommand skips it.
var valueFlags = []string{"--kubeconfig", "--context", "--namespace", "-n", "--output", "-o", "--wait", "--expect-hash", "--period", "--kind",
	"--learned", "--adjust", "--progress", "--event", "--id", "--as"}

// splitCommand finds the subcommand in args: the first argument that is neither a
// flag nor a flag's value, so that flags may come before it as after it.
func splitCommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			if slices.Contains(valueFlags, a) {
				i++
			}
			continue
		}
		return a, append(slices.Clone(args[:i]), args[i+1:]...)
	}
	return "", args
}

// flagSet returns the flags of a subcommand: kubectl's -n, --context, --kubeconfig
// and -o, then its own.
func (c Command) flagSet(sub *subcommand) (*pflag.FlagSet, *options) {
	o := &options{}
	fs := pflag.NewFlagSet(sub.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.StringVarP(&o.namespace, "namespace", "n", "", "The namespace of the object; the kubeconfig context's namespace when unset.")
	fs.StringVar(&o.context, "context", "", "The kubeconfig context to use.")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "Path to the kubeconfig file; $KUBECONFIG or ~/.kube/config when unset.")
	fs.StringVar(&o.as, "as", "", "The user to act as (impersonation, as kubectl's --as); the API server decides whether you may.")
	fs.StringVarP(&o.output, "output", "o", "", "Output format: json or yaml; a table for people when unset.")
	if sub.flags != nil {
		sub.flags(fs, o)
	}
	fs.BoolVarP(&o.help, "help", "h", false, "Help for "+sub.name+".")
	return fs, o
}

// session connects to the cluster as the kubeconfig's user.
func (c Command) session(o *options) (*session, error) {
	cl, ns, err := newClient(o, c.Stderr)
	if err != nil {
		return nil, err
	}
	clk := c.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	interactive := c.Interactive != nil && c.Stdin != nil && c.Interactive()
	return &session{client: cl, namespace: ns, opts: *o, out: c.Stdout, err: c.Stderr, clock: clk, in: c.Stdin, interactive: interactive}, nil
}

// fail writes err to Stderr as kubectl does, and returns the exit code 1. An error
// writing to Stderr is not reported: there is nowhere left to report it.
func (c Command) fail(sub string, err error) int {
	p := &printer{w: c.Stderr}
	var status apierrors.APIStatus
	var usage usageError
	switch {
	case errors.As(err, &status) && status.Status().Reason != "":
		p.printf("Error from server (%s): %v\n", status.Status().Reason, err)
	case errors.As(err, &status):
		p.printf("Error from server: %v\n", err)
	case apimeta.IsNoMatchError(err):
		p.printf("error: the cluster does not serve %s: are cohort-operator's CRDs installed? (%v)\n", learningv1alpha1.GroupVersion, err)
	case errors.As(err, new(*contentRefusal)):
		// Its lines are the program's, the content within them escaped already.
		p.raw("error: " + escapeLines(err.Error()) + "\n")
	default:
		p.printf("error: %v\n", err)
	}
	switch {
	case !errors.As(err, &usage):
	case sub == "":
		p.printf("See 'kubectl cohort --help' for usage.\n")
	default:
		p.printf("See 'kubectl cohort %s --help' for usage.\n", sub)
	}
	return 1
}

// usage writes the plugin's help.
func (c Command) usage(w io.Writer) {
	p := &printer{w: w}
	p.raw(`kubectl cohort shows and runs learning cohorts of cohort-operator (learning.cohort.dev).

Usage:
  kubectl cohort COMMAND NAME [flags]

Commands:
`)
	t := newTable(w)
	for _, sub := range subcommands {
		t.row("  "+sub.name+" "+sub.arg, sub.short)
	}
	_ = t.flush()
	p.raw(`
Every command takes kubectl's -n/--namespace, --context, --kubeconfig, --as and -o json|yaml.

Use "kubectl cohort COMMAND --help" for more about a command.
`)
}

// subcommandUsage writes a subcommand's help.
func (c Command) subcommandUsage(w io.Writer, sub *subcommand) {
	fs, _ := c.flagSet(sub)
	p := &printer{w: w}
	p.raw(fmt.Sprintf("%s\n\nUsage:\n  kubectl cohort %s %s [flags]\n\nExamples:\n%s\n\nFlags:\n%s", sub.long, sub.name, sub.arg, sub.example, fs.FlagUsages()))
}
