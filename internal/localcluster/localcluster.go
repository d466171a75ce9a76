// Package localcluster runs a real Kubernetes control plane on loopback: etcd and
// kube-apiserver through controller-runtime's envtest, plus, when asked,
// kube-controller-manager for garbage collection and namespace deletion. The demo, the
// envtest suites and the end-to-end tests all start their clusters here.
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// AdminGroup is the group of the cluster's all-powerful users.
const AdminGroup = "system:masters"

// controllers are the kube-controller-manager loops a cluster without nodes needs:
// garbage collection of owned objects, namespace deletion and Deployment rollouts.
var controllers = "garbage-collector-controller,namespace-controller,deployment-controller,replicaset-controller"

// serviceRange is the cluster's Service IP range: 65,534 addresses.
const serviceRange = "10.0.0.0/16"

// Options configure a local cluster.
type Options struct {
	// AssetsDir holds the etcd, kube-apiserver, kubectl and kube-controller-manager
	// binaries. Defaults to $KUBEBUILDER_ASSETS.
	AssetsDir string
	// CRDDirs are installed before Start returns.
	CRDDirs []string
	// ControllerManager also starts kube-controller-manager.
	ControllerManager bool
	// Dir receives kubeconfig files and logs; a temporary folder when empty.
	Dir string
	// EtcdNoFsync runs etcd without fsync (--unsafe-no-fsync): writes are no longer
	// durable, and what is measured is the API server rather than the disk. For
	// benchmarks only.
	EtcdNoFsync bool
	// ConfigureAPIServer, when set, adjusts kube-apiserver before it starts (its
	// address, certificates and flags); internal/localnode uses it. Nil for none.
	ConfigureAPIServer func(*envtest.APIServer) error
}

// Cluster is a running local control plane.
type Cluster struct {
	// Config is an administrator's client configuration.
	Config *rest.Config
	// Dir holds the cluster's kubeconfig files and logs.
	Dir string

	env *envtest.Environment
	kcm *exec.Cmd
	// certDir holds kube-apiserver's serving certificate and the client CA; kept
	// across StopAPIServer and StartAPIServer, so that every issued kubeconfig stays valid.
	certDir string
	// apiserverLog receives kube-apiserver's output, across restarts.
	apiserverLog *os.File
}

// Start starts etcd and kube-apiserver, installs the CRDs and, when asked, starts
// kube-controller-manager. The caller must call Stop.
func Start(opts Options) (*Cluster, error) {
	if opts.AssetsDir == "" {
		opts.AssetsDir = os.Getenv("KUBEBUILDER_ASSETS")
	}
	if opts.AssetsDir == "" {
		return nil, errors.New("no control plane binaries: set KUBEBUILDER_ASSETS or run 'make controlplane'")
	}
	if _, err := os.Stat(filepath.Join(opts.AssetsDir, "kube-apiserver")); err != nil {
		return nil, fmt.Errorf("control plane binaries in %s: %w (run 'make controlplane')", opts.AssetsDir, err)
	}
	dir := opts.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "cohort-cluster-")
		if err != nil {
			return nil, err
		}
		dir = tmp
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	// The API server's certificates live in a folder of the cluster's own, not one
	// envtest creates and removes when kube-apiserver stops, so that StopAPIServer and
	// StartAPIServer keep them. A fresh folder per start: envtest reuses certificates it
	// finds, without the CA that signed them.
	certDir, err := os.MkdirTemp(dir, "kube-apiserver-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, certDir: certDir, env: &envtest.Environment{
		BinaryAssetsDirectory: opts.AssetsDir,
		CRDDirectoryPaths:     opts.CRDDirs,
		ErrorIfCRDPathMissing: true,
	}}
	apiserver := c.env.ControlPlane.GetAPIServer()
	apiserver.CertDir = certDir
	if c.apiserverLog, err = os.Create(filepath.Join(dir, "kube-apiserver.log")); err != nil {
		return nil, err
	}
	apiserver.Out, apiserver.Err = c.apiserverLog, c.apiserverLog
	// A Service range as large as a real cluster's: envtest's default /24 holds 254
	// Services, fewer than a platform's portals.
	apiserver.Configure().Set("service-cluster-ip-range", serviceRange)
	// On SIGTERM, answer new requests with 429 and Retry-After until those in flight
	// are done, then give open watches 2 s to go, as API servers behind a load
	// balancer do; by default kube-apiserver waits up to its request timeout, a
	// minute, for its clients' watches to close.
	apiserver.Configure().Set("shutdown-send-retry-after", "true")
	if opts.ConfigureAPIServer != nil {
		if err := opts.ConfigureAPIServer(apiserver); err != nil {
			return nil, err
		}
	}
	if opts.EtcdNoFsync {
		etcd := &envtest.Etcd{}
		etcd.Configure().Set("unsafe-no-fsync", "true")
		c.env.ControlPlane.Etcd = etcd
	}
	cfg, err := c.env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting etcd and kube-apiserver: %w", err)
	}
	c.Config = cfg
	if opts.ControllerManager {
		if err := c.startControllerManager(opts.AssetsDir); err != nil {
			_ = c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// AddUser creates an identity authenticated by a client certificate and returns its
// client configuration. RBAC decides what it may do.
func (c *Cluster) AddUser(name string, groups ...string) (*rest.Config, error) {
	u, err := c.env.AddUser(envtest.User{Name: name, Groups: groups}, c.Config)
	if err != nil {
		return nil, fmt.Errorf("adding user %q: %w", name, err)
	}
	return u.Config(), nil
}

// WriteKubeconfig writes a kubeconfig file for a new identity to Dir/<file> and
// returns its path.
func (c *Cluster) WriteKubeconfig(file, user string, groups ...string) (string, error) {
	u, err := c.env.AddUser(envtest.User{Name: user, Groups: groups}, c.Config)
	if err != nil {
		return "", fmt.Errorf("adding user %q: %w", user, err)
	}
	data, err := u.KubeConfig()
	if err != nil {
		return "", fmt.Errorf("building kubeconfig of %q: %w", user, err)
	}
	path := filepath.Join(c.Dir, file)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", err
	}
	return path, nil
}

func (c *Cluster) startControllerManager(assets string) error {
	kubeconfig, err := c.WriteKubeconfig("controller-manager.kubeconfig", "system:kube-controller-manager", AdminGroup)
	if err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(c.Dir, "kube-controller-manager.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(assets, "kube-controller-manager"),
		"--kubeconfig="+kubeconfig,
		"--controllers="+controllers,
		"--leader-elect=false",
		"--secure-port=0",
		"--concurrent-gc-syncs=5",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting kube-controller-manager: %w", err)
	}
	c.kcm = cmd
	return nil
}

// Stop stops kube-controller-manager, kube-apiserver and etcd.
func (c *Cluster) Stop() error {
	var errs []error
	if c.kcm != nil && c.kcm.Process != nil {
		_ = c.kcm.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.kcm.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = c.kcm.Process.Kill()
		}
	}
	if err := c.env.Stop(); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(c.certDir); err != nil {
		errs = append(errs, err)
	}
	if err := c.apiserverLog.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// StopAPIServer stops kube-apiserver gracefully, as a control plane upgrade or a
// failover does; etcd and kube-controller-manager keep running. Clients see refused
// connections until StartAPIServer.
func (c *Cluster) StopAPIServer() error {
	if err := c.env.ControlPlane.APIServer.Stop(); err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	return nil
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the same address
// with the same certificates and etcd, so existing clients and kubeconfigs reconnect
// unchanged. It returns once the API server is ready: clients that reconnect earlier,
// as soon as it listens, may meanwhile be refused by an authorizer that has not loaded
// the RBAC objects yet, as with any API server that starts.
func (c *Cluster) StartAPIServer() error {
	s := c.env.ControlPlane.APIServer
	before := s.ListenAddr
	if err := s.Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver again: %w", err)
	}
	if after := s.ListenAddr; after != before || s.CertDir != c.certDir {
		return fmt.Errorf("kube-apiserver came back on %s:%s with certificates in %s, not on %s:%s with %s", after.Address, after.Port, s.CertDir, before.Address, before.Port, c.certDir)
	}
	return c.waitReady(time.Minute)
}

// waitReady waits until the API server's /readyz answers ok.
func (c *Cluster) waitReady(timeout time.Duration) error {
	rc, err := rest.RESTClientFor(withoutGroup(c.Config))
	if err != nil {
		return err
	}
	var last error
	err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		_, last = rc.Get().AbsPath("/readyz").DoRaw(ctx)
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("kube-apiserver not ready within %s: %w", timeout, errors.Join(err, last))
	}
	return nil
}

// withoutGroup is cfg for raw requests to paths outside any API group.
func withoutGroup(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.GroupVersion = &schema.GroupVersion{}
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	return cfg
}
