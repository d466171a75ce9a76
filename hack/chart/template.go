package main

import (
	"bytes"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// keepAnnotation makes Helm leave an object in place on uninstall.
const keepAnnotation = "helm.sh/resource-policy"

// objectTemplate renders one object of config/ as a chart template: the chart's
// labels merged with the object's own, the chart's name for it, and everything but
// its metadata as config/ has it.
type objectTemplate struct {
	// source is the config file, named in the header.
	source string
	// obj is the decoded object.
	obj map[string]any
	// name is a template expression for metadata.name; the object's own when empty.
	name string
	// namespace is a template expression for metadata.namespace; none when empty.
	namespace string
	// condition, when set, renders the object only when it holds.
	condition string
	// keep is "true" to keep the object on uninstall, a condition to keep it when the
	// condition holds, or empty.
	keep string
	// omitHeader leaves out the generated-file header, for files of several objects.
	omitHeader bool
}

// render returns the template text.
func (t objectTemplate) render() ([]byte, error) {
	meta, _ := t.obj["metadata"].(map[string]any)
	for k := range meta {
		if k != "name" && k != "namespace" && k != "labels" && k != "annotations" {
			return nil, fmt.Errorf("metadata.%s is not carried into the chart", k)
		}
	}
	labels := stringMap(meta["labels"])
	// The chart's labels name the application; config/'s copy would repeat it.
	delete(labels, "app.kubernetes.io/name")
	annotations := stringMap(meta["annotations"])
	if t.keep == "true" {
		annotations[keepAnnotation] = "keep"
	}
	rest := map[string]any{}
	for k, v := range t.obj {
		if k != "apiVersion" && k != "kind" && k != "metadata" {
			rest[k] = v
		}
	}
	name := t.name
	if name == "" {
		name = fmt.Sprint(meta["name"])
	}

	var b bytes.Buffer
	if !t.omitHeader {
		b.WriteString(header(t.source))
	}
	if t.condition != "" {
		fmt.Fprintf(&b, "{{- if %s }}\n", t.condition)
	}
	fmt.Fprintf(&b, "apiVersion: %v\nkind: %v\nmetadata:\n  name: %s\n", t.obj["apiVersion"], t.obj["kind"], name)
	if t.namespace != "" {
		fmt.Fprintf(&b, "  namespace: %s\n", t.namespace)
	}
	b.WriteString("  labels:\n    {{- include \"cohort-operator.labels\" . | nindent 4 }}\n")
	if err := writeYAML(&b, labels, 4); err != nil {
		return nil, err
	}
	if err := t.writeAnnotations(&b, annotations); err != nil {
		return nil, err
	}
	if err := writeYAML(&b, rest, 0); err != nil {
		return nil, err
	}
	if t.condition != "" {
		b.WriteString("{{- end }}\n")
	}
	return b.Bytes(), nil
}

// writeAnnotations writes the annotations block, with the keep annotation under its
// condition when it has one.
func (t objectTemplate) writeAnnotations(b *bytes.Buffer, annotations map[string]string) error {
	conditional := t.keep != "" && t.keep != "true"
	switch {
	case len(annotations) == 0 && !conditional:
		return nil
	case len(annotations) == 0:
		fmt.Fprintf(b, "  {{- if %s }}\n  annotations:\n    %s: keep\n  {{- end }}\n", t.keep, keepAnnotation)
		return nil
	}
	b.WriteString("  annotations:\n")
	if err := writeYAML(b, annotations, 4); err != nil {
		return err
	}
	if conditional {
		fmt.Fprintf(b, "    {{- if %s }}\n    %s: keep\n    {{- end }}\n", t.keep, keepAnnotation)
	}
	return nil
}

// writeYAML marshals v, indents it and substitutes the placeholders. Text from config/
// must not contain template delimiters, which Helm would evaluate.
func writeYAML(b *bytes.Buffer, v any, indent int) error {
	if m, ok := v.(map[string]string); ok && len(m) == 0 {
		return nil
	}
	data, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	text := string(data)
	if strings.Contains(text, "{{") || strings.Contains(text, "}}") {
		return fmt.Errorf("contains a template delimiter ({{ or }}), which Helm would evaluate")
	}
	for placeholder, expr := range placeholders {
		text = strings.ReplaceAll(text, placeholder, expr)
	}
	pad := strings.Repeat(" ", indent)
	for _, line := range strings.SplitAfter(text, "\n") {
		switch line {
		case "":
		case "\n":
			b.WriteString(line)
		default:
			b.WriteString(pad + line)
		}
	}
	return nil
}

// stringMap converts decoded labels or annotations.
func stringMap(v any) map[string]string {
	out := map[string]string{}
	m, _ := v.(map[string]any)
	for k, val := range m {
		out[k] = fmt.Sprint(val)
	}
	return out
}
