// Command kubectl-cohort is the kubectl plugin of cohort-operator: with the binary on
// PATH, `kubectl cohort roster|attendance|approve|status NAME` shows and runs learning
// cohorts. See docs/kubectl-plugin.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // dates show in a cohort's time zone on machines without zoneinfo

	"github.com/go-logr/logr"
	"golang.org/x/term"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/cohort-dev/cohort-operator/internal/kubectlcohort"
)

func main() {
	// The plugin reports errors itself; controller-runtime's client has nothing to log.
	ctrl.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := kubectlcohort.Command{
		Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin,
		// approve asks for confirmation only when a person can answer.
		Interactive: func() bool { return term.IsTerminal(int(os.Stdin.Fd())) },
	}.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
