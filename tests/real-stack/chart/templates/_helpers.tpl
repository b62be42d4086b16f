{{/*
orchestration.fullname: "<release>-zeebe", or "<release>" when the release name contains "zeebe"
(camunda-platform-8.8 templates/orchestration/_helpers.tpl).
*/}}
{{- define "orchestration.fullname" -}}
{{- if .Values.orchestration.fullnameOverride -}}
{{- .Values.orchestration.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "zeebe" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-zeebe" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Broker match labels: also the gateway Service's selector. */}}
{{- define "orchestration.matchLabels" -}}
app: camunda-platform
app.kubernetes.io/name: camunda-platform
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: Helm
app.kubernetes.io/part-of: camunda-platform
app.kubernetes.io/component: zeebe-broker
{{- end -}}

{{- define "orchestration.labels" -}}
{{ include "orchestration.matchLabels" . }}
app.kubernetes.io/version: {{ .Values.orchestration.image.tag | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/*
spring.profiles.active: the profiles set to true, in sorted key order, plus consolidated-auth with
basic/oidc authentication (otherwise "identity" becomes "auth").
*/}}
{{- define "orchestration.profiles" -}}
{{- if .Values.orchestration.profilesOverride -}}
{{- .Values.orchestration.profilesOverride -}}
{{- else -}}
{{- $method := .Values.global.security.authentication.method -}}
{{- $consolidated := or (eq $method "basic") (eq $method "oidc") -}}
{{- $active := list -}}
{{- range $name := keys .Values.orchestration.profiles | sortAlpha -}}
{{- if get $.Values.orchestration.profiles $name -}}
{{- if and (eq $name "identity") (not $consolidated) -}}
{{- $active = append $active "auth" -}}
{{- else -}}
{{- $active = append $active $name -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $consolidated -}}
{{- $active = append $active "consolidated-auth" -}}
{{- end -}}
{{- join "," $active -}}
{{- end -}}
{{- end -}}

{{- define "elasticsearch.labels" -}}
app.kubernetes.io/name: elasticsearch
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: master
app.kubernetes.io/managed-by: Helm
{{- end -}}
