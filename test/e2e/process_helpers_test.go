package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cohort-dev/cohort-operator/internal/benchscale"
	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/samples"
	"github.com/cohort-dev/cohort-operator/internal/teststate"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// managerNamespace is where config/local installs the operator's RBAC, and so where its
// leader election Lease lives.
const managerNamespace = "cohort-system"

// procCluster is a control plane of one process test's own: those tests kill, restart
// and duplicate the manager and stop the API server, which the suite's shared cluster
// and manager must not notice. It runs no kube-controller-manager; nothing here
// depends on garbage collection.
type procCluster struct {
	*localcluster.Cluster
	admin client.Client
	// adminConfig and managerConfig are kubeconfig files of the administrator and of
	// the operator's ServiceAccount as config/local binds it.
	adminConfig, managerConfig string
	dir                        string
}

// startProcCluster starts a cluster with config/local installed and stops it when the
// test ends.
func startProcCluster(t *testing.T) *procCluster {
	t.Helper()
	// envtest logs through controller-runtime's logger, which nothing else here sets.
	ctrllog.SetLogger(logr.Discard())
	return startInstalledCluster(t, "process-admin", localcluster.Options{})
}

// startInstalledCluster starts a cluster with opts, installs config/local (CRDs, RBAC,
// approval policy) as admin, waits for the CRDs to be Established, and stops the
// cluster when the test ends, showing the API server's log when it failed.
func startInstalledCluster(t *testing.T, admin string, opts localcluster.Options) *procCluster {
	t.Helper()
	dir := t.TempDir()
	opts.Dir = filepath.Join(dir, "cluster")
	cluster, err := localcluster.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Errorf("stopping the cluster: %v", err)
		}
		if t.Failed() {
			printTail(t, "kube-apiserver", filepath.Join(cluster.Dir, "kube-apiserver.log"), 400)
		}
	})
	pc := &procCluster{Cluster: cluster, dir: dir}
	if pc.adminConfig, err = cluster.WriteKubeconfig("admin.kubeconfig", admin, localcluster.AdminGroup); err != nil {
		t.Fatal(err)
	}
	if pc.managerConfig, err = cluster.WriteKubeconfig("manager.kubeconfig", managerUser, "system:serviceaccounts", "system:serviceaccounts:"+managerNamespace); err != nil {
		t.Fatal(err)
	}
	if pc.admin, err = client.New(cluster.Config, client.Options{Scheme: testutil.Scheme()}); err != nil {
		t.Fatal(err)
	}
	if out, err := pc.kubectl("apply", "--server-side", "-k", testutil.Path("config", "local")); err != nil {
		t.Fatalf("installing config/local: %v\n%s", err, out)
	}
	if out, err := pc.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"); err != nil {
		t.Fatalf("waiting for the CRDs: %v\n%s", err, out)
	}
	return pc
}

func (pc *procCluster) kubectl(args ...string) (string, error) {
	args = append([]string{"--kubeconfig", pc.adminConfig}, args...)
	out, err := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), args...).CombinedOutput()
	return string(out), err
}

// createSamples creates namespace ns and the samples in it, with their dates shifted so
// that today falls inside the programs, in the order of their kustomization.
func (pc *procCluster) createSamples(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	if err := pc.admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatalf("creating namespace %s: %v", ns, err)
	}
	manifest, err := samples.Render(os.DirFS(testutil.Path("config", "samples")), samples.ShiftFor(time.Now().UTC()))
	if err != nil {
		t.Fatalf("rendering the samples: %v", err)
	}
	objs, err := testutil.DecodeManifests([]byte(manifest))
	if err != nil {
		t.Fatalf("decoding the samples: %v", err)
	}
	if err := testutil.CreateAll(ctx, pc.admin, ns, objs); err != nil {
		t.Fatal(err)
	}
}

// procManager is the manager binary running as its own process with the operator's
// identity.
type procManager struct {
	name        string
	cmd         *exec.Cmd
	metricsAddr string
	log         string
	exited      chan struct{}
	// exitErr is the process's exit status once exited is closed.
	exitErr error
}

// startManager starts the manager with args added to its kubeconfig and addresses, and
// waits until it answers its readiness probe. Its log is kept in the test's folder and
// its tail printed when the test fails; it is killed when the test ends.
func (pc *procCluster) startManager(t *testing.T, name string, args ...string) *procManager {
	t.Helper()
	metrics, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	probe, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	m := &procManager{name: name, metricsAddr: metrics, log: filepath.Join(pc.dir, name+".log"), exited: make(chan struct{})}
	log, err := os.Create(m.log)
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--kubeconfig", pc.managerConfig, "--metrics-bind-address", metrics, "--health-probe-bind-address", probe,
		"--portal-ingress-cidrs", "127.0.0.1/32", "--zap-log-level", "debug"}, args...)
	m.cmd = exec.Command(manager, args...)
	m.cmd.Stdout, m.cmd.Stderr = log, log
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("starting manager %s: %v", name, err)
	}
	go func() { m.exitErr = m.cmd.Wait(); _ = log.Close(); close(m.exited) }()
	t.Cleanup(func() {
		if m.alive() {
			_ = m.cmd.Process.Kill()
			<-m.exited
		}
		if t.Failed() {
			printTail(t, "manager "+m.name, m.log, 40)
		}
	})
	procWait(t, "manager "+name+" is ready", time.Minute, func() error {
		if !m.alive() {
			return fmt.Errorf("exited: %w", m.exitErr)
		}
		resp, err := http.Get("http://" + probe + "/readyz")
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz answered %s", resp.Status)
		}
		return nil
	})
	return m
}

func (m *procManager) alive() bool {
	select {
	case <-m.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL, as the kernel's OOM killer or a lost node does, and waits for the
// process to end.
func (m *procManager) kill(t *testing.T) {
	t.Helper()
	if err := m.cmd.Process.Kill(); err != nil {
		t.Fatalf("killing manager %s: %v", m.name, err)
	}
	<-m.exited
}

// stop sends SIGTERM, as the kubelet does, and fails the test unless the manager exits
// cleanly within 15 seconds.
func (m *procManager) stop(t *testing.T) {
	t.Helper()
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("manager %s did not stop within 15 s of SIGTERM", m.name)
	}
	if m.exitErr != nil {
		t.Fatalf("manager %s exited with %v after SIGTERM", m.name, m.exitErr)
	}
}

// printTail logs the last lines of a process's log file.
func printTail(t *testing.T, process, file string, lines int) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Logf("%s: %v", process, err)
		return
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	t.Logf("last %d log lines of %s (%s):\n%s", lines, process, file, strings.Join(all[max(0, len(all)-lines):], "\n"))
}

// procMetrics are the samples of one scrape of a manager's metrics.
type procMetrics map[string]*dto.MetricFamily

func (m *procManager) scrape() (procMetrics, error) {
	return benchscale.Scrape(m.metricsAddr)
}

// mustScrape scrapes the manager's metrics, failing the test when it cannot.
func (m *procManager) mustScrape(t *testing.T) procMetrics {
	t.Helper()
	got, err := m.scrape()
	if err != nil {
		t.Fatalf("scraping manager %s: %v", m.name, err)
	}
	return got
}

// requests adds the samples of cohort_kube_api_requests_total that match.
func (pm procMetrics) requests(match func(verb, resource, code string) bool) float64 {
	total := 0.0
	for _, s := range pm["cohort_kube_api_requests_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range s.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if match(labels["verb"], labels["resource"], labels["code"]) {
			total += s.GetCounter().GetValue()
		}
	}
	return total
}

// writes counts the manager's successful writes of program objects and what it
// provisions: leader election's Leases and Events left out.
func (pm procMetrics) writes() float64 {
	return pm.requests(func(verb, resource, code string) bool {
		return isWrite(verb) && strings.HasPrefix(code, "2") && resource != "leases" && resource != "events"
	})
}

// allWrites counts every write request the manager sent except its Lease renewals,
// answered or not.
func (pm procMetrics) allWrites() float64 {
	return pm.requests(func(verb, resource, _ string) bool { return isWrite(verb) && resource != "leases" })
}

// unanswered counts the requests that got no response at all.
func (pm procMetrics) unanswered() float64 {
	return pm.requests(func(_, _, code string) bool { return code == "error" })
}

// leading reports whether the manager holds the lease, by client-go's
// leader_election_master_status.
func (pm procMetrics) leading() bool {
	for _, s := range pm["leader_election_master_status"].GetMetric() {
		if s.GetGauge().GetValue() == 1 {
			return true
		}
	}
	return false
}

func isWrite(verb string) bool {
	switch verb {
	case "create", "update", "patch", "apply", "delete", "deletecollection":
		return true
	}
	return false
}

// procWait retries check every 100 ms until it returns nil or timeout passes.
func procWait(t *testing.T, what string, timeout time.Duration, check func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		last = check()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what, last)
	}
}

// quietFor is how long a manager makes no write before a namespace counts as settled.
const quietFor = 2 * time.Second

// waitSettled waits until every program object of ns has a status for its generation
// with a Ready condition, and m has then written nothing for quietFor.
func (pc *procCluster) waitSettled(t *testing.T, m *procManager, ns string) {
	t.Helper()
	var lastWrites float64
	var quietSince time.Time
	procWait(t, "namespace "+ns+" settles under manager "+m.name, 2*time.Minute, func() error {
		if !m.alive() {
			t.Fatalf("manager %s exited: %v", m.name, m.exitErr)
		}
		if err := pc.statusesCurrent(ns); err != nil {
			quietSince = time.Time{}
			return err
		}
		pm, err := m.scrape()
		if err != nil {
			return err
		}
		if w := pm.allWrites(); w != lastWrites || quietSince.IsZero() {
			lastWrites, quietSince = w, time.Now()
		}
		if since := time.Since(quietSince); since < quietFor {
			return fmt.Errorf("last write %s ago", since.Round(time.Millisecond))
		}
		return nil
	})
}

// statusesCurrent checks that every program object of ns has a status computed for its
// generation, with a Ready condition.
func (pc *procCluster) statusesCurrent(ns string) error {
	_, err := teststate.CaptureSettled(context.Background(), pc.admin, ns)
	return err
}

// snapshot is a namespace's objects by "Kind/name", normalized, and their
// resourceVersions.
type snapshot struct {
	objects  map[string]map[string]any
	versions map[string]string
}

// takeSnapshot reads the state of ns (teststate.Capture) so that two namespaces that
// went through the same changes compare equal: beyond what teststate.Normalize drops,
// times from the window the test runs in (when a condition changed, when a waiting
// membership was promoted) become RECENT. Times outside that window, such as a term's
// start or a gathering's, stay.
func (pc *procCluster) takeSnapshot(t *testing.T, ns string, window timeWindow) snapshot {
	t.Helper()
	captured, err := teststate.Capture(context.Background(), pc.admin, ns)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range captured.Objects {
		window.mask(o)
	}
	return snapshot{objects: captured.Objects, versions: captured.Versions}
}

// timeWindow is the span of wall-clock time a test ran in.
type timeWindow struct{ from, to time.Time }

// rfc3339 and icsTime find the timestamps of object fields and of the calendar's text.
var (
	rfc3339 = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)
	icsTime = regexp.MustCompile(`\d{8}T\d{6}Z`)
)

// mask replaces, in every string of v, the timestamps that fall inside the window.
func (w timeWindow) mask(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = w.mask(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = w.mask(e)
		}
		return v
	case string:
		v = rfc3339.ReplaceAllStringFunc(v, func(s string) string { return w.maskOne(s, time.RFC3339Nano) })
		return icsTime.ReplaceAllStringFunc(v, func(s string) string { return w.maskOne(s, "20060102T150405Z") })
	default:
		return v
	}
}

func (w timeWindow) maskOne(s, layout string) string {
	at, err := time.Parse(layout, s)
	if err == nil && !at.Before(w.from.Truncate(time.Second)) && !at.After(w.to) {
		return "RECENT"
	}
	return s
}

// diffSnapshots describes how got differs from want (teststate.Diff).
func diffSnapshots(want, got snapshot) error {
	if problems := teststate.Diff(want.objects, got.objects); len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// transitionReasons are the Events the operator emits once per transition of an
// object.
var transitionReasons = []string{"Seated", "Waitlisted", "Promoted", "Expired", "AttendanceBelowThreshold", "Approved", "ApprovalVoided"}

// eventCounts counts, per "Kind/name reason", how often the operator emitted a
// transition's Event in ns: every Event object, with the occurrences of its series.
func (pc *procCluster) eventCounts(t *testing.T, ns string) map[string]int32 {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := pc.admin.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatalf("listing Events in %s: %v", ns, err)
	}
	counts := map[string]int32{}
	for _, e := range list.Items {
		if !slices.Contains(transitionReasons, e.Reason) {
			continue
		}
		n := int32(1)
		if e.Series != nil {
			n = max(n, e.Series.Count)
		}
		counts[e.Regarding.Kind+"/"+e.Regarding.Name+" "+e.Reason] += n
	}
	return counts
}

// checkNoDoubleEvents fails the test for each transition whose Event was emitted more
// than once for one object.
func (pc *procCluster) checkNoDoubleEvents(t *testing.T, ns string) {
	t.Helper()
	counts := pc.eventCounts(t, ns)
	if len(counts) == 0 {
		t.Errorf("no transition Events in %s", ns)
	}
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range counts {
			if !yield(k) {
				return
			}
		}
	}) {
		if counts[key] > 1 {
			t.Errorf("%s: Event %s emitted %d times", ns, key, counts[key])
		}
	}
}
