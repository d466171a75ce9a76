package kubectlcohort

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
)

func TestEscape(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"plain text":                   {"Ada Lind", "Ada Lind"},
		"letters of any script":        {"Zoë Ångström 김민지 محمد", "Zoë Ångström 김민지 محمد"},
		"joiners stay":                 {"\U0001f469\u200d\U0001f467 family, \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\U0001f469\u200d\U0001f467 family, \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"},
		"OSC 52 clipboard write":       {"Ada\x1b]52;c;ZXZpbA==\x07", `Ada\x1b]52;c;ZXZpbA==\x07`},
		"forged table row":             {"Ada\nHacker   Lead   Seated", `Ada\nHacker   Lead   Seated`},
		"carriage return and tab":      {"a\rb\tc", `a\rb\tc`},
		"CSI colour":                   {"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		"NUL and DEL":                  {"a\x00b\x7f", `a\x00b\x7f`},
		"C1 controls":                  {"a\u009b31mb\u0085", `a\u009b31mb\u0085`},
		"right-to-left override":       {"invoice\u202efdp.exe", `invoice\u202efdp.exe`},
		"every bidirectional control":  {"\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069", `\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069`},
		"line and paragraph separator": {"a\u2028b\u2029", `a\u2028b\u2029`},
		"bytes that are not UTF-8":     {"a\xffb\xc2", `a\xffb\xc2`},
		"a backslash is shown as is":   {`C:\temp`, `C:\temp`},
		"escaped text stays the same":  {`Ada\x1b]52;c;\n`, `Ada\x1b]52;c;\n`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := escape(tc.in)
			if got != tc.want {
				t.Errorf("escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if escape(got) != got {
				t.Errorf("escaping %q again changes it to %q", got, escape(got))
			}
		})
	}
}

// hostile is text stored before admission refused control characters: an OSC 52
// clipboard write, a forged table row and a right-to-left override.
const hostile = "Mallory\x1b]52;c;ZXZpbA==\x07\nLakeside Bank   Lead   Eve\tSeated\u202e"

// assertNoRawControls fails unless out is free of the runes escape renders, the
// newlines ending its lines apart, and holds wantLines lines.
func assertNoRawControls(t *testing.T, out string, wantLines int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		if strings.ContainsFunc(l, unsafeRune) {
			t.Errorf("line %d holds a raw control character: %q", i+1, l)
		}
	}
	if len(lines) != wantLines {
		t.Errorf("%d lines, want %d:\n%s", len(lines), wantLines, out)
	}
}

// TestRosterEscapesDisplayNames renders a roster whose display name, organization
// and cohort display name hold control characters (fake objects: admission refuses
// them now): every row stays one row, with no ESC, BEL or newline in it.
func TestRosterEscapesDisplayNames(t *testing.T) {
	c := cohort()
	c.Spec.DisplayName = hostile
	c.Status.Seats = "Lead 1/2\x1b[2J"
	members := []learningv1alpha1.Membership{
		member("m-mallory", hostile, "mallory\x07@example.org", "Lake\x1bside", "Lead", seated("2026-01-01", "2026-12-31", nil)),
		member("m-ada", "Ada Lind", "ada@example.org", "Northstar Health", "Member", seated("2026-01-01", "2026-12-31", nil)),
	}
	var out bytes.Buffer
	if err := BuildRoster(c, members, false).WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	// Header, two rows, a blank line and the seats.
	assertNoRawControls(t, out.String(), 5)
	row := strings.Split(out.String(), "\n")[1]
	for _, want := range []string{`Mallory\x1b]52;c;ZXZpbA==\x07\nLakeside Bank   Lead   Eve\tSeated\u202e`, `mallory\x07@example.org`, `Lake\x1bside`} {
		if !strings.Contains(row, want) {
			t.Errorf("row does not show %q:\n%s", want, row)
		}
	}
}

// TestPrintersEscape: the attendance grid, the status report and the review approve
// shows escape text from the cluster as the roster does.
func TestPrintersEscape(t *testing.T) {
	t.Run("attendance", func(t *testing.T) {
		c := cohort()
		m := member("m-mallory", hostile, "mallory@example.org", "", "Member", seated("2026-01-01", "2026-12-31", ptr(int32(100))))
		var out bytes.Buffer
		if err := BuildAttendance(c, nil, []learningv1alpha1.Membership{m}, nil, now).WriteTable(&out); err != nil {
			t.Fatal(err)
		}
		// Header, one row, a blank line and three lines of legend.
		assertNoRawControls(t, out.String(), 6)
	})
	t.Run("status", func(t *testing.T) {
		c := cohort()
		c.Spec.DisplayName = hostile
		c.Status.Conditions = []metav1.Condition{cond(learningv1alpha1.ReadyCondition, metav1.ConditionFalse, "Odd\x1bReason", "message\x1b]52;c;ZXZpbA==\x07\nforged")}
		var out bytes.Buffer
		if err := BuildStatus(c).WriteText(&out); err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(out.String(), "\n") {
			if strings.ContainsFunc(l, unsafeRune) {
				t.Errorf("line %d holds a raw control character: %q", i+1, l)
			}
		}
		if !strings.Contains(out.String(), `Mallory\x1b]52;c;ZXZpbA==\x07\nLakeside Bank`) {
			t.Errorf("status does not show the display name escaped:\n%s", out.String())
		}
	})
	t.Run("review", func(t *testing.T) {
		e := external()
		e.Spec.Title = hostile
		e.Spec.Description = "First line.\nContent hash: v1:sha256:forged\x1b]52;c;ZXZpbA==\x07"
		e.Spec.Location = "Room\u202e4"
		e.Status.ContentHash = ""
		r, err := BuildReview(e)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := r.WriteText(&out); err != nil {
			t.Fatal(err)
		}
		// The heading and seven fields.
		assertNoRawControls(t, out.String(), 8)
		if n := strings.Count(out.String(), "Content hash:"); n != 2 || !strings.Contains(out.String(), `First line.\nContent hash: v1:sha256:forged\x1b]52`) {
			t.Errorf("the description's forged hash line is not shown inside the description:\n%s", out.String())
		}
	})
}

// TestWriteDataEscapesJSON: JSON keeps the data (decoded, it is the text as stored)
// while no DEL, C1 or bidirectional control reaches the terminal.
func TestWriteDataEscapesJSON(t *testing.T) {
	in := map[string]string{"displayName": "a\x1b]52;c;ZXZpbA==\x07\u202e\u009b\x7f\n"}
	var out bytes.Buffer
	if err := writeData(&out, outputJSON, in); err != nil {
		t.Fatal(err)
	}
	assertNoRawControls(t, out.String(), 3)
	var got map[string]string
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}

// TestReviewText is the review approve shows: the start in the event's time zone,
// the end, and the hash, marked when the plugin computed it.
func TestReviewText(t *testing.T) {
	e := external()
	e.Spec.Title = "Allyship speaker series: launch"
	e.Spec.TimeZone = "America/Chicago"
	e.Spec.Start = metav1.NewTime(time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC))
	e.Spec.Duration = metav1.Duration{Duration: 90 * time.Minute}
	e.Spec.Location = "Northstar Health, room 4"
	e.Spec.Description = "Three speakers.\nQuestions after."
	e.Status.ContentHash = "v1:sha256:old"
	e.Status.ObservedGeneration = 1
	r, err := BuildReview(e)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	want := `learningevent/launch in namespace programs, the content to approve:
  Title:          Allyship speaker series: launch
  Start:          Tue 2026-12-01 12:00 CST (America/Chicago; 2026-12-01T18:00:00Z)
  Duration:       1h30m0s, until Tue 2026-12-01 13:30 CST
  Audience:       External
  Location:       Northstar Health, room 4
  Description:    Three speakers.\nQuestions after.
  Content hash:   ` + r.ContentHash + ` (computed: the operator has not reported it for this change yet)
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("review (-want +got):\n%s", diff)
	}
}
