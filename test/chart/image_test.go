package chart

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// digest is an image digest for the tests; nothing pulls it.
const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// envValue returns the value of a container's environment variable, and whether it
// is set.
func envValue(c map[string]any, name string) (string, bool) {
	env, _ := c["env"].([]any)
	for _, e := range env {
		if e, ok := e.(map[string]any); ok && e["name"] == name {
			return fmt.Sprint(e["value"]), true
		}
	}
	return "", false
}

// TestChartPortalImage: the portals run the manager's own image reference, digest
// included when one is set, unless portal.image names another; the manager's pull
// secrets reach the portals; the default image is the chart's appVersion, never
// :latest.
func TestChartPortalImage(t *testing.T) {
	const repo = "ghcr.io/cohort-dev/cohort-operator"
	cases := map[string]struct {
		set              []string
		image, portal    string
		pullSecretsFlags []string
		pullSecrets      int
	}{
		"the default tag": {image: repo + ":v0.1.0", portal: repo + ":v0.1.0"},
		"another tag and repository": {
			set:   []string{"image.repository=registry.example/cohort", "image.tag=v9.9.9-rc.1"},
			image: "registry.example/cohort:v9.9.9-rc.1", portal: "registry.example/cohort:v9.9.9-rc.1",
		},
		"a digest": {
			set:   []string{"image.tag=v9.9.9", "image.digest=" + digest},
			image: repo + "@" + digest, portal: repo + "@" + digest,
		},
		"another portal image": {
			set:   []string{"portal.image=registry.example/portal:v2"},
			image: repo + ":v0.1.0", portal: "registry.example/portal:v2",
		},
		"private registries": {
			set:              []string{"imagePullSecrets[0].name=registry", "imagePullSecrets[1].name=mirror"},
			image:            repo + ":v0.1.0",
			portal:           repo + ":v0.1.0",
			pullSecretsFlags: []string{"--portal-image-pull-secrets=registry,mirror"},
			pullSecrets:      2,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var sets []string
			for _, s := range tc.set {
				sets = append(sets, "--set", s)
			}
			_, m := render(t, chartDir, defaultRelease, defaultNamespace, sets...)
			deploy := m.get(t, "Deployment", "cohort-operator-manager")
			c := managerContainer(t, deploy)
			if c["image"] != tc.image {
				t.Errorf("manager image = %v, want %s", c["image"], tc.image)
			}
			if got, _ := envValue(c, "PORTAL_IMAGE"); got != tc.portal {
				t.Errorf("PORTAL_IMAGE = %q, want %q", got, tc.portal)
			}
			var flags []string
			for _, a := range args(c) {
				if strings.HasPrefix(a, "--portal-image-pull-secrets") {
					flags = append(flags, a)
				}
			}
			if !slices.Equal(flags, tc.pullSecretsFlags) {
				t.Errorf("pull secret flags = %v, want %v", flags, tc.pullSecretsFlags)
			}
			secrets, _, _ := unstructured.NestedSlice(deploy.Object, "spec", "template", "spec", "imagePullSecrets")
			if len(secrets) != tc.pullSecrets {
				t.Errorf("the manager's pod has the pull secrets %v, want %d", secrets, tc.pullSecrets)
			}
		})
	}
}

// TestChartManagerRunsAsNumericUser: the manager's pod names a numeric non-root user,
// as the portal's does, so that an image whose USER is not numeric still starts
// (runAsNonRoot alone fails with CreateContainerConfigError); and values.schema.json
// refuses a security context without one.
func TestChartManagerRunsAsNumericUser(t *testing.T) {
	_, m := render(t, chartDir, defaultRelease, defaultNamespace)
	sc, _ := nested(t, m.get(t, "Deployment", "cohort-operator-manager"), "spec", "template", "spec", "securityContext").(map[string]any)
	if sc["runAsNonRoot"] != true || fmt.Sprint(sc["runAsUser"]) != "65532" || fmt.Sprint(sc["runAsGroup"]) != "65532" {
		t.Errorf("the manager's pod security context = %v, want runAsNonRoot with user and group 65532", sc)
	}
	for _, set := range []string{"securityContext.runAsUser=null", "securityContext.runAsUser=0", "securityContext.runAsNonRoot=false"} {
		if out, err := helm("template", defaultRelease, chartDir, "--namespace", defaultNamespace, "--set", set); err == nil {
			t.Errorf("helm template --set %s succeeded, want the schema to refuse it:\n%.300s", set, out)
		}
	}
}

// TestKustomizePortalImage: config/default names the image the repository builds, no
// image anywhere is :latest, and PORTAL_IMAGE is the manager container's image, also
// after `kustomize edit set image` changed it to a digest.
func TestKustomizePortalImage(t *testing.T) {
	check := func(t *testing.T, dir, want string) {
		t.Helper()
		m := decode(t, mustKubectl(t, "kustomize", dir))
		for _, o := range m {
			for _, c := range podContainers(o.Object) {
				if image := fmt.Sprint(c["image"]); strings.HasSuffix(image, ":latest") || !strings.ContainsAny(image, ":@") {
					t.Errorf("%s %s: container %v runs %s, want a version tag or a digest", o.GetKind(), o.GetName(), c["name"], image)
				}
			}
		}
		c := managerContainer(t, m.get(t, "Deployment", "cohort-controller-manager"))
		if c["image"] != want {
			t.Errorf("manager image = %v, want %s", c["image"], want)
		}
		if got, ok := envValue(c, "PORTAL_IMAGE"); !ok || got != want {
			t.Errorf("PORTAL_IMAGE = %q (set %v), want the manager's image %s", got, ok, want)
		}
	}
	t.Run("as committed", func(t *testing.T) {
		check(t, testutil.Path("config", "default"), "ghcr.io/cohort-dev/cohort-operator:v0.1.0")
	})
	t.Run("set to a digest", func(t *testing.T) {
		// What `kustomize edit set image controller=registry.example/cohort@sha256:...`
		// writes into config/manager/kustomization.yaml.
		config := filepath.Join(t.TempDir(), "config")
		copyDir(t, testutil.Path("config"), config)
		path := filepath.Join(config, "manager", "kustomization.yaml")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		edited := strings.Replace(string(data), "  newName: ghcr.io/cohort-dev/cohort-operator\n  newTag: v0.1.0\n",
			"  newName: registry.example/cohort\n  digest: "+digest+"\n", 1)
		if edited == string(data) {
			t.Fatalf("%s: no images entry to edit:\n%s", path, data)
		}
		if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		check(t, filepath.Join(config, "default"), "registry.example/cohort@"+digest)
	})
}

// podContainers returns the containers and init containers of a workload's pod
// template; none for other objects.
func podContainers(obj map[string]any) []map[string]any {
	spec, _ := obj["spec"].(map[string]any)
	template, _ := spec["template"].(map[string]any)
	pod, _ := template["spec"].(map[string]any)
	var out []map[string]any
	for _, field := range []string{"initContainers", "containers"} {
		list, _ := pod[field].([]any)
		for _, c := range list {
			if c, ok := c.(map[string]any); ok {
				out = append(out, c)
			}
		}
	}
	return out
}
