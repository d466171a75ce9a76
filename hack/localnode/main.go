// Command localnode runs the local cluster with a real node (internal/localnode) until
// it is interrupted, with the images make image wrote, and writes <dir>/kubeconfig for
// an administrator. With -clean it only removes what a previous node left (processes,
// mounts, cgroups, the bridge, iptables chains, sysctls), for instance after a kill -9.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cohort-dev/cohort-operator/internal/localcluster"
	"github.com/cohort-dev/cohort-operator/internal/localnode"
)

func main() {
	dir := flag.String("dir", "bin/node", "Folder of the node's state, logs and kubeconfig.")
	assets := flag.String("assets", "bin/k8s", "Folder with the control plane's and the node's binaries.")
	image := flag.String("image", "", "OCI archive of the operator's image (make image).")
	pause := flag.String("pause", "", "OCI archive of the pause image (make image).")
	clean := flag.Bool("clean", false, "Only clean what a previous node left in -dir, and exit.")
	flag.Parse()
	if err := run(*dir, *assets, *image, *pause, *clean); err != nil {
		fmt.Fprintln(os.Stderr, "localnode:", err)
		os.Exit(1)
	}
}

func run(dir, assets, image, pause string, clean bool) error {
	if clean {
		return localnode.Clean(dir)
	}
	pauseRef, err := localnode.ImageRef(pause)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	node, err := localnode.Start(ctx, localnode.Options{
		Dir: dir, AssetsDir: assets, Images: []string{image, pause}, PauseImage: pauseRef,
		Cluster: localcluster.Options{ControllerManager: true, CRDDirs: []string{"config/crd/bases"}},
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := node.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "localnode: stopping:", err)
		}
	}()
	kubeconfig, err := node.Cluster.WriteKubeconfig("kubeconfig", "cohort-admin", localcluster.AdminGroup)
	if err != nil {
		return err
	}
	link := filepath.Join(dir, "kubeconfig")
	_ = os.Remove(link)
	if err := os.Symlink(kubeconfig, link); err != nil {
		return err
	}
	fmt.Printf("node %s Ready in %s; export KUBECONFIG=%s; interrupt to stop and clean\n",
		localnode.NodeName, time.Since(started).Round(10*time.Millisecond), link)
	<-ctx.Done()
	return nil
}
