package node

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/localnode"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// childDirEnv makes the test binary a node that runs a pod and waits to be killed
// (see TestMain), instead of running the tests.
const childDirEnv = "COHORT_NODE_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		if err := runChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "node child:", err)
			os.Exit(1)
		}
		select {} // until killed
	}
	os.Exit(m.Run())
}

// runChild starts a node in dir, runs a pause pod, and writes dir/child-ready.
func runChild(dir string) error {
	operatorArchive, pauseArchive := os.Getenv("COHORT_NODE_OPERATOR"), os.Getenv("COHORT_NODE_PAUSE")
	pause, err := localnode.ImageRef(pauseArchive)
	if err != nil {
		return err
	}
	ctx := context.Background()
	node, err := localnode.Start(ctx, localnode.Options{
		Dir: dir, AssetsDir: testutil.Path("bin", "k8s"), Cluster: localcluster.Options{ControllerManager: true},
		Images: []string{operatorArchive, pauseArchive}, PauseImage: pause,
	})
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(node.Cluster.Config)
	if err != nil {
		return err
	}
	if err := createPod(ctx, cs, pod("pause", pause)); err != nil {
		return err
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods("default").Get(ctx, "pause", metav1.GetOptions{})
		return err == nil && p.Status.Phase == corev1.PodRunning, nil
	})
	if err != nil {
		return fmt.Errorf("the pause pod is not Running: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "child-ready"), nil, 0o600)
}

// TestCleanAfterKilledRun kills (SIGKILL) a process that runs a node with a pod, as a
// test timeout or a CI cancellation does, and checks that Clean, which every Start
// runs first, leaves the machine as it was.
func TestCleanAfterKilledRun(t *testing.T) {
	operatorArchive, pauseArchive, err := testutil.ImageArchives()
	if err != nil {
		t.Fatal(err)
	}
	dir := testutil.Path("bin", "node")
	before := machineState(t, dir)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childDirEnv+"="+dir, "COHORT_NODE_OPERATOR="+operatorArchive, "COHORT_NODE_PAUSE="+pauseArchive)
	log, err := os.Create(filepath.Join(t.TempDir(), "child.log"))
	if err != nil {
		t.Fatal(err)
	}
	child.Stdout, child.Stderr = log, log
	ready := filepath.Join(dir, "child-ready")
	_ = os.Remove(ready)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 3*time.Minute, true, func(context.Context) (bool, error) {
		select {
		case err := <-exited:
			return false, fmt.Errorf("the child exited: %w", err)
		default:
		}
		_, err := os.Stat(ready)
		return err == nil, nil
	})
	if err != nil {
		data, _ := os.ReadFile(log.Name())
		_ = child.Process.Kill()
		_ = localnode.Clean(dir)
		t.Fatalf("the child's node with a pod did not come up: %v\n%s", err, data)
	}
	pids, err := localnode.PIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	// containerd, etcd, kube-scheduler, kube-controller-manager, kubelet, kube-proxy.
	if len(pids) != 6 {
		state, _ := os.ReadFile(filepath.Join(dir, "state.json"))
		t.Errorf("the killed node recorded %d processes, want 6:\n%s", len(pids), state)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err == nil {
		t.Fatal("the child exited with status 0 after SIGKILL")
	}
	_ = os.Remove(ready)
	if left := machineState(t, dir); left == before {
		t.Fatalf("a killed node left nothing behind, so this test checks nothing: %s", left)
	}
	started := time.Now()
	if err := localnode.Clean(dir); err != nil {
		t.Fatalf("cleaning after the killed run: %v", err)
	}
	t.Logf("cleaned after the killed run in %s", time.Since(started).Round(10*time.Millisecond))
	if after := machineState(t, dir); after != before {
		t.Errorf("the machine is not as the node found it:\nbefore: %s\nafter:  %s", before, after)
	}
	for _, pid := range pids {
		if !processExited(pid, 5*time.Second) {
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			t.Errorf("process %d of the killed node still runs: %q", pid, cmdline)
		}
	}
}

// processExited waits up to timeout for process pid to exit. A process that has exited but
// whose parent has not reaped it yet (a zombie: the killed node's processes are
// reparented, and reaped when their new parent gets to it) counts as exited.
func processExited(pid int, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		// The state follows the command's name, which is in parentheses.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
