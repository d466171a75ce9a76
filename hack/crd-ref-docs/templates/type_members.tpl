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
{{- if markdownShouldRenderType . -}}
{{- range index .Markers "kubebuilder:validation:XValidation" -}}
{{- $typeRules = append $typeRules .Message -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- /* The rules of a type that has no section of its own (Text, Paragraph) are listed
       with the field; crd-ref-docs copies them onto it only when it has none. */ -}}
{{- $rules := index .Markers "kubebuilder:validation:XValidation" -}}
{{- range list .Type .Type.UnderlyingType -}}
{{- if and . (not (markdownShouldRenderType .)) -}}
{{- $rules = concat $rules (index .Markers "kubebuilder:validation:XValidation") -}}
{{- end -}}
{{- end -}}
{{- $listed := list -}}
{{- range $rules -}}
{{- if not (or (has .Message $typeRules) (has .Message $listed)) -}}
{{- $listed = append $listed .Message -}}
{{- $out = append $out (printf "rule: %s" (.Message | replace "|" "\\|")) -}}
{{- end -}}
{{- end -}}
{{- join "<br />" $out -}}
{{- end -}}

{{- /* field_type is the type of a field, or the underlying type of a type. Text and
       Paragraph are Go aliases of string, which crd-ref-docs does not document as
       types: they read as string, and their rules are listed with each field (see
       field_validation) or type. */ -}}
{{- define "field_type" -}}
{{- if eq (toJson .Kind) "\"UNKNOWN\"" -}}
string
{{- else if and (eq (toJson .Kind) "\"SLICE\"") (eq (toJson .UnderlyingType.Kind) "\"UNKNOWN\"") -}}
string array
{{- else -}}
{{ markdownRenderType . }}
{{- end -}}
{{- end -}}
