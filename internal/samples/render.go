package samples

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"sigs.k8s.io/yaml"
)

// KustomizationFile is the file of a samples folder that lists its manifests.
const KustomizationFile = "kustomization.yaml"

// kustomization is the part of a kustomization Render understands. Decoding is
// strict: a kustomization that also patches, renames or generates would be rendered
// differently by kustomize, so Render refuses it rather than print something else.
type kustomization struct {
	// APIVersion and Kind are optional in a kustomization and do not change the output.
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	// Resources are the manifest files, relative to the folder, in the order Render
	// joins them.
	Resources []string `json:"resources"`
}

// Render reads the kustomization of a samples folder (KustomizationFile in fsys,
// typically os.DirFS("config/samples")) and returns its resources, in the listed
// order, as one multi-document YAML stream with every date shifted by months calendar
// months (see ShiftMonths). Files are joined by a "---" line and otherwise kept byte
// for byte, comments included, so the output can be piped to kubectl apply -f -.
func Render(fsys fs.FS, months int) (string, error) {
	files, err := resources(fsys)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, name := range files {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return "", fmt.Errorf("reading sample %s: %w", name, err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return ShiftMonths(b.String(), months), nil
}

// resources returns the files the kustomization of fsys lists.
func resources(fsys fs.FS) ([]string, error) {
	data, err := fs.ReadFile(fsys, KustomizationFile)
	if err != nil {
		return nil, fmt.Errorf("reading the samples' kustomization: %w", err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return nil, fmt.Errorf("%s: only a list of resources can be rendered: %w", KustomizationFile, err)
	}
	if len(k.Resources) == 0 {
		return nil, errors.New(KustomizationFile + " lists no resources")
	}
	for i, name := range k.Resources {
		name = path.Clean(name)
		k.Resources[i] = name
		if !fs.ValidPath(name) || !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
			return nil, fmt.Errorf("%s: resource %q is not a YAML file inside the samples folder", KustomizationFile, name)
		}
	}
	return k.Resources, nil
}
