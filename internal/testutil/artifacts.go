package testutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Helm returns $HELM, or the helm CLI the Makefile pins in bin/tools, and fails with
// what to run when it is missing.
func Helm() (string, error) {
	if h := os.Getenv("HELM"); h != "" {
		return h, nil
	}
	makefile, err := os.ReadFile(Path("Makefile"))
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`(?m)^HELM_VERSION \?= (\S+)$`).FindSubmatch(makefile)
	if m == nil {
		return "", errors.New("no HELM_VERSION in the Makefile")
	}
	path := Path("bin", "tools", "helm-"+string(m[1]))
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("helm %s is not built (%s is missing): run 'make helm' ('make test' builds it first)", m[1], path)
	}
	return path, nil
}

// ImageArchives returns the newest OCI archives make image wrote in bin/: the
// operator's image and the local node's pause image.
func ImageArchives() (operator, pause string, err error) {
	all, _ := filepath.Glob(Path("bin", "cohort-operator-*.oci.tar"))
	newest := func(keep func(string) bool) string {
		var best string
		var bestTime time.Time
		for _, a := range all {
			info, err := os.Stat(a)
			if err == nil && keep(filepath.Base(a)) && info.ModTime().After(bestTime) {
				best, bestTime = a, info.ModTime()
			}
		}
		return best
	}
	isPause := func(name string) bool { return strings.HasPrefix(name, "cohort-operator-pause-") }
	operator, pause = newest(func(name string) bool { return !isPause(name) }), newest(isPause)
	if operator == "" || pause == "" {
		return "", "", fmt.Errorf("no operator or no pause image archive in bin/ (run make image): %v", all)
	}
	return operator, pause, nil
}
