package kubectlcohort

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitCommand(t *testing.T) {
	cases := map[string]struct {
		args     []string
		wantName string
		wantRest []string
	}{
		"command first":                    {[]string{"roster", "c", "-n", "ns"}, "roster", []string{"c", "-n", "ns"}},
		"flags first":                      {[]string{"-n", "roster", "status", "c"}, "status", []string{"-n", "roster", "c"}},
		"flag with value attached":         {[]string{"--namespace=ns", "-ojson", "roster", "c"}, "roster", []string{"--namespace=ns", "-ojson", "c"}},
		"boolean flag first":               {[]string{"--hide-users", "roster", "c"}, "roster", []string{"--hide-users", "c"}},
		"--expect-hash first":              {[]string{"--expect-hash", "v1:sha256:ab", "approve", "e"}, "approve", []string{"--expect-hash", "v1:sha256:ab", "e"}},
		"no command":                       {[]string{"-n", "ns"}, "", []string{"-n", "ns"}},
		"nothing":                          {nil, "", nil},
		"after -- nothing is a subcommand": {[]string{"--", "roster"}, "", []string{"--", "roster"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			gotName, gotRest := splitCommand(tc.args)
			if gotName != tc.wantName {
				t.Errorf("command %q, want %q", gotName, tc.wantName)
			}
			if diff := cmp.Diff(tc.wantRest, gotRest); diff != "" {
				t.Errorf("rest (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUsage runs the plugin with arguments that fail or ask for help before it
// connects to a cluster.
func TestUsage(t *testing.T) {
	cases := map[string]struct {
		args       []string
		wantCode   int
		wantStdout string // fragments
		wantStderr string
	}{
		"no arguments":          {nil, 0, "Commands:\n  roster COHORT", ""},
		"--help":                {[]string{"--help"}, 0, `Use "kubectl cohort COMMAND --help"`, ""},
		"help roster":           {[]string{"help", "roster"}, 0, "kubectl cohort roster COHORT [flags]", ""},
		"roster --help":         {[]string{"roster", "--help"}, 0, "--hide-users", ""},
		"approve -h":            {[]string{"approve", "-h"}, 0, "--wait duration", ""},
		"approve -h, the hash":  {[]string{"approve", "-h"}, 0, "--expect-hash string", ""},
		"unknown command":       {[]string{"enroll", "x"}, 1, "", "error: unknown command \"enroll\" for \"kubectl cohort\"\nSee 'kubectl cohort --help' for usage.\n"},
		"flags but no command":  {[]string{"-n", "programs"}, 1, "", "error: no command given"},
		"no cohort":             {[]string{"roster"}, 1, "", "error: roster needs exactly one COHORT, got 0\nSee 'kubectl cohort roster --help' for usage.\n"},
		"two cohorts":           {[]string{"status", "a", "b"}, 1, "", "status needs exactly one COHORT, got 2"},
		"unknown flag":          {[]string{"attendance", "a", "--frobnicate"}, 1, "", "error: unknown flag: --frobnicate\nSee 'kubectl cohort attendance --help' for usage.\n"},
		"unknown output format": {[]string{"roster", "a", "-o", "wide"}, 1, "", `error: unable to match a printer suitable for the output format "wide", allowed formats are: json,yaml`},
		"bad wait":              {[]string{"approve", "e", "--wait", "soon"}, 1, "", `invalid argument "soon" for "--wait" flag`},
		"missing kubeconfig":    {[]string{"status", "a", "--kubeconfig", "/nonexistent/kubeconfig"}, 1, "", "error: stat /nonexistent/kubeconfig: no such file or directory"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Command{Stdout: &stdout, Stderr: &stderr}.Run(context.Background(), tc.args)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout does not say %q:\n%s", tc.wantStdout, stdout.String())
			}
			if tc.wantStderr == "" && stderr.Len() > 0 {
				t.Errorf("stderr, want nothing:\n%s", stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr does not say %q:\n%s", tc.wantStderr, stderr.String())
			}
		})
	}
}
