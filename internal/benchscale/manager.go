package benchscale

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// managerProcess is the manager binary running as its own process, as it runs for
// users, with the RBAC of config/local.
type managerProcess struct {
	cmd         *exec.Cmd
	metricsAddr string
	pprofAddr   string
	started     time.Time
	exited      chan struct{}

	// dir receives the profile and memory breakdown taken at the peak resident set.
	dir string

	mu       sync.Mutex
	peakHeap float64
	// peakRSS is the largest resident set sampled, and peakProfiled when the heap was
	// last profiled at a new peak.
	peakRSS      float64
	peakProfiled time.Time
	stop         chan struct{}
	sampled      sync.WaitGroup
	stopOnce     sync.Once
	stopErr      error
}

// startManager starts the manager binary with workers units evaluated at once and waits
// until it answers its readiness probe.
func startManager(ctx context.Context, bin, kubeconfig, logFile string, workers int, memoryLimit int64) (*managerProcess, error) {
	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	probeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	pprofAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--kubeconfig", kubeconfig,
		"--metrics-bind-address", metricsAddr, "--health-probe-bind-address", probeAddr,
		"--pprof-bind-address", pprofAddr,
		"--workers", strconv.Itoa(workers), "--portal-ingress-cidrs", "127.0.0.1/32")
	cmd.Stdout, cmd.Stderr = log, log
	// The manager runs with the Go runtime's defaults, whatever the benchmark's own
	// environment tunes for the control plane, and is told its container's memory
	// limit as the chart tells it.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GOGC=") || strings.HasPrefix(kv, "GOMEMLIMIT=") || strings.HasPrefix(kv, "MEMORY_LIMIT=")
	})
	if memoryLimit > 0 {
		cmd.Env = append(cmd.Env, "MEMORY_LIMIT="+strconv.FormatInt(memoryLimit, 10))
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &managerProcess{dir: filepath.Dir(logFile), cmd: cmd, metricsAddr: metricsAddr, pprofAddr: pprofAddr, started: time.Now(), exited: make(chan struct{}), stop: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting the manager: %w", err)
	}
	go func() { _ = cmd.Wait(); _ = log.Close(); close(p.exited) }()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get("http://" + probeAddr + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("the manager exited at start; see %s", logFile)
		case <-ctx.Done():
			p.kill()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("the manager was not ready within a minute; see %s", logFile)
		}
	}
	p.sampled.Go(p.sampleHeap)
	return p, nil
}

// heapSampleInterval is how often the manager's heap is sampled from its metrics
// endpoint. At scale S each scrape encodes tens of thousands of per-cohort series, so a
// scrape every second added to the manager's allocations and CPU a load that
// Prometheus, scraping every 15 to 60 seconds, does not.
const heapSampleInterval = 5 * time.Second

// sampleHeap records the peak of the manager's live heap every heapSampleInterval.
func (p *managerProcess) sampleHeap() {
	tick := time.NewTicker(heapSampleInterval)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.exited:
			return
		case <-tick.C:
		}
		families, err := p.scrape()
		if err != nil {
			continue
		}
		heap := sum(families, "go_memstats_heap_alloc_bytes", nil)
		p.mu.Lock()
		p.peakHeap = max(p.peakHeap, heap)
		p.mu.Unlock()
		p.notePeak(families)
	}
}

// peakProfileInterval bounds how often a growing resident set is profiled.
const peakProfileInterval = 20 * time.Second

// notePeak saves, when the manager's resident set reached a new peak (by 2% at least,
// at most every peakProfileInterval), a heap profile (peak-heap.pprof: the live heap of
// the last collection) and a line of where the resident memory is (peak-memory.txt),
// so that a run shows what its peak held, not only its end.
func (p *managerProcess) notePeak(families map[string]*dto.MetricFamily) {
	status, err := procStatus(p.cmd.Process.Pid)
	if err != nil {
		return
	}
	rss := status["VmRSS"]
	p.mu.Lock()
	due := rss > p.peakRSS*1.02 && time.Since(p.peakProfiled) >= peakProfileInterval
	if due {
		p.peakRSS, p.peakProfiled = rss, time.Now()
	}
	p.mu.Unlock()
	if !due {
		return
	}
	mib := func(v float64) float64 { return v / (1 << 20) }
	line := fmt.Sprintf("%s rss %.0f MiB (anon %.0f, file %.0f): heap alloc %.0f, inuse %.0f, idle unreleased %.0f, next gc %.0f, stacks %.0f, gc metadata %.0f, other %.0f\n",
		time.Since(p.started).Round(time.Second), mib(rss), mib(status["RssAnon"]), mib(status["RssFile"]),
		mib(sum(families, "go_memstats_heap_alloc_bytes", nil)), mib(sum(families, "go_memstats_heap_inuse_bytes", nil)),
		mib(sum(families, "go_memstats_heap_idle_bytes", nil)-sum(families, "go_memstats_heap_released_bytes", nil)),
		mib(sum(families, "go_memstats_next_gc_bytes", nil)), mib(sum(families, "go_memstats_stack_inuse_bytes", nil)),
		mib(sum(families, "go_memstats_gc_sys_bytes", nil)),
		mib(sum(families, "go_memstats_other_sys_bytes", nil)+sum(families, "go_memstats_mspan_inuse_bytes", nil)+sum(families, "go_memstats_mcache_inuse_bytes", nil)))
	if f, err := os.OpenFile(filepath.Join(p.dir, "peak-memory.txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		_, _ = f.WriteString(line)
		_ = f.Close()
	}
	_ = p.profile("heap", filepath.Join(p.dir, "peak-heap.pprof"))
}

// procStatus reads the sizes (in bytes) of a process's /proc/<pid>/status.
func procStatus(pid int) (map[string]float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	sizes := map[string]float64{}
	for line := range strings.Lines(string(data)) {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasSuffix(strings.TrimSpace(rest), " kB") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err == nil {
			sizes[name] = kb * 1024
		}
	}
	return sizes, nil
}

// profile saves one of the manager's pprof profiles (heap, or profile?seconds=N for
// CPU) to file.
func (p *managerProcess) profile(name, file string) error {
	resp, err := http.Get("http://" + p.pprofAddr + "/debug/pprof/" + name)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof %s answered %s", name, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, resp.Body)
	return errors.Join(err, f.Close())
}

// memory is the manager's peak resident set (VmHWM) and peak sampled live heap, in bytes.
func (p *managerProcess) memory() (peakRSS, peakHeap float64, err error) {
	status, err := procStatus(p.cmd.Process.Pid)
	if err != nil {
		return 0, 0, err
	}
	peakRSS = status["VmHWM"]
	p.mu.Lock()
	defer p.mu.Unlock()
	return peakRSS, p.peakHeap, nil
}

// counters reads the manager's request and reconcile counters.
func (p *managerProcess) counters() (counters, error) {
	families, err := p.scrape()
	if err != nil {
		return counters{}, err
	}
	c := counters{requests: map[request]float64{}}
	if f := families["cohort_kube_api_requests_total"]; f != nil {
		for _, m := range f.GetMetric() {
			var r request
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case "verb":
					r.verb = l.GetValue()
				case "resource":
					r.resource = l.GetValue()
				case "code":
					if code := l.GetValue(); !strings.HasPrefix(code, "2") {
						r.code = code
					}
				}
			}
			c.requests[r] += m.GetCounter().GetValue()
		}
	}
	c.reconciles = sum(families, "controller_runtime_reconcile_total", map[string]string{"controller": "program"})
	c.cpu = sum(families, "process_cpu_seconds_total", nil)
	return c, nil
}

func (p *managerProcess) scrape() (map[string]*dto.MetricFamily, error) {
	return Scrape(p.metricsAddr)
}

// Scrape reads the metrics a process serves in Prometheus' text format at
// http://addr/metrics.
func Scrape(addr string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics endpoint answered %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(bufio.NewReader(resp.Body))
}

// sum adds the values of a family's samples whose labels include match.
func sum(families map[string]*dto.MetricFamily, name string, match map[string]string) float64 {
	f := families[name]
	if f == nil {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range match {
			ok = ok && labels[k] == v
		}
		if !ok {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			total += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			total += m.GetGauge().GetValue()
		}
	}
	return total
}

// stopProcess stops the manager with SIGTERM (SIGKILL after ten seconds); calls after
// the first return its result.
func (p *managerProcess) stopProcess() error {
	p.stopOnce.Do(func() {
		close(p.stop)
		p.sampled.Wait()
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.kill()
			p.stopErr = errors.New("the manager did not stop within 10 s of SIGTERM")
		}
	})
	return p.stopErr
}

func (p *managerProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// request is a verb on a resource, with the HTTP status code of its answer when it was
// an error ("" for every success).
type request struct {
	verb, resource, code string
}

// failed reports whether the API server answered with an error.
func (r request) failed() bool { return r.code != "" }

// counters are the manager's cumulative request and reconcile counts.
type counters struct {
	requests   map[request]float64
	reconciles float64
	// cpu is the manager's CPU time in seconds.
	cpu float64
}

// since is c minus an earlier reading.
func (c counters) since(before counters) counters {
	d := counters{requests: map[request]float64{}, reconciles: c.reconciles - before.reconciles, cpu: c.cpu - before.cpu}
	for r, n := range c.requests {
		if v := n - before.requests[r]; v > 0 {
			d.requests[r] = v
		}
	}
	return d
}

// writes counts the successful write requests, leader election's leases excluded.
func (c counters) writes() float64 {
	n := 0.0
	for r, v := range c.requests {
		if isWrite(r.verb) && !r.failed() && r.resource != "leases" {
			n += v
		}
	}
	return n
}

// statusWrites counts the successful writes of a status subresource.
func (c counters) statusWrites() float64 {
	n := 0.0
	for r, v := range c.requests {
		if isWrite(r.verb) && !r.failed() && strings.HasSuffix(r.resource, "/status") {
			n += v
		}
	}
	return n
}

// failedWrites counts the write requests the API server refused.
func (c counters) failedWrites() float64 {
	n := 0.0
	for r, v := range c.requests {
		if isWrite(r.verb) && r.failed() {
			n += v
		}
	}
	return n
}

func isWrite(verb string) bool {
	switch verb {
	case "create", "update", "patch", "apply", "delete", "deletecollection":
		return true
	}
	return false
}

// kubeconfigs are the cluster's administrator and manager identities.
type kubeconfigs struct{ admin, manager string }

func logPath(dir, name string) string { return filepath.Join(dir, name+".log") }

// ChartMemoryLimit reads the manager container's default memory limit, in bytes, from
// the chart's values file (resources.limits.memory).
func ChartMemoryLimit(valuesFile string) (int64, error) {
	data, err := os.ReadFile(valuesFile)
	if err != nil {
		return 0, err
	}
	var values struct {
		Resources struct {
			Limits struct {
				Memory string `json:"memory"`
			} `json:"limits"`
		} `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		return 0, fmt.Errorf("reading %s: %w", valuesFile, err)
	}
	q, err := resource.ParseQuantity(values.Resources.Limits.Memory)
	if err != nil {
		return 0, fmt.Errorf("%s: resources.limits.memory %q: %w", valuesFile, values.Resources.Limits.Memory, err)
	}
	return q.Value(), nil
}
