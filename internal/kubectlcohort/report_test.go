package kubectlcohort

import "testing"

// TestEscapeDocument keeps a Markdown document's line breaks and tabs and escapes
// every other rune that could control the terminal.
func TestEscapeDocument(t *testing.T) {
	got := escapeDocument("# Title\n\n| a\t| b |\nclear\x1b[2J here, \u202ereversed\u202c, \u0085next")
	want := "# Title\n\n| a\t| b |\nclear\\x1b[2J here, \\u202ereversed\\u202c, \\u0085next"
	if got != want {
		t.Errorf("escapeDocument = %q, want %q", got, want)
	}
}
