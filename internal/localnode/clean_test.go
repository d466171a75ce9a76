package localnode

import (
	"reflect"
	"testing"
)

func TestSplitRule(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{`-N KUBE-SERVICES`, []string{"-N", "KUBE-SERVICES"}},
		{`-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`,
			[]string{"-A", "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"}},
		{`-A OUTPUT -m comment --comment "say \"hi\"" -j CNI-X`,
			[]string{"-A", "OUTPUT", "-m", "comment", "--comment", `say "hi"`, "-j", "CNI-X"}},
		{`-A X --comment ""`, []string{"-A", "X", "--comment", ""}},
	} {
		if got := splitRule(tc.line); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitRule(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestJumpsTo(t *testing.T) {
	ours := func(c string) bool { return c == "KUBE-SERVICES" }
	if !jumpsTo(splitRule(`-A PREROUTING -m comment --comment "x" -j KUBE-SERVICES`), ours) {
		t.Error("a jump to KUBE-SERVICES was not recognized")
	}
	if jumpsTo(splitRule(`-A PREROUTING --comment "-j KUBE-SERVICES" -j ACCEPT`), ours) {
		t.Error("a comment that names the chain was taken for a jump")
	}
}
