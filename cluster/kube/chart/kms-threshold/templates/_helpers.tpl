{{- define "kms-threshold.selector" -}}
org.kmschaos.run: {{ index .Values.labels "org.kmschaos.run" | quote }}
org.kmschaos.party: {{ .Values.party | quote }}
{{- end }}
{{- define "kms-threshold.labels" -}}
{{ toYaml .Values.labels }}
org.kmschaos.party: {{ .Values.party | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}
