{{/* The release's name, or the chart's in it: what every object is named after. */}}
{{- define "damselfly.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "damselfly.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: node or seed. */}}
{{- define "damselfly.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "damselfly.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "damselfly.seedService" -}}
{{ include "damselfly.fullname" . }}-seed
{{- end -}}

{{/* The Secret with the swarm key, when the swarm is private. */}}
{{- define "damselfly.swarmKeySecret" -}}
{{- if .Values.swarm.existingSecret -}}
{{ .Values.swarm.existingSecret }}
{{- else if .Values.swarm.key -}}
{{ include "damselfly.fullname" . }}
{{- end -}}
{{- end -}}

{{- define "damselfly.registrySecret" -}}
{{- if .Values.registryCredentialsSecret -}}
{{ .Values.registryCredentialsSecret }}
{{- else if .Values.registryCredentials -}}
{{ include "damselfly.fullname" . }}-registry
{{- end -}}
{{- end -}}

{{/* Every seed pod by its stable DNS name: where nodes and seeds join the swarm. */}}
{{- define "damselfly.bootstrap" -}}
{{- $root := . -}}
{{- range $i, $_ := until (int .Values.seed.replicas) }}
- /dns4/{{ include "damselfly.seedService" $root }}-{{ $i }}.{{ include "damselfly.seedService" $root }}.{{ $root.Release.Namespace }}.svc.cluster.local/tcp/{{ $root.Values.p2pPort }}
{{- end -}}
{{- end -}}

{{- define "damselfly.schedulerService" -}}
{{ include "damselfly.fullname" . }}-scheduler
{{- end -}}

{{/* Every scheduler pod by its stable DNS name: what every daemon is given as --scheduler. */}}
{{- define "damselfly.schedulers" -}}
{{- $root := . -}}
{{- range $i, $_ := until (int .Values.scheduler.replicas) }}
- /dns4/{{ include "damselfly.schedulerService" $root }}-{{ $i }}.{{ include "damselfly.schedulerService" $root }}.{{ $root.Release.Namespace }}.svc.cluster.local/tcp/{{ $root.Values.scheduler.port }}
{{- end -}}
{{- end -}}

{{/*
The config file of one component (node or seed): `config`, the component's
own `config` over it, and what the chart decides over both.
*/}}
{{- define "damselfly.config" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $own := index $values .component -}}
{{- $config := mustMergeOverwrite (deepCopy $values.config) (deepCopy $own.config) -}}
{{- $_ := set $config "dataDir" "/var/lib/damselfly" -}}
{{- $_ := set $config "listen" (list (printf "/ip4/0.0.0.0/tcp/%d" (int $values.p2pPort))) -}}
{{- if $values.seed.enabled -}}
{{- $_ := set $config "bootstrap" (concat ((include "damselfly.bootstrap" $root) | fromYamlArray) (get $config "bootstrap" | default list)) -}}
{{- end -}}
{{- if $values.scheduler.enabled -}}
{{- $_ := set $config "schedulers" ((include "damselfly.schedulers" $root) | fromYamlArray) -}}
{{- end -}}
{{- if eq .component "seed" -}}
{{- $_ := set $config "seed" true -}}
{{- $_ := set $config "mirror" false -}}
{{- else -}}
{{- $_ := set $config "mirror" (printf "127.0.0.1:%d" (int $values.node.mirrorPort)) -}}
{{- end -}}
{{- $apiPort := int $values.node.apiPort -}}
{{- if $values.metrics.serviceMonitor.enabled -}}
{{- $_ := set $config "api" (printf "0.0.0.0:%d" $apiPort) -}}
{{- $_ := set $config "apiTokenFile" "/etc/damselfly/secret/api-token" -}}
{{- else -}}
{{- $_ := set $config "api" (printf "127.0.0.1:%d" $apiPort) -}}
{{- end -}}
{{- if include "damselfly.swarmKeySecret" $root -}}
{{- $_ := set $config "swarmKey" "/etc/damselfly/secret/swarm.key" -}}
{{- end -}}
{{- if and (eq .component "seed") (include "damselfly.registrySecret" $root) -}}
{{- $registry := get $config "registry" | default dict -}}
{{- $_ := set $registry "dockerConfig" "/etc/damselfly/registry/config.json" -}}
{{- $_ := set $config "registry" $registry -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The daemon's container, for component node or seed. */}}
{{- define "damselfly.container" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $own := index $values .component -}}
- name: damselfly
  image: {{ include "damselfly.image" $root }}
  imagePullPolicy: {{ $values.image.pullPolicy }}
  args: [daemon, --config, /etc/damselfly/config/{{ .component }}.yaml]
  ports:
    - name: p2p
      containerPort: {{ $values.p2pPort }}
      protocol: TCP
    {{- if $values.metrics.serviceMonitor.enabled }}
    - name: api
      containerPort: {{ $values.node.apiPort }}
      protocol: TCP
    {{- end }}
  env:
    # the image's health check finds the control API in the same file
    - name: DAMSELFLY_CONFIG
      value: /etc/damselfly/config/{{ .component }}.yaml
  # the image's health check: GET /healthz on the control API, wherever it listens
  livenessProbe:
    exec:
      command: [/usr/local/bin/node, /app/healthcheck.mjs]
    initialDelaySeconds: 10
    periodSeconds: 30
    timeoutSeconds: 5
    failureThreshold: 3
  readinessProbe:
    exec:
      command: [/usr/local/bin/node, /app/healthcheck.mjs]
    periodSeconds: 15
    timeoutSeconds: 5
  resources:
    {{- toYaml $own.resources | nindent 4 }}
  securityContext:
    {{- toYaml $values.securityContext | nindent 4 }}
  volumeMounts:
    - name: config
      mountPath: /etc/damselfly/config
      readOnly: true
    - name: data
      mountPath: /var/lib/damselfly
    - name: tmp
      mountPath: /tmp
    {{- if or (include "damselfly.swarmKeySecret" $root) $values.metrics.serviceMonitor.enabled }}
    - name: secret
      mountPath: /etc/damselfly/secret
      readOnly: true
    {{- end }}
    {{- if and (eq .component "seed") (include "damselfly.registrySecret" $root) }}
    - name: registry
      mountPath: /etc/damselfly/registry
      readOnly: true
    {{- end }}
{{- end -}}

{{/* The volumes the container mounts, but data (the StatefulSet's is a claim). */}}
{{- define "damselfly.volumes" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
- name: config
  configMap:
    name: {{ include "damselfly.fullname" $root }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if or (include "damselfly.swarmKeySecret" $root) $values.metrics.serviceMonitor.enabled }}
- name: secret
  projected:
    defaultMode: 0440
    sources:
      {{- if include "damselfly.swarmKeySecret" $root }}
      - secret:
          name: {{ include "damselfly.swarmKeySecret" $root }}
          items:
            - key: swarm.key
              path: swarm.key
      {{- end }}
      {{- if $values.metrics.serviceMonitor.enabled }}
      - secret:
          name: {{ include "damselfly.fullname" $root }}
          items:
            - key: api-token
              path: api-token
      {{- end }}
{{- end }}
{{- if and (eq .component "seed") (include "damselfly.registrySecret" $root) }}
- name: registry
  secret:
    secretName: {{ include "damselfly.registrySecret" $root }}
    defaultMode: 0440
    items:
      - key: config.json
        path: config.json
{{- end }}
{{- end -}}
