package kube

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kmschaos/kmschaos/cluster"
)

// testConfig stands for a party's config.toml.
const testConfig = "[service]\nlisten_port = 50100\n"

// render renders the chart for party i with Helm's own engine, as helm
// upgrade --install does, and decodes what it makes.
func render(t *testing.T, s cluster.Spec, i int, args []string) (*appsv1.StatefulSet, *corev1.Service, *corev1.ConfigMap) {
	t.Helper()
	out := renderDocs(t, s, i, args, nil, chartutil.ReleaseOptions{IsInstall: true})
	var sts appsv1.StatefulSet
	var svc corev1.Service
	var cm corev1.ConfigMap
	for name, doc := range out {
		var into any
		switch {
		case strings.HasSuffix(name, "statefulset.yaml"):
			into = &sts
		case strings.HasSuffix(name, "service.yaml"):
			into = &svc
		case strings.HasSuffix(name, "configmap.yaml"):
			into = &cm
		default:
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
			t.Fatalf("%s does not decode as its kind: %v\n%s", name, err, doc)
		}
	}
	if sts.Name == "" || svc.Name == "" || cm.Name == "" {
		t.Fatalf("the chart made no StatefulSet, Service or ConfigMap: %v", out)
	}
	return &sts, &svc, &cm
}

// The chart makes party i as the backend and the mesh expect it: the
// StatefulSet kms-threshold-<i> whose claim templates name the claims the
// keeper mounts, peers resolving to the mesh, the arguments given, the
// baseline's limits, and the Service kms-party-<i> selecting that pod.
func TestChartMakesTheParty(t *testing.T) {
	s := spec(t)
	sts, svc, cm := render(t, s, 3, []string{"--test-only-lie"})
	if sts.Name != "kms-threshold-3" || svc.Name != "kms-party-3" {
		t.Errorf("names %s, %s", sts.Name, svc.Name)
	}
	for _, tmpl := range sts.Spec.VolumeClaimTemplates {
		want := tmpl.Name + "-" + sts.Name + "-0"
		found := false
		for _, v := range keeperObject(s, "").Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == want {
				found = true
			}
		}
		if !found {
			t.Errorf("the keeper does not mount %s, the claim of template %s", want, tmpl.Name)
		}
	}
	pod := sts.Spec.Template.Spec
	if got := pod.HostAliases; len(got) != 1 || got[0].IP != "10.96.0.9" || len(got[0].Hostnames) != 4 || got[0].Hostnames[1] != "kms-peer-2" {
		t.Errorf("peer names resolve as %+v, want kms-peer-1..4 at the mesh's Service", got)
	}
	ctr := pod.Containers[0]
	if ctr.Name != partyContainer || ctr.Args[len(ctr.Args)-1] != "--test-only-lie" || ctr.Image != s.Images.Party {
		t.Errorf("container %s %v %s", ctr.Name, ctr.Args, ctr.Image)
	}
	if m := ctr.Resources.Limits[corev1.ResourceMemory]; m.Value() != s.Baseline(3).Memory {
		t.Errorf("memory limit %s, want the baseline's %d", m.String(), s.Baseline(3).Memory)
	}
	// 13 parties fit a 2-core node: each asks for little, however high its
	// limit (the CPU baseline is every core).
	if req := ctr.Resources.Requests[corev1.ResourceCPU]; req.MilliValue() > 100 {
		t.Errorf("each party requests %s of CPU: 13 of them do not fit a small node", req.String())
	}
	if *ctr.SecurityContext.RunAsUser != 10001 {
		t.Errorf("runs as %d", *ctr.SecurityContext.RunAsUser)
	}
	for k, v := range svc.Spec.Selector {
		if sts.Spec.Template.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, the pod has %q", k, v, sts.Spec.Template.Labels[k])
		}
	}
	for k, v := range sts.Spec.Selector.MatchLabels {
		if sts.Spec.Template.Labels[k] != v {
			t.Errorf("the StatefulSet selects %s=%s, its pods have %q", k, v, sts.Spec.Template.Labels[k])
		}
	}
	// The config is deployed as the real chart deploys it: a ConfigMap the
	// pod installs into its config volume when it starts, the pod rolled
	// when the config changes.
	if cm.Name != configMapName(3) || cm.Data[configKey] != testConfig {
		t.Errorf("ConfigMap %s holds %q, want %s holding the config given", cm.Name, cm.Data[configKey], configMapName(3))
	}
	if len(pod.InitContainers) != 1 || strings.Join(pod.InitContainers[0].Command, " ") != "kms-admin cp /app/kms/deployed/config.toml "+s.Profile.ConfigFile {
		t.Errorf("init containers %+v, want one installing the ConfigMap's config at %s", pod.InitContainers, s.Profile.ConfigFile)
	} else if m := pod.InitContainers[0].VolumeMounts; len(m) != 2 || m[1].Name != "config" || m[1].MountPath != s.Profile.ConfigDir {
		t.Errorf("the init container mounts %+v, want the ConfigMap and the config volume", m)
	}
	if sts.Spec.Template.Annotations["checksum/config"] == "" {
		t.Error("a new config does not roll the pod: no checksum/config annotation on its template")
	}
	if sts.Annotations[OwnerAnnotation] == "" || sts.Labels[ManagedBy] != managedByValue {
		t.Errorf("the run's labels and owner are missing: %v %v", sts.Labels, sts.Annotations)
	}
}

// renderWith renders the chart for party i with values set over the
// backend's (what helm upgrade --set adds), and returns every document
// by template file name.
func renderWith(t *testing.T, s cluster.Spec, i int, set map[string]any) map[string]string {
	t.Helper()
	return renderDocs(t, s, i, nil, set, chartutil.ReleaseOptions{IsUpgrade: true})
}

// renderDocs renders the chart for party i started with args, with the
// values set over the backend's, as the release opts say (install or
// upgrade), by template file name.
func renderDocs(t *testing.T, s cluster.Spec, i int, args []string, set map[string]any, opts chartutil.ReleaseOptions) map[string]string {
	t.Helper()
	dir, owned, err := writeChart()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = owned.Remove() }()
	ch, err := loader.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(valuesOf(s, i, args, "10.96.0.9", []byte(testConfig)))
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := json.Unmarshal(raw, &vals); err != nil {
		t.Fatal(err)
	}
	maps.Copy(vals, set)
	opts.Name, opts.Namespace = statefulSetName(i), "kmschaos-ab12cd34"
	rv, err := chartutil.ToRenderValues(ch, vals, opts, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.Render(ch, rv)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	return out
}

func initJobDoc(out map[string]string) string {
	for name, doc := range out {
		if strings.HasSuffix(name, "kms-threshold-init-job.yaml") {
			return strings.TrimSpace(doc)
		}
	}
	return ""
}

// The chart's PRSS init Job is the real chart's: made only when
// kmsInit.enabled, a post-install/post-upgrade hook of weight 0 with no
// delete policy, named <release>-threshold-init, whose init container
// probes every party's client address with grpc_health_probe (and
// compares its exit code with kmsPeers.count, as the real one does) and
// whose container runs kms-init on every party under timeout
// kmsInit.timeoutSeconds (1200 by default).
func TestChartInitJobIsTheRealChartsHook(t *testing.T) {
	s := spec(t)
	if doc := initJobDoc(renderWith(t, s, 2, nil)); doc != "" {
		t.Fatalf("the init Job is made with kmsInit disabled (the default):\n%s", doc)
	}
	doc := initJobDoc(renderWith(t, s, 2, map[string]any{"kmsInit": map[string]any{"enabled": true}}))
	var job batchv1.Job
	if err := yaml.UnmarshalStrict([]byte(doc), &job); err != nil {
		t.Fatalf("the init Job does not decode as a Job: %v\n%s", err, doc)
	}
	if job.Name != "kms-threshold-2-threshold-init" {
		t.Errorf("the Job is named %s, want <release>-threshold-init", job.Name)
	}
	if a := job.Annotations; a["helm.sh/hook"] != "post-install,post-upgrade" || a["helm.sh/hook-weight"] != "0" || a["helm.sh/hook-delete-policy"] != "" {
		t.Errorf("hook annotations %v, want the real chart's (post-install,post-upgrade, weight 0, no delete policy)", a)
	}
	pod := job.Spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever || len(pod.InitContainers) != 1 || len(pod.Containers) != 1 {
		t.Fatalf("restart policy %s, %d init containers, %d containers", pod.RestartPolicy, len(pod.InitContainers), len(pod.Containers))
	}
	if v := pod.Volumes; len(v) != 1 || v[0].EmptyDir == nil || v[0].EmptyDir.Medium != corev1.StorageMediumMemory {
		t.Errorf("volumes %+v, want one emptyDir in memory", v)
	}
	check, initc := pod.InitContainers[0], pod.Containers[0]
	if check.Name != "check-kms-cores" || initc.Name != "threshold-init" || check.Image != s.Images.Toolbox || initc.Image != s.Images.Toolbox {
		t.Errorf("containers %s (%s), %s (%s)", check.Name, check.Image, initc.Name, initc.Image)
	}
	script := strings.Join(check.Args, "\n")
	var peers []string
	for j := 1; j <= s.Topology.N; j++ {
		peers = append(peers, fmt.Sprintf("%q", fmt.Sprintf("kms-party-%d:%d", j, s.Profile.APIPort)))
	}
	for _, want := range []string{
		"peerAddresses=(" + strings.Join(peers, " ") + " )",
		`grpc_health_probe -addr="${peerAddress}"`,
		"if [ ${healthStatus} -eq 1 ]; then", // kmsPeers.count, the real chart's default
		"failed to connect to kms-core at ${peerAddress}, retrying",
		`echo "${kmsInitCount}" > /mnt/kms-init-count`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("check-kms-cores' script lacks %q:\n%s", want, script)
		}
	}
	run := strings.Join(initc.Args, "\n")
	var addrs []string
	for j := 1; j <= s.Topology.N; j++ {
		addrs = append(addrs, fmt.Sprintf("http://kms-party-%d:%d", j, s.Profile.APIPort))
	}
	for _, want := range []string{
		"KMS_INIT_TIMEOUT_SECONDS=1200\n",
		"timeout ${KMS_INIT_TIMEOUT_SECONDS} bin/kms-init --addresses " + strings.Join(addrs, " ") + "\n",
	} {
		if !strings.Contains(run, want) {
			t.Errorf("threshold-init's script lacks %q:\n%s", want, run)
		}
	}
	if initc.WorkingDir != "/" {
		t.Errorf("threshold-init runs in %q: bin/kms-init is found from /", initc.WorkingDir)
	}
	// --set kmsInit.timeoutSeconds reaches the timeout.
	doc = initJobDoc(renderWith(t, s, 2, map[string]any{"kmsInit": map[string]any{"enabled": true, "timeoutSeconds": 7}}))
	if !strings.Contains(doc, "KMS_INIT_TIMEOUT_SECONDS=7\n") {
		t.Errorf("kmsInit.timeoutSeconds=7 is not the timeout:\n%s", doc)
	}
}
