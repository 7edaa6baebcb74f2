{{/*
Names. Every name is a DNS label (at most 63 characters).
*/}}
{{- define "signet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "signet.fullname" -}}
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

{{/* <fullname>-<suffix>, truncated to a DNS label. Call with (list $ "suffix"). */}}
{{- define "signet.child" -}}
{{- $ := index . 0 }}
{{- printf "%s-%s" (include "signet.fullname" $) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "signet.store.name" -}}{{ include "signet.child" (list . "store") }}{{- end }}
{{- define "signet.store.headless" -}}{{ include "signet.child" (list . "store-headless") }}{{- end }}
{{- define "signet.gateway.name" -}}{{ include "signet.child" (list . "gateway") }}{{- end }}
{{- define "signet.gateway.grpcService" -}}{{ include "signet.child" (list . "gateway-grpc") }}{{- end }}
{{- define "signet.gateway.httpService" -}}{{ include "signet.child" (list . "gateway-http") }}{{- end }}
{{- define "signet.shrinkJob.name" -}}{{ include "signet.child" (list . "cluster-shrink") }}{{- end }}
{{- define "signet.backup.name" -}}{{ include "signet.child" (list . "backup") }}{{- end }}
{{- define "signet.backup.claimName" -}}{{ include "signet.child" (list . "backups") }}{{- end }}

{{- define "signet.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels. Call with (list $ "component"). */}}
{{- define "signet.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "signet.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "signet.labels" -}}
{{- $ := index . 0 -}}
helm.sh/chart: {{ include "signet.chart" $ }}
{{ include "signet.selectorLabels" . }}
app.kubernetes.io/part-of: signet
app.kubernetes.io/version: {{ $.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $.Release.Service }}
{{- end }}

{{- define "signet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "signet.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "signet.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Store addressing. A pod is reached at <pod>.<headless>.<namespace>.svc.<clusterDomain>.
*/}}
{{- define "signet.store.domain" -}}
{{- printf "%s.%s.svc.%s" (include "signet.store.headless" .) .Release.Namespace .Values.clusterDomain }}
{{- end }}

{{/* API addresses of ordinals 0..replicas-1, comma-separated: --peers and --store. */}}
{{- define "signet.store.apiAddrs" -}}
{{- $name := include "signet.store.name" . }}
{{- $domain := include "signet.store.domain" . }}
{{- $addrs := list }}
{{- range $i := until (int .Values.store.replicas) }}
{{- $addrs = append $addrs (printf "%s-%d.%s:%d" $name $i $domain (int $.Values.store.ports.api)) }}
{{- end }}
{{- join "," $addrs }}
{{- end }}

{{/* The client Service of the store API (ready members only), for the cluster Job. */}}
{{- define "signet.store.clientAddr" -}}
{{- printf "%s.%s.svc.%s:%d" (include "signet.store.name" .) .Release.Namespace .Values.clusterDomain (int .Values.store.ports.api) }}
{{- end }}

{{/*
TLS. Role Secrets hold ca.crt, tls.crt and tls.key. Call with (list $ "role").
*/}}
{{- define "signet.tls.secretName" -}}
{{- $ := index . 0 }}
{{- $role := index . 1 }}
{{- $given := "" }}
{{- if not $.Values.tls.certManager.enabled }}
{{- $given = get $.Values.tls.existingSecrets $role }}
{{- end }}
{{- default (include "signet.child" (list $ (printf "%s-tls" $role))) $given }}
{{- end }}

{{- define "signet.tls.publicSecretName" -}}
{{- $given := "" }}
{{- if not .Values.tls.certManager.enabled }}
{{- $given = .Values.tls.public.existingSecret }}
{{- end }}
{{- default (include "signet.child" (list . "gateway-public-tls")) $given }}
{{- end }}

{{/* The name in a role's SPIFFE ID: the role's component name (a valid label). */}}
{{- define "signet.tls.spiffeId" -}}
{{- $ := index . 0 }}
{{- $role := index . 1 }}
{{- printf "spiffe://%s/signet/%s/%s" $.Values.tls.trustDomain $role (include "signet.child" (list $ $role)) }}
{{- end }}

{{/* Flags naming the mounted role certificate. */}}
{{- define "signet.tls.args" -}}
{{- if .Values.tls.enabled -}}
- --ca=/etc/signet/tls/ca.crt
- --cert=/etc/signet/tls/tls.crt
- --key=/etc/signet/tls/tls.key
- --trust-domain={{ .Values.tls.trustDomain }}
{{- end }}
{{- end }}

{{- define "signet.tls.volumeMount" -}}
{{- if .Values.tls.enabled -}}
- name: tls
  mountPath: /etc/signet/tls
  readOnly: true
{{- end }}
{{- end }}

{{/* Call with (list $ "role"). */}}
{{- define "signet.tls.volume" -}}
{{- $ := index . 0 }}
{{- if $.Values.tls.enabled -}}
- name: tls
  secret:
    secretName: {{ include "signet.tls.secretName" . }}
    defaultMode: 288  # 0440: owner and group (fsGroup) read
{{- end }}
{{- end }}

{{- define "signet.secretName" -}}
{{- default (include "signet.child" (list . "secrets")) .Values.secrets.existingSecret }}
{{- end }}

{{- define "signet.gateway.publicUrl" -}}
{{- if .Values.gateway.publicUrl }}
{{- .Values.gateway.publicUrl | trimSuffix "/" }}
{{- else }}
{{- printf "%s://%s.%s.svc.%s:%d" (ternary "https" "http" .Values.tls.public.enabled) (include "signet.gateway.httpService" .) .Release.Namespace .Values.clusterDomain (int .Values.gateway.ports.http) }}
{{- end }}
{{- end }}

{{/* The scheme of the gateway's HTTP port, for probes and scrapes. */}}
{{- define "signet.gateway.httpScheme" -}}
{{- ternary "HTTPS" "HTTP" .Values.tls.public.enabled }}
{{- end }}

{{/* Anti-affinity on the node for one component. Call with (list $ "component" "hard|soft"). */}}
{{- define "signet.antiAffinity" -}}
{{- $ := index . 0 }}
{{- $component := index . 1 }}
{{- $mode := index . 2 -}}
podAntiAffinity:
{{- if eq $mode "hard" }}
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          {{- include "signet.selectorLabels" (list $ $component) | nindent 10 }}
{{- else }}
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "signet.selectorLabels" (list $ $component) | nindent 12 }}
{{- end }}
{{- end }}

{{/* Whether any plaintext beyond loopback is configured (for NOTES and flags). */}}
{{- define "signet.gateway.insecurePlaintext" -}}
{{- if or (not .Values.tls.enabled) (not .Values.tls.public.enabled) }}true{{ end }}
{{- end }}

{{/* The cert-manager issuer of the role certificates. */}}
{{- define "signet.certManager.issuerRef" -}}
{{- if .Values.tls.certManager.issuerRef }}
{{- toYaml .Values.tls.certManager.issuerRef }}
{{- else -}}
name: {{ include "signet.child" (list . "ca") }}
kind: Issuer
group: cert-manager.io
{{- end }}
{{- end }}

{{/* kubectl run --overrides of the one-off operator pod in NOTES.txt (strategic merge:
     the container named like the pod gets the operator certificate). */}}
{{- define "signet.notes.opsOverrides" -}}
{{- $container := dict "name" "signet-ops" "securityContext" .Values.securityContext }}
{{- $spec := dict "automountServiceAccountToken" false "securityContext" .Values.podSecurityContext }}
{{- if .Values.tls.enabled }}
{{- $_ := set $container "volumeMounts" (list (dict "name" "tls" "mountPath" "/etc/signet/tls" "readOnly" true)) }}
{{- $_ := set $spec "volumes" (list (dict "name" "tls" "secret" (dict "secretName" (include "signet.tls.secretName" (list . "operator"))))) }}
{{- end }}
{{- $_ := set $spec "containers" (list $container) }}
{{- toJson (dict "spec" $spec) }}
{{- end }}
