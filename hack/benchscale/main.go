// Command benchscale runs the scale benchmark (make bench-scale): it starts local
// control planes, runs the manager binary as its own process against them, creates the
// generated workload at each scale, prints the figures and the targets, and writes them
// to docs/benchmarks.md.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cohort-dev/cohort-operator/controllers"
	"github.com/cohort-dev/cohort-operator/internal/benchscale"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		scale       = flag.Float64("scale", 1, "Fraction of scale S (100 communities, 1,000 cohorts, 20,000 memberships, 12,000 events) to measure.")
		checkpoints = flag.String("checkpoints", "0.25,0.5", "Comma-separated fractions of the scale at which the bulk create pauses until the manager has converged.")
		manager     = flag.String("manager", "bin/manager", "The manager binary.")
		assets      = flag.String("assets", cmp.Or(os.Getenv("KUBEBUILDER_ASSETS"), "bin/k8s"), "Folder of the control plane binaries.")
		dir         = flag.String("dir", "bin/bench-scale", "Folder for the clusters' and managers' logs and profiles.")
		out         = flag.String("out", "docs/benchmarks.md", "Where to write the report; empty writes none.")
		workers     = flag.Int("workers", controllers.DefaultWorkers, "The manager's --workers, and the concurrency of the benchmark's own writes.")
		idle        = flag.Duration("idle", time.Minute, "How long writes are counted once the manager is idle.")
		changes     = flag.Int("changes", 200, "How many membership and attendance changes are made one at a time.")
		noFsync     = flag.Bool("etcd-no-fsync", true, "Run etcd without fsync, so that the figures measure the API server and the operator rather than the disk.")
		gogc        = flag.Int("control-plane-gogc", 400, "GOGC of etcd and kube-apiserver (the manager keeps Go's default); 0 leaves it unset.")
		timeout     = flag.Duration("timeout", 15*time.Minute, "Bound of each convergence.")
		values      = flag.String("chart-values", "charts/cohort-operator/values.yaml", "The chart values whose resources.limits.memory the manager is told as its container's limit; empty tells it none.")
	)
	coldOnly := flag.Bool("cold-only", false, "Measure the cold start alone, to look into the manager's peak (see peak-memory.txt and peak-heap.pprof in -dir); writes no report.")
	flag.Parse()
	opts := benchscale.Options{Root: ".", Assets: *assets, Manager: *manager, Dir: *dir, Workers: *workers, Scale: benchscale.Fraction(*scale),
		Idle: *idle, Changes: *changes, Timeout: *timeout, EtcdNoFsync: *noFsync, Progress: os.Stderr, ColdOnly: *coldOnly}
	if *values != "" {
		limit, err := benchscale.ChartMemoryLimit(*values)
		if err != nil {
			fmt.Fprintln(os.Stderr, "-chart-values:", err)
			return 2
		}
		opts.MemoryLimit = limit
	}
	if *checkpoints != "" {
		for f := range strings.SplitSeq(*checkpoints, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || v <= 0 || v >= 1 {
				fmt.Fprintf(os.Stderr, "-checkpoints: %q is not a fraction between 0 and 1\n", f)
				return 2
			}
			opts.Checkpoints = append(opts.Checkpoints, v)
		}
	}
	for _, p := range []*string{&opts.Manager, &opts.Assets, &opts.Dir} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		*p = abs
	}
	if *gogc > 0 {
		// Inherited by etcd and kube-apiserver; the manager is started without it.
		if err := os.Setenv("GOGC", strconv.Itoa(*gogc)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := benchscale.Run(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-scale:", err)
		return 1
	}
	if *coldOnly {
		fmt.Printf("cold start converged in %s; peak RSS %.0f MiB\n", res.Cold.Converge, res.Cold.PeakRSS/(1<<20))
		return 0
	}
	res.PrintTable(os.Stdout)
	if *out != "" {
		command := "make bench-scale"
		if *scale != 1 {
			command = fmt.Sprintf("make bench-scale BENCH_SCALE=%g", *scale)
		}
		if err := os.WriteFile(*out, []byte(res.Markdown(command)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("\nwrote %s\n", *out)
	}
	return 0
}
