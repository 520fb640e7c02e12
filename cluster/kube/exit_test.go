package kube

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kmschaos/kmschaos/cluster"
	"github.com/kmschaos/kmschaos/harness/probe"
	"github.com/kmschaos/kmschaos/kms/tss"
)

// kubeletReports makes the fake API server do what a kubelet does with a
// pod deleted with grace: the party container's end, end, is in the
// pod's status before the pod goes. With end nil the pod goes unreported,
// as a pod deleted with no grace leaves the API before the kubelet ends
// its container.
func kubeletReports(t *testing.T, cs *fake.Clientset, end *corev1.ContainerStateTerminated) {
	t.Helper()
	cs.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if end == nil {
			return false, nil, nil
		}
		pods := corev1.SchemeGroupVersion.WithResource("pods")
		obj, err := cs.Tracker().Get(pods, a.GetNamespace(), a.(k8stesting.DeleteAction).GetName())
		if err != nil {
			t.Errorf("the kubelet's report: %v", err)
			return false, nil, nil
		}
		pod := obj.(*corev1.Pod).DeepCopy()
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: partyContainer, State: corev1.ContainerState{Terminated: end}}}
		if err := cs.Tracker().Update(pods, pod, pod.Namespace); err != nil {
			t.Errorf("the kubelet's report: %v", err)
		}
		return false, nil, nil
	})
}

// stopped is party 1's state after Stop with grace, the kubelet
// reporting end (nil: nothing).
func stopped(t *testing.T, grace time.Duration, end *corev1.ContainerStateTerminated) (cluster.State, *Driver) {
	t.Helper()
	s := spec(t)
	sts, _, _ := render(t, s, 1, nil)
	sts.Namespace = "kmschaos-ab12cd34"
	d, cs := fakeDriver(sts, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: partyPod(1), Namespace: "kmschaos-ab12cd34"},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: partyContainer,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}})
	kubeletReports(t, cs, end)
	if err := d.party(s, 1).Stop(context.Background(), grace); err != nil {
		t.Fatal(err)
	}
	st, err := d.party(s, 1).State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Running || st.Status != "exited" {
		t.Fatalf("after the stop: %+v", st)
	}
	return st, d
}

// A kill the kubelet never reported has no exit status: State says it
// is unknown, and the probe that asks for 137 fails, saying so, where it
// used to read the 137 the backend wrote itself.
func TestKillUnreportedExitIsUnknown(t *testing.T) {
	st, d := stopped(t, 0, nil)
	if st.ExitKnown || st.ExitStatus() != "unknown" {
		t.Fatalf("a kill the kubelet did not report: exit %s (known %v), want unknown", st.ExitStatus(), st.ExitKnown)
	}
	s := spec(t)
	key, _, err := tss.Deal(rand.Reader, s.Topology.N, s.Topology.T)
	if err != nil {
		t.Fatal(err)
	}
	var ws []cluster.Workload
	for i := 1; i <= s.Topology.N; i++ {
		ws = append(ws, d.party(s, i))
	}
	c, err := cluster.Assemble(cluster.Parts{Topology: s.Topology, Profile: s.Profile, RunID: s.RunID, Parties: ws, Keeper: d.keeper(), Key: key, Driver: d})
	if err != nil {
		t.Fatal(err)
	}
	err = probe.Exited(1, 137).Check(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "exit status unknown: the kubernetes backend did not see how the party ended") {
		t.Fatalf("Exited(1, 137) after an unreported kill: %v, want a failure naming the unknown exit status", err)
	}
}

// A graceful stop the kubelet did not report is unknown too, not the 0 a
// missing record used to read as.
func TestStopUnreportedExitIsUnknown(t *testing.T) {
	if st, _ := stopped(t, 10*time.Second, nil); st.ExitKnown {
		t.Fatalf("a stop the kubelet did not report: exit %s, want unknown", st.ExitStatus())
	}
}

// What the kubelet reported is what State says, and only a real exit
// status: a container it could not find it reports as 137
// ("ContainerStatusUnknown"), which is not one.
func TestStopRecordsTheKubeletsExit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration
		end   corev1.ContainerStateTerminated
		want  string
	}{
		{"graceful stop, exit 0", 10 * time.Second, corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed"}, "0"},
		{"kill, exit 137", 0, corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error"}, "137"},
		{"kill, container not found", 0, corev1.ContainerStateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown"}, "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if st, _ := stopped(t, tc.grace, &tc.end); st.ExitStatus() != tc.want {
				t.Fatalf("exit %s (known %v), want %s", st.ExitStatus(), st.ExitKnown, tc.want)
			}
		})
	}
}
