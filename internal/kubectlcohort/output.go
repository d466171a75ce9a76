package kubectlcohort

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

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
func writeData(w io.Writer, format string, v any) error {
	data, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
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

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
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

// row writes one row.
func (t *table) row(cells ...string) { t.p.printf("%s\n", strings.Join(cells, "\t")) }

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
