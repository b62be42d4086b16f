{{/*
One source for the stand-ins of every chart major c8dr supports: the run writes Chart.yaml
version 13.x, 14.x or 15.x (and that major's values.yaml defaults, see values-14.yaml and
values-15.yaml) and the templates branch on the major, as the real charts differ:
camunda-platform-helm charts/camunda-platform-8.8 (13.x), -8.9 (14.x), -8.10 (15.x).
*/}}
{{- define "standin.major" -}}
{{- (semver .Chart.Version).Major -}}
{{- end -}}

{{/*
The orchestration configuration ConfigMap: "<fullname>-configuration-unified" in 13.x
(configmap-unified.yaml), "<fullname>-configuration" from 14.x (configmap.yaml; commit 743be3fb2a
"drop the -unified suffix (#4938)").
*/}}
{{- define "orchestration.configmapName" -}}
{{- if ge (int (include "standin.major" .)) 14 -}}
{{- include "orchestration.fullname" . }}-configuration
{{- else -}}
{{- include "orchestration.fullname" . }}-configuration-unified
{{- end -}}
{{- end -}}

{{/*
camunda.data.secondary-storage.type: 13.x derives it from global.elasticsearch/opensearch
(elasticsearch here); 14.x and 15.x take orchestration.data.secondaryStorage.type and refuse to
render without it (common/constraints.tpl).
*/}}
{{- define "orchestration.secondaryStorage" -}}
{{- if ge (int (include "standin.major" .)) 14 -}}
{{- required "Please configure an expected secondary storage type under `orchestration.data.secondaryStorage.type`" (dig "data" "secondaryStorage" "type" "" .Values.orchestration) -}}
{{- else -}}
elasticsearch
{{- end -}}
{{- end -}}

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
basic/oidc authentication (otherwise "identity" becomes "auth"). The profile keys are the
major's values.yaml defaults: 13.x broker/identity/operate/tasklist, 14.x and 15.x
admin/broker/operate/tasklist.
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
