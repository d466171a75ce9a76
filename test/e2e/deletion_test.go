package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// delFinalizer is the operator's finalizer on a Cohort (controllers.GatheringsFinalizer).
const delFinalizer = "learning.cohort.dev/gatherings"

// delTimeout bounds the waits on the garbage collector, which discovers the operator's
// kinds some time after they are installed.
const delTimeout = 3 * time.Minute

var (
	delClientOnce sync.Once
	delClientErr  error
	delK8s        client.WithWatch
)

// delClient is an administrator's typed client of the e2e cluster.
func delClient(t *testing.T) client.WithWatch {
	t.Helper()
	delClientOnce.Do(func() {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			delClientErr = err
			return
		}
		delK8s, delClientErr = client.NewWithWatch(cfg, client.Options{Scheme: testutil.Scheme()})
	})
	if delClientErr != nil {
		t.Fatalf("building a client: %v", delClientErr)
	}
	return delK8s
}

// delWait retries check until it returns nil or timeout passes.
func delWait(t *testing.T, what string, timeout time.Duration, check func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		last = check()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what, last)
	}
}

// delProgram is a cohort with a schedule whose first generated gathering has
// attendance recorded.
type delProgram struct {
	ns        string
	cohort    *learningv1alpha1.Cohort
	record    string   // the generated gathering with attendance
	untouched []string // the other generated gatherings
}

// delSetUp creates a community, a cohort that started a month ago with a weekly
// schedule of three upcoming check-ins, and a membership; waits until the operator has
// generated the check-ins and holds the cohort with its finalizer; then records
// attendance on the first check-in, as a person would in advance.
func delSetUp(t *testing.T, ns string) delProgram {
	t.Helper()
	ctx, c := context.Background(), delClient(t)
	createNamespace(t, ns)
	start := time.Now().UTC().AddDate(0, -1, 0).Format(time.DateOnly)
	cohort := testutil.Cohort(ns, "weekly", "club", learningv1alpha1.Date(start), 12)
	cohort.Spec.Schedule = &learningv1alpha1.Schedule{
		RRule: "FREQ=WEEKLY;BYDAY=MO,TH", StartTime: "09:00", Duration: metav1.Duration{Duration: time.Hour},
		TimeZone: "UTC", Lookahead: 3, Type: learningv1alpha1.CheckInEvent,
	}
	cohort.Spec.Services = &learningv1alpha1.CohortServices{Portal: &learningv1alpha1.PortalService{Enabled: true}}
	for _, obj := range []client.Object{
		testutil.Community(ns, "club", testutil.Role("Member", 0, 10)), cohort,
		testutil.Membership(ns, "ana", "weekly", "u-ana", "Member"),
		testutil.Gathering(ns, "orientation", "weekly", time.Now().UTC().AddDate(0, 0, -7)),
	} {
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("creating %s: %v", obj.GetName(), err)
		}
	}
	var generated []learningv1alpha1.LearningEvent
	delWait(t, "three check-ins are generated", time.Minute, func() error {
		var err error
		generated, err = delGenerated(c, ns)
		if err == nil && len(generated) != 3 {
			err = fmt.Errorf("generated %v", delNames(generated))
		}
		return err
	})
	delWait(t, "the cohort carries the operator's finalizer", time.Minute, func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(cohort), cohort); err != nil {
			return err
		}
		if !controllerutil.ContainsFinalizer(cohort, delFinalizer) {
			return fmt.Errorf("finalizers %v", cohort.Finalizers)
		}
		return nil
	})
	delWait(t, "the cohort's services are provisioned", time.Minute, func() error {
		for _, obj := range delChildren(ns) {
			if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
		}
		return nil
	})
	p := delProgram{ns: ns, cohort: cohort, record: generated[0].Name}
	for _, e := range generated[1:] {
		p.untouched = append(p.untouched, e.Name)
	}
	record := generated[0].DeepCopy()
	record.Spec.Attendance = []learningv1alpha1.AttendanceRecord{{Member: "ana", Status: learningv1alpha1.AttendanceExcused, Note: "recorded in advance"}}
	if err := c.Patch(ctx, record, client.MergeFrom(&generated[0])); err != nil {
		t.Fatalf("recording attendance on %s: %v", record.Name, err)
	}
	return p
}

// delChildren are some of the objects provisioned for the cohort: its members' access,
// its documents and its portal.
func delChildren(ns string) []client.Object {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	return []client.Object{
		&rbacv1.Role{ObjectMeta: meta("weekly-read")}, &rbacv1.RoleBinding{ObjectMeta: meta("weekly-edit")},
		&corev1.ConfigMap{ObjectMeta: meta("weekly-roster")}, &corev1.ConfigMap{ObjectMeta: meta("weekly-calendar")},
		&appsv1.Deployment{ObjectMeta: meta("weekly-portal")}, &corev1.Service{ObjectMeta: meta("weekly-portal")},
		&corev1.ServiceAccount{ObjectMeta: meta("weekly-portal")}, &networkingv1.NetworkPolicy{ObjectMeta: meta("weekly-portal")},
	}
}

// checkUserObjectsKept checks that what people declared outlives the cohort: the
// membership and the declared gathering, which now report the cohort missing.
func (p delProgram) checkUserObjectsKept(t *testing.T) {
	t.Helper()
	c := delClient(t)
	for _, obj := range []client.Object{
		&learningv1alpha1.Membership{ObjectMeta: metav1.ObjectMeta{Namespace: p.ns, Name: "ana"}},
		&learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Namespace: p.ns, Name: "orientation"}},
	} {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil || obj.GetDeletionTimestamp() != nil {
			t.Errorf("%s was deleted with the cohort: %v", obj.GetName(), err)
		}
	}
}

// delGenerated lists the cohort's generated gatherings by their schedule label, by
// start.
func delGenerated(c client.Client, ns string) ([]learningv1alpha1.LearningEvent, error) {
	list := &learningv1alpha1.LearningEventList{}
	if err := c.List(context.Background(), list, client.InNamespace(ns), client.MatchingLabels{program.ScheduleLabel: "weekly"}); err != nil {
		return nil, err
	}
	slices.SortFunc(list.Items, func(a, b learningv1alpha1.LearningEvent) int { return a.Spec.Start.Compare(b.Spec.Start.Time) })
	return list.Items, nil
}

func delNames(events []learningv1alpha1.LearningEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Name
	}
	return out
}

// delGone checks that the named object of the program's namespace no longer exists.
func delGone(c client.Client, obj client.Object) error {
	switch err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); {
	case err == nil:
		return fmt.Errorf("%s still exists (deletionTimestamp %v, finalizers %v)", obj.GetName(), obj.GetDeletionTimestamp(), obj.GetFinalizers())
	case apierrors.IsNotFound(err):
		return nil
	default:
		return err
	}
}

// checkRecordKept checks that the gathering with attendance exists with its attendance
// and without owner references, so that no later garbage collection can take it.
func (p delProgram) checkRecordKept(t *testing.T) {
	t.Helper()
	e := &learningv1alpha1.LearningEvent{}
	if err := delClient(t).Get(context.Background(), client.ObjectKey{Namespace: p.ns, Name: p.record}, e); err != nil {
		t.Fatalf("the gathering with attendance %s is gone: %v", p.record, err)
	}
	if len(e.Spec.Attendance) != 1 || e.Spec.Attendance[0].Member != "ana" {
		t.Errorf("%s lost its attendance: %v", p.record, e.Spec.Attendance)
	}
	if len(e.OwnerReferences) > 0 {
		t.Errorf("%s has owner references %v", p.record, e.OwnerReferences)
	}
}

// TestDeletionModesKeepRecordedGatherings deletes a cohort with each propagation
// policy while the operator runs, with the real garbage collector: the generated
// gathering with attendance always stays, unowned, and the untouched upcoming ones are
// deleted by the operator's finalizer.
func TestDeletionModesKeepRecordedGatherings(t *testing.T) {
	for _, mode := range []metav1.DeletionPropagation{metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan} {
		t.Run(string(mode), func(t *testing.T) {
			c := delClient(t)
			p := delSetUp(t, "e2e-delete-"+strings.ToLower(string(mode)))
			if err := c.Delete(context.Background(), p.cohort, client.PropagationPolicy(mode)); err != nil {
				t.Fatalf("deleting the cohort: %v", err)
			}
			delWait(t, "the cohort is gone", delTimeout, func() error { return delGone(c, p.cohort) })
			p.checkRecordKept(t)
			p.checkUserObjectsKept(t)
			if mode == metav1.DeletePropagationOrphan {
				return
			}
			for _, obj := range delChildren(p.ns) {
				delWait(t, "the garbage collector removes "+obj.GetName(), delTimeout, func() error { return delGone(c, obj) })
			}
			for _, name := range p.untouched {
				if err := delGone(c, &learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Namespace: p.ns, Name: name}}); err != nil {
					t.Errorf("the untouched upcoming check-in was not deleted with the cohort: %v", err)
				}
			}
		})
	}
}

// TestDeletionWithTheOperatorStopped deletes a cohort, in the foreground, while the
// operator is not running: the finalizer holds the cohort, and the garbage collector,
// which finishes its part (the foregroundDeletion finalizer goes), removes no
// gathering. Once the operator runs again it deletes the untouched upcoming check-ins
// and lets the cohort go; the check-in with attendance stays.
func TestDeletionWithTheOperatorStopped(t *testing.T) {
	ctx, c := context.Background(), delClient(t)
	p := delSetUp(t, "e2e-delete-stopped")
	restart := delStopManager(t)

	seen := delWatchFinalizers(t, p.cohort)
	if err := c.Delete(ctx, p.cohort, client.PropagationPolicy(metav1.DeletePropagationForeground)); err != nil {
		t.Fatalf("deleting the cohort: %v", err)
	}
	cohort := p.cohort
	delWait(t, "the garbage collector has done its part, and the finalizer holds the cohort", delTimeout, func() error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(cohort), cohort); err != nil {
			return err
		}
		switch {
		case cohort.DeletionTimestamp == nil:
			return errors.New("the cohort is not being deleted")
		case !controllerutil.ContainsFinalizer(cohort, delFinalizer):
			return fmt.Errorf("the operator's finalizer is gone although the operator is stopped: %v", cohort.Finalizers)
		case !seen(metav1.FinalizerDeleteDependents):
			return fmt.Errorf("no version of the cohort had the %s finalizer yet", metav1.FinalizerDeleteDependents)
		case controllerutil.ContainsFinalizer(cohort, metav1.FinalizerDeleteDependents):
			return fmt.Errorf("the garbage collector has not finished: %v", cohort.Finalizers)
		}
		return nil
	})
	time.Sleep(5 * time.Second) // give the garbage collector time to do anything more
	if err := c.Get(ctx, client.ObjectKeyFromObject(cohort), cohort); err != nil || cohort.DeletionTimestamp == nil {
		t.Fatalf("the cohort should stay Terminating while the operator is stopped: %v", err)
	}
	generated, err := delGenerated(c, p.ns)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{p.record}, p.untouched...)
	if got := delNames(generated); !slices.Equal(got, want) {
		t.Fatalf("with the operator stopped the gatherings are %v, want all of %v", got, want)
	}
	p.checkRecordKept(t)

	restart()
	delWait(t, "the restarted operator lets the cohort go", delTimeout, func() error { return delGone(c, cohort) })
	for _, name := range p.untouched {
		if err := delGone(c, &learningv1alpha1.LearningEvent{ObjectMeta: metav1.ObjectMeta{Namespace: p.ns, Name: name}}); err != nil {
			t.Errorf("the untouched upcoming check-in was not deleted: %v", err)
		}
	}
	p.checkRecordKept(t)
}

// delWatchFinalizers watches obj's cohort and reports whether any version of it
// carried a finalizer, so that a finalizer the garbage collector adds and removes
// quickly is still seen.
func delWatchFinalizers(t *testing.T, obj *learningv1alpha1.Cohort) (seen func(string) bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := delClient(t).Watch(ctx, &learningv1alpha1.CohortList{}, client.InNamespace(obj.Namespace),
		client.MatchingFields{"metadata.name": obj.Name}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: obj.ResourceVersion}})
	if err != nil {
		cancel()
		t.Fatalf("watching the cohort: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		w.Stop()
	})
	var mu sync.Mutex
	finalizers := map[string]bool{}
	go func() {
		for ev := range w.ResultChan() {
			if c, ok := ev.Object.(*learningv1alpha1.Cohort); ok {
				mu.Lock()
				for _, f := range c.Finalizers {
					finalizers[f] = true
				}
				mu.Unlock()
			}
		}
	}()
	return func(f string) bool {
		mu.Lock()
		defer mu.Unlock()
		return finalizers[f]
	}
}

// delStopManager stops the manager process that TestMain started (found among this
// process's children by its metrics address) and returns a function that starts it
// again with the same arguments. The test's cleanup starts it again if the test did
// not, so that the tests after it have an operator.
func delStopManager(t *testing.T) (restart func()) {
	t.Helper()
	pid, args, err := delFindManager()
	if err != nil {
		t.Fatalf("finding the manager process: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		t.Fatalf("stopping the manager (pid %d): %v", pid, err)
	}
	delWait(t, "the manager stops", time.Minute, func() error {
		if delRunning(pid) {
			return fmt.Errorf("pid %d still runs", pid)
		}
		return nil
	})
	var once sync.Once
	restart = func() {
		once.Do(func() {
			if err := delStartManager(args); err != nil {
				t.Fatalf("starting the manager again: %v", err)
			}
		})
	}
	t.Cleanup(restart)
	return restart
}

// delFindManager finds the manager among the children of this test process by its
// --metrics-bind-address, and returns its pid and command line.
func delFindManager() (int, []string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, nil, err
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !delRunning(pid) || delParent(pid) != self {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(bytes.TrimRight(data, "\x00")), "\x00")
		if i := slices.Index(args, "--metrics-bind-address"); i >= 0 && i+1 < len(args) && args[i+1] == metricsAddr {
			return pid, args, nil
		}
	}
	return 0, nil, fmt.Errorf("no child process of %d serves metrics on %s", self, metricsAddr)
}

// delStat returns the fields of /proc/<pid>/stat after the command name.
func delStat(pid int) []string {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data[i+1:]))
}

// delRunning reports whether the process exists and has not exited (a zombie waits
// for TestMain to collect it).
func delRunning(pid int) bool {
	f := delStat(pid)
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

func delParent(pid int) int {
	f := delStat(pid)
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// delStartManager starts the manager with args, logging to the manager.log that
// TestMain shows when the suite fails. The process gets SIGTERM when this test process
// exits (Pdeathsig), so it never outlives the suite; the goroutine that starts it keeps
// its OS thread, since Pdeathsig follows the thread that started the child.
func delStartManager(args []string) error {
	log := os.Stderr
	if i := slices.Index(args, "--kubeconfig"); i >= 0 && i+1 < len(args) {
		if f, err := os.OpenFile(filepath.Join(filepath.Dir(args[i+1]), "manager.log"), os.O_WRONLY|os.O_APPEND, 0); err == nil {
			log = f
		}
	}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		err := cmd.Start()
		started <- err
		if err == nil {
			_ = cmd.Wait()
		}
	}()
	return <-started
}
