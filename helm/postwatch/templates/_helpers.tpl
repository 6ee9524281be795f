{{/* Chart name, truncated to the 63 characters Kubernetes names allow. */}}
{{- define "postwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; a component suffix (-receiver, -receiver-metrics) is added to it. */}}
{{- define "postwatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "postwatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "postwatch.labels" -}}
helm.sh/chart: {{ include "postwatch.chart" . }}
{{ include "postwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: postwatch
{{- end }}

{{- define "postwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "postwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component: include with (dict "root" $ "component" "receiver"). */}}
{{- define "postwatch.componentLabels" -}}
{{ include "postwatch.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "postwatch.componentSelectorLabels" -}}
{{ include "postwatch.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "postwatch.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "postwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "postwatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "postwatch.alertsSecretName" -}}
{{- default (printf "%s-alerts" (include "postwatch.fullname" .)) .Values.alerts.existingSecret }}
{{- end }}

{{/*
The NATS the services connect to: with nats.enabled, the official NATS chart's client Service,
named as that chart names it (its nats.fullname: fullnameOverride, else the release name when it
contains the chart name, else <release>-<chart name>); otherwise nats.url.
*/}}
{{- define "postwatch.natsUrl" -}}
{{- $nats := .Values.nats }}
{{- if $nats.enabled }}
{{- $name := "" }}
{{- if $nats.fullnameOverride }}
{{- $name = $nats.fullnameOverride }}
{{- else }}
{{- $chartName := default "nats" $nats.nameOverride }}
{{- $name = ternary .Release.Name (printf "%s-%s" .Release.Name $chartName) (contains $chartName .Release.Name) }}
{{- end }}
{{- $name = $name | trunc 63 | trimSuffix "-" }}
{{- with $nats.namespaceOverride }}
{{- $name = printf "%s.%s" $name . }}
{{- end }}
{{- printf "nats://%s:%v" $name (dig "config" "nats" "port" 4222 $nats) }}
{{- else }}
{{- required "nats.url is required: postwatch needs a NATS server with JetStream (or set nats.enabled=true)" $nats.url }}
{{- end }}
{{- end }}

{{/*
NATS_STREAM_REPLICAS: nats.streamReplicas, else, with nats.enabled, the NATS chart's number of
servers (JetStream keeps at most 5 copies); empty (the services' default, 1) otherwise.
*/}}
{{- define "postwatch.natsStreamReplicas" -}}
{{- $nats := .Values.nats }}
{{- $servers := 1 }}
{{- if dig "config" "cluster" "enabled" false $nats }}
{{- $servers = int (dig "config" "cluster" "replicas" 1 $nats) }}
{{- end }}
{{- if $nats.streamReplicas }}
{{- if and $nats.enabled (gt (int $nats.streamReplicas) $servers) }}
{{- fail (printf "nats.streamReplicas (%v) exceeds the NATS chart's %d servers (nats.config.cluster.replicas)" $nats.streamReplicas $servers) }}
{{- end }}
{{- $nats.streamReplicas }}
{{- else if $nats.enabled }}
{{- min $servers 5 }}
{{- end }}
{{- end }}

{{/* Environment every service shares: NATS, logging, the metrics port. */}}
{{- define "postwatch.commonEnv" -}}
- name: NATS_URL
  value: {{ include "postwatch.natsUrl" . | quote }}
{{- with include "postwatch.natsStreamReplicas" . }}
- name: NATS_STREAM_REPLICAS
  value: {{ . | quote }}
{{- end }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: METRICS_HOST
  value: "0.0.0.0"
- name: METRICS_PORT
  value: {{ .Values.metrics.port | quote }}
{{- if .Values.nats.credsSecret.name }}
- name: NATS_CREDS_FILE
  value: /etc/postwatch/nats/{{ .Values.nats.credsSecret.key }}
{{- end }}
{{- if .Values.nats.userPasswordSecret }}
- name: NATS_USER
  valueFrom:
    secretKeyRef: { name: {{ .Values.nats.userPasswordSecret | quote }}, key: NATS_USER }
- name: NATS_PASSWORD
  valueFrom:
    secretKeyRef: { name: {{ .Values.nats.userPasswordSecret | quote }}, key: NATS_PASSWORD }
{{- end }}
{{- end }}

{{/* A component's extra env map, as `- name/value` entries in a stable order. */}}
{{- define "postwatch.extraEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
The pod spec every component shares. Include with
(dict "root" $ "component" "receiver" "values" .Values.receiver "env" <env YAML> "ports" <ports YAML>
      "volumeMounts" <YAML> "volumes" <YAML> "labels" <extra pod labels, a dict>).
*/}}
{{- define "postwatch.podTemplate" -}}
{{- $root := .root -}}
metadata:
  labels:
    {{- include "postwatch.componentLabels" (dict "root" $root "component" .component) | nindent 4 }}
    {{- with .labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $root.Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- $annotations := merge (dict) (default (dict) .annotations) $root.Values.podAnnotations }}
  {{- with $annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  serviceAccountName: {{ include "postwatch.serviceAccountName" $root }}
  automountServiceAccountToken: false
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: 30
  containers:
    - name: {{ .component }}
      image: {{ include "postwatch.image" $root | quote }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args: [{{ .component | quote }}]
      securityContext:
        {{- toYaml $root.Values.securityContext | nindent 8 }}
      env:
        {{- include "postwatch.commonEnv" $root | nindent 8 }}
        {{- with .env | default "" | trim }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- with include "postwatch.extraEnv" .values.env | trim }}
        {{- . | nindent 8 }}
        {{- end }}
      ports:
        - name: metrics
          containerPort: {{ $root.Values.metrics.port }}
          protocol: TCP
        {{- with .ports | default "" | trim }}
        {{- . | nindent 8 }}
        {{- end }}
      startupProbe:
        httpGet: { path: /healthz, port: metrics }
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: {{ .values.startupProbe.failureThreshold }}
      livenessProbe:
        httpGet: { path: /healthz, port: metrics }
        periodSeconds: 20
        timeoutSeconds: 3
        failureThreshold: 3
      readinessProbe:
        httpGet: { path: /readyz, port: metrics }
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 2
      resources:
        {{- toYaml .values.resources | nindent 8 }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if $root.Values.nats.credsSecret.name }}
        - name: nats-creds
          mountPath: /etc/postwatch/nats
          readOnly: true
        {{- end }}
        {{- with .volumeMounts | default "" | trim }}
        {{- . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir: { sizeLimit: 64Mi }
    {{- if $root.Values.nats.credsSecret.name }}
    - name: nats-creds
      secret:
        secretName: {{ $root.Values.nats.credsSecret.name }}
    {{- end }}
    {{- with .volumes | default "" | trim }}
    {{- . | nindent 4 }}
    {{- end }}
  {{- with $root.Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $root.Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
