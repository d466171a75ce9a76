// Command samples prints the manifests of config/samples as one YAML stream, with
// every date shifted by whole calendar months so that the samples' reference day
// (internal/samples.ReferenceDay) falls in the current month and the programs they
// describe are in progress today. hack/demo.sh pipes its output to kubectl apply -f -.
//
//	go run ./hack/samples                  # shifted for today (UTC)
//	go run ./hack/samples -print-months    # only the shift, in months
//	go run ./hack/samples -months 0        # as committed
//	go run ./hack/samples -dir config/samples/plans -owners        # who owns the plans
//	go run ./hack/samples -dir config/samples/plans -owner USER    # USER's plans, to create as USER
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cohort-dev/cohort-operator/internal/samples"
)

func main() {
	dir := flag.String("dir", "config/samples", "Folder of the samples and their kustomization.yaml.")
	months := flag.Int("months", samples.ShiftFor(time.Now().UTC()),
		"Calendar months to shift every date by; the default moves "+samples.ReferenceDay+" into the current month (UTC).")
	printMonths := flag.Bool("print-months", false, "Print the shift in months and exit.")
	owners := flag.Bool("owners", false, "Print the owners (spec.owner) of the samples, ActionPlans, one per line.")
	owner := flag.String("owner", "", "Print only the samples, ActionPlans, that this user owns.")
	flag.Parse()
	if *printMonths {
		fmt.Println(*months)
		return
	}
	text, err := samples.Render(os.DirFS(*dir), *months)
	if err != nil {
		fmt.Fprintln(os.Stderr, "samples:", err)
		os.Exit(1)
	}
	if *owners || *owner != "" {
		who, plans, err := samples.ByOwner(text)
		if err != nil {
			fmt.Fprintln(os.Stderr, "samples:", err)
			os.Exit(1)
		}
		if *owners {
			text = strings.Join(who, "\n") + "\n"
		} else {
			text = plans[*owner]
		}
	}
	if _, err := os.Stdout.WriteString(text); err != nil {
		fmt.Fprintln(os.Stderr, "samples:", err)
		os.Exit(1)
	}
}
