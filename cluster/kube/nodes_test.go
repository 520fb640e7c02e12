package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
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

// forbid makes the API server refuse verb on nodes, as RBAC does.
func forbid(cs *fake.Clientset, verb string) {
	cs.PrependReactor(verb, "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "",
			fmt.Errorf(`User "ci" cannot %s resource "nodes" in API group "" at the cluster scope`, verb))
	})
}

// A run that may have cordoned a node and cannot list the nodes has not
// checked them: the audit, Reset, teardown and sweep fail naming what
// could not be read, never read it as "none cordoned".
func TestForbiddenNodeListIsAnError(t *testing.T) {
	ctx := context.Background()
	d, cs := fakeDriver(node("n1", true, "kmschaos-ab12cd34"))
	forbid(cs, "list")
	want := `listing the nodes, to find those the run cordoned: forbidden (nodes is forbidden: User "ci" cannot list resource "nodes"`
	if got, err := d.Cordoned(ctx); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("the audit's Cordoned: %v, %v; want an error with %q", got, err, want)
	}
	if got, err := d.Uncordon(ctx); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Reset's Uncordon: %v, %v; want an error with %q", got, err, want)
	}
	_, err := d.Sweep(ctx, false)
	if want := `listing the nodes, to uncordon those of runs that are gone: forbidden (nodes is forbidden: User "ci" cannot list resource "nodes"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Sweep: %v; want an error with %q", err, want)
	}
}

// A run brought up without node faults records so on its namespace: it
// refuses the evict fault later, and needs no node list to be reset or
// torn down, so a user who may not list nodes can still remove it.
func TestARunWithoutNodeFaultsNeedsNoNodeList(t *testing.T) {
	ctx := context.Background()
	t.Setenv("KUBECONFIG", "/elsewhere/config")
	d, cs := fakeDriver(node("n1", false, ""), partyOn("kmschaos-ab12cd34", "n1", 3))
	if err := d.createNamespace(ctx, spec(t)); err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, "kmschaos-ab12cd34", metav1.GetOptions{})
	if err != nil || ns.Annotations[NodeFaultsAnnotation] != "false" {
		t.Fatalf("the run's namespace: %v %v", ns.Annotations, err)
	}

	// Another handle, with --node-faults, finds the run by its namespace.
	other, _ := fakeDriver()
	other.cs, other.cfg.NodeFaults = cs, true
	other.take(ctx, *ns)
	var in *InputError
	if _, err := other.Evict(ctx, 3); !errors.As(err, &in) || !strings.Contains(err.Error(), "brought up without node faults") {
		t.Fatalf("Evict on a run brought up without node faults: %v", err)
	}
	if n := nodeOf(t, d, "n1"); n.Spec.Unschedulable {
		t.Fatal("node cordoned by a run brought up without node faults")
	}
	forbid(cs, "list")
	if c, err := other.Cordoned(ctx); err != nil || len(c) != 0 {
		t.Errorf("the audit's Cordoned: %v, %v", c, err)
	}
	if ns, err := other.RemoveRun(ctx, "ab12cd34"); err != nil || ns != "kmschaos-ab12cd34" {
		t.Errorf("removing the run: %s, %v", ns, err)
	}
}

// A user who asked for node faults and may not read the node gets an
// error naming the permission, not a skipped scenario; on the local
// cluster, where nobody asked, the fault is unsupported, as before.
func TestEvictForbiddenNodeRead(t *testing.T) {
	ctx := context.Background()
	d, cs := fakeDriver(node("n1", false, ""), partyOn("kmschaos-ab12cd34", "n1", 3))
	forbid(cs, "get")
	d.cfg.NodeFaults = true
	_, err := d.Evict(ctx, 3)
	var in *InputError
	if !errors.As(err, &in) || cluster.IsUnsupported(err) ||
		!strings.Contains(err.Error(), `--node-faults: reading node n1 is forbidden (nodes is forbidden: User "ci" cannot get resource "nodes"`) ||
		!strings.Contains(err.Error(), "kmschaos-node-faults") {
		t.Fatalf("Evict with --node-faults, the node not readable: %v", err)
	}
	t.Setenv("KUBECONFIG", LocalKubeconfig())
	d.cfg.NodeFaults = false
	if _, err := d.Evict(ctx, 3); !cluster.IsUnsupported(err) {
		t.Fatalf("Evict on the local cluster, the node not readable: %v", err)
	}
}
