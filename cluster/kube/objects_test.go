package kube

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/fixtures"
)

func spec(t *testing.T) cluster.Spec {
	t.Helper()
	return cluster.NewSpec("ab12cd34", cluster.WithTopology(4, 1),
		cluster.WithImages(cluster.Images{Party: "kmschaos/party:p1", Toolbox: "kmschaos/toolbox:t1", Toxiproxy: "kmschaos/toxiproxy:x1"}))
}

// Every object the backend makes must be accepted by the API server:
// names are DNS labels, label keys qualified names, values valid.
func TestObjectsHaveValidNamesAndLabels(t *testing.T) {
	s := spec(t)
	dep, svc := meshObjects(s)
	metas := []metav1.ObjectMeta{namespaceObject(s, "kmschaos-ab12cd34").ObjectMeta, keeperObject(s, "/v").ObjectMeta,
		dep.ObjectMeta, dep.Spec.Template.ObjectMeta, svc.ObjectMeta}
	for i := 1; i <= 4; i++ {
		sts, svc, _ := render(t, s, i, nil)
		metas = append(metas, sts.ObjectMeta, sts.Spec.Template.ObjectMeta, svc.ObjectMeta)
		for _, v := range s.Volumes(i) {
			metas = append(metas, claimObject(s, i, v, nil).ObjectMeta, volumeObject(s, "kmschaos-ab12cd34", claimName(i, v.Kind), "/v", v.Size).ObjectMeta)
		}
	}
	for _, m := range metas {
		if m.Name != "" {
			if errs := validation.IsDNS1123Subdomain(m.Name); len(errs) > 0 {
				t.Errorf("name %q: %v", m.Name, errs)
			}
		}
		for k, v := range m.Labels {
			if errs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(errs) > 0 {
				t.Errorf("%s: label %s=%s: %v", m.Name, k, v, errs)
			}
		}
	}
}

func TestQuantity(t *testing.T) {
	for in, want := range map[string]string{"8m": "8Mi", "1m": "1Mi", "256k": "256Ki", "2g": "2Gi", "5Mi": "5Mi"} {
		if q := quantity(in); q.String() != want {
			t.Errorf("quantity(%q) = %s, want %s", in, q.String(), want)
		}
	}
}

func fakeDriver(objs ...runtime.Object) (*Driver, *fake.Clientset) {
	cs := fake.NewClientset(objs...)
	// The API server deletes a pod it evicts (graceful termination left
	// out); the fake only records the eviction.
	cs.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "eviction" {
			return false, nil, nil
		}
		return true, nil, cs.Tracker().Delete(schema.GroupVersionResource{Version: "v1", Resource: "pods"}, a.GetNamespace(), a.(k8stesting.CreateAction).GetObject().(*policyv1.Eviction).Name)
	})
	d := &Driver{cfg: Config{Progress: func(string) {}}, cs: cs, ns: "kmschaos-ab12cd34", imageWait: 300 * time.Millisecond}
	d.bg, d.stop = context.WithCancel(context.Background())
	return d, cs
}

// A namespace that exists and is not a run's is refused, and left alone.
func TestNamespaceNotOursIsRefused(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Images: []corev1.ContainerImage{
		{Names: []string{"docker.io/kmschaos/party:p1", "docker.io/kmschaos/toolbox:t1", "docker.io/kmschaos/toxiproxy:x1"}}}}}
	d, cs := fakeDriver(node, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "prod", Labels: map[string]string{"team": "x"}}})
	d.cfg.Namespace = "prod"
	_, err := d.Provision(context.Background(), spec(t))
	var in *InputError
	if !errors.As(err, &in) || !strings.Contains(err.Error(), "namespace prod exists and is not a kmschaos run's") {
		t.Fatalf("Provision into a foreign namespace: %v", err)
	}
	// The failed bring-up's clean-up must leave it too.
	if err := d.Terminate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ns, err := cs.CoreV1().Namespaces().Get(context.Background(), "prod", metav1.GetOptions{}); err != nil || ns.Labels["team"] != "x" {
		t.Errorf("the foreign namespace was touched: %v %v", ns, err)
	}
}

// An image on no node stops the bring-up before anything is created.
func TestMissingImageIsNamed(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Images: []corev1.ContainerImage{
		{Names: []string{"docker.io/kmschaos/party:p1"}}, {Names: []string{"docker.io/kmschaos/toolbox:t1"}}}}}
	d, cs := fakeDriver(node)
	s := spec(t)
	s.Images = cluster.Images{Party: "kmschaos/party:p1", Toolbox: "kmschaos/toolbox:t1", Toxiproxy: "kmschaos/toxiproxy:x9"}
	err := d.checkImages(context.Background(), s.KeeperImage(), s.Images.Party, s.Images.Toxiproxy)
	var in *InputError
	if !errors.As(err, &in) || !strings.Contains(err.Error(), "image kmschaos/toxiproxy:x9 is on no node") || strings.Contains(err.Error(), "party") {
		t.Fatalf("checkImages: %v", err)
	}
	nss, _ := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	if len(nss.Items) != 0 {
		t.Errorf("namespaces created: %v", nss.Items)
	}
}

// A verb RBAC refuses is named in one line with what to do.
func TestForbiddenNamesTheVerb(t *testing.T) {
	d, cs := fakeDriver()
	cs.PrependReactor("create", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "kmschaos-ab12cd34",
			errors.New(`User "ci" cannot create resource "namespaces"`))
	})
	err := d.createNamespace(context.Background(), spec(t))
	var in *InputError
	if !errors.As(err, &in) || !strings.Contains(err.Error(), `cannot create resource "namespaces"`) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("createNamespace forbidden: %v", err)
	}
}

// State reads a crash-looping, OOM-killed pod as the Docker backend
// reports a restarting container.
func TestStateOfACrashLoopingPod(t *testing.T) {
	s := spec(t)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: partyPod(2), Namespace: "kmschaos-ab12cd34"},
		Spec: func() corev1.PodSpec { sts, _, _ := render(t, s, 2, []string{"--x"}); return sts.Spec.Template.Spec }(),
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: partyContainer, RestartCount: 3,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}}}
	d, _ := fakeDriver(pod)
	st, err := d.party(s, 2).State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Restarting || st.Running || st.RestartCount != 3 || !st.OOMKilled || !st.ExitKnown || st.ExitCode != 137 || st.Cmd[len(st.Cmd)-1] != "--x" {
		t.Errorf("state %+v", st)
	}
	if st.Memory != s.Baseline(2).Memory {
		t.Errorf("memory limit %d, want the baseline's %d", st.Memory, s.Baseline(2).Memory)
	}
	// A party with no pod reads its definition from its StatefulSet, as a
	// stopped container keeps its own: Reset must not take it for a
	// party whose limits were changed.
	sts3, _, _ := render(t, s, 3, nil)
	sts3.Namespace = "kmschaos-ab12cd34"
	d, _ = fakeDriver(sts3)
	gone, err := d.party(s, 3).State(context.Background())
	if err != nil || gone.Running || gone.Status != "exited" || gone.Memory != s.Baseline(3).Memory ||
		gone.NanoCPUs != s.Baseline(3).NanoCPUs || len(gone.Cmd) == 0 {
		t.Errorf("a party with no pod: %+v %v", gone, err)
	}
}

// Pausing is declared unsupported, never done as something else.
func TestPauseIsUnsupported(t *testing.T) {
	d, cs := fakeDriver()
	err := d.party(spec(t), 1).Pause(context.Background())
	if !cluster.IsUnsupported(err) {
		t.Fatalf("Pause: %v", err)
	}
	if n := len(cs.Actions()); n != 0 {
		t.Errorf("Pause acted on the cluster: %v", cs.Actions())
	}
}

// Stop scales the StatefulSet to zero before it deletes the pod, so the
// party stays down.
func TestStopScalesToZeroThenDeletes(t *testing.T) {
	s := spec(t)
	sts, _, _ := render(t, s, 1, nil)
	sts.Namespace = "kmschaos-ab12cd34"
	d, cs := fakeDriver(sts, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: partyPod(1), Namespace: "kmschaos-ab12cd34"}})
	if err := d.party(s, 1).Stop(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	var verbs []string
	for _, a := range cs.Actions() {
		verb := a.GetVerb() + " " + a.GetResource().Resource
		if sub := a.GetSubresource(); sub != "" {
			verb += "/" + sub
		}
		verbs = append(verbs, verb)
	}
	// The log is followed before the delete: the pod's last words go with it.
	if got := strings.Join(verbs, ", "); got != "patch statefulsets, watch pods, get pods, get pods/log, delete pods" {
		t.Errorf("Stop did %s", got)
	}
	got, _ := cs.AppsV1().StatefulSets("kmschaos-ab12cd34").Get(context.Background(), sts.Name, metav1.GetOptions{})
	if *got.Spec.Replicas != 0 {
		t.Errorf("replicas %d after Stop", *got.Spec.Replicas)
	}
}

// Stopping a party that is down already returns at once (Reset stops
// every party that is not running before it starts it).
func TestStopADownParty(t *testing.T) {
	s := spec(t)
	sts, _, _ := render(t, s, 1, nil)
	sts.Namespace = "kmschaos-ab12cd34"
	d, _ := fakeDriver(sts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.party(s, 1).Stop(ctx, 10*time.Second); err != nil {
		t.Fatalf("stopping a party with no pod: %v", err)
	}
}

// The mesh gives up a black-holed connect in seconds; a node that refuses
// the sysctl is named at once, with what to allow, not after a timeout.
func TestMeshSysctlRefusedIsNamed(t *testing.T) {
	dep, _ := meshObjects(spec(t))
	if sc := dep.Spec.Template.Spec.SecurityContext; sc == nil || len(sc.Sysctls) != 1 || sc.Sysctls[0] != meshSynRetries {
		t.Fatalf("the mesh pod's sysctls: %+v", sc)
	}
	refused := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "toxiproxy-1", Namespace: "kmschaos-ab12cd34",
		Labels: map[string]string{cluster.LabelRole: "toxiproxy"}},
		Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "SysctlForbidden",
			Message: "Pod forbidden sysctl: \"net.ipv4.tcp_syn_retries\" not allowlisted"}}
	d, _ := fakeDriver(refused)
	start := time.Now()
	_, err := d.meshPod(context.Background())
	var in *InputError
	if !errors.As(err, &in) || !strings.Contains(err.Error(), "--allowed-unsafe-sysctls=net.ipv4.tcp_syn_retries") {
		t.Fatalf("meshPod with the sysctl refused: %v", err)
	}
	if time.Since(start) > fixtures.Intervals.Kube.MeshReady/2 {
		t.Errorf("the refusal took %s to be named: it waited for the timeout", time.Since(start))
	}
}

// Root is another user for a party's container: a command that needs it
// is refused as unsupported (the scenario is skipped), never run as the
// party's user, where it would fail for want of the right.
func TestRootExecInAPartyIsUnsupported(t *testing.T) {
	d, _ := fakeDriver()
	party := &podShell{d: d, pod: "kms-threshold-1-0", container: partyContainer, user: "10001:10001"}
	_, err := party.Exec(context.Background(), "0:0", "kms-admin", "hosts", "remove", "kms-peer-2")
	var un *cluster.Unsupported
	if !errors.As(err, &un) || !strings.Contains(err.Error(), "exec as 0:0") {
		t.Fatalf("root exec in a party's container: %v", err)
	}
}

// What a party logged as it was stopped outlives its pod, for a log
// probe that looks since a time before the stop, and only for that.
func TestStopKeepsThePartysLastWords(t *testing.T) {
	s := spec(t)
	sts, _, _ := render(t, s, 1, nil)
	sts.Namespace = "kmschaos-ab12cd34"
	d, _ := fakeDriver(sts, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: partyPod(1), Namespace: "kmschaos-ab12cd34"}})
	before := time.Now().Add(-time.Minute)
	if err := d.party(s, 1).Stop(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	// client-go's fake answers every log request with "fake logs", the
	// gone pod's too (the previous container's and the current one's):
	// the kept last words are one answer more, since before the stop only.
	since := func(from time.Time) int {
		got, err := d.party(s, 1).LogsSince(context.Background(), from)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(got, "fake logs")
	}
	if kept, after := since(before), since(time.Now().Add(time.Minute)); kept != after+1 {
		t.Errorf("logs since before the stop: %d answers, since after it: %d; want one more before", kept, after)
	}
}
