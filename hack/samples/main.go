// Command samples prints the manifests of config/samples as one YAML stream, with
// every date shifted by whole calendar months so that the samples' reference day
// (internal/samples.ReferenceDay) falls in the current month and the programs they
// describe are in progress today. hack/demo.sh pipes its output to kubectl apply -f -.
//
//	go run ./hack/samples                  # shifted for today (UTC)
//	go run ./hack/samples -print-months    # only the shift, in months
//	go run ./hack/samples -months 0        # as committed
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/cohort-dev/cohort-operator/internal/samples"
)

func main() {
	dir := flag.String("dir", "config/samples", "Folder of the samples and their kustomization.yaml.")
	months := flag.Int("months", samples.ShiftFor(time.Now().UTC()),
		"Calendar months to shift every date by; the default moves "+samples.ReferenceDay+" into the current month (UTC).")
	printMonths := flag.Bool("print-months", false, "Print the shift in months and exit.")
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
	if _, err := os.Stdout.WriteString(text); err != nil {
		fmt.Fprintln(os.Stderr, "samples:", err)
		os.Exit(1)
	}
}
