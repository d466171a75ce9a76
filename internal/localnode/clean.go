package localnode

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cleanGrace is how long Clean lets a process exit on SIGTERM before SIGKILL: the
// state it would save is removed anyway. Node.Stop stops the daemons gracefully first.
const cleanGrace = 500 * time.Millisecond

// state is what a node changed on the machine, written to <dir>/state.json as it goes
// so that Clean can undo it even after the process that started the node was killed.
type state struct {
	// PIDs of the processes the node started, in start order.
	PIDs []process `json:"pids"`
	// Sysctls holds the values the node's sysctls had before it changed them.
	Sysctls map[string]string `json:"sysctls"`
}

type process struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// Marker is a string of the process's command line that proves a PID still names
	// it; the node's folder when empty.
	Marker string `json:"marker,omitempty"`
	// DataDir is a folder of its own that Clean removes once it stopped.
	DataDir string `json:"dataDir,omitempty"`
}

func statePath(dir string) string { return filepath.Join(dir, "state.json") }

func loadState(dir string) (*state, error) {
	data, err := os.ReadFile(statePath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return &state{Sysctls: map[string]string{}}, nil
	}
	if err != nil {
		return nil, err
	}
	s := &state{}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("%s: %w", statePath(dir), err)
	}
	if s.Sysctls == nil {
		s.Sysctls = map[string]string{}
	}
	return s, nil
}

func (s *state) save(dir string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(statePath(dir), data, 0o600)
}

// Clean stops whatever a node left in dir, running or killed: its processes (by the
// PIDs in its state file, and the containerd shims and pod processes they left), the
// mounts under dir and the pods' network namespaces, the kubepods cgroups, the bridge,
// the KUBE- and CNI- iptables chains, and the sysctls it changed. It removes the
// runtime state under dir and keeps the logs. Clean of a folder without a node does
// nothing. It waits, up to two minutes, for a node that another process runs on this
// machine to stop first.
func Clean(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	lock, err := lockMachine(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = lock.Close() }()
	return clean(dir)
}

// clean is Clean for a caller that holds the machine's lock.
func clean(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	s, err := loadState(dir)
	if err != nil {
		return err
	}
	var errs []error
	// The recorded daemons together, then the pods' processes, then the shims and
	// anything else started with dir in its command line (a daemon whose PID was not
	// yet recorded).
	var pids []int
	for _, p := range s.PIDs {
		marker := p.Marker
		if marker == "" {
			marker = dir
		}
		if mentions(p.PID, marker) {
			pids = append(pids, p.PID)
		}
	}
	stopProcesses(pids, cleanGrace)
	for _, p := range s.PIDs {
		if p.DataDir != "" {
			errs = append(errs, os.RemoveAll(p.DataDir))
		}
	}
	killCgroupProcs()
	stopProcesses(processesMentioning(dir), cleanGrace)
	errs = append(errs, unmountUnder(dir), removeNetns(), removeCgroups(), deleteBridge(), cleanIptables(), removeDeadShimSockets())
	for path, value := range s.Sysctls {
		errs = append(errs, os.WriteFile(path, []byte(value), 0o644))
	}
	for _, sub := range []string{"containerd", "kubelet", "cni", "pki", "cluster"} {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, sub)))
	}
	if err := os.Remove(statePath(dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// stopProcess stops pid (see stopProcesses) when its command line still mentions
// marker: a PID reused by another program is left alone.
func stopProcess(pid int, marker string, grace time.Duration) {
	if mentions(pid, marker) {
		stopProcesses([]int{pid}, grace)
	}
}

// stopProcesses sends SIGTERM to every pid, and SIGKILL to those still alive after grace.
func stopProcesses(pids []int, grace time.Duration) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(grace)
	for _, pid := range pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, pid := range pids {
		for i := 0; i < 100 && alive(pid); i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie (state Z) has exited; its parent reaps it.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func mentions(pid int, dir string) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(data), dir)
}

// processesMentioning lists the processes whose command line contains dir, but this
// process and its ancestors (a go run or a make that passed dir on).
func processesMentioning(dir string) []int {
	ours := map[int]bool{}
	for pid := os.Getpid(); pid > 1 && !ours[pid]; pid = parent(pid) {
		ours[pid] = true
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || ours[pid] {
			continue
		}
		if mentions(pid, dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// cgroupRoots are the cgroup hierarchies of this machine (v1 controllers, or the
// unified v2 root).
func cgroupRoots() []string {
	entries, err := os.ReadDir("/sys/fs/cgroup")
	if err != nil {
		return nil
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return []string{"/sys/fs/cgroup"}
	}
	var roots []string
	for _, e := range entries {
		if e.IsDir() {
			roots = append(roots, filepath.Join("/sys/fs/cgroup", e.Name()))
		}
	}
	return roots
}

// podCgroups lists the kubelet's kubepods cgroups in every hierarchy, deepest first.
func podCgroups() []string {
	var dirs []string
	for _, root := range cgroupRoots() {
		_ = filepath.WalkDir(filepath.Join(root, kubepods), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	sort.Slice(dirs, func(i, j int) bool { return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/") })
	return dirs
}

// killCgroupProcs kills every process in the kubepods cgroups: the pods' containers.
func killCgroupProcs() {
	for round := 0; round < 50; round++ {
		found := false
		for _, d := range podCgroups() {
			data, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil {
					found = true
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		if !found {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func removeCgroups() error {
	var errs []error
	for _, d := range podCgroups() {
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// unmountUnder detaches every mount point under dir, deepest first.
func unmountUnder(dir string) error {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, unescapeMount(fields[4]))
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// unescapeMount undoes mountinfo's octal escapes of spaces, tabs and newlines.
func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// removeNetns removes the pods' network namespaces, which containerd names cni-*.
func removeNetns() error {
	matches, _ := filepath.Glob("/var/run/netns/cni-*")
	var errs []error
	for _, m := range matches {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func deleteBridge() error {
	if _, err := os.Stat("/sys/class/net/" + Bridge); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return run("ip", "link", "delete", Bridge)
}

// cleanIptables removes the chains kube-proxy, the kubelet and the CNI plugins create
// (KUBE-*, CNI-*) and the rules that jump to them, in IPv4 and IPv6.
func cleanIptables() error {
	var errs []error
	for _, bin := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(bin); err != nil {
			continue
		}
		for _, table := range []string{"filter", "nat", "mangle"} {
			errs = append(errs, cleanTable(bin, table))
		}
	}
	return errors.Join(errs...)
}

func cleanTable(bin, table string) error {
	out, err := exec.Command(bin, "-w", "-t", table, "-S").Output()
	if err != nil {
		return nil // a table this kernel lacks
	}
	ours := func(chain string) bool { return strings.HasPrefix(chain, "KUBE-") || strings.HasPrefix(chain, "CNI-") }
	var chains []string
	var errs []error
	for _, line := range strings.Split(string(out), "\n") {
		fields := splitRule(line)
		switch {
		case len(fields) == 2 && fields[0] == "-N" && ours(fields[1]):
			chains = append(chains, fields[1])
		case len(fields) > 2 && fields[0] == "-A" && !ours(fields[1]) && (jumpsTo(fields, ours)):
			args := append([]string{"-w", "-t", table, "-D"}, fields[1:]...)
			if err := run(bin, args...); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, c := range chains {
		_ = run(bin, "-w", "-t", table, "-F", c)
	}
	for _, c := range chains {
		if err := run(bin, "-w", "-t", table, "-X", c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func jumpsTo(fields []string, ours func(string) bool) bool {
	for i, f := range fields[:len(fields)-1] {
		if (f == "-j" || f == "-g") && ours(fields[i+1]) {
			return true
		}
	}
	return false
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// splitRule splits a line of iptables -S into arguments, keeping "quoted words" whole.
func splitRule(line string) []string {
	var fields []string
	var cur strings.Builder
	quoted, started := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == '\\' && quoted && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case ch == '"':
			quoted, started = !quoted, true
		case ch == ' ' && !quoted:
			if started {
				fields = append(fields, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteByte(ch)
			started = true
		}
	}
	if started {
		fields = append(fields, cur.String())
	}
	return fields
}

// Chains lists the KUBE- and CNI- iptables chains of the filter, nat and mangle tables,
// as "iptables/table/chain": empty on a clean machine.
func Chains() ([]string, error) {
	var chains []string
	for _, bin := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(bin); err != nil {
			continue
		}
		for _, table := range []string{"filter", "nat", "mangle"} {
			out, err := exec.Command(bin, "-w", "-t", table, "-S").Output()
			if err != nil {
				continue
			}
			for _, line := range strings.Split(string(out), "\n") {
				f := strings.Fields(line)
				if len(f) == 2 && f[0] == "-N" && (strings.HasPrefix(f[1], "KUBE-") || strings.HasPrefix(f[1], "CNI-")) {
					chains = append(chains, bin+"/"+table+"/"+f[1])
				}
			}
		}
	}
	return chains, nil
}

// Processes lists the PIDs of the processes whose command line mentions dir: a node's
// daemons and containerd shims. Empty once the node in dir is stopped.
func Processes(dir string) []int {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	return processesMentioning(abs)
}

// PIDs lists the processes the node in dir recorded in its state file (its daemons,
// the control plane's etcd), alive or not; none once Clean ran.
func PIDs(dir string) ([]int, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s, err := loadState(abs)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(s.PIDs))
	for _, p := range s.PIDs {
		pids = append(pids, p.PID)
	}
	return pids, nil
}

// shimSockets is where containerd 1.6 puts its shims' sockets, whatever its state dir.
const shimSockets = "/run/containerd/s"

// removeDeadShimSockets removes the shim sockets nothing listens on any more: those of
// shims that were killed instead of stopped.
func removeDeadShimSockets() error {
	entries, err := os.ReadDir(shimSockets)
	if err != nil {
		return nil
	}
	var errs []error
	for _, e := range entries {
		path := filepath.Join(shimSockets, e.Name())
		if e.Type()&fs.ModeSocket == 0 {
			continue
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			_ = c.Close()
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	// The folders too, when nothing else is left in them.
	_ = os.Remove(shimSockets)
	_ = os.Remove(filepath.Dir(shimSockets))
	return errors.Join(errs...)
}
