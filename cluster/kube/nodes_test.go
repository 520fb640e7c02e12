package kube

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kmschaos/kmschaos/cluster"
)

func node(name string, unschedulable bool, by string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Unschedulable: unschedulable}}
	if by != "" {
		n.Annotations = map[string]string{CordonAnnotation: by}
	}
	return n
}

func partyOn(ns, nodeName string, i int) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: partyPod(i), Namespace: ns}, Spec: corev1.PodSpec{NodeName: nodeName}}
}

func nodeOf(t *testing.T, d *Driver, name string) *corev1.Node {
	t.Helper()
	n, err := d.cs.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The evict fault cordons the party's node, marked as the run's, and
// evicts the pod; the audit sees the node while it is cordoned, an
// operator's kubectl uncordon ends that, and the run's own uncordon also
// removes its mark.
func TestEvictCordonsTheNodeAndMarksIt(t *testing.T) {
	ctx := context.Background()
	d, cs := fakeDriver(node("n1", false, ""), partyOn("kmschaos-ab12cd34", "n1", 3))
	d.cfg.NodeFaults = true
	got, err := d.Evict(ctx, 3)
	if err != nil || got != "n1" {
		t.Fatalf("Evict: %q, %v", got, err)
	}
	n := nodeOf(t, d, "n1")
	if !n.Spec.Unschedulable || n.Annotations[CordonAnnotation] != d.ns {
		t.Fatalf("node after Evict: unschedulable %v, annotations %v", n.Spec.Unschedulable, n.Annotations)
	}
	evicted := slices.ContainsFunc(cs.Actions(), func(a k8stesting.Action) bool {
		return a.GetVerb() == "create" && a.GetSubresource() == "eviction"
	})
	if !evicted {
		t.Fatalf("no eviction of the party's pod: %v", cs.Actions())
	}
	if c, err := d.Cordoned(ctx); err != nil || !slices.Equal(c, []string{"n1"}) {
		t.Fatalf("Cordoned: %v, %v", c, err)
	}

	// kubectl uncordon: schedulable, the mark still there.
	if _, err := cs.CoreV1().Nodes().Patch(ctx, "n1", types.MergePatchType, []byte(`{"spec":{"unschedulable":false}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if c, err := d.Cordoned(ctx); err != nil || len(c) != 0 {
		t.Fatalf("Cordoned after kubectl uncordon: %v, %v", c, err)
	}
	if un, err := d.Uncordon(ctx); err != nil || !slices.Equal(un, []string{"n1"}) {
		t.Fatalf("Uncordon: %v, %v", un, err)
	}
	if n := nodeOf(t, d, "n1"); n.Spec.Unschedulable || n.Annotations[CordonAnnotation] != "" {
		t.Fatalf("node after Uncordon: unschedulable %v, annotations %v", n.Spec.Unschedulable, n.Annotations)
	}
}

// Cordoning is refused where it was not allowed (a cluster not the
// local one, no --node-faults), and on a node somebody else cordoned:
// nothing is touched either way.
func TestEvictRefusals(t *testing.T) {
	ctx := context.Background()
	d, _ := fakeDriver(node("n1", false, ""), partyOn("kmschaos-ab12cd34", "n1", 3))
	t.Setenv("KUBECONFIG", "/elsewhere/config")
	_, err := d.Evict(ctx, 3)
	if !cluster.IsUnsupported(err) || !strings.Contains(err.Error(), "--node-faults") {
		t.Fatalf("Evict without --node-faults: %v", err)
	}
	if n := nodeOf(t, d, "n1"); n.Spec.Unschedulable {
		t.Fatal("node cordoned although node faults were not allowed")
	}

	d, _ = fakeDriver(node("n1", true, ""), partyOn("kmschaos-ab12cd34", "n1", 3))
	d.cfg.NodeFaults = true
	if _, err := d.Evict(ctx, 3); err == nil || !strings.Contains(err.Error(), "cordoned already, and not by this run") {
		t.Fatalf("Evict on a node cordoned by someone else: %v", err)
	}
	if un, err := d.Uncordon(ctx); err != nil || len(un) != 0 {
		t.Fatalf("Uncordon touched a node the run did not cordon: %v, %v", un, err)
	}
	if n := nodeOf(t, d, "n1"); !n.Spec.Unschedulable {
		t.Fatal("a node somebody else cordoned was uncordoned")
	}
}

// A sweep uncordons the nodes of runs that are gone, and leaves those of
// a run still alive and those nobody marked.
func TestSweepUncordonsNodesOfGoneRuns(t *testing.T) {
	ctx := context.Background()
	live := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kmschaos-live0001",
		Labels:      map[string]string{ManagedBy: managedByValue, cluster.LabelRun: "live0001"},
		Annotations: map[string]string{OwnerAnnotation: "detached"}}}
	d, _ := fakeDriver(live, node("gone", true, "kmschaos-dead0001"), node("kept", true, "kmschaos-live0001"), node("other", true, ""))
	if _, err := d.Sweep(ctx, false); err != nil {
		t.Fatal(err)
	}
	for name, cordoned := range map[string]bool{"gone": false, "kept": true, "other": true} {
		if n := nodeOf(t, d, name); n.Spec.Unschedulable != cordoned {
			t.Errorf("node %s: unschedulable %v after the sweep, want %v", name, n.Spec.Unschedulable, cordoned)
		}
	}
}
