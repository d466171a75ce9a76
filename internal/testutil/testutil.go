// Package testutil holds what the test suites share: a local cluster for a whole
// package, manifests read from disk, and namespaces per test.
package testutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/localcluster"
)

// RepoRoot is the root folder of the repository.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Path joins elements onto the repository root.
func Path(elem ...string) string {
	return filepath.Join(append([]string{RepoRoot()}, elem...)...)
}

// Scheme knows the built-in kinds and the learning.cohort.dev kinds.
func Scheme() *k8sruntime.Scheme {
	s := k8sruntime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(learningv1alpha1.AddToScheme(s))
	return s
}

// StartCluster starts a local cluster with the operator's CRDs installed. It fails
// loudly when the control plane binaries are missing: run 'make controlplane'.
func StartCluster(withControllerManager bool) (*localcluster.Cluster, client.Client, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		_ = os.Setenv("KUBEBUILDER_ASSETS", Path("bin", "k8s"))
	}
	cluster, err := localcluster.Start(localcluster.Options{
		CRDDirs:           []string{Path("config", "crd", "bases")},
		ControllerManager: withControllerManager,
	})
	if err != nil {
		return nil, nil, err
	}
	c, err := client.New(cluster.Config, client.Options{Scheme: Scheme()})
	if err != nil {
		_ = cluster.Stop()
		return nil, nil, err
	}
	return cluster, c, nil
}

// RunWithCluster starts a local cluster, runs the package's tests and stops it.
// setup receives the running cluster and its administrator client.
func RunWithCluster(m *testing.M, withControllerManager bool, setup func(*localcluster.Cluster, client.Client) error) int {
	cluster, c, err := StartCluster(withControllerManager)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the local cluster:", err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the local cluster:", err)
		}
	}()
	if setup != nil {
		if err := setup(cluster, c); err != nil {
			fmt.Fprintln(os.Stderr, "setting up the suite:", err)
			return 1
		}
	}
	return m.Run()
}

var namespaceCounter atomic.Int64

// Namespace creates a fresh namespace for one test and returns its name.
func Namespace(t testing.TB, c client.Client) string {
	t.Helper()
	name := fmt.Sprintf("t%d-%s", namespaceCounter.Add(1), sanitize(t.Name()))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	return name
}

func sanitize(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 50 {
		out = strings.TrimRight(out[:50], "-")
	}
	return out
}

// DecodeManifests parses a multi-document YAML stream into objects.
func DecodeManifests(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(u.Object) == 0 {
			continue
		}
		objs = append(objs, u)
	}
}

// Samples reads every object of config/samples.
func Samples(t testing.TB) []*unstructured.Unstructured {
	t.Helper()
	files, err := filepath.Glob(Path("config", "samples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var all []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := DecodeManifests(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all = append(all, objs...)
	}
	if len(all) == 0 {
		t.Fatal("no samples found in config/samples")
	}
	return all
}

// CreateAll creates objs in namespace, in order.
func CreateAll(ctx context.Context, c client.Client, namespace string, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		o = o.DeepCopy()
		o.SetNamespace(namespace)
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	return nil
}

// Golden compares got with the file at path, or writes it there first when update is
// set (tests pass their -update flag).
func Golden(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the tests with -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); run the tests with -update if the change is intended:\n%s", path, diff)
	}
}

// SetLogger sends the controllers' logs, debug messages included, to stderr when
// TEST_LOG is set, and discards them otherwise.
func SetLogger() {
	if os.Getenv("TEST_LOG") != "" {
		ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.DebugLevel)))
	} else {
		ctrl.SetLogger(logr.Discard())
	}
}

// Eventually retries check every 100 ms until it returns nil, and fails the test with
// its last error if it has not within timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, check func() error) {
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

// UserClient returns a client that authenticates to the cluster as user, a member of
// groups. RBAC decides what it may do.
func UserClient(cluster *localcluster.Cluster, user string, groups ...string) (client.Client, error) {
	cfg, err := cluster.AddUser(user, groups...)
	if err != nil {
		return nil, err
	}
	return client.New(cfg, client.Options{Scheme: Scheme()})
}
