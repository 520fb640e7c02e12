package kube

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kmschaos/kmschaos/cluster"
)

// Names of what a run makes in its namespace. A party is a release of our
// chart (chart/kms-threshold, helm.go): a StatefulSet of one pod named
// like the real chart's (kms-threshold-<i>), behind a Service named as the
// parties and kms-init dial it (kms-party-<i>); its stores are claims
// named as the StatefulSet's templates name them, so the StatefulSet
// adopts them and the keeper mounts the same ones.
const (
	keeperPod      = "kmschaos-keeper"
	meshName       = "toxiproxy"
	partyContainer = "kms-party"
	ManagedBy      = "app.kubernetes.io/managed-by"
	managedByValue = "kmschaos"
	// OwnerAnnotation holds the cluster's owner (<host>/<pid>, or
	// "detached"): a label value cannot hold a slash.
	OwnerAnnotation = "kmschaos.org/owner"
)

func statefulSetName(i int) string { return cluster.ReleaseName(i) }
func partyPod(i int) string        { return statefulSetName(i) + "-0" }
func claimName(i int, kind string) string {
	return kind + "-" + partyPod(i)
}

// labels are the run's labels as Kubernetes takes them: the owner is an
// annotation.
func labels(s cluster.Spec, role string) map[string]string {
	l := s.Labels(role)
	delete(l, cluster.LabelOwner)
	l[ManagedBy] = managedByValue
	return l
}

func owner(s cluster.Spec) map[string]string {
	return map[string]string{OwnerAnnotation: s.Labels("")[cluster.LabelOwner]}
}

func meta(s cluster.Spec, name, role string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Labels: labels(s, role), Annotations: owner(s)}
}

func namespaceObject(s cluster.Spec, name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: meta(s, name, "namespace")}
}

func claimObject(s cluster.Spec, i int, v cluster.Volume, class *string) *corev1.PersistentVolumeClaim {
	m := meta(s, claimName(i, v.Kind), "volume")
	m.Labels["org.kmschaos.party"] = strconv.Itoa(i)
	return &corev1.PersistentVolumeClaim{ObjectMeta: m, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		StorageClassName: class,
		Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: quantity(v.Size)}},
	}}
}

// volumeObject is a hostPath volume bound to one claim, for a cluster
// with no provisioner: under root, which the local cluster keeps on tmpfs
// (key material never reaches a disk).
func volumeObject(s cluster.Spec, ns, claim, root, size string) *corev1.PersistentVolume {
	dir := corev1.HostPathDirectoryOrCreate
	return &corev1.PersistentVolume{ObjectMeta: meta(s, ns+"-"+claim, "volume"), Spec: corev1.PersistentVolumeSpec{
		Capacity:                      corev1.ResourceList{corev1.ResourceStorage: quantity(size)},
		AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
		StorageClassName:              "",
		ClaimRef:                      &corev1.ObjectReference{Namespace: ns, Name: claim},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
			Path: root + "/" + ns + "/" + claim, Type: &dir}},
	}}
}

// quantity turns the Docker backend's tmpfs sizes ("8m") into Kubernetes
// quantities ("8Mi").
func quantity(size string) resource.Quantity {
	s := strings.TrimSpace(size)
	for short, unit := range map[string]string{"k": "Ki", "m": "Mi", "g": "Gi"} {
		if n, ok := strings.CutSuffix(strings.ToLower(s), short); ok {
			s = n + unit
		}
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return resource.MustParse("8Mi")
	}
	return q
}

func uidGid(user string) (uid, gid int64) {
	u, g, _ := strings.Cut(user, ":")
	a, _ := strconv.ParseInt(u, 10, 64)
	b, err := strconv.ParseInt(g, 10, 64)
	if err != nil {
		b = a
	}
	return a, b
}

// keeperObject is the keeper: the operator's debug pod, as root, with
// every party's claims, the golden store (memory-backed) and, where the
// backend made hostPath volumes, their root (so Terminate can wipe them).
func keeperObject(s cluster.Spec, hostRoot string) *corev1.Pod {
	var vols []corev1.Volume
	var mounts []corev1.VolumeMount
	for i := 1; i <= s.Topology.N; i++ {
		for _, v := range s.Volumes(i) {
			name := claimName(i, v.Kind)
			vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}})
			mounts = append(mounts, corev1.VolumeMount{Name: name, MountPath: v.InKeeper})
		}
	}
	limit := resource.MustParse("256Mi")
	vols = append(vols, corev1.Volume{Name: "golden", VolumeSource: corev1.VolumeSource{
		EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &limit}}})
	mounts = append(mounts, corev1.VolumeMount{Name: "golden", MountPath: s.GoldenPath()})
	if hostRoot != "" {
		dir := corev1.HostPathDirectoryOrCreate
		vols = append(vols, corev1.Volume{Name: "host-volumes", VolumeSource: corev1.VolumeSource{
			HostPath: &corev1.HostPathVolumeSource{Path: hostRoot, Type: &dir}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "host-volumes", MountPath: hostVolumesMount})
	}
	root := int64(0)
	return &corev1.Pod{ObjectMeta: meta(s, keeperPod, "keeper"), Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "keeper", Image: s.KeeperImage(), ImagePullPolicy: corev1.PullNever,
			Command: s.KeeperCommand(), VolumeMounts: mounts, WorkingDir: "/",
			SecurityContext: &corev1.SecurityContext{RunAsUser: &root, RunAsGroup: &root}}},
		Volumes:                       vols,
		TerminationGracePeriodSeconds: ptr(int64(5)),
		EnableServiceLinks:            ptr(false),
	}}
}

// hostVolumesMount is where the keeper sees the hostPath volumes' root.
const hostVolumesMount = "/host-volumes"

// meshSynRetries makes the mesh give up a connect after 3 s instead of
// the kernel's 2 minutes. toxiproxy dials a link's upstream inside the
// link's accept loop, without a timeout: when a party's pod is replaced,
// a connect that races kube-proxy to the old pod's address is
// black-holed, and every later connection on that link (every peer's, the
// harness's) waits behind it. On Docker a party keeps its address and the
// connect is refused at once. Not a safe sysctl: the kubelet must allow
// it (--allowed-unsafe-sysctls); make k8s-up does.
var meshSynRetries = corev1.Sysctl{Name: "net.ipv4.tcp_syn_retries", Value: "1"}

func meshObjects(s cluster.Spec) (*appsv1.Deployment, *corev1.Service) {
	ctl, proxies := s.MeshPorts()
	sel := map[string]string{cluster.LabelRun: s.RunID, cluster.LabelRole: "toxiproxy"}
	uid, gid := uidGid(s.Profile.User)
	var cports []corev1.ContainerPort
	var sports []corev1.ServicePort
	for _, p := range append([]int{ctl}, proxies...) {
		sports = append(sports, corev1.ServicePort{Name: "p" + strconv.Itoa(p), Port: int32(p), TargetPort: intstr.FromInt32(int32(p))})
	}
	cports = append(cports, corev1.ContainerPort{Name: "control", ContainerPort: int32(ctl)})
	dep := &appsv1.Deployment{ObjectMeta: meta(s, meshName, "toxiproxy"), Spec: appsv1.DeploymentSpec{
		Replicas: ptr(int32(1)),
		Selector: &metav1.LabelSelector{MatchLabels: sel},
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels(s, "toxiproxy")}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "toxiproxy", Image: s.Images.Toxiproxy, ImagePullPolicy: corev1.PullNever,
				Ports: cports,
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
					Path: "/version", Port: intstr.FromInt32(int32(ctl))}}, PeriodSeconds: 1},
				SecurityContext: &corev1.SecurityContext{RunAsUser: &uid, RunAsGroup: &gid}}},
			EnableServiceLinks:            ptr(false),
			TerminationGracePeriodSeconds: ptr(int64(1)),
			SecurityContext:               &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{meshSynRetries}},
		}},
	}}
	svc := &corev1.Service{ObjectMeta: meta(s, meshName, "toxiproxy"), Spec: corev1.ServiceSpec{Selector: sel, Ports: sports}}
	return dep, svc
}

func ptr[T any](v T) *T { return &v }
