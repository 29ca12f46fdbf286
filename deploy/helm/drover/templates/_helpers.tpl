{{/*
drover.name is the chart name, or nameOverride.
*/}}
{{- define "drover.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
drover.fullname is the name of the release's objects: fullnameOverride, or
RELEASE-CHART (just RELEASE when it already contains the chart name).
*/}}
{{- define "drover.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
drover.chart is CHART-VERSION for the helm.sh/chart label.
*/}}
{{- define "drover.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
drover.labels are the common labels of every object.
*/}}
{{- define "drover.labels" -}}
helm.sh/chart: {{ include "drover.chart" . }}
{{ include "drover.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
drover.selectorLabels select the release's drover pods.
*/}}
{{- define "drover.selectorLabels" -}}
app.kubernetes.io/name: {{ include "drover.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
drover.serviceAccountName is the ServiceAccount the pod runs as.
*/}}
{{- define "drover.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "drover.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
drover.image is REPOSITORY:TAG, the tag defaulting to the appVersion.
*/}}
{{- define "drover.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/*
drover.nadName is the name of the rendered NetworkAttachmentDefinition.
*/}}
{{- define "drover.nadName" -}}
{{- default (printf "%s-provisioning" (include "drover.fullname" .)) .Values.network.multus.nad.name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
drover.multusNetworks is the k8s.v1.cni.cncf.io/networks annotation's value
(a JSON list of network selection elements).
*/}}
{{- define "drover.multusNetworks" -}}
{{- $nets := .Values.network.multus.networks }}
{{- if and (not $nets) .Values.network.multus.nad.create }}
{{- $nets = list (dict "name" (include "drover.nadName" .) "interface" "prov0") }}
{{- end }}
{{- toJson $nets }}
{{- end }}

{{/*
drover.validate fails the render on values that cannot work.
*/}}
{{- define "drover.validate" -}}
{{- $mode := .Values.network.mode }}
{{- if not (has $mode (list "hostNetwork" "multus" "pod")) }}
{{- fail (printf "network.mode %q: want hostNetwork, multus or pod" $mode) }}
{{- end }}
{{- if and (eq $mode "multus") (not .Values.network.multus.networks) (not .Values.network.multus.nad.create) }}
{{- fail "network.mode multus needs network.multus.networks or network.multus.nad.create=true" }}
{{- end }}
{{- if and .Values.network.multus.nad.create (not (has .Values.network.multus.nad.type (list "macvlan" "ipvlan"))) }}
{{- fail (printf "network.multus.nad.type %q: want macvlan or ipvlan" .Values.network.multus.nad.type) }}
{{- end }}
{{- if not .Values.persistence.enabled }}
{{- if not .Values.postgresql.existingSecret }}
{{- fail "persistence.enabled=false needs postgresql.existingSecret: the SQLite database would be lost on every restart" }}
{{- end }}
{{- if not .Values.secretKey.existingSecret }}
{{- fail "persistence.enabled=false needs secretKey.existingSecret: the key that decrypts secret attributes would be lost on every restart" }}
{{- end }}
{{- end }}
{{- if .Values.gitops.enabled }}
{{- if not .Values.gitops.repo }}
{{- fail "gitops.enabled needs gitops.repo" }}
{{- end }}
{{- if and .Values.gitops.token.existingSecret .Values.gitops.sshKey.existingSecret }}
{{- fail "gitops: set gitops.token.existingSecret (https) or gitops.sshKey.existingSecret (ssh), not both" }}
{{- end }}
{{- end }}
{{- end }}
