package localnode

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTar(t *testing.T, files map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "image.oci.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := tar.NewWriter(f)
	for name, body := range files {
		if err := w.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImageRef(t *testing.T) {
	archive := writeTar(t, map[string]string{
		"oci-layout": `{"imageLayoutVersion":"1.0.0"}`,
		"index.json": `{"schemaVersion":2,"manifests":[{"digest":"sha256:00","annotations":{"org.opencontainers.image.ref.name":"ghcr.io/cohort-dev/cohort-operator:v0.1.0"}}]}`,
	})
	got, err := ImageRef(archive)
	if err != nil || got != "ghcr.io/cohort-dev/cohort-operator:v0.1.0" {
		t.Errorf("ImageRef = %q, %v", got, err)
	}

	unnamed := writeTar(t, map[string]string{"index.json": `{"schemaVersion":2,"manifests":[{"digest":"sha256:00"}]}`})
	if _, err := ImageRef(unnamed); err == nil || !strings.Contains(err.Error(), "names no image") {
		t.Errorf("an archive without a name: %v", err)
	}
	docker := writeTar(t, map[string]string{"manifest.json": `[]`})
	if _, err := ImageRef(docker); err == nil || !strings.Contains(err.Error(), "not an OCI archive") {
		t.Errorf("a docker archive: %v", err)
	}
}
