package kubectlcohort

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// Output formats of -o/--output; the empty format is the human table.
const (
	outputTable = ""
	outputJSON  = "json"
	outputYAML  = "yaml"
)

// validOutput checks an -o value as kubectl words its refusal.
func validOutput(format string) error {
	switch format {
	case outputTable, outputJSON, outputYAML:
		return nil
	}
	return usageError{fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json,yaml", format)}
}

// writeData writes v as JSON (indented by four spaces, as kubectl does) or YAML.
//
// JSON escapes C0 controls itself; the other runes escape would render (DEL, C1,
// bidirectional controls) are written as \uXXXX escapes too, which leaves the data
// as it is (they occur only inside JSON strings) but keeps them off the terminal.
// The YAML emitter double-quotes and escapes control characters; it writes
// bidirectional controls as they are.
func writeData(w io.Writer, format string, v any) error {
	data, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	if format == outputJSON {
		data = escapeJSON(data)
	}
	if format == outputYAML {
		if data, err = yaml.JSONToYAML(data); err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

// printer writes text and keeps the first error, so that a writer of many lines
// checks once, at the end.
type printer struct {
	w   io.Writer
	err error
}

// printf writes format, the program's own text, with its arguments escaped: every
// error, fmt.Stringer and string argument (of any string type) goes through escape,
// so that no text read from the cluster reaches the terminal raw.
func (p *printer) printf(format string, args ...any) {
	escaped := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case error:
			escaped[i] = escape(v.Error())
		case fmt.Stringer:
			escaped[i] = escape(v.String())
		default:
			escaped[i] = a
			if rv := reflect.ValueOf(a); rv.Kind() == reflect.String {
				escaped[i] = escape(rv.String())
			}
		}
	}
	p.raw(fmt.Sprintf(format, escaped...))
}

// raw writes s as it is: the program's own text, or text escaped already.
func (p *printer) raw(s string) {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, s)
	}
}

// escape renders text written by people (and anything else read from the cluster)
// for a terminal: every rune that could control it or rearrange what is shown is
// written visibly instead, so that an OSC 52 sequence cannot write the reader's
// clipboard and a newline cannot forge a table row. It is the one escaping function
// of every printer of the plugin.
//
// Escaped are the C0 controls and DEL (\n, \r, \t, else \x1b style), the C1
// controls, the bidirectional controls (U+061C, U+200E, U+200F, U+202A to U+202E,
// U+2066 to U+2069) and the line and paragraph separators U+2028 and U+2029
// (\u202e style), and bytes that are not UTF-8 (\xff style). Everything else,
// joiners and combining marks included, is written as it is, so that names in any
// script show as written. A backslash is not escaped: text that spells \x1b is
// shown as written, which is harmless.
func escape(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// unsafeRune reports whether escape renders r visibly rather than writing it.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// escapeJSON writes the runes escape renders, which JSON leaves as they are (DEL, C1,
// bidirectional controls), as \uXXXX escapes. Such runes occur only inside strings,
// where the escape means the same rune.
func escapeJSON(data []byte) []byte {
	// Below DEL, encoding/json has escaped every control inside strings; the newlines
	// outside them are its indentation.
	unsafe := func(r rune) bool { return r >= 0x7f && unsafeRune(r) }
	s := string(data)
	if !strings.ContainsFunc(s, unsafe) {
		return data
	}
	var b strings.Builder
	for _, r := range s {
		if unsafe(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.WriteRune(r)
		}
	}
	return []byte(b.String())
}

// escapeLines escapes each line of s, keeping its line breaks: for messages the
// program composes of several lines, with text read from the cluster escaped within
// them already (escape leaves escaped text as it is).
func escapeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = escape(l)
	}
	return strings.Join(lines, "\n")
}

// table lays rows out as kubectl's tables: left-aligned columns separated by at
// least three spaces.
type table struct {
	tw *tabwriter.Writer
	p  printer
}

func newTable(w io.Writer) *table {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	return &table{tw: tw, p: printer{w: tw}}
}

// row writes one row, each cell escaped: a tab or a newline in a cell is shown as
// \t or \n rather than starting a column or a row.
func (t *table) row(cells ...string) {
	escaped := make([]string, len(cells))
	for i, c := range cells {
		escaped[i] = escape(c)
	}
	t.p.raw(strings.Join(escaped, "\t") + "\n")
}

// flush writes the table out.
func (t *table) flush() error {
	if t.p.err != nil {
		return t.p.err
	}
	return t.tw.Flush()
}

// orNone is a cell's value, or <none> as kubectl shows an empty one.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
