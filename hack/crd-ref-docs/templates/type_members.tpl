{{- define "type_members" -}}
{{- if eq .Name "metadata" -}}
The object's metadata: see the Kubernetes API documentation of `ObjectMeta`.
{{- else -}}
{{ template "doc" .Doc }}
{{- end -}}
{{- end -}}

{{- /* doc renders a doc comment in one table cell: wrapped lines joined, paragraphs
       kept apart, pipes escaped, and angle brackets kept as text (v1:sha256:<hex>). */ -}}
{{- define "doc" -}}
{{ . | trim | replace "<" "&lt;" | replace ">" "&gt;" | replace "|" "\\|" | replace "\n\n" "<br /><br />" | replace "\n" " " }}
{{- end -}}

{{- /* text is a doc comment as Markdown text: angle brackets are not HTML. */ -}}
{{- define "text" -}}
{{ . | trim | replace "<" "&lt;" | replace ">" "&gt;" }}
{{- end -}}

{{- /* field_validation lists a field's bounds, patterns, enums and CEL rules; whether it
       is required is shown beside its name. */ -}}
{{- define "field_validation" -}}
{{- $out := list -}}
{{- range .Validation -}}
{{- if not (or (hasPrefix "Optional:" .) (hasPrefix "Required:" .)) -}}
{{- $out = append $out (. | replace "|" "\\|") -}}
{{- end -}}
{{- end -}}
{{- /* crd-ref-docs copies a type's markers onto the fields of that type: list only the
       field's own rules, the type's are shown with the type. */ -}}
{{- $typeRules := list -}}
{{- range list .Type .Type.UnderlyingType -}}
{{- if . -}}
{{- range index .Markers "kubebuilder:validation:XValidation" -}}
{{- $typeRules = append $typeRules .Message -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range index .Markers "kubebuilder:validation:XValidation" -}}
{{- if not (has .Message $typeRules) -}}
{{- $out = append $out (printf "rule: %s" (.Message | replace "|" "\\|")) -}}
{{- end -}}
{{- end -}}
{{- join "<br />" $out -}}
{{- end -}}
