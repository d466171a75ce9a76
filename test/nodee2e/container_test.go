package nodee2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// managerContainer checks the manager's container twice: as the API server admitted
// it (the pod's security contexts and limits), and as the kernel runs it, reading the
// container's process on the host: its user, capabilities, no_new_privs and seccomp
// mode, its root mount, and its memory cgroup's limit and peak.
func managerContainer(ctx context.Context, t *testing.T) {
	pod := managerPods(ctx, t, 1)[0]
	c := pod.Spec.Containers[0]
	psc, sc := pod.Spec.SecurityContext, c.SecurityContext
	if psc == nil || sc == nil {
		t.Fatalf("the manager pod has no security context: pod %+v container %+v", psc, sc)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = psc.SeccompProfile
	}
	switch {
	case psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot:
		t.Errorf("the pod does not require a non-root user: %+v", psc)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("the container's root is not read-only: %+v", sc)
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("the container allows privilege escalation: %+v", sc)
	case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0:
		t.Errorf("the container does not drop every capability: %+v", sc.Capabilities)
	case seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Errorf("the container's seccomp profile is %+v, want RuntimeDefault", seccomp)
	}
	limit := c.Resources.Limits.Memory()
	if limit.IsZero() {
		t.Fatal("the manager has no memory limit")
	}

	pid := containerPID(t, &pod)
	status := procFields(t, fmt.Sprintf("/proc/%d/status", pid))
	t.Logf("manager process %d on the host: Uid %s, Gid %s, CapEff %s, NoNewPrivs %s, Seccomp %s",
		pid, status["Uid"], status["Gid"], status["CapEff"], status["NoNewPrivs"], status["Seccomp"])
	for _, uid := range strings.Fields(status["Uid"]) {
		if uid == "0" {
			t.Errorf("the manager runs as root: Uid %s", status["Uid"])
			break
		}
	}
	if want := psc.RunAsUser; want != nil && strings.Fields(status["Uid"])[0] != strconv.FormatInt(*want, 10) {
		t.Errorf("the manager runs as uid %s, the pod says %d", status["Uid"], *want)
	}
	for field, want := range map[string]string{"CapEff": "0000000000000000", "CapPrm": "0000000000000000", "CapBnd": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2"} {
		if status[field] != want {
			t.Errorf("the manager's process has %s %s, want %s", field, status[field], want)
		}
	}
	if opts := rootMountOptions(t, pid); !strings.Contains(","+opts+",", ",ro,") {
		t.Errorf("the manager's root is mounted %s, not read-only", opts)
	}
	cgroup := memoryCgroup(t, pid)
	read := func(name string) int64 {
		data, err := os.ReadFile(filepath.Join(cgroup, name))
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cgLimit, peak := read("memory.limit_in_bytes"), read("memory.max_usage_in_bytes")
	t.Logf("manager memory: peak %.1f MiB, limit %.0f MiB (cgroup %s)", float64(peak)/(1<<20), float64(cgLimit)/(1<<20), cgroup)
	if cgLimit != limit.Value() {
		t.Errorf("the container's memory cgroup limit is %d, the pod's limit %s", cgLimit, limit)
	}
	if peak >= cgLimit {
		t.Errorf("the manager reached its memory limit: peak %d of %d", peak, cgLimit)
	}
}

// containerPID returns the host PID of a pod's first container, from containerd.
func containerPID(t testing.TB, pod *corev1.Pod) int {
	t.Helper()
	if len(pod.Status.ContainerStatuses) == 0 {
		t.Fatalf("pod %s has no container status", pod.Name)
	}
	id := strings.TrimPrefix(pod.Status.ContainerStatuses[0].ContainerID, "containerd://")
	out, err := ctr("tasks", "ls")
	if err != nil {
		t.Fatalf("ctr tasks ls: %v\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == id {
			pid, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
	}
	t.Fatalf("containerd runs no task %s:\n%s", id, out)
	return 0
}

// procFields reads a /proc status file as a map of field to value.
func procFields(t testing.TB, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields
}

// rootMountOptions returns the mount options of a process's root, as it sees it.
func rootMountOptions(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[4] == "/" {
			return f[5]
		}
	}
	t.Fatalf("process %d has no root mount", pid)
	return ""
}

// memoryCgroup returns the folder of a process's memory cgroup (cgroup v1, as on
// this machine; the unified hierarchy's when v2).
func memoryCgroup(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && strings.Contains(","+f[1]+",", ",memory,") {
			return filepath.Join("/sys/fs/cgroup/memory", f[2])
		}
	}
	t.Fatalf("process %d has no memory cgroup:\n%s", pid, data)
	return ""
}
