{{- define "type" -}}
{{- $type := . -}}
{{- if markdownShouldRenderType $type }}
#### {{ $type.Name }}

{{ template "text" $type.Doc }}
{{- if $type.IsAlias }}

Underlying type: {{ template "field_type" $type.UnderlyingType }}.
{{- end }}
{{- with index $type.Markers "kubebuilder:resource" }}
{{- $res := index . 0 }}

Short name{{ if gt (len $res.ShortName) 1 }}s{{ end }}: {{ range $i, $s := $res.ShortName }}{{ if $i }}, {{ end }}`{{ $s }}`{{ end }}; categor{{ if gt (len $res.Categories) 1 }}ies{{ else }}y{{ end }}: {{ range $i, $c := $res.Categories }}{{ if $i }}, {{ end }}`{{ $c }}`{{ end }}.
{{- end }}
{{- with index $type.Markers "kubebuilder:printcolumn" }}

| `kubectl get` column | JSONPath | shown |
| --- | --- | --- |
{{- range . }}
| {{ .Name }} | `{{ .JSONPath }}` | {{ if .Priority }}with `-o wide`{{ else }}always{{ end }} |
{{- end }}
{{- end }}
{{- if $type.Validation }}

Validation: {{ range $i, $v := $type.Validation }}{{ if $i }}; {{ end }}{{ $v | replace "|" "\\|" }}{{ end }}.
{{- end }}
{{- with index $type.Markers "kubebuilder:validation:XValidation" }}

Rules the API server checks (CEL), each with the message a refused request gets:
{{ range . }}
- {{ .Message }}
{{- end }}
{{- end }}
{{- if $type.References }}

Appears in: {{ range $i, $r := $type.SortedReferences }}{{ if $i }}, {{ end }}{{ markdownRenderTypeLink $r }}{{ end }}.
{{- end }}
{{- if $type.Members }}

| field | type | description | default | validation |
| --- | --- | --- | --- | --- |
{{- if $type.GVK }}
| `apiVersion` | string | `{{ $type.GVK.Group }}/{{ $type.GVK.Version }}` | | |
| `kind` | string | `{{ $type.GVK.Kind }}` | | |
{{- end }}
{{- range $type.Members }}
| `{{ .Name }}`{{ if has "Required: {}" .Validation }} (required){{ end }} | {{ template "field_type" .Type }} | {{ template "type_members" . }} | {{ .Default | replace "|" "\\|" }} | {{ template "field_validation" . }} |
{{- end }}
{{- end }}
{{- if $type.EnumValues }}

| value | meaning |
| --- | --- |
{{- range $type.EnumValues }}
| `{{ .Name }}` | {{ template "doc" .Doc }} |
{{- end }}
{{- end }}
{{ end -}}
{{- end -}}
