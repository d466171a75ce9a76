package localnode

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
)

// nodeControllers are the kube-controller-manager loops a node needs beyond those of
// internal/localcluster: the node's podCIDR, the removal of the not-ready taint the
// kubelet registers the node with, every namespace's default ServiceAccount,
// the kube-root-ca.crt ConfigMap that pods verify the API server with, the
// EndpointSlices kube-proxy routes Services by, and the Endpoints the API server's
// service proxy (/api/v1/namespaces/NS/services/NAME/proxy) routes by.
var nodeControllers = strings.Join([]string{
	"node-ipam-controller", "node-lifecycle-controller", "serviceaccount-controller", "root-ca-certificate-publisher-controller",
	"endpoints-controller", "endpointslice-controller", "endpointslice-mirroring-controller", "pod-garbage-collector-controller",
}, ",")

// cniConfig is the pods' network: the bridge, with the gateway address the node
// created it with, and addresses from PodCIDR.
func cniConfig(dir string) string {
	return fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "cohort",
  "plugins": [{
    "type": "bridge",
    "bridge": %q,
    "isGateway": true,
    "hairpinMode": true,
    "ipMasq": false,
    "ipam": {
      "type": "host-local",
      "dataDir": %q,
      "ranges": [[{"subnet": %q, "gateway": %q}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
`, Bridge, filepath.Join(dir, "cni", "ipam"), PodCIDR, Gateway)
}

// containerdConfig is containerd's configuration: everything under dir (but the shims'
// sockets, which containerd 1.6 puts in /run/containerd/s), runc with
// cgroupfs, and the settings this kind of machine needs (NODE.md): no OOM score
// raising, no AppArmor, no hugetlb controller.
func containerdConfig(dir, pause string) string {
	root := filepath.Join(dir, "containerd")
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %[3]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[4]q
  restrict_oom_score_adj = true
  disable_apparmor = true
  disable_hugetlb_controller = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %[7]q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[5]q
    conf_dir = %[6]q
`, filepath.Join(root, "root"), filepath.Join(root, "state"), filepath.Join(root, "containerd.sock"), pause, cniBin,
		filepath.Join(dir, "cni"), filepath.Join(root, "runc"))
}

// startContainerd starts containerd and imports the images.
func (n *Node) startContainerd(ctx context.Context, pause string, images []string) error {
	if pause == "" {
		return fmt.Errorf("localnode: Options.PauseImage is required")
	}
	conf := filepath.Join(n.Dir, "containerd", "config.toml")
	if err := os.WriteFile(conf, []byte(containerdConfig(n.Dir, pause)), 0o644); err != nil {
		return err
	}
	cmd, err := n.start("containerd", "containerd", "--config", conf)
	if err != nil {
		return err
	}
	if err := waitListening(ctx, "unix", n.Containerd, cmd, 30*time.Second); err != nil {
		return fmt.Errorf("containerd did not listen on %s: %w", n.Containerd, err)
	}
	for _, archive := range images {
		if err := run("ctr", "--address", n.Containerd, "--namespace", "k8s.io", "images", "import", archive); err != nil {
			return fmt.Errorf("importing %s: %w", archive, err)
		}
	}
	out, err := exec.Command("ctr", "--address", n.Containerd, "--namespace", "k8s.io", "images", "list", "--quiet").Output()
	if err != nil {
		return fmt.Errorf("listing containerd's images: %w", err)
	}
	if !strings.Contains("\n"+string(out), "\n"+pause+"\n") {
		return fmt.Errorf("the pause image %s is in none of the imported archives %v (containerd has: %s)", pause, images, strings.Fields(string(out)))
	}
	return nil
}

// startKubeDaemons starts kube-scheduler, the node's kube-controller-manager, the
// kubelet and kube-proxy, each with a system:masters identity of its own.
func (n *Node) startKubeDaemons(assets string) error {
	kubeconfig := func(file, user string, groups ...string) (string, error) {
		return n.Cluster.WriteKubeconfig(file, user, append(groups, localcluster.AdminGroup)...)
	}
	sched, err := kubeconfig("scheduler.kubeconfig", "system:kube-scheduler")
	if err != nil {
		return err
	}
	if _, err := n.start("kube-scheduler", filepath.Join(assets, "kube-scheduler"),
		"--kubeconfig="+sched, "--leader-elect=false", "--secure-port=0"); err != nil {
		return err
	}
	kcm, err := kubeconfig("node-controller-manager.kubeconfig", "system:kube-controller-manager")
	if err != nil {
		return err
	}
	pki := filepath.Join(n.Dir, "pki")
	if _, err := n.start("kube-controller-manager", filepath.Join(assets, "kube-controller-manager"),
		"--kubeconfig="+kcm, "--controllers="+nodeControllers, "--leader-elect=false", "--secure-port=0",
		"--allocate-node-cidrs", "--cluster-cidr="+ClusterCIDR, "--node-cidr-mask-size=24",
		"--service-cluster-ip-range="+ServiceCIDR, "--root-ca-file="+filepath.Join(pki, "ca.crt")); err != nil {
		return err
	}
	kubelet, err := kubeconfig("kubelet.kubeconfig", "system:node:"+NodeName, "system:nodes")
	if err != nil {
		return err
	}
	conf := filepath.Join(n.Dir, "kubelet", "config.yaml")
	if err := os.WriteFile(conf, []byte(kubeletConfig(n.Dir, n.Containerd)), 0o644); err != nil {
		return err
	}
	if _, err := n.start("kubelet", filepath.Join(assets, "kubelet"),
		"--config="+conf, "--kubeconfig="+kubelet, "--hostname-override="+NodeName, "--node-ip="+Gateway,
		"--root-dir="+filepath.Join(n.Dir, "kubelet"), "--cert-dir="+filepath.Join(n.Dir, "kubelet", "pki")); err != nil {
		return err
	}
	proxy, err := kubeconfig("kube-proxy.kubeconfig", "system:kube-proxy")
	if err != nil {
		return err
	}
	conf = filepath.Join(n.Dir, "kube-proxy.yaml")
	if err := os.WriteFile(conf, []byte(kubeProxyConfig(proxy)), 0o644); err != nil {
		return err
	}
	_, err = n.start("kube-proxy", filepath.Join(assets, "kube-proxy"), "--config="+conf)
	return err
}

// kubeletConfig is the kubelet's configuration with the settings this kind of machine
// needs (NODE.md): cgroup v1 with cgroupfs, swap tolerated, no eviction thresholds,
// image garbage collection off (nothing can be pulled again), and x509 clients of the
// node's CA (kube-apiserver for logs, exec and port-forward).
func kubeletConfig(dir, containerd string) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %q
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
containerRuntimeEndpoint: unix://%s
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: %q
authorization:
  mode: AlwaysAllow
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
imageMinimumGCAge: 87600h
clusterDomain: cluster.local
serializeImagePulls: false
nodeStatusUpdateFrequency: 4s
`, Gateway, containerd, filepath.Join(dir, "pki", "ca.crt"))
}

// kubeProxyConfig is kube-proxy's configuration: iptables mode, NodePorts only on the
// gateway, its own endpoints on loopback, and conntrack limits left as they are.
func kubeProxyConfig(kubeconfig string) string {
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %q
hostnameOverride: %q
mode: iptables
clusterCIDR: %q
nodePortAddresses: [%q]
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, kubeconfig, NodeName, ClusterCIDR, Gateway+"/32")
}
