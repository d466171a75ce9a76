// Command localcluster runs a local Kubernetes control plane (etcd, kube-apiserver and
// kube-controller-manager on loopback) until it is interrupted. It writes:
//
//	<dir>/kubeconfig          an administrator (group system:masters)
//	<dir>/manager.kubeconfig  the operator's service account identity, bound by RBAC only
//	<dir>/ready               once the cluster serves requests
//
// Pods never run: there is no kubelet. Deployments and Services are still created,
// validated and garbage-collected.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
)

// managerUser is the user name of the operator's ServiceAccount as config/default
// deploys it; RBAC matches ServiceAccount subjects by this name.
const managerUser = "system:serviceaccount:cohort-system:cohort-controller-manager"

func main() {
	dir := flag.String("dir", "bin/cluster", "Folder for kubeconfig files and logs.")
	assets := flag.String("assets", os.Getenv("KUBEBUILDER_ASSETS"), "Folder with the etcd, kube-apiserver, kubectl and kube-controller-manager binaries.")
	withKCM := flag.Bool("controller-manager", true, "Also run kube-controller-manager.")
	flag.Parse()
	if err := run(*dir, *assets, *withKCM); err != nil {
		fmt.Fprintln(os.Stderr, "localcluster:", err)
		os.Exit(1)
	}
}

func run(dir, assets string, withKCM bool) error {
	ready := filepath.Join(dir, "ready")
	_ = os.Remove(ready)
	cluster, err := localcluster.Start(localcluster.Options{AssetsDir: assets, Dir: dir, ControllerManager: withKCM})
	if err != nil {
		return err
	}
	defer func() {
		_ = os.Remove(ready)
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "localcluster: stopping:", err)
		}
	}()
	admin, err := cluster.WriteKubeconfig("kubeconfig", "cohort-admin", localcluster.AdminGroup)
	if err != nil {
		return err
	}
	if _, err := cluster.WriteKubeconfig("manager.kubeconfig", managerUser,
		"system:serviceaccounts", "system:serviceaccounts:cohort-system"); err != nil {
		return err
	}
	if err := os.WriteFile(ready, []byte(cluster.Config.Host+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Printf("local cluster at %s; kubeconfig: %s\n", cluster.Config.Host, admin)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	fmt.Println("stopping the local cluster")
	return nil
}
