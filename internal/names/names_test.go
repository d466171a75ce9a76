package names

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestDerive(t *testing.T) {
	long := strings.Repeat("a", 250)
	cases := map[string]struct {
		base, suffix string
		limit        int
		want         string
	}{
		"fits":                 {base: "allyship-2026", suffix: "20260113-1200", limit: ObjectLimit, want: "allyship-2026-20260113-1200"},
		"no suffix":            {base: "allyship-2026", limit: LabelLimit, want: "allyship-2026"},
		"exactly at the limit": {base: strings.Repeat("b", 63), limit: LabelLimit, want: strings.Repeat("b", 63)},
		"one over the limit":   {base: strings.Repeat("b", 64), limit: LabelLimit, want: strings.Repeat("b", 54) + "-" + hashOf(strings.Repeat("b", 64))},
		"long object name":     {base: long, suffix: "20260113-1200", limit: ObjectLimit, want: long[:244] + "-" + hashOf(long+"-20260113-1200")},
		"trailing dash trimmed": {
			base: strings.Repeat("c", 53) + "-x" + strings.Repeat("d", 10), limit: LabelLimit,
			want: strings.Repeat("c", 53) + "-" + hashOf(strings.Repeat("c", 53)+"-x"+strings.Repeat("d", 10)),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Derive(tc.base, tc.suffix, tc.limit)
			if got != tc.want {
				t.Fatalf("Derive(%q, %q, %d) =\n%q, want\n%q", tc.base, tc.suffix, tc.limit, got, tc.want)
			}
			if len(got) > tc.limit {
				t.Fatalf("%q is %d characters, over the limit %d", got, len(got), tc.limit)
			}
		})
	}
}

// TestDeriveKeepsLongNamesApart: two cohorts whose names share their first 253
// characters still get different derived names.
func TestDeriveKeepsLongNamesApart(t *testing.T) {
	a := strings.Repeat("x", 252) + "a"
	b := strings.Repeat("x", 252) + "b"
	if Derive(a, "s", ObjectLimit) == Derive(b, "s", ObjectLimit) {
		t.Fatalf("two different long names derive the same name %q", Derive(a, "s", ObjectLimit))
	}
	if CohortLabel(a) == CohortLabel(b) {
		t.Fatalf("two different long names derive the same label %q", CohortLabel(a))
	}
}

// TestDerivedNamesAreValid checks every derived form against the API server's own
// validation functions, for names up to the longest a cohort can have.
func TestDerivedNamesAreValid(t *testing.T) {
	for _, n := range []int{1, 62, 63, 64, 200, 253} {
		// The second base mixes dots and dashes and starts with a digit, as a DNS-1123
		// subdomain may.
		for _, base := range []string{strings.Repeat("a", n), "9" + strings.Repeat("zy.x-", n)[:n-1] + "9"} {
			if errs := validation.IsDNS1123Subdomain(Derive(base, "20260113-1200", ObjectLimit)); len(errs) > 0 {
				t.Errorf("object name from %d characters: %v", n, errs)
			}
			if errs := validation.IsValidLabelValue(CohortLabel(base)); len(errs) > 0 {
				t.Errorf("label from %d characters: %v", n, errs)
			}
			if errs := validation.IsDNS1035Label(DNS1035(base, "portal")); len(errs) > 0 {
				t.Errorf("service name from %d characters (%q): %v", n, DNS1035(base, "portal"), errs)
			}
		}
	}
}

func FuzzDerive(f *testing.F) {
	f.Add("allyship-2026", "20260113-1200")
	f.Add(strings.Repeat("a.b-", 63), "portal")
	f.Fuzz(func(t *testing.T, base, suffix string) {
		if len(validation.IsDNS1123Subdomain(base)) > 0 || (suffix != "" && len(validation.IsDNS1123Label(suffix)) > 0) {
			return
		}
		name := Derive(base, suffix, ObjectLimit)
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Fatalf("Derive(%q, %q) = %q: %v", base, suffix, name, errs)
		}
		if errs := validation.IsValidLabelValue(CohortLabel(base)); len(errs) > 0 {
			t.Fatalf("CohortLabel(%q) = %q: %v", base, CohortLabel(base), errs)
		}
		if Derive(base, suffix, ObjectLimit) != name {
			t.Fatal("Derive is not deterministic")
		}
	})
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:hashLength]
}
