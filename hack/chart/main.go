// Command chart generates the parts of the Helm chart charts/cohort-operator that
// config/ defines, so that the chart and `kubectl apply -k config/default` cannot
// drift: the CRDs (config/crd/bases), the manager's rules (config/rbac/role.yaml,
// generated from the +kubebuilder:rbac markers), the approvers', editors', viewers'
// and leader election roles (config/rbac) and the approval and action-plan admission
// policies (config/admission). It also checks the chart's defaults that must agree
// with config/ and the manager's flags: the image, the admission policies' names and
// the approvers' ClusterRole name.
//
//	go run ./hack/chart          # write the generated files (make chart)
//	go run ./hack/chart -check   # fail, with a diff, when they are stale (make chart-check)
//
// The generated templates start with a "Code generated ... DO NOT EDIT." comment; the
// rest of the chart is written by hand.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	configDir := flag.String("config", "config", "The kustomize install to generate from.")
	chartDir := flag.String("chart", "charts/cohort-operator", "The chart to write into.")
	check := flag.Bool("check", false, "Write nothing; fail when a generated file differs from what config/ generates.")
	flag.Parse()
	if err := run(*configDir, *chartDir, *check); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

// run generates every file, then writes them or, with check, compares them with the
// chart's files.
func run(configDir, chartDir string, check bool) error {
	if err := checkDefaults(configDir, chartDir); err != nil {
		return err
	}
	files, err := generate(configDir)
	if err != nil {
		return err
	}
	if check {
		return compare(chartDir, files)
	}
	return write(chartDir, files)
}
