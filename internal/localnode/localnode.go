// Package localnode runs the local cluster of internal/localcluster with a real node:
// containerd and runc from Debian, the CNI bridge plugin, a kubelet, kube-proxy and
// kube-scheduler built from source (hack/controlplane.sh), and a second
// kube-controller-manager for what nodes and pods need (node CIDRs, ServiceAccounts,
// the root CA ConfigMap, EndpointSlices). Pods run images imported from OCI archives;
// nothing is pulled. It changes the machine (a bridge, iptables chains, cgroups,
// sysctls), so it needs root, runs one node per machine, and keeps its state under
// one folder: Stop, or Clean after a killed run, undoes everything.
package localnode

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
)

// The node's network. The bridge's own address is the pods' gateway, the node's
// address and the API server's: an address of this machine that pods reach, and not
// one of its outside interfaces.
const (
	// NodeName is the name of the node.
	NodeName = "cohort-node"
	// Bridge is the CNI bridge the pods are attached to.
	Bridge = "cohort0"
	// Gateway is the bridge's address: the node's and the API server's.
	Gateway = "10.244.0.1"
	// ClusterCIDR is the pods' range; the node gets its first /24, PodCIDR.
	ClusterCIDR = "10.244.0.0/16"
	// PodCIDR is the range kube-controller-manager allocates to the only node.
	PodCIDR = "10.244.0.0/24"
	// ServiceCIDR is the Services' range; its first address is the kubernetes Service.
	ServiceCIDR = "10.0.0.0/16"
	// KubernetesService is the ClusterIP of the default/kubernetes Service.
	KubernetesService = "10.0.0.1"
	// apiserverPort is where kube-apiserver listens on Gateway.
	apiserverPort = 6443
	// kubepods is the kubelet's cgroup of pods, under every hierarchy's root.
	kubepods = "kubepods"
)

// Options configure a node.
type Options struct {
	// Dir holds the node's state (containerd, the kubelet, certificates, logs); an
	// ignored folder of the repository such as bin/node. Required.
	Dir string
	// AssetsDir holds the control plane's and the node's binaries (hack/controlplane.sh);
	// $KUBEBUILDER_ASSETS when empty.
	AssetsDir string
	// Cluster configures the control plane (CRDDirs, ControllerManager, EtcdNoFsync,
	// and ConfigureAPIServer, which runs after the node's own configuration); Start sets
	// its AssetsDir and Dir.
	Cluster localcluster.Options
	// Images are OCI archives imported into containerd before the kubelet starts.
	Images []string
	// PauseImage is the reference of the pods' sandbox image, in one of Images.
	PauseImage string
	// ReadyTimeout bounds the wait for the node to be Ready; two minutes when zero.
	ReadyTimeout time.Duration
}

// Node is a running local cluster with one node.
type Node struct {
	// Cluster is the control plane; its Config reaches the API server on Gateway.
	Cluster *localcluster.Cluster
	// Dir is the node's state folder (absolute).
	Dir string
	// Containerd is the path of containerd's socket, for ctr -a.
	Containerd string

	state *state
	procs []*exec.Cmd
	ca    *authority
	// lock is held from Start to Stop: one node per machine.
	lock *os.File
}

// machineLock is the file a node holds locked while it runs: the bridge, the
// addresses and the ports are the machine's, so a second node (another test package
// run in parallel by go test ./...) waits for the first to stop.
const machineLock = "/run/cohort-localnode.lock"

// lockMachine waits until no other node runs on this machine, and returns the locked
// file. The kernel releases the lock when its holder dies, killed or not.
func lockMachine(ctx context.Context) (*os.File, error) {
	f, err := os.OpenFile(machineLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	err = wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(context.Context) (bool, error) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("waiting for the node another process runs on this machine (%s): %w", machineLock, err)
	}
	return f, nil
}

// Start waits until no other node runs on this machine, cleans what a previous node
// left in opts.Dir, then starts the network, the control plane, containerd (importing
// opts.Images), kube-scheduler, the node's kube-controller-manager, the kubelet and
// kube-proxy, and returns once the node is Ready with PodCIDR and without taints. On
// error, everything started is stopped. The caller must call Stop.
func Start(ctx context.Context, opts Options) (_ *Node, err error) {
	if opts.Dir == "" {
		return nil, errors.New("localnode: Options.Dir is required")
	}
	if opts.AssetsDir == "" {
		opts.AssetsDir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 2 * time.Minute
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := Preflight(opts.AssetsDir); err != nil {
		return nil, err
	}
	lock, err := lockMachine(ctx)
	if err != nil {
		return nil, err
	}
	n := &Node{Dir: dir, Containerd: filepath.Join(dir, "containerd", "containerd.sock"), state: &state{Sysctls: map[string]string{}}, lock: lock}
	if err := clean(dir); err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("cleaning what the previous node left in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			_ = n.Stop()
		}
	}()
	for _, sub := range []string{"logs", "pki", "cni", "containerd", "kubelet", "cluster"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return nil, err
		}
	}
	if err := n.state.save(dir); err != nil {
		return nil, err
	}
	if err := n.startNetwork(); err != nil {
		return nil, err
	}
	if n.ca, err = newAuthority(); err != nil {
		return nil, err
	}
	copts := opts.Cluster
	copts.AssetsDir, copts.Dir = opts.AssetsDir, filepath.Join(dir, "cluster")
	extra := copts.ConfigureAPIServer
	copts.ConfigureAPIServer = func(s *envtest.APIServer) error {
		if err := n.configureAPIServer(s); err != nil {
			return err
		}
		if extra != nil {
			return extra(s)
		}
		return nil
	}
	if n.Cluster, err = localcluster.Start(copts); err != nil {
		return nil, err
	}
	if err := n.recordEtcd(); err != nil {
		return nil, err
	}
	if err := n.startContainerd(ctx, opts.PauseImage, opts.Images); err != nil {
		return nil, err
	}
	if err := n.startKubeDaemons(opts.AssetsDir); err != nil {
		return nil, err
	}
	if err := n.waitReady(ctx, opts.ReadyTimeout); err != nil {
		return nil, err
	}
	return n, nil
}

// Preflight reports what the node needs and this machine lacks: root, the Debian
// packages (hack/ensure-packages.sh installs them) and the built binaries.
func Preflight(assets string) error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (the node creates a bridge, iptables rules and cgroups)")
	}
	for _, cmd := range []string{"containerd", "containerd-shim-runc-v2", "ctr", "runc", "conntrack", "iptables", "ip"} {
		if _, err := exec.LookPath(cmd); err != nil {
			missing = append(missing, cmd+" (make node-deps)")
		}
	}
	for _, plugin := range []string{"bridge", "host-local", "loopback"} {
		if _, err := os.Stat(filepath.Join(cniBin, plugin)); err != nil {
			missing = append(missing, filepath.Join(cniBin, plugin)+" (make node-deps)")
		}
	}
	for _, bin := range []string{"kubelet", "kube-proxy", "kube-scheduler", "kube-controller-manager", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			missing = append(missing, filepath.Join(assets, bin)+" (make controlplane)")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("localnode: this machine lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

// cniBin holds Debian's containernetworking-plugins.
const cniBin = "/usr/lib/cni"

// startNetwork creates the bridge with the gateway address, so that kube-apiserver can
// listen on it before any pod exists, and enables forwarding through it.
func (n *Node) startNetwork() error {
	for path, value := range map[string]string{
		"/proc/sys/net/ipv4/ip_forward":                "1",
		"/proc/sys/net/bridge/bridge-nf-call-iptables": "1",
	} {
		old, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		n.state.Sysctls[path] = strings.TrimSpace(string(old))
		if err := n.state.save(n.Dir); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
			return fmt.Errorf("setting %s: %w", path, err)
		}
	}
	prefix := strings.SplitN(PodCIDR, "/", 2)[1]
	for _, args := range [][]string{
		{"link", "add", Bridge, "type", "bridge"},
		{"addr", "add", Gateway + "/" + prefix, "dev", Bridge},
		{"link", "set", Bridge, "up"},
	} {
		if err := run("ip", args...); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(n.Dir, "cni", "10-cohort.conflist"), []byte(cniConfig(n.Dir)), 0o644)
}

// configureAPIServer makes kube-apiserver listen on the gateway, advertise it to pods
// as the kubernetes Service's endpoint, serve a certificate that pods verify for the
// Service's address, admit ServiceAccounts, and authenticate to the kubelet.
func (n *Node) configureAPIServer(s *envtest.APIServer) error {
	certDir := s.CertDir
	hosts := []string{"localhost", "127.0.0.1", Gateway, KubernetesService, "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	if err := n.ca.issue(certDir, "apiserver", pkix.Name{CommonName: "kube-apiserver"}, hosts, x509.ExtKeyUsageServerAuth); err != nil {
		return err
	}
	// envtest reads sa-signer.crt as the token verification key and sa-signer.key as
	// the signing key; it writes neither when apiserver.crt exists.
	if err := writeSigningKey(certDir, "sa-signer"); err != nil {
		return err
	}
	pki := filepath.Join(n.Dir, "pki")
	if err := os.WriteFile(filepath.Join(pki, "ca.crt"), n.ca.certPEM, 0o644); err != nil {
		return err
	}
	if err := n.ca.issue(pki, "apiserver-kubelet-client", pkix.Name{CommonName: "kube-apiserver-kubelet-client", Organization: []string{localcluster.AdminGroup}}, nil, x509.ExtKeyUsageClientAuth); err != nil {
		return err
	}
	// The secure serving address and the CA that clients of envtest verify it with.
	s.CA = n.ca.certPEM
	s.Address = Gateway
	s.Port = strconv.Itoa(apiserverPort)
	args := s.Configure()
	args.Set("advertise-address", Gateway)
	args.Set("service-cluster-ip-range", ServiceCIDR)
	args.Disable("disable-admission-plugins")
	args.Set("kubelet-client-certificate", filepath.Join(pki, "apiserver-kubelet-client.crt"))
	args.Set("kubelet-client-key", filepath.Join(pki, "apiserver-kubelet-client.key"))
	args.Set("kubelet-preferred-address-types", "InternalIP")
	return nil
}

// waitReady waits until the node is Ready with PodCIDR, the range the CNI bridge uses.
func (n *Node) waitReady(ctx context.Context, timeout time.Duration) error {
	cs, err := kubernetes.NewForConfig(n.Cluster.Config)
	if err != nil {
		return err
	}
	var last string
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		node, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		if node.Spec.PodCIDR != "" && node.Spec.PodCIDR != PodCIDR {
			return false, fmt.Errorf("node %s has podCIDR %s, the bridge uses %s", NodeName, node.Spec.PodCIDR, PodCIDR)
		}
		ready := false
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				ready = c.Status == corev1.ConditionTrue
				last = fmt.Sprintf("Ready=%s (%s)", c.Status, c.Message)
			}
		}
		last += fmt.Sprintf(" podCIDR=%q taints=%v", node.Spec.PodCIDR, node.Spec.Taints)
		// Ready, with the bridge's range, and schedulable: the not-ready taint the
		// kubelet registers with is gone.
		return ready && node.Spec.PodCIDR == PodCIDR && len(node.Spec.Taints) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("node %s not Ready within %s (last: %s; logs in %s): %w", NodeName, timeout, last, filepath.Join(n.Dir, "logs"), err)
	}
	return nil
}

// Stop stops the node and its control plane and cleans the machine (see Clean).
func (n *Node) Stop() error {
	var errs []error
	// The kubelet and the other node daemons first, then the pods and containerd.
	for i := len(n.procs) - 1; i >= 0; i-- {
		p := n.procs[i]
		if p.Process == nil {
			continue
		}
		if strings.HasSuffix(p.Path, "containerd") {
			break
		}
		stopProcess(p.Process.Pid, n.Dir, 10*time.Second)
		_ = p.Wait()
	}
	if n.Cluster != nil {
		if err := n.Cluster.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := clean(n.Dir); err != nil {
		errs = append(errs, err)
	}
	for _, p := range n.procs {
		if p.Process != nil {
			_ = p.Wait()
		}
	}
	if n.lock != nil {
		errs = append(errs, n.lock.Close())
		n.lock = nil
	}
	return errors.Join(errs...)
}

// start starts a daemon with its output in logs/<name>.log and records its PID.
func (n *Node) start(name, path string, args ...string) (*exec.Cmd, error) {
	log, err := os.Create(filepath.Join(n.Dir, "logs", name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	_ = log.Close()
	n.procs = append(n.procs, cmd)
	n.state.PIDs = append(n.state.PIDs, process{Name: name, PID: cmd.Process.Pid})
	return cmd, n.state.save(n.Dir)
}

// waitListening waits until something accepts connections on a unix socket or a
// TCP address, or the process exits.
func waitListening(ctx context.Context, network, address string, cmd *exec.Cmd, timeout time.Duration) error {
	return wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if !alive(cmd.Process.Pid) {
			return false, fmt.Errorf("%s exited", filepath.Base(cmd.Path))
		}
		c, err := net.DialTimeout(network, address, time.Second)
		if err != nil {
			return false, nil
		}
		_ = c.Close()
		return true, nil
	})
}

// recordEtcd records the PID and data folder of the etcd that localcluster started: it
// is the only process of the cluster whose command line does not mention the node's
// folder, and it outlives a killed test.
func (n *Node) recordEtcd() error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || parent(pid) != os.Getpid() {
			continue
		}
		args, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || filepath.Base(strings.SplitN(string(args), "\x00", 2)[0]) != "etcd" {
			continue
		}
		for _, arg := range strings.Split(string(args), "\x00") {
			if data, ok := strings.CutPrefix(arg, "--data-dir="); ok && data != "" {
				n.state.PIDs = append(n.state.PIDs, process{Name: "etcd", PID: pid, Marker: data, DataDir: data})
				return n.state.save(n.Dir)
			}
		}
	}
	return nil
}

// parent returns the parent PID of pid, or 0.
func parent(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}
