{{/* The chart's name, or nameOverride. */}}
{{- define "cohort-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of the release's object names: fullnameOverride, else the release name when
it already contains the chart's name, else <release>-<chart>. Truncated so that the
longest suffix the chart adds ("-leader-election", 16 characters) stays within 63.
*/}}
{{- define "cohort-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 47 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 47 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object of the release. */}}
{{- define "cohort-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cohort-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cohort-operator
{{- end }}

{{/* Labels that select the release's objects. */}}
{{- define "cohort-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cohort-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels that select the manager's pods. */}}
{{- define "cohort-operator.managerSelectorLabels" -}}
{{ include "cohort-operator.selectorLabels" . }}
app.kubernetes.io/component: manager
{{- end }}

{{/* The manager's ServiceAccount. */}}
{{- define "cohort-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-manager" (include "cohort-operator.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The ClusterRole the manager binds to each community's approvers (--approver-cluster-role);
the manager's rules grant bind on this name only.
*/}}
{{- define "cohort-operator.approverClusterRole" -}}
{{- .Values.approvals.approverClusterRole }}
{{- end }}

{{/*
The ValidatingAdmissionPolicy that verifies approvers, and its binding (--approval-policy).
*/}}
{{- define "cohort-operator.approvalPolicyName" -}}
{{- .Values.approvals.policyName }}
{{- end }}

{{/*
The ValidatingAdmissionPolicy that binds an ActionPlan to its creator and each check-in
to its author, and its binding.
*/}}
{{- define "cohort-operator.actionPlanPolicyName" -}}
{{- .Values.actionPlans.policyName }}
{{- end }}

{{/* The metrics Service, which is also the job label Prometheus gives its targets. */}}
{{- define "cohort-operator.metricsServiceName" -}}
{{- printf "%s-metrics" (include "cohort-operator.fullname" .) }}
{{- end }}

{{/* The manager's image: repository:tag, or repository@digest when a digest is set. */}}
{{- define "cohort-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The names of .Values.imagePullSecrets, comma-separated (--portal-image-pull-secrets). */}}
{{- define "cohort-operator.pullSecretNames" -}}
{{- $names := list }}
{{- range .Values.imagePullSecrets }}
{{- $names = append $names .name }}
{{- end }}
{{- join "," $names }}
{{- end }}

{{/*
Selectors of the manager's series in alert expressions. The ServiceMonitor keeps the
operator's own namespace label (honorLabels), so the cohort_* series carry the namespace
of the cohort and only the job tells them apart; up and controller-runtime's series carry
the namespace of the scraped target, the release's.
*/}}
{{- define "cohort-operator.jobSelector" -}}
job="{{ include "cohort-operator.metricsServiceName" . }}"
{{- end }}
{{- define "cohort-operator.targetSelector" -}}
job="{{ include "cohort-operator.metricsServiceName" . }}", namespace="{{ .Release.Namespace }}"
{{- end }}
