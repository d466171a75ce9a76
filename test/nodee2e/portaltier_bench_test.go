package nodee2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/portal"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// Shape of the portal tier benchmark.
const (
	// tierRequests are the page requests made of the shared portal, tierConcurrency
	// at a time.
	tierRequests    = 2000
	tierConcurrency = 8
	// tierIdle is how long the portals' CPU is measured while nobody asks them.
	tierIdle = 20 * time.Second
)

// tierSizes are the numbers of cohorts with portals measured.
var tierSizes = []int{10, 50}

// tierNamespace is the namespace of n cohorts, with portals of their own or shared.
func tierNamespace(shared bool, n int) string {
	if shared {
		return fmt.Sprintf("tier-shared-%d", n)
	}
	return fmt.Sprintf("tier-own-%d", n)
}

// tierCost is what a namespace's portals cost on the node.
type tierCost struct {
	pods                   int
	cpuRequest, memRequest resource.Quantity
	// rss is the resident memory of the portals' processes; idleCPU their CPU while
	// nobody asks them, in millicores.
	rss     int64
	idleCPU float64
}

// BenchmarkPortalTier measures the portal tier on the real node, for 10 and 50
// cohorts with portals in one namespace: with a portal per cohort (the operator's
// Deployments) and with the namespace's shared portal (the chart's): the pods, the
// CPU and memory they request, the memory their processes hold and the CPU they use
// idle; then the shared portal's page latency for 2,000 requests at concurrency 8,
// each with a seated member's token, from a client on the node through the portal's
// Service. It runs once (make bench; not make test) and logs the table
// docs/performance.md reports.
func BenchmarkPortalTier(b *testing.B) {
	ctx := b.Context()
	var shared []string
	for _, n := range tierSizes {
		shared = append(shared, tierNamespace(true, n))
		for _, s := range []bool{false, true} {
			kubectl(b, "create", "namespace", tierNamespace(s, n))
		}
	}
	helm(b, "upgrade", "--install", release, chartPath(), "-n", releaseNamespace, "--create-namespace",
		"--set", "image.repository="+imageRepo, "--set", "image.tag="+imageTag, "--set", "image.pullPolicy=Never",
		"--set", "portal.shared.namespaces={"+strings.Join(shared, ",")+"}",
		"--wait", "--timeout", "3m")
	b.Cleanup(func() {
		_, _ = command("", helmBin, "uninstall", release, "-n", releaseNamespace, "--wait")
	})

	var rows []string
	for _, n := range tierSizes {
		for _, s := range []bool{false, true} {
			ns := tierNamespace(s, n)
			started := time.Now()
			tierPrograms(ctx, b, ns, n)
			kubectl(b, "wait", "-n", ns, "--for=condition=Available", "--timeout=10m", "deployment", "--all")
			b.Logf("%s: %d cohorts' portals Available %.1fs after the cohorts were created", ns, n, time.Since(started).Seconds())
			c := measureTier(ctx, b, ns)
			kind := "a portal per cohort"
			if s {
				kind = "shared"
			}
			rows = append(rows, fmt.Sprintf("| %d | %s | %d | %s | %s | %d MiB | %.1fm |", n, kind, c.pods,
				c.cpuRequest.String(), c.memRequest.String(), c.rss>>20, c.idleCPU))
		}
	}
	latency := sharedLatency(ctx, b, tierNamespace(true, tierSizes[len(tierSizes)-1]), tierSizes[len(tierSizes)-1])
	b.Logf("\n| cohorts | portals | pods | CPU requested | memory requested | memory used (RSS) | CPU used idle |\n| --- | --- | --- | --- | --- | --- | --- |\n%s\n\n%s",
		strings.Join(rows, "\n"), latency)
}

// tierPrograms creates a community in ns with n cohorts that enable their portal,
// each with one seated member, person-<i>, and waits until every cohort is provisioned.
func tierPrograms(ctx context.Context, b *testing.B, ns string, n int) {
	start := learningv1alpha1.Date(time.Now().UTC().Format("2006-01") + "-01")
	if err := admin.Create(ctx, testutil.Community(ns, "circle", testutil.Role("Member", 0, 5))); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		c := testutil.Cohort(ns, fmt.Sprintf("cohort-%02d", i), "circle", start, 12)
		c.Spec.Services = &learningv1alpha1.CohortServices{Portal: &learningv1alpha1.PortalService{Enabled: true}}
		m := testutil.Membership(ns, fmt.Sprintf("person-%02d", i), c.Name, tierPerson(ns, i), "Member")
		for _, obj := range []client.Object{c, m} {
			if err := admin.Create(ctx, obj); err != nil {
				b.Fatalf("creating %s: %v", obj.GetName(), err)
			}
		}
	}
	kubectl(b, "wait", "-n", ns, "--for=condition=Provisioned", "--timeout=5m", "coh", "--all")
	kubectl(b, "wait", "-n", ns, "--for=condition=Ready", "--timeout=5m", "mbr", "--all")
}

// tierPerson is the user seated in cohort i of ns.
func tierPerson(ns string, i int) string { return fmt.Sprintf("person-%02d@%s.example.org", i, ns) }

// measureTier sums what the portal pods of ns request and use: their processes'
// resident memory, and their CPU over tierIdle while nobody asks them.
func measureTier(ctx context.Context, b *testing.B, ns string) tierCost {
	pods := &corev1.PodList{}
	if err := admin.List(ctx, pods, client.InNamespace(ns)); err != nil {
		b.Fatal(err)
	}
	var c tierCost
	var pids []int
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		c.pods++
		for _, ctr := range p.Spec.Containers {
			c.cpuRequest.Add(ctr.Resources.Requests[corev1.ResourceCPU])
			c.memRequest.Add(ctr.Resources.Requests[corev1.ResourceMemory])
		}
		pids = append(pids, containerPID(b, p))
	}
	before := cpuTicks(b, pids)
	time.Sleep(tierIdle)
	after := cpuTicks(b, pids)
	c.idleCPU = float64(after-before) / clockTicks / tierIdle.Seconds() * 1000
	for _, pid := range pids {
		kb, _ := strconv.ParseInt(strings.TrimSuffix(procFields(b, fmt.Sprintf("/proc/%d/status", pid))["VmRSS"], " kB"), 10, 64)
		c.rss += kb << 10
	}
	return c
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat's CPU times.
const clockTicks = 100

// cpuTicks is the user and system CPU time of the processes, in clock ticks.
func cpuTicks(b *testing.B, pids []int) int64 {
	var total int64
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Fatal(err)
		}
		data := string(raw)
		// The command, in parentheses, may hold spaces: the fields follow its end.
		f := strings.Fields(data[strings.LastIndexByte(data, ')')+1:])
		for _, i := range []int{11, 12} { // utime and stime, fields 14 and 15
			v, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				b.Fatalf("/proc/%d/stat: %v", pid, err)
			}
			total += v
		}
	}
	return total
}

// sharedLatency asks the shared portal of ns for the overview pages of its n cohorts,
// tierRequests in all, tierConcurrency at a time, each with the token of the cohort's
// seated member, and reports the median and 99th percentile, the portal's CPU and
// its memory once it holds every cohort.
func sharedLatency(ctx context.Context, b *testing.B, ns string, n int) string {
	base := sharedPortalURLIn(ctx, b, ns)
	headers := make([]http.Header, n)
	for i := range n {
		tok, err := iss.Token(tierPerson(ns, i), time.Now().Add(time.Hour), portal.DefaultAudience)
		if err != nil {
			b.Fatal(err)
		}
		headers[i] = http.Header{"Authorization": {"Bearer " + tok}}
	}
	// Every member can read their cohort before the clock starts.
	for i := range n {
		if code, body, err := sharedGet(ctx, fmt.Sprintf("%s/cohorts/cohort-%02d/", base, i), headers[i]); err != nil || code != http.StatusOK {
			b.Fatalf("cohort-%02d as its member: %d %v\n%.300s", i, code, err, body)
		}
	}
	pods := &corev1.PodList{}
	if err := admin.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{"app.kubernetes.io/component": "shared-portal"}); err != nil || len(pods.Items) == 0 {
		b.Fatalf("the shared portal's pods in %s: %v", ns, err)
	}
	var pids []int
	for i := range pods.Items {
		pids = append(pids, containerPID(b, &pods.Items[i]))
	}
	latencies := make([]time.Duration, tierRequests)
	var failures int
	var mu sync.Mutex
	next := make(chan int)
	var wg sync.WaitGroup
	cpuBefore, started := cpuTicks(b, pids), time.Now()
	for range tierConcurrency {
		wg.Go(func() {
			for i := range next {
				c := i % n
				t0 := time.Now()
				code, _, err := sharedGet(ctx, fmt.Sprintf("%s/cohorts/cohort-%02d/", base, c), headers[c])
				latencies[i] = time.Since(t0)
				if err != nil || code != http.StatusOK {
					mu.Lock()
					failures++
					mu.Unlock()
				}
			}
		})
	}
	for i := range tierRequests {
		next <- i
	}
	close(next)
	wg.Wait()
	wall := time.Since(started)
	cpu := float64(cpuTicks(b, pids)-cpuBefore) / clockTicks / wall.Seconds() * 1000
	if failures > 0 {
		b.Errorf("%d of %d requests failed", failures, tierRequests)
	}
	// The portal now holds every cohort's documents.
	var rss int64
	for _, pid := range pids {
		kb, _ := strconv.ParseInt(strings.TrimSuffix(procFields(b, fmt.Sprintf("/proc/%d/status", pid))["VmRSS"], " kB"), 10, 64)
		rss += kb << 10
	}
	slices.Sort(latencies)
	p50, p99 := latencies[len(latencies)/2], latencies[len(latencies)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	return fmt.Sprintf("The shared portal of %d cohorts: %d requests, %d at a time, in %s (%.0f a second): median %s, 99th percentile %s; the portal used %.0fm CPU meanwhile, and held %d MiB with every cohort's documents loaded.",
		n, tierRequests, tierConcurrency, wall.Round(time.Millisecond), float64(tierRequests)/wall.Seconds(),
		p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), cpu, rss>>20)
}

// sharedPortalURLIn is the address of the shared portal's Service in ns.
func sharedPortalURLIn(ctx context.Context, b testing.TB, ns string) string {
	b.Helper()
	list := &corev1.ServiceList{}
	if err := admin.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{"app.kubernetes.io/component": "shared-portal"}); err != nil {
		b.Fatal(err)
	}
	if len(list.Items) != 1 {
		b.Fatalf("want one shared portal Service in %s, got %d", ns, len(list.Items))
	}
	s := list.Items[0]
	return fmt.Sprintf("http://%s:%d", s.Spec.ClusterIP, s.Spec.Ports[0].Port)
}
